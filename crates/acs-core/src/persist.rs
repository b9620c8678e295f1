//! The on-disk index cache: a snapshot's symbol tables and BM25 indexes saved as one file
//! (a *pack*) named by a digest of the snapshot's content, so that a new process opening the
//! same files loads them instead of parsing and tokenising again.
//!
//! Safety rules:
//! - **Keyed by content.** The digest covers every file's path, content key (git blob id or
//!   xxh3-128 of the bytes) and language, the crate version and the format version. A file
//!   that changed gives another digest; nothing is ever looked up by path or time.
//! - **Never trusted into a wrong answer.** A pack carries a checksum of its payload and the
//!   snapshot's file list; a pack that fails either check, or does not fit the snapshot, is
//!   ignored and rebuilt over.
//! - **Shared safely.** Packs are written to a temporary file and renamed into place, so a
//!   reader sees a whole pack or none; concurrent writers of one digest write equal bytes.
//! - **Bounded.** After a write, the least recently used packs are removed while the folder
//!   is over its byte budget.
//! - **Only its own files.** The folder may be shared (`--cache-dir /tmp`): pruning deletes
//!   nothing but files named as acs names them, and a pack only if it starts with the magic.

use crate::bm25::{Bm25Index, Bm25Parts};
use crate::cache::{ContentKey, Symbols};
use crate::lang::Lang;
use crate::repo::Repo;
use crate::symbols::{SymbolDef, SymbolIndex};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Bump when the extractor, the tokenizer or the pack layout changes meaning.
const FORMAT_VERSION: u32 = 2; // 2: Python definitions from the scanner
const MAGIC: &[u8; 8] = b"ACSINDEX";
const HEADER_LEN: usize = 8 + 4 + 8 + 16;
const EXTENSION: &str = "acsidx";

/// Where packs live, and how many bytes of them to keep.
#[derive(Clone, Debug)]
pub struct IndexCache {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

/// Default budget of the pack folder.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

impl IndexCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    fn pack_path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}.{EXTENSION}"))
    }
}

