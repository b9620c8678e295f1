//! The on-disk index cache folder: what [`crate::Repo::index`] is given, what it reports, and
//! the clean-up of what older versions wrote there.
//!
//! Since format 3 the folder holds the per-file store ([`crate::index::filestore`], in its own
//! subfolder): a snapshot's indexes are assembled from per-file entries, so one changed file
//! costs one file's work in any process. Whole-snapshot packs (`<digest>.acsidx`, formats 1
//! and 2) are no longer written: loading one saved 50-70 ms over assembling the same
//! snapshot from the store (CPython's standard library: 0.10 vs 0.17 s; moto: 0.05 vs
//! 0.10 s), at 12-17 MB of disk and a full write per commit, and never helped a new commit. Packs left
//! by older versions are deleted when the store is written; only files named as acs named
//! them and starting with the pack magic are.

use crate::index::bm25::Bm25Index;
use crate::index::symbols::SymbolIndex;
use crate::index::tokenize::FORMAT_VERSION;
use crate::lang::Lang;
use crate::snapshot::content::ContentKey;
use crate::snapshot::Snapshot;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// What the packs of formats 1 and 2 started with, and their extension.
const MAGIC: &[u8; 8] = b"ACSINDEX";
const EXTENSION: &str = "acsidx";

/// The cache folder, and how many bytes of it the per-file store may use.
#[derive(Clone, Debug)]
pub struct IndexCache {
    /// The cache folder (the per-file store lives in a subfolder).
    pub dir: PathBuf,
    /// Bytes the per-file store may use (default 2 GiB, at least 1 MiB).
    pub max_bytes: u64,
}

/// Default budget of the per-file store.
pub(crate) const DEFAULT_MAX_BYTES: u64 = 2 << 30;

impl IndexCache {
    /// A cache in `dir` with the default budget.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Where an index build found its per-file entries, serialised as `memory`, `disk` or
/// `built` (the strings Python and JSON readers see).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexSource {
    /// Every file's entry was in this process's caches.
    #[default]
    Memory,
    /// Some came from the on-disk store, none was processed.
    Disk,
    /// Some files were processed (parsed and tokenised) now.
    Built,
}

impl IndexSource {
    /// The source of a build that found `disk` entries on disk and `processed` nowhere.
    pub(crate) fn of(disk: usize, processed: usize) -> Self {
        match (processed, disk) {
            (0, 0) => IndexSource::Memory,
            (0, _) => IndexSource::Disk,
            _ => IndexSource::Built,
        }
    }
}

/// What [`crate::Repo::index`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IndexReport {
    /// Where the entries came from: memory, disk, or built now.
    pub source: IndexSource,
    /// Digest of the snapshot's content.
    pub digest: String,
    /// The on-disk store's folder, when a cache was used.
    pub path: Option<PathBuf>,
    /// Bytes read from and written to the on-disk store.
    pub bytes: u64,
    /// Bytes read from the on-disk store.
    pub bytes_read: u64,
    /// Bytes appended to the on-disk store.
    pub bytes_written: u64,
    /// Files whose entry (definitions, term statistics) came from this process's caches...
    pub files_memory: usize,
    /// ...from the on-disk store...
    pub files_disk: usize,
    /// ...or was computed (parsed and tokenised) now.
    pub files_processed: usize,
    /// What found the definitions of the processed files: the Python scanner, tree-sitter,
    /// or the scanner for damaged Python too large for tree-sitter's budget.
    pub parsed: crate::index::symbols::ParseCounts,
    /// Definitions in the symbol index.
    pub symbols: usize,
    /// Wall time of the call.
    pub elapsed_ms: f64,
    /// Why the cache could not be used (unreadable, corrupt, unwritable); the index is
    /// still complete, it was built instead.
    pub warning: Option<String>,
}

/// The three indexes of a snapshot.
pub(crate) struct Indexes {
    pub symbols: Arc<SymbolIndex>,
    pub bm25_files: Arc<Bm25Index>,
    pub bm25_functions: Arc<Bm25Index>,
}

/// Hex digest of everything an index of `snapshot` depends on.
pub(crate) fn digest(snapshot: &Snapshot) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(b"acs-index\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&FORMAT_VERSION.to_le_bytes());
    h.update(&(snapshot.files().len() as u64).to_le_bytes());
    for f in snapshot.files() {
        h.update(f.path.as_bytes());
        h.update(b"\0");
        match f.key {
            ContentKey::GitBlob(id) => {
                h.update(b"g");
                h.update(&id);
            }
            ContentKey::Hash(x) => {
                h.update(b"h");
                h.update(&x.to_le_bytes());
            }
        }
        h.update(f.lang.map_or("-", Lang::name).as_bytes());
    }
    format!("{:032x}", h.digest128())
}

/// A temporary file this old was left by a writer that died (an evaluation worker killed
/// on timeout, say): no live write takes this long.
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(600);

