//! A file's content: its identity ([`ContentKey`]), its shared bytes ([`Content`]), and the
//! byte-budgeted cache that shares equal bytes between snapshots ([`ContentCache`]). Sources
//! intern what they read here; everything keyed by content (symbol tables, term statistics,
//! on-disk records) keys by [`ContentKey`].

use crate::byte_lru::{lock, ByteLru};
use std::sync::{Arc, Mutex};

/// Identity of a file's bytes: a git blob id when read from git, else a 128-bit content hash.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ContentKey {
    /// A git blob id (SHA-1).
    GitBlob([u8; 20]),
    /// An xxh3-128 hash of a directory file's bytes.
    Hash(u128),
}

impl ContentKey {
    /// The key of bytes read from a directory: their xxh3-128 hash.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        ContentKey::Hash(xxhash_rust::xxh3::xxh3_128(bytes))
    }
}

/// A file's bytes, shared. (`Arc<Vec>` rather than `Arc<[u8]>`: taking a `Vec` read from
/// disk costs no copy.)
pub(crate) type Content = Arc<Vec<u8>>;

/// File contents by key, within a byte budget: snapshots of many commits share the bytes
/// they have in common. Eviction only stops sharing with future snapshots.
pub(crate) struct ContentCache {
    lru: Mutex<ByteLru<ContentKey, Content>>,
}

impl ContentCache {
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            lru: Mutex::new(ByteLru::new(budget)),
        }
    }

    pub(crate) fn get(&self, key: &ContentKey) -> Option<Content> {
        lock(&self.lru).get(key)
    }

    /// Insert `bytes` unless an equal blob is cached; returns the shared copy.
    pub(crate) fn intern(&self, key: ContentKey, bytes: Vec<u8>) -> Content {
        let mut cache = lock(&self.lru);
        if let Some(existing) = cache.get(&key) {
            return existing;
        }
        let size = bytes.len() + 64;
        let shared: Content = Arc::new(bytes);
        cache.insert(key, shared.clone(), size);
        shared
    }

    pub(crate) fn set_budget(&self, bytes: usize) {
        lock(&self.lru).set_budget(bytes);
    }

    /// (entries, bytes).
    pub(crate) fn usage(&self) -> (usize, usize) {
        let c = lock(&self.lru);
        (c.len(), c.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_content_is_shared() {
        let cache = ContentCache::new(1 << 20);
        let key = ContentKey::of_bytes(b"x = 1\n");
        let a = cache.intern(key, b"x = 1\n".to_vec());
        let b = cache.intern(key, b"x = 1\n".to_vec());
        assert!(Arc::ptr_eq(&a, &b));
    }
}
