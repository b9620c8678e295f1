//! The history indexes on disk: `<cache dir>/history-v1/<key>.acshist`, one file per
//! repository (`key`: a hash of its git folder's path), each a header (magic, format tag,
//! payload length, xxh3-128 checksum of header and payload) and the postcard-encoded
//! [`Commits`].
//!
//! The guarantees of the per-file store (`index/filestore.rs`), kept the same way:
//! - **Never trusted into a wrong answer.** A file is used only if its magic, tag, length
//!   and checksum hold, it decodes, and every index in it points where it may
//!   ([`HistoryIndex::new`]); anything else (torn, flipped, another version's) is ignored
//!   and the index rebuilt. What a file says of a commit id is true of that id in any
//!   repository (objects are named by their content), so a file left by another repository
//!   at the same path costs only the walk of the commits it lacks.
//! - **Written whole.** A new index is written to a temporary file in the folder, then
//!   renamed over the old one: a reader sees the old file or the new one, never half.
//! - **Bounded.** Index files may use [`SHARE`] of the cache budget (at least 1 MiB); after
//!   a write, the least recently written go while the folder is over it (never the one
//!   just written). An index larger than the whole share is kept in memory only.
//! - **Only its own files, in its own folder.** The folder is created private and refused
//!   when it is a link or (unix) another user's, as the per-file store's; files are opened
//!   without following links or blocking. A file named like an index that is not one (no
//!   magic, not a regular file) is never read, replaced or deleted; stale temporaries are
//!   deleted only when named as acs names them.

#[cfg(test)]
use super::HistoryIndex;
use super::{Commits, HistoryReport, MAX_MESSAGE, MAX_TOUCHED};
use crate::index::filestore::{
    check_private_folder, create_private_folder, open_regular, starts_with_magic,
};
use crate::index::persist::IndexCache;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The folder inside the cache folder; bump with a layout change.
pub(crate) const FOLDER: &str = "history-v1";
const EXTENSION: &str = "acshist";
const MAGIC: &[u8; 8] = b"ACSHIST\x01";
/// magic, tag, payload length, checksum.
const HEADER_LEN: usize = 8 + 8 + 8 + 16;
/// The share of the cache budget history indexes may use: 1/8.
const SHARE: u64 = 8;
const MIN_BUDGET: u64 = 1 << 20;
/// A temporary this old was left by a writer that died.
const STALE_TEMPORARY: Duration = Duration::from_secs(600);
/// What the folder is called in warnings.
const WHAT: &str = "history store";

/// What a stored index means besides its bytes: the tokenizer's format, this layout and the
/// caps that decide what a commit's entry holds.
fn format_tag() -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(b"acs-history\x001");
    h.update(&crate::index::tokenize::FORMAT_VERSION.to_le_bytes());
    h.update(&(MAX_TOUCHED as u64).to_le_bytes());
    h.update(&(MAX_MESSAGE as u64).to_le_bytes());
    h.digest()
}

fn checksum(head: &[u8], payload: &[u8]) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(head);
    h.update(payload);
    h.digest128()
}

/// One repository's index file in one cache folder.
pub(crate) struct HistoryStore {
    dir: PathBuf,
    path: PathBuf,
    budget: u64,
}