/// What pruning may delete. The folder can be one the user shares with other programs
/// (`--cache-dir /tmp`), so only files whose names acs alone produces count: `<digest>.acsidx`
/// packs (whose content must also start with the pack magic) and `.<digest>.acsidx.<pid>.<nonce>.tmp`
/// temporaries. Everything else is left alone, whatever its age or extension.
#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Pack,
    Temporary,
}

fn owned_kind(name: &str) -> Option<Owned> {
    fn is_digest(s: &str) -> bool {
        s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
    fn is_number(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
    }
    if let Some(digest) = name.strip_suffix(".acsidx") {
        return is_digest(digest).then_some(Owned::Pack);
    }
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.split('.');
    let ok = matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(d), Some(EXTENSION), Some(pid), Some(nonce), None)
            if is_digest(d) && is_number(pid) && is_number(nonce)
    );
    ok.then_some(Owned::Temporary)
}

/// True when `path` begins with the pack magic: a file named like a pack that is not one
/// (written by something else) is never deleted.
fn starts_with_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == MAGIC)
}

/// [`remove_legacy_packs`], once per folder per process: packs are not written any more, so
/// one look per folder finds all there will be.
pub(crate) fn remove_legacy_packs_once(dir: &Path) {
    static DONE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    {
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        if done.iter().any(|d| d == dir) {
            return;
        }
        done.push(dir.to_path_buf());
    }
    remove_legacy_packs(dir);
}

/// Delete the packs older versions wrote in `dir` (see the module comment), and their
/// temporary files once stale. Only acs's own files are touched (see [`owned_kind`]); links
/// and folders never are.
pub(crate) fn remove_legacy_packs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for e in entries.flatten() {
        let Some(kind) = e.file_name().to_str().and_then(owned_kind) else {
            continue;
        };
        // `DirEntry::metadata` does not follow links: a link is not a file acs wrote.
        let (path, Ok(meta)) = (e.path(), e.metadata()) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let stale = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_TEMPORARY);
        let remove = match kind {
            Owned::Pack => starts_with_magic(&path),
            Owned::Temporary => stale,
        };
        if remove {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_packs_go_and_other_programs_files_stay() {
        // `--cache-dir /tmp`: the folder holds other programs' files, old and new, some
        // with the extensions acs used.
        let dir = tempfile::tempdir().unwrap();
        let theirs = [
            "notes.tmp",
            ".session.tmp",
            "backup.acsidx",
            ".x.acsidx.1.2.tmp",
            &format!("{}.acsidx", "c".repeat(32)), // a pack's name, not a pack's content
            &format!(".{}.acsidx.pid.nonce.tmp", "d".repeat(32)),
            "report.txt",
        ];
        let old = SystemTime::now() - 2 * STALE_TEMPORARY;
        let write_aged = |name: &str, bytes: &[u8], modified: SystemTime| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(modified)
                .unwrap();
            path
        };
        for name in theirs {
            write_aged(name, b"someone else's data", old);
        }
        let digest = "e".repeat(32);
        let pack = write_aged(
            &format!("{digest}.acsidx"),
            b"ACSINDEX...",
            SystemTime::now(),
        );
        let stale = write_aged(&format!(".{digest}.acsidx.7.8.tmp"), b"partial", old);
        let fresh = write_aged(
            &format!(".{digest}.acsidx.9.9.tmp"),
            b"partial",
            SystemTime::now(),
        );

        remove_legacy_packs(dir.path());

        for name in theirs {
            assert!(dir.path().join(name).exists(), "{name} was deleted");
        }
        assert!(!pack.exists() && !stale.exists());
        assert!(fresh.exists(), "a write in progress is left alone");
    }

    #[test]
    fn only_acs_names_are_owned() {
        let digest = "0123456789abcdef0123456789abcdef";
        assert_eq!(owned_kind(&format!("{digest}.acsidx")), Some(Owned::Pack));
        assert_eq!(
            owned_kind(&format!(".{digest}.acsidx.42.17.tmp")),
            Some(Owned::Temporary)
        );
        for name in [
            "x.acsidx",
            &format!("{}.acsidx", digest.to_uppercase()),
            &format!("{digest}.acsidx.tmp"),
            &format!(".{digest}.acsidx.42.tmp"),
            &format!(".{digest}.acsidx.42.17.18.tmp"),
            "a.tmp",
        ] {
            assert_eq!(owned_kind(name), None, "{name}");
        }
    }

    #[test]
    fn legacy_packs_are_looked_for_once_per_folder() {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join(format!("{}.acsidx", "a".repeat(32)));
        std::fs::write(&pack, b"ACSINDEX...").unwrap();
        remove_legacy_packs_once(dir.path());
        assert!(!pack.exists());
        std::fs::write(&pack, b"ACSINDEX...").unwrap();
        remove_legacy_packs_once(dir.path());
        assert!(pack.exists(), "the folder was looked at again");
    }
}
