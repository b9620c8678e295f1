//! Sources: how a [`crate::Repo`] gets its files, from a directory or from a git commit.

pub(crate) mod dir;
pub(crate) mod git;

use crate::cache::{ContentKey, Store};
use crate::lang::Lang;
use crate::repo::FileEntry;
use std::sync::Arc;

/// A file is binary when it holds a NUL byte anywhere (stricter than git's first-8000-bytes
/// heuristic, and what ripgrep ends up treating as binary in recursive searches).
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, bytes).is_some()
}

pub(crate) fn entry(
    path: String,
    bytes: Vec<u8>,
    key: Option<ContentKey>,
    store: &Store,
) -> FileEntry {
    let key = key.unwrap_or_else(|| ContentKey::of_bytes(&bytes));
    let content = store.intern_content(key, bytes);
    let lang = Lang::from_path(&path);
    FileEntry {
        path: Arc::from(path),
        content,
        key,
        lang,
    }
}