impl HistoryStore {
    /// The store of the repository whose git folder is `repository`, in `cache`'s folder.
    pub(crate) fn new(cache: &IndexCache, repository: &Path) -> HistoryStore {
        let dir = cache.dir.join(FOLDER);
        let key = xxhash_rust::xxh3::xxh3_128(repository.as_os_str().as_encoded_bytes());
        HistoryStore {
            path: dir.join(format!("{key:032x}.{EXTENSION}")),
            dir,
            budget: (cache.max_bytes / SHARE).max(MIN_BUDGET),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether something (an index or not) is where the index goes.
    pub(crate) fn exists(&self) -> bool {
        std::fs::symlink_metadata(&self.path).is_ok()
    }

    /// The stored index, if there is a sound one; why not goes to `report.warning` when the
    /// folder cannot be used (an absent, torn or foreign file is just rebuilt).
    pub(crate) fn load(&self, report: &mut HistoryReport) -> Option<Commits> {
        if let Err(why) = check_private_folder(&self.dir, WHAT) {
            report.warning = Some(why);
            return None;
        }
        let bytes = read_own(&self.path, self.budget)?;
        report.bytes_read = bytes.len() as u64;
        decode(&bytes)
    }

    /// Write `commits` whole (see the module comment), then prune. Failures go to
    /// `report.warning`: the index is complete in memory all the same.
    pub(crate) fn save(&self, commits: &Commits, report: &mut HistoryReport) {
        match self.write(commits) {
            Ok(written) => {
                report.bytes_written = written;
                self.prune();
            }
            Err(why) => {
                report.warning = Some(format!(
                    "history index not stored in {} ({why}); it is kept in memory only",
                    self.dir.display()
                ));
            }
        }
    }

    fn write(&self, commits: &Commits) -> std::result::Result<u64, String> {
        let bytes = encode(commits);
        if bytes.len() as u64 > self.budget {
            return Err(format!(
                "{} bytes, over its share of the cache budget, {} bytes",
                bytes.len(),
                self.budget
            ));
        }
        create_private_folder(&self.dir, WHAT).map_err(|e| e.to_string())?;
        // Never replace what is not acs's own index.
        if std::fs::symlink_metadata(&self.path).is_ok() && !starts_with_magic(&self.path, MAGIC) {
            return Err(format!("{} is not acs's file", self.path.display()));
        }
        let temporary = self.dir.join(temporary_name(&self.path));
        let written =
            write_new(&temporary, &bytes).and_then(|()| std::fs::rename(&temporary, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(e.to_string());
        }
        Ok(bytes.len() as u64)
    }

    /// Delete stale temporaries, then the least recently written index files while the
    /// folder is over budget (never the one just written).
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut indexes: Vec<(SystemTime, PathBuf, u64)> = Vec::new();
        for e in entries.flatten() {
            let (path, Ok(meta)) = (e.path(), e.metadata()) else {
                continue;
            };
            let Some(name) = e.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(now);
            if is_temporary(&name) {
                let stale = now
                    .duration_since(modified)
                    .is_ok_and(|age| age > STALE_TEMPORARY);
                if stale {
                    let _ = std::fs::remove_file(&path);
                }
            } else if is_index(&name) && starts_with_magic(&path, MAGIC) {
                indexes.push((modified, path, meta.len()));
            }
        }
        indexes.sort();
        let mut total: u64 = indexes.iter().map(|i| i.2).sum();
        for (_, path, size) in indexes {
            if total <= self.budget {
                break;
            }
            if path != self.path && std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(size);
            }
        }
    }
}

fn is_hex_key(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_index(name: &str) -> bool {
    name.strip_suffix(".acshist").is_some_and(is_hex_key)
}

/// `.<key>.acshist.<pid>.<nonce>.tmp`, as [`temporary_name`] makes them.
fn is_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = rest.split('.').collect();
    matches!(parts.as_slice(), [key, EXTENSION, pid, nonce]
        if is_hex_key(key) && number(pid) && number(nonce))
}

fn temporary_name(path: &Path) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NONCE: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("x");
    let nonce = NONCE.fetch_add(1, Ordering::Relaxed);
    format!(".{name}.{}.{nonce}.tmp", std::process::id())
}

/// Create `path` (never through a link, never over an existing file), private, and write.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // Not synced: a file torn by a crash fails its checksum and is rebuilt.
    options.open(path)?.write_all(bytes)
}

/// The whole of `path` if it is a regular file no larger than `limit` starting with the
/// magic; `None` otherwise.
fn read_own(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let file = open_regular(std::fs::File::options().read(true), path).ok()?;
    if file.metadata().ok()?.len() > limit {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).ok()?;
    bytes.starts_with(MAGIC).then_some(bytes)
}

fn encode(commits: &Commits) -> Vec<u8> {
    let payload = postcard::to_stdvec(commits).expect("plain data encodes");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&format_tag().to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    let sum = checksum(&out, &payload);
    out.extend_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// The index in `bytes` if the header, the checksum and the decoding hold; soundness is
/// checked when it is loaded ([`HistoryIndex::new`]).
fn decode(bytes: &[u8]) -> Option<Commits> {
    let header = bytes.get(..HEADER_LEN)?;
    let payload = &bytes[HEADER_LEN..];
    let tag = u64::from_le_bytes(header[8..16].try_into().ok()?);
    let len = u64::from_le_bytes(header[16..24].try_into().ok()?);
    let sum = u128::from_le_bytes(header[24..40].try_into().ok()?);
    if &header[..8] != MAGIC
        || tag != format_tag()
        || len != payload.len() as u64
        || checksum(&header[..24], payload) != sum
    {
        return None;
    }
    postcard::from_bytes(payload).ok()
}

/// Whether `bytes` hold a stored index that loads (for tests).
#[cfg(test)]
pub(crate) fn loads(bytes: &[u8]) -> bool {
    decode(bytes).and_then(HistoryIndex::new).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_acs_names_are_owned() {
        let key = "0123456789abcdef0123456789abcdef";
        assert!(is_index(&format!("{key}.acshist")));
        assert!(is_temporary(&format!(".{key}.acshist.12.3.tmp")));
        for name in [
            "x.acshist",
            &format!("{}.acshist", key.to_uppercase()),
            &format!(".{key}.acshist.12.tmp"),
            &format!(".{key}.acshist.1.2.3.tmp"),
            "notes.tmp",
        ] {
            assert!(!is_index(name) && !is_temporary(name), "{name}");
        }
        let made = temporary_name(Path::new(&format!("/x/{key}.acshist")));
        assert!(is_temporary(&made), "{made}");
    }

    #[test]
    fn a_damaged_or_foreign_file_does_not_load() {
        let mut commits = Commits::default();
        for start in [
            &mut commits.parent_start,
            &mut commits.term_start,
            &mut commits.path_start,
        ] {
            start.push(0);
        }
        let good = encode(&commits);
        assert!(loads(&good));
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let mut other_tag = good.clone();
        other_tag[9] ^= 1;
        for bad in [
            flipped,
            other_tag,
            good[..good.len() - 1].to_vec(),
            [good.as_slice(), b"x"].concat(),
            b"ACSHIST\x01".to_vec(),
            Vec::new(),
        ] {
            assert!(!loads(&bad));
        }
    }
}