/// What [`Repo::index`] did.
#[derive(Clone, Debug, Serialize)]
pub struct IndexReport {
    /// `memory` (already indexed in this process), `disk` (loaded from a pack) or `built`.
    pub source: &'static str,
    /// Digest of the snapshot's content: the pack's name.
    pub digest: String,
    /// The pack's path, when a cache was used.
    pub path: Option<PathBuf>,
    /// Size of the pack in bytes (read or written).
    pub bytes: u64,
    pub symbols: usize,
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

/// What a pack holds, borrowed for writing...
#[derive(Serialize)]
struct PackRef<'a> {
    files: Vec<(&'a str, ContentKey, Option<Lang>)>,
    symbols: &'a [Option<Symbols>],
    bm25_files: Bm25Parts,
    bm25_functions: Bm25Parts,
}

/// ...and owned for reading (same field order: the encoding is positional).
#[derive(Deserialize)]
struct Pack {
    files: Vec<(String, ContentKey, Option<Lang>)>,
    symbols: Vec<Option<Vec<SymbolDef>>>,
    bm25_files: Bm25Parts,
    bm25_functions: Bm25Parts,
}

/// Hex digest of everything an index of `repo` depends on.
pub fn digest(repo: &Repo) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(b"acs-index\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&FORMAT_VERSION.to_le_bytes());
    h.update(&(repo.files().len() as u64).to_le_bytes());
    for f in repo.files() {
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

/// Load the pack of `digest` if there is a sound one that fits `repo`.
/// `Ok(None)`: no pack. `Err`: a pack that cannot be trusted (the reason).
pub(crate) fn load(
    repo: &Repo,
    cache: &IndexCache,
    digest: &str,
) -> Result<Option<(Indexes, u64)>, String> {
    let path = cache.pack_path(digest);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let payload = check_header(&bytes).ok_or("bad header or checksum")?;
    let pack: Pack = postcard::from_bytes(payload).map_err(|e| format!("undecodable: {e}"))?;
    let indexes =
        fit(repo, pack, crate::cache::Store::global()).ok_or("does not fit the snapshot")?;
    // Mark it recently used for pruning; failing to is harmless.
    let _ = std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(SystemTime::now()));
    Ok(Some((indexes, bytes.len() as u64)))
}

fn check_header(bytes: &[u8]) -> Option<&[u8]> {
    let (header, payload) = bytes.split_at_checked(HEADER_LEN)?;
    let (magic, rest) = header.split_at(8);
    let (version, rest) = rest.split_at(4);
    let (len, sum) = rest.split_at(8);
    let ok = magic == MAGIC
        && u32::from_le_bytes(version.try_into().ok()?) == FORMAT_VERSION
        && u64::from_le_bytes(len.try_into().ok()?) == payload.len() as u64
        && u128::from_le_bytes(sum.try_into().ok()?) == xxhash_rust::xxh3::xxh3_128(payload);
    ok.then_some(payload)
}

/// The pack's indexes, if its file list is exactly the snapshot's and every reference in it
/// points inside the snapshot.
fn fit(repo: &Repo, pack: Pack, store: &crate::cache::Store) -> Option<Indexes> {
    let files = repo.files();
    let same_files =
        pack.files.len() == files.len()
            && pack.symbols.len() == files.len()
            && pack.files.iter().zip(files).all(|((path, key, lang), f)| {
                **path == *f.path && *key == f.key && *lang == f.lang
            });
    if !same_files {
        return None;
    }
    let per_file: Vec<Option<Symbols>> = pack
        .symbols
        .into_iter()
        .map(|defs| defs.map(Into::into))
        .collect();
    let sound = per_file.iter().flatten().all(|defs| {
        defs.iter()
            .all(|d| d.parent.is_none_or(|p| (p as usize) < defs.len()))
    });
    if !sound {
        return None;
    }
    // Share the loaded parses with later snapshots (another commit parses only what changed),
    // as a built index would have through the store.
    for (f, defs) in files.iter().zip(&per_file) {
        if let (Some(lang), Some(defs)) = (f.lang, defs) {
            store.insert_symbols((f.key, lang), defs.clone());
        }
    }
    let defs_in = |f: usize| per_file[f].as_ref().map_or(0, |d| d.len());
    let bm25_files = Bm25Index::from_parts(pack.bm25_files, files.len(), |_| 0)?;
    let bm25_functions = Bm25Index::from_parts(pack.bm25_functions, files.len(), defs_in)?;
    Some(Indexes {
        symbols: Arc::new(SymbolIndex::from_per_file(per_file)),
        bm25_files: Arc::new(bm25_files),
        bm25_functions: Arc::new(bm25_functions),
    })
}

/// Write the pack of `digest` atomically, then prune the folder. Returns its size.
pub(crate) fn save(
    repo: &Repo,
    cache: &IndexCache,
    digest: &str,
    indexes: &Indexes,
) -> Result<u64, String> {
    let pack = PackRef {
        files: repo
            .files()
            .iter()
            .map(|f| (&*f.path, f.key, f.lang))
            .collect(),
        symbols: indexes.symbols.per_file(),
        bm25_files: indexes.bm25_files.to_parts(),
        bm25_functions: indexes.bm25_functions.to_parts(),
    };
    let payload = postcard::to_stdvec(&pack).map_err(|e| format!("cannot encode: {e}"))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_128(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    drop(payload);
    let path = cache.pack_path(digest);
    write_atomically(&cache.dir, &path, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    prune(&cache.dir, cache.max_bytes, &path);
    Ok(bytes.len() as u64)
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let nonce = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(
        ".{}.{}.{nonce}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("pack"),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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

/// Remove the least recently used packs (never `keep`) while the folder is over budget, and
/// temporary files that interrupted writes left behind. Only acs's own files are touched
/// (see [`owned_kind`]); links and folders never are.
fn prune(dir: &Path, max_bytes: u64, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let mut packs: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
    for e in entries.flatten() {
        let Some(kind) = e.file_name().to_str().and_then(owned_kind) else {
            continue;
        };
        // `DirEntry::metadata` does not follow links: a link is not a file acs wrote.
        let (path, Ok(meta)) = (e.path(), e.metadata()) else {
            continue;
        };
        let Ok(modified) = meta.modified() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        match kind {
            Owned::Pack => packs.push((modified, meta.len(), path)),
            Owned::Temporary
                if now
                    .duration_since(modified)
                    .is_ok_and(|age| age > STALE_TEMPORARY) =>
            {
                let _ = std::fs::remove_file(&path);
            }
            Owned::Temporary => {}
        }
    }
    let mut total: u64 = packs.iter().map(|p| p.1).sum();
    packs.sort();
    for (_, size, path) in packs {
        if total <= max_bytes {
            break;
        }
        if path != keep && starts_with_magic(&path) && std::fs::remove_file(&path).is_ok() {
            total -= size;
        }
    }
}

/// Load, or build and save, the indexes of `repo`. A build that fails (cancelled) saves
/// nothing and returns its error.
pub(crate) fn load_or_build(
    repo: &Repo,
    cache: Option<&IndexCache>,
    build: impl FnOnce() -> crate::error::Result<Indexes>,
) -> crate::error::Result<(Indexes, IndexReport)> {
    let start = Instant::now();
    let digest = digest(repo);
    let mut warning = None;
    if let Some(cache) = cache {
        match load(repo, cache, &digest) {
            Ok(Some((indexes, bytes))) => {
                let report = IndexReport {
                    source: "disk",
                    path: Some(cache.pack_path(&digest)),
                    digest,
                    bytes,
                    symbols: indexes.symbols.len(),
                    elapsed_ms: start.elapsed().as_secs_f64() * 1000.0,
                    warning: None,
                };
                return Ok((indexes, report));
            }
            Ok(None) => {}
            Err(why) => warning = Some(format!("index cache ignored ({why}); rebuilt")),
        }
    }
    let indexes = build()?;
    let mut bytes = 0;
    if let Some(cache) = cache {
        match save(repo, cache, &digest, &indexes) {
            Ok(n) => bytes = n,
            // Both may have failed (an unreadable pack in an unwritable folder): say both.
            Err(why) => {
                warning = Some(match warning {
                    Some(first) => format!("{first}; {why}"),
                    None => why,
                })
            }
        }
    }
    let report = IndexReport {
        source: "built",
        path: cache.map(|c| c.pack_path(&digest)),
        digest,
        bytes,
        symbols: indexes.symbols.len(),
        elapsed_ms: start.elapsed().as_secs_f64() * 1000.0,
        warning,
    };
    Ok((indexes, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Store;

    fn sample() -> Repo {
        Repo::from_files([
            ("a.py", "def one():\n    pass\n"),
            ("b.py", "class Two:\n    def three(self):\n        pass\n"),
            ("notes.txt", "one two three\n"),
        ])
        .unwrap()
    }

    #[test]
    fn a_loaded_pack_shares_its_parses_with_later_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let cache = IndexCache::new(dir.path());
        let repo = sample();
        let built = repo.index(Some(&cache));
        let bytes = std::fs::read(cache.pack_path(&built.digest)).unwrap();
        let pack: Pack = postcard::from_bytes(check_header(&bytes).unwrap()).unwrap();
        let store = Store::new(1 << 20, 1 << 20);
        assert!(fit(&sample(), pack, &store).is_some());
        assert_eq!(store.usage().1 .0, 2, "one parse per Python file");
    }

    #[test]
    fn temporary_files_of_interrupted_writes_are_removed_when_stale() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir
            .path()
            .join(format!(".{}.acsidx.1.2.tmp", "a".repeat(32)));
        let fresh = dir
            .path()
            .join(format!(".{}.acsidx.3.4.tmp", "b".repeat(32)));
        for p in [&stale, &fresh] {
            std::fs::write(p, b"partial").unwrap();
        }
        let old = SystemTime::now() - 2 * STALE_TEMPORARY;
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(old)
            .unwrap();
        sample().index(Some(&IndexCache::new(dir.path())));
        assert!(!stale.exists());
        assert!(fresh.exists(), "a write in progress is left alone");
    }

    fn age(path: &Path, by: std::time::Duration) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(SystemTime::now() - by)
            .unwrap();
    }

    #[test]
    fn pruning_a_shared_folder_deletes_only_what_acs_wrote() {
        // `--cache-dir /tmp`: the folder holds other programs' files, old and new, some
        // with the extensions acs uses. A zero budget makes pruning as eager as it gets.
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
        for name in theirs {
            let path = dir.path().join(name);
            std::fs::write(&path, b"someone else's data").unwrap();
            age(&path, 2 * STALE_TEMPORARY);
        }
        let stale_temporary = dir
            .path()
            .join(format!(".{}.acsidx.7.8.tmp", "e".repeat(32)));
        std::fs::write(&stale_temporary, b"partial").unwrap();
        age(&stale_temporary, 2 * STALE_TEMPORARY);
        let older = Repo::from_files([("old.py", "def old():\n    pass\n")]).unwrap();
        let older_pack = older
            .index(Some(&IndexCache::new(dir.path())))
            .path
            .unwrap();
        age(&older_pack, STALE_TEMPORARY);

        let cache = IndexCache {
            dir: dir.path().to_path_buf(),
            max_bytes: 0,
        };
        let kept = sample().index(Some(&cache)).path.unwrap();

        for name in theirs {
            assert!(dir.path().join(name).exists(), "{name} was deleted");
        }
        assert!(!stale_temporary.exists(), "acs's own stale temporary stays");
        assert!(!older_pack.exists(), "the older pack is over budget");
        assert!(kept.exists(), "the pack just written is never pruned");
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
}
