//! The on-disk per-file store: each file's definitions and BM25 term statistics, keyed by
//! content, shared by every commit and every process that uses the cache folder. A new
//! commit, in a new process, processes only the files whose content no process saw before.
//!
//! Layout: `<cache dir>/files-v1/<generation>.acsfiles`, append-only logs of records. A
//! record is a header (magic, format tag, key hash, payload length, checksum) and a postcard
//! payload holding the full key, the definitions and the term statistics. Beside each log,
//! `<generation>.acskeys` lists its records (key hash, offset, length, a check of those), so
//! a lookup reads 32 bytes per record and then only the records it uses.
//!
//! Guarantees:
//! - **Never trusted into a wrong answer.** A record is used only if its magic, format tag,
//!   length and xxh3-128 checksum (over header and payload) hold, it decodes, its key equals
//!   the one looked up, and every index in it points inside it. Anything else (a torn write,
//!   a flipped bit, another version's record) is skipped, and the file is processed anew.
//! - **Never cold for good.** A key index is trusted up to its first entry that is torn,
//!   damaged, out of order or past the end of its log; the log is walked record by record
//!   from where that trusted part ends (all of it when the key index is missing or not
//!   acs's), so a torn key index hides nothing. The next write (or, after a lookup that met
//!   one, the next call to append, even with nothing to add) cuts the key index back to its
//!   trusted part and lists the walked records again, under the log's lock.
//! - **Shared safely.** Writers append whole batches of records with one `write` under an
//!   exclusive advisory lock (`flock`) on the log, opened `O_APPEND`; readers hold a shared
//!   lock on each log while they map it, so they never see a write in progress. A write that
//!   fails (disk full, a file size limit) is cut off again under the lock, giving its space
//!   back; so is a torn tail a writer killed mid-write left, at the next write. Nothing else
//!   is ever rewritten or truncated.
//! - **Bounded.** When the newest log passes its share of the budget (a quarter, at least
//!   1 MiB), a new generation starts; then the oldest logs and their key indexes are deleted
//!   while the two together are over budget (never the newest). Records a lookup found in an
//!   older log are copied into the newest, so what is in use survives pruning. Processes
//!   pruning at once count a file another deleted first as deleted.
//! - **Only its own files.** Logs are `<number>.acsfiles` regular files that start with the
//!   record magic; key indexes `<number>.acskeys` regular files that start with the key
//!   magic. A file named like either that is not (another program's, a FIFO, a link, a
//!   folder) is never read as a record, appended to, truncated or deleted: the writer moves
//!   on to the next generation, and nothing else changes. Pruning deletes only logs and key
//!   indexes (with their log, or once their log is gone), inside the folder acs made.
//! - **Only its own folder.** The cache folder may be shared (`--cache-dir /tmp`), so the
//!   store's folder is created private (mode 0700 on unix), and one that is a link, not a
//!   folder, or (unix) owned by another user is not used: the index is then built in memory
//!   only, with a warning. Logs and key indexes are opened without following links and
//!   without blocking, and used only if they are regular files. This check is the defence
//!   against forged records: a record someone else wrote with a valid checksum cannot be told
//!   from one acs wrote, so no one else must be able to write into the folder.

use crate::index::cache::{Symbols, TermKey};
use crate::index::symbols::definition::SymbolDef;
use crate::index::terms::{DocTerms, FileTerms, TermCounts, Vocabulary};
use crate::lang::Lang;
use crate::snapshot::content::ContentKey;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The folder inside the cache folder; bump with a layout change of the records.
pub(crate) const FOLDER: &str = "files-v1";
const EXTENSION: &str = "acsfiles";
/// Beside each log, its key index: a magic, then per record its key hash, offset and
/// length, and a check of those.
const KEYS_EXTENSION: &str = "acskeys";
const KEYS_MAGIC: &[u8; 8] = b"ACSKEYS\x01";
const KEY_ENTRY_LEN: usize = 16 + 8 + 4 + 4;
const MAGIC: &[u8; 8] = b"ACSFILE\x01";
/// magic, tag, key hash, payload length, checksum.
const HEADER_LEN: usize = 8 + 8 + 16 + 4 + 16;
/// The newest log takes records until it holds this fraction (1/4) of the budget; then a new
/// generation starts, and the oldest go while the folder is over budget.
const GENERATIONS: u64 = 4;
/// The least the newest log takes before a new generation starts, whatever the budget: with
/// a tiny budget (`ACS_CACHE_MAX_MB=0`) each append would otherwise start a new log and
/// delete all the others.
const MIN_SHARE: u64 = 1 << 20;
/// Generations in a row a writer skips because a file in their place is not acs's own (a
/// FIFO, a link, another program's file) before it gives up on the folder.
const MAX_SKIPPED: u32 = 8;

/// What a record's meaning depends on besides its key: the crate version and the format of
/// definitions and terms. Records of another tag are skipped.
fn format_tag() -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&crate::index::tokenize::FORMAT_VERSION.to_le_bytes());
    h.digest()
}

fn key_hash((key, lang): &TermKey) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    match key {
        ContentKey::GitBlob(id) => {
            h.update(b"g");
            h.update(id);
        }
        ContentKey::Hash(x) => {
            h.update(b"h");
            h.update(&x.to_le_bytes());
        }
    }
    h.update(lang.map_or("-", Lang::name).as_bytes());
    h.digest128()
}

/// A record's payload, as written.
#[derive(Serialize)]
struct RecordOut<'a> {
    key: ContentKey,
    lang: Option<Lang>,
    defs: Option<&'a [SymbolDef]>,
    terms: &'a TermCounts,
}

/// A record's payload, read: terms borrowed from the mapped log (same field order).
#[derive(Deserialize)]
struct RecordIn<'a> {
    key: ContentKey,
    lang: Option<Lang>,
    defs: Option<Vec<SymbolDef>>,
    #[serde(borrow)]
    terms: TermsIn<'a>,
}

#[derive(Deserialize)]
struct TermsIn<'a> {
    #[serde(borrow)]
    terms: Vec<&'a str>,
    text: DocTerms,
    chunks: Vec<(u32, DocTerms)>,
}

/// One file's entry found on disk.
#[derive(Clone)]
pub(crate) struct Found {
    pub defs: Option<Symbols>,
    pub terms: Arc<FileTerms>,
}

/// The store in one cache folder.
pub(crate) struct FileStore {
    dir: PathBuf,
    max_bytes: u64,
}

/// What a lookup found: per key, its entry or `None`; the bytes of the records used; the
/// raw records that came from older logs, to copy forward; and the logs whose key index
/// did not cover them whole, to repair.
pub(crate) struct Lookup {
    pub found: Vec<Option<Found>>,
    pub bytes: u64,
    carried: Vec<u8>,
    repair: Vec<PathBuf>,
}

impl FileStore {
    pub(crate) fn new(cache_dir: &Path, max_bytes: u64) -> FileStore {
        FileStore {
            dir: cache_dir.join(FOLDER),
            max_bytes,
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the store's folder may be used (see [`check_private_folder`]).
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        check_private_folder(&self.dir, "index store")
    }

    /// Create the store's folder if absent (see [`create_private_folder`]).
    fn create(&self) -> std::io::Result<()> {
        create_private_folder(&self.dir, "index store")
    }

    /// The logs, oldest first, as (generation, path): regular files that start with the
    /// record magic (links, FIFOs, folders and other programs' files with a log's name are
    /// not logs).
    fn logs(&self) -> Vec<(u64, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut logs: Vec<(u64, PathBuf)> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| {
                let name = e.file_name();
                let generation = name.to_str()?.strip_suffix(".acsfiles")?;
                let ok = !generation.is_empty() && generation.bytes().all(|b| b.is_ascii_digit());
                Some((generation.parse().ok().filter(|_| ok)?, e.path()))
            })
            .filter(|(_, path)| starts_with_magic(path, MAGIC))
            .collect();
        logs.sort();
        logs
    }

    /// Look up `keys` in every log, newest first, and decode what is found in parallel,
    /// interning its terms in `vocab`. Keys may repeat (equal files); each gets the entry.
    pub(crate) fn lookup(&self, keys: &[TermKey], vocab: &Arc<Vocabulary>) -> Lookup {
        let tag = format_tag();
        let mut found: Vec<Option<Found>> = keys.iter().map(|_| None).collect();
        let mut bytes = 0;
        let mut carried = Vec::new();
        let mut repair = Vec::new();
        if self.check().is_err() {
            return Lookup {
                found,
                bytes,
                carried,
                repair,
            };
        }
        let mut wanted: rustc_hash::FxHashMap<u128, Vec<usize>> = Default::default();
        for (i, k) in keys.iter().enumerate() {
            wanted.entry(key_hash(k)).or_default().push(i);
        }
        let logs: Vec<(Mapped, PathBuf)> = self
            .logs()
            .into_iter()
            .rev()
            .filter_map(|(_, p)| Some((Mapped::open(&p)?, p)))
            .collect();
        // Newest log first. Each log's key index says where its records are, so a lookup
        // reads 32 bytes per record, not the logs; what it does not cover is walked. A key
        // stays wanted until one of its records decodes: a damaged one lets older logs be tried.
        for (age, (log, path)) in logs.iter().enumerate() {
            if wanted.is_empty() {
                break;
            }
            let (candidates, whole) = candidates(log, path, tag, |h| wanted.contains_key(&h));
            if !whole {
                repair.push(path.clone());
            }
            let decoded = crate::pool::build_map(&candidates, |_, (hash, record)| {
                decode(record, &keys[wanted[hash][0]], vocab)
            });
            for ((hash, record), entry) in candidates.iter().zip(decoded) {
                let Some(entry) = entry else { continue };
                // The first record of a key that decodes is used.
                let Some(positions) = wanted.remove(hash) else {
                    continue;
                };
                bytes += record.len() as u64;
                if age > 0 {
                    carried.extend_from_slice(record);
                }
                for i in positions {
                    found[i] = Some(entry.clone());
                }
            }
        }
        Lookup {
            found,
            bytes,
            carried,
            repair,
        }
    }

    /// One file's entry as a whole record, ready for [`FileStore::append`].
    pub(crate) fn record(key: &TermKey, defs: Option<&[SymbolDef]>, terms: &TermCounts) -> Vec<u8> {
        let payload = postcard::to_stdvec(&RecordOut {
            key: key.0,
            lang: key.1,
            defs,
            terms,
        })
        .expect("plain data encodes");
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        encode(&mut out, format_tag(), key_hash(key), &payload);
        out
    }

    /// Append `records` (from [`FileStore::record`]) and what `lookup` carried forward from
    /// older logs, in one write, then prune; and repair the key indexes `lookup` found torn
    /// or behind their log (even with nothing to append). Returns the bytes written.
    pub(crate) fn append(&self, records: &[&[u8]], lookup: Option<Lookup>) -> std::io::Result<u64> {
        let (mut batch, repair) = lookup.map(|l| (l.carried, l.repair)).unwrap_or_default();
        for r in records {
            batch.extend_from_slice(r);
        }
        let written = match batch.is_empty() {
            true => None,
            false => Some(self.write_batch(&batch)?),
        };
        // The log just written had its key index brought up to date with the write.
        for log in &repair {
            if written.as_ref().is_none_or(|(_, path)| path != log) {
                // Best effort: a key index left torn only costs walks of its log.
                let _ = repair_keys(log);
            }
        }
        if let Some((generation, _)) = written {
            self.prune(generation);
            if let Some(parent) = self.dir.parent() {
                crate::index::persist::remove_legacy_packs_once(parent);
            }
        }
        Ok(batch.len() as u64)
    }

    /// Append `batch` to the newest log while it is within its share of the budget, else to
    /// a new generation; a generation whose log or key index is not acs's own is skipped.
    /// Returns the generation written and its log.
    fn write_batch(&self, batch: &[u8]) -> std::io::Result<(u64, PathBuf)> {
        self.create()?;
        let share = (self.max_bytes / GENERATIONS).max(MIN_SHARE);
        let newest = self.logs().last().map_or(1, |(g, _)| *g);
        let after = |generation: u64| {
            // Only a forged log name gets here: a damaged store, not written.
            generation
                .checked_add(1)
                .ok_or_else(|| std::io::Error::other("damaged store: no generation after the last"))
        };
        let mut generation = newest;
        let mut skipped = 0;
        loop {
            let path = self.dir.join(format!("{generation:08}.{EXTENSION}"));
            let Some(pair) = Pair::open(&path, true)? else {
                skipped += 1;
                if skipped > MAX_SKIPPED {
                    return Err(std::io::Error::other(format!(
                        "damaged store: {MAX_SKIPPED} generations in a row are not acs's files"
                    )));
                }
                generation = after(generation)?;
                continue;
            };
            let _lock = Locked::exclusive(&pair.log)?;
            let size = pair.log.metadata()?.len();
            // A full log: start the next generation (another writer may have already).
            if size > 0 && size + batch.len() as u64 > share && generation == newest {
                generation = after(generation)?;
                continue;
            }
            pair.append(batch)?;
            return Ok((generation, path));
        }
    }

    /// Delete key indexes whose log is gone, then the oldest logs (with their key indexes)
    /// while the folder is over budget, counting both; never `active` or newer. Another
    /// process pruning at the same time may delete a file first: it is gone all the same.
    fn prune(&self, active: u64) {
        let size_of = |p: &Path| {
            std::fs::symlink_metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len())
        };
        self.remove_orphan_keys();
        let sized: Vec<(u64, PathBuf, u64)> = self
            .logs()
            .into_iter()
            .filter_map(|(g, p)| {
                let keys = size_of(&p.with_extension(KEYS_EXTENSION)).unwrap_or(0);
                Some((g, p.clone(), size_of(&p)? + keys))
            })
            .collect();
        self.prune_listed(active, sized);
    }

    /// [`Self::prune`] over `sized` (generation, log, bytes of log and key index), listed
    /// before: another process may have deleted some of them since.
    fn prune_listed(&self, active: u64, sized: Vec<(u64, PathBuf, u64)>) {
        let removed = |p: &Path| match std::fs::remove_file(p) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        };
        let mut total: u64 = sized.iter().map(|s| s.2).sum();
        for (generation, path, size) in sized {
            if total <= self.max_bytes || generation >= active {
                break;
            }
            // A log another process deleted first is gone all the same.
            let gone = std::fs::symlink_metadata(&path)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound);
            if gone || (starts_with_magic(&path, MAGIC) && removed(&path)) {
                total = total.saturating_sub(size);
                let keys = path.with_extension(KEYS_EXTENSION);
                if starts_with_magic(&keys, KEYS_MAGIC) {
                    removed(&keys);
                }
            }
        }
    }

    /// Delete `<number>.acskeys` files (starting with the key magic) whose log is gone: left
    /// by a prune that died between the two deletions, or by a writer whose log another
    /// process deleted under it. A log is always created before its key index.
    fn remove_orphan_keys(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(generation) = name.to_str().and_then(|n| n.strip_suffix(".acskeys")) else {
                continue;
            };
            if generation.is_empty() || !generation.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let keys = e.path();
            let log = keys.with_extension(EXTENSION);
            let log_gone = matches!(std::fs::symlink_metadata(&log), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
            if log_gone && starts_with_magic(&keys, KEYS_MAGIC) {
                let _ = std::fs::remove_file(&keys);
            }
        }
    }

    /// Total bytes of the logs and their key indexes.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        if self.check().is_err() {
            return 0;
        }
        self.logs()
            .iter()
            .flat_map(|(_, p)| [p.with_extension(KEYS_EXTENSION), p.clone()])
            .filter_map(|p| std::fs::symlink_metadata(p).ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    }
}

/// Whether a store folder of the cache (`what` names it in the reason) may be used: absent
/// (it is created private when first written), or a real folder (not a link) that (unix) the
/// current user owns. A folder others may write into is made private first. `Err` says why
/// not. This is the defence against forged records: no one else may write into the folder.
pub(crate) fn check_private_folder(dir: &Path, what: &str) -> std::result::Result<(), String> {
    // Absent (or unreachable: then nothing can be read, and writing fails and says so).
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return Ok(());
    };
    let refuse = |why: &str| {
        Err(format!(
            "{what} {} not used ({why}); the index is kept in memory only",
            dir.display()
        ))
    };
    if meta.file_type().is_symlink() {
        return refuse("it is a link");
    }
    if !meta.is_dir() {
        return refuse("it is not a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: geteuid has no preconditions and cannot fail.
        if meta.uid() != unsafe { libc::geteuid() } {
            return refuse("it belongs to another user");
        }
        if meta.mode() & 0o022 != 0 {
            let private = std::fs::Permissions::from_mode(0o700);
            if std::fs::set_permissions(dir, private).is_err() {
                return refuse("others may write into it");
            }
        }
    }
    Ok(())
}

/// Create a store folder of the cache if absent (private: mode 0700 on unix), then
/// [`check_private_folder`].
pub(crate) fn create_private_folder(dir: &Path, what: &str) -> std::io::Result<()> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    check_private_folder(dir, what).map_err(std::io::Error::other)
}

fn encode(out: &mut Vec<u8>, tag: u64, key: u128, payload: &[u8]) {
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&key.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    let sum = checksum(&out[start..], payload);
    out.extend_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Over the header before the checksum, and the payload.
fn checksum(head: &[u8], payload: &[u8]) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(head);
    h.update(payload);
    h.digest128()
}

/// The records of `log` whose (tag, key hash) `accept` takes and whose checksum holds, as
/// (offset, key hash, whole record), in order. A record is skipped by its length only when
/// another record (or the end) follows it; a damaged header or length, a torn record, or an
/// accepted record whose checksum fails is stepped over by searching for the next magic, so
/// a record appended after a torn one is still found. Only accepted records are hashed.
fn records<F: Fn(u64, u128) -> bool>(
    log: &[u8],
    accept: F,
) -> impl Iterator<Item = (usize, u128, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || loop {
        let rest = log.get(at..)?;
        if rest.len() < HEADER_LEN {
            return None;
        }
        if &rest[..8] != MAGIC {
            at += 1 + memchr::memmem::find(&rest[1..], MAGIC)?;
            continue;
        }
        let record_tag = u64::from_le_bytes(rest[8..16].try_into().ok()?);
        let key = u128::from_le_bytes(rest[16..32].try_into().ok()?);
        let len = u32::from_le_bytes(rest[32..36].try_into().ok()?) as usize;
        let whole = rest.get(..HEADER_LEN + len).filter(|r| {
            let next = &rest[r.len()..];
            next.is_empty() || next.starts_with(MAGIC)
        });
        let Some(record) = whole else {
            at += 1;
            continue;
        };
        if accept(record_tag, key) {
            if !checksum_holds(record) {
                at += 1;
                continue;
            }
            let start = at;
            at += record.len();
            return Some((start, key, record));
        }
        at += record.len();
    })
}

/// The entry in `record` if its checksum holds, it decodes, it is the entry of `key`, and
/// every index in it points inside it.
fn decode(record: &[u8], key: &TermKey, vocab: &Arc<Vocabulary>) -> Option<Found> {
    if !checksum_holds(record) {
        return None;
    }
    let r: RecordIn<'_> = postcard::from_bytes(&record[HEADER_LEN..]).ok()?;
    if (r.key, r.lang) != *key || r.defs.is_some() != key.1.is_some() {
        return None;
    }
    let defs_len = r.defs.as_ref().map_or(0, Vec::len);
    let sound_defs = r
        .defs
        .iter()
        .flatten()
        .all(|d| d.parent.is_none_or(|p| (p as usize) < defs_len));
    let terms = r.terms;
    let sound_chunks = terms.chunks.iter().all(|(d, _)| (*d as usize) < defs_len);
    let n = terms.terms.len() as u32;
    let sound_terms = std::iter::once(&terms.text)
        .chain(terms.chunks.iter().map(|(_, d)| d))
        .all(|d| d.pairs.iter().all(|&(t, c)| t < n && c > 0));
    if !(sound_defs && sound_chunks && sound_terms) {
        return None;
    }
    Some(Found {
        defs: r.defs.map(Into::into),
        terms: Arc::new(FileTerms {
            vocab: vocab.clone(),
            ids: vocab.intern_strs(&terms.terms),
            text: terms.text,
            chunks: terms.chunks,
        }),
    })
}

fn checksum_holds(record: &[u8]) -> bool {
    let (header, payload) = record.split_at(HEADER_LEN);
    let sum = u128::from_le_bytes(header[36..52].try_into().expect("16 bytes"));
    checksum(&header[..36], payload) == sum
}

pub(crate) fn starts_with_magic(path: &Path, magic: &[u8; 8]) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    open_regular(std::fs::File::options().read(true), path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == magic)
}

/// Open `path` with `options`, never following a link nor blocking (unix: a FIFO someone put
/// in the folder would hang a plain open), and only if it is a regular file.
pub(crate) fn open_regular(
    options: &mut std::fs::OpenOptions,
    path: &Path,
) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(options, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// The whole of `path` if it is a regular file (see [`open_regular`]).
fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(std::fs::File::options().read(true), path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The records of `log` (at `path`) with this tag whose key `wanted` accepts and that are
/// sound: those its key index lists, then those past the part of the log the key index
/// covers, walked. The flag is false when the key index should be repaired: it is torn,
/// damaged, behind its log or absent, and not another program's file.
fn candidates<'l>(
    log: &'l [u8],
    path: &Path,
    tag: u64,
    wanted: impl Fn(u128) -> bool,
) -> (Vec<(u128, &'l [u8])>, bool) {
    let index = read_regular(&path.with_extension(KEYS_EXTENSION));
    let repairable = match &index {
        Ok(bytes) => is_own(bytes, KEYS_MAGIC),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    };
    let index = index.unwrap_or_default();
    let keys = KeyIndex::parse(&index, log.len());
    let mut out = indexed(log, keys.entries, tag, &wanted);
    let unlisted = records(&log[keys.covered..], |t, k| t == tag && wanted(k));
    out.extend(unlisted.map(|(_, key, record)| (key, record)));
    let whole = keys.sound_len == index.len() && keys.covered == log.len();
    (out, whole || !repairable)
}

/// The records of `log` that the trusted key index `entries` lists, whose key `wanted`
/// accepts, and that are sound where the entry says (magic, tag, key, length, checksum).
fn indexed<'l>(
    log: &'l [u8],
    entries: &[u8],
    tag: u64,
    wanted: impl Fn(u128) -> bool,
) -> Vec<(u128, &'l [u8])> {
    let mut out = Vec::new();
    for (key, at, len) in entries.chunks_exact(KEY_ENTRY_LEN).filter_map(key_entry) {
        if !wanted(key) {
            continue;
        }
        let Some(record) = log.get(at..).and_then(|r| r.get(..len)) else {
            continue;
        };
        let sound = len >= HEADER_LEN
            && record.starts_with(MAGIC)
            && record[8..16] == tag.to_le_bytes()
            && record[16..32] == key.to_le_bytes()
            && HEADER_LEN + u32::from_le_bytes(record[32..36].try_into().expect("4")) as usize
                == len
            && checksum_holds(record);
        if sound {
            out.push((key, record));
        }
    }
    out
}

/// A key index as read back, trusted up to its first entry that is torn (a write cut
/// short, stray bytes that misalign the rest), fails its check, goes back in the log, or
/// reaches past the log's end. Entries are appended in log order, so what follows such an
/// entry is not trusted either: the log is walked from where the trusted ones end.
struct KeyIndex<'a> {
    /// The trusted entries, whole.
    entries: &'a [u8],
    /// Bytes of the key index the magic and the trusted entries take (0 without the magic).
    sound_len: usize,
    /// Where the last trusted entry's record ends in the log: the records after it are not
    /// listed.
    covered: usize,
}

impl<'a> KeyIndex<'a> {
    fn parse(index: &'a [u8], log_len: usize) -> KeyIndex<'a> {
        let Some(body) = index.strip_prefix(KEYS_MAGIC) else {
            return KeyIndex {
                entries: &[],
                sound_len: 0,
                covered: 0,
            };
        };
        let mut covered = 0;
        let mut trusted = 0;
        for (_, at, len) in body.chunks_exact(KEY_ENTRY_LEN).map_while(key_entry) {
            match at.checked_add(len) {
                Some(end) if at >= covered && end <= log_len => covered = end,
                _ => break,
            }
            trusted += 1;
        }
        KeyIndex {
            entries: &body[..trusted * KEY_ENTRY_LEN],
            sound_len: KEYS_MAGIC.len() + trusted * KEY_ENTRY_LEN,
            covered,
        }
    }
}

/// A key index entry's (key hash, offset, length), if its check holds.
fn key_entry(e: &[u8]) -> Option<(u128, usize, usize)> {
    let check = u32::from_le_bytes(e[28..32].try_into().ok()?);
    if xxhash_rust::xxh3::xxh3_64(&e[..28]) as u32 != check {
        return None;
    }
    let key = u128::from_le_bytes(e[..16].try_into().ok()?);
    let at = usize::try_from(u64::from_le_bytes(e[16..24].try_into().ok()?)).ok()?;
    let len = u32::from_le_bytes(e[24..28].try_into().ok()?) as usize;
    Some((key, at, len))
}

/// The key index entry of the record of key hash `key` at offset `at`, `len` bytes long.
fn key_entry_bytes(key: u128, at: u64, len: u32) -> [u8; KEY_ENTRY_LEN] {
    let mut entry = [0u8; KEY_ENTRY_LEN];
    entry[..16].copy_from_slice(&key.to_le_bytes());
    entry[16..24].copy_from_slice(&at.to_le_bytes());
    entry[24..28].copy_from_slice(&len.to_le_bytes());
    let check = xxhash_rust::xxh3::xxh3_64(&entry[..28]) as u32;
    entry[28..].copy_from_slice(&check.to_le_bytes());
    entry
}

/// Whether a file that begins with `head` can be acs's (a log with `magic` = [`MAGIC`], a
/// key index with [`KEYS_MAGIC`]): empty, starting with the magic, or a torn start of it.
fn is_own(head: &[u8], magic: &[u8; 8]) -> bool {
    head.starts_with(magic) || magic.starts_with(head)
}

/// Whether `path` is absent (to be created) or a regular file acs may write (see
/// [`is_own`]): never a FIFO, a link, a folder or another program's file.
fn may_write(path: &Path, magic: &[u8; 8]) -> std::io::Result<bool> {
    use std::io::Read;
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
        Ok(meta) if !meta.is_file() => Ok(false),
        Ok(_) => {
            let mut head = Vec::with_capacity(magic.len());
            open_regular(std::fs::File::options().read(true), path)?
                .take(magic.len() as u64)
                .read_to_end(&mut head)?;
            Ok(is_own(&head, magic))
        }
    }
}

/// A log and its key index, open to be written (and read back).
struct Pair {
    log: std::fs::File,
    keys: std::fs::File,
}

impl Pair {
    /// The log at `path` and its key index, created if absent (the log only if `create`);
    /// `None` when either is not a regular file acs may write (see [`may_write`]).
    fn open(path: &Path, create: bool) -> std::io::Result<Option<Pair>> {
        let keys_path = path.with_extension(KEYS_EXTENSION);
        if !may_write(path, MAGIC)? || !may_write(&keys_path, KEYS_MAGIC)? {
            return Ok(None);
        }
        let mut options = std::fs::File::options();
        options.read(true).append(true).create(create);
        let log = open_regular(&mut options, path)?;
        let keys = open_regular(options.create(true), &keys_path)?;
        Ok(Some(Pair { log, keys }))
    }

    /// Under the log's exclusive lock: append `batch` to the log and its entries to the key
    /// index (brought up to date first, see [`Pair::sync`]). A write that fails is cut off
    /// again, so a full disk keeps no torn batch.
    fn append(&self, batch: &[u8]) -> std::io::Result<()> {
        let (size, mut entries) = self.sync()?;
        if let Err(e) = (&self.log).write_all(batch) {
            let _ = self.log.set_len(size);
            return Err(e);
        }
        let mut at = 0;
        while let Some(header) = batch.get(at..at + HEADER_LEN) {
            let len = HEADER_LEN as u32 + u32::from_le_bytes(header[32..36].try_into().expect("4"));
            let key = u128::from_le_bytes(header[16..32].try_into().expect("16"));
            entries.extend_from_slice(&key_entry_bytes(key, size + at as u64, len));
            at += len as usize;
        }
        self.append_keys(&entries)
    }

    /// Under the log's exclusive lock: cut a torn tail (a writer killed mid-write) off the
    /// log and the key index back to its trusted part (see [`KeyIndex`]); return the log's
    /// size then, and what the key index lacks (its magic when it has none, and the entries
    /// of the records after its trusted part), to append.
    fn sync(&self) -> std::io::Result<(u64, Vec<u8>)> {
        use std::io::Read;
        let size = usize::try_from(self.log.metadata()?.len()).map_err(std::io::Error::other)?;
        let mut index = Vec::new();
        (&self.keys).read_to_end(&mut index)?;
        let keys = KeyIndex::parse(&index, size);
        let mut missing = Vec::new();
        if keys.sound_len == 0 {
            missing.extend_from_slice(KEYS_MAGIC);
        }
        if keys.sound_len < index.len() {
            self.keys.set_len(keys.sound_len as u64)?;
        }
        let mut end = size;
        if keys.covered < size {
            // Mapped without a lock: this process holds the exclusive one.
            let log =
                Mapped::of(&self.log).ok_or_else(|| std::io::Error::other("unreadable log"))?;
            end = keys.covered;
            for (at, key, record) in records(&log[keys.covered..size], |_, _| true) {
                let at = keys.covered + at;
                missing.extend_from_slice(&key_entry_bytes(key, at as u64, record.len() as u32));
                end = at + record.len();
            }
        }
        if end < size {
            self.log.set_len(end as u64)?;
        }
        Ok((end as u64, missing))
    }

    /// Append `entries` to the key index; cut off again if the write fails (a key index that
    /// lags its log only costs walks until the next write).
    fn append_keys(&self, entries: &[u8]) -> std::io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let before = self.keys.metadata()?.len();
        (&self.keys).write_all(entries).inspect_err(|_| {
            let _ = self.keys.set_len(before);
        })
    }
}

/// Bring the key index of the log at `path` up to date under the log's lock (see
/// [`Pair::sync`]), if both are acs's own.
fn repair_keys(path: &Path) -> std::io::Result<()> {
    let Some(pair) = Pair::open(path, false)? else {
        return Ok(());
    };
    let _lock = Locked::exclusive(&pair.log)?;
    let (_, missing) = pair.sync()?;
    pair.append_keys(&missing)
}

/// A log's bytes: mapped when it can be (one lookup touches only the headers it skips), or
/// read whole; with the file, whose shared lock (if taken) lasts as long as the bytes.
struct Mapped {
    bytes: Bytes,
    _file: Option<std::fs::File>,
}

enum Bytes {
    Map(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Mapped {
    /// The log at `path`, under a shared lock: no writer appends to it or cuts it meanwhile.
    fn open(path: &Path) -> Option<Mapped> {
        let file = open_regular(std::fs::File::options().read(true), path).ok()?;
        // Without locks (a filesystem without them) writers cannot take theirs either, so
        // nothing is appended or cut: read on.
        let _ = lock(&file, LockKind::Shared);
        let bytes = Self::of(&file)?.bytes;
        Some(Mapped {
            bytes,
            _file: Some(file),
        })
    }

    /// The bytes of `file`, which the caller has locked.
    fn of(file: &std::fs::File) -> Option<Mapped> {
        // SAFETY: logs are only ever appended to, and cut back (a failed write, a torn tail)
        // only under the exclusive lock, which excludes the shared lock every reader holds
        // while its map lives; so the mapped range stays valid.
        let bytes = match unsafe { memmap2::Mmap::map(file) } {
            Ok(map) => Bytes::Map(map),
            Err(_) => {
                use std::io::Read;
                let mut bytes = Vec::new();
                (&*file).read_to_end(&mut bytes).ok()?;
                Bytes::Read(bytes)
            }
        };
        Some(Mapped { bytes, _file: None })
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Map(m) => m,
            Bytes::Read(v) => v,
        }
    }
}

/// An exclusive advisory lock on a file, held until dropped (unix; elsewhere appends rely on
/// `O_APPEND` and the checksums alone).
struct Locked<'a>(#[allow(dead_code)] &'a std::fs::File);

impl<'a> Locked<'a> {
    fn exclusive(file: &'a std::fs::File) -> std::io::Result<Locked<'a>> {
        lock(file, LockKind::Exclusive)?;
        Ok(Locked(file))
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = lock(self.0, LockKind::Unlock);
    }
}

enum LockKind {
    Shared,
    Exclusive,
    Unlock,
}

/// `flock` on `file`, waiting as long as it takes (unix; a no-op elsewhere). A lock lasts
/// until unlocked or until the file is closed.
fn lock(file: &std::fs::File, kind: LockKind) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let op = match kind {
            LockKind::Shared => libc::LOCK_SH,
            LockKind::Exclusive => libc::LOCK_EX,
            LockKind::Unlock => libc::LOCK_UN,
        };
        // SAFETY: flock on a descriptor we own.
        while unsafe { libc::flock(file.as_raw_fd(), op) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (file, kind);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> (TermKey, TermCounts) {
        let key = (ContentKey::of_bytes(text.as_bytes()), None);
        (key, TermCounts::count(text.as_bytes(), &[]))
    }

    #[test]
    fn records_round_trip_and_damaged_ones_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 1 << 20);
        let (a, b, c) = (entry("alpha beta"), entry("gamma delta"), entry("epsilon"));
        let records: Vec<Vec<u8>> = [&a, &b, &c]
            .iter()
            .map(|(k, t)| FileStore::record(k, None, t))
            .collect();
        let batch: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        store.append(&batch, None).unwrap();
        let keys = [a.0, b.0, c.0, entry("absent").0];
        let vocab = Arc::default();
        let got = store.lookup(&keys, &vocab);
        let terms: Vec<Option<TermCounts>> = got
            .found
            .iter()
            .map(|f| f.as_ref().map(|f| f.terms.counts()))
            .collect();
        assert_eq!(terms, [Some(a.1), Some(b.1), Some(c.1), None]);

        // A damaged key index entry: the log is walked from the first entry's record on;
        // without a key index, the whole log is walked.
        let keys_path = store.logs().pop().unwrap().1.with_extension(KEYS_EXTENSION);
        let good_keys = std::fs::read(&keys_path).unwrap();
        let mut damaged = good_keys.clone();
        damaged[KEYS_MAGIC.len() + KEY_ENTRY_LEN + 20] ^= 1; // the second entry's offset
        std::fs::write(&keys_path, &damaged).unwrap();
        let present = |got: Lookup| got.found.iter().map(Option::is_some).collect::<Vec<_>>();
        let got = store.lookup(&keys, &vocab);
        assert_eq!(
            got.repair.len(),
            1,
            "the damaged key index is to be repaired"
        );
        assert_eq!(present(got), [true, true, true, false]);
        std::fs::remove_file(&keys_path).unwrap();
        assert_eq!(
            present(store.lookup(&keys, &vocab)),
            [true, true, true, false]
        );
        std::fs::write(&keys_path, &good_keys).unwrap();

        // Flip one payload byte of the second record, and cut the third short.
        let log = store.logs().pop().unwrap().1;
        let mut bytes = std::fs::read(&log).unwrap();
        let second = memchr::memmem::find_iter(&bytes, MAGIC).nth(1).unwrap();
        bytes[second + HEADER_LEN + 2] ^= 0x40;
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&log, &bytes).unwrap();
        assert_eq!(
            present(store.lookup(&keys, &vocab)),
            [true, false, false, false]
        );
    }

    fn one_record(store: &FileStore, text: &str) -> std::io::Result<u64> {
        let (k, t) = entry(text);
        store.append(&[&FileStore::record(&k, None, &t)], None)
    }

    #[cfg(unix)]
    #[test]
    fn a_store_folder_that_is_not_acs_own_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // Created private.
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 1 << 20);
        one_record(&store, "alpha").unwrap();
        assert_eq!(mode(store.dir()), 0o700);
        // A folder others may write into is made private before use.
        std::fs::set_permissions(store.dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(store.check().is_ok());
        assert_eq!(mode(store.dir()), 0o700);

        // A link planted where the folder goes: neither read nor written through.
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let planted = FileStore::new(elsewhere.path(), 1 << 20);
        one_record(&planted, "alpha").unwrap();
        std::os::unix::fs::symlink(planted.dir(), dir.path().join(FOLDER)).unwrap();
        let store = FileStore::new(dir.path(), 1 << 20);
        assert!(store.check().unwrap_err().contains("link"));
        assert!(one_record(&store, "beta").is_err());
        let got = store.lookup(&[entry("alpha").0], &Arc::default());
        assert!(got.found[0].is_none());
        assert_eq!(planted.logs().len(), 1);
        assert!(planted.lookup(&[entry("beta").0], &Arc::default()).found[0].is_none());

        // A file where the folder goes.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FOLDER), b"x").unwrap();
        let store = FileStore::new(dir.path(), 1 << 20);
        assert!(store.check().unwrap_err().contains("not a folder"));
        assert!(one_record(&store, "beta").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn fifos_links_and_forged_generations_in_the_folder_do_no_harm() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 1 << 20);
        one_record(&store, "alpha").unwrap();
        // A FIFO named as a newer log and as the real log's key index: never opened blocking.
        for name in ["00000009.acsfiles", "00000001.acskeys"] {
            let _ = std::fs::remove_file(store.dir().join(name));
            let c = std::ffi::CString::new(
                store.dir().join(name).into_os_string().into_encoded_bytes(),
            )
            .unwrap();
            // SAFETY: a valid C string.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        // A link named as a log, to a file that must not be appended to.
        let target = dir.path().join("victim");
        std::fs::write(&target, b"").unwrap();
        std::os::unix::fs::symlink(&target, store.dir().join("00000010.acsfiles")).unwrap();
        let (a, b) = (entry("alpha").0, entry("beta").0);
        // The log is walked (its key index is a FIFO); the FIFO and link logs are skipped.
        assert!(store.lookup(&[a], &Arc::default()).found[0].is_some());
        // Its key index is a FIFO: the writer moves on to the next generation, never through
        // the link, and the FIFO stays as it was.
        one_record(&store, "beta").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"");
        let written: Vec<u64> = store.logs().iter().map(|(g, _)| *g).collect();
        assert_eq!(written, [1, 2]);
        let fifo = std::fs::symlink_metadata(store.dir().join("00000001.acskeys")).unwrap();
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo.file_type()));
        let got = store.lookup(&[a, b], &Arc::default());
        assert!(got.found.iter().all(Option::is_some));

        // A forged log at the last generation: full, so no next one: a damaged store.
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 4 << 20);
        one_record(&store, "alpha").unwrap();
        let last = store.dir().join(format!("{}.{EXTENSION}", u64::MAX));
        let mut forged = MAGIC.to_vec();
        forged.resize(8 << 20, 0);
        std::fs::write(&last, &forged).unwrap();
        assert!(one_record(&store, "beta").is_err());
        assert_eq!(std::fs::metadata(&last).unwrap().len(), 8 << 20);
        assert!(store.lookup(&[b], &Arc::default()).found[0].is_none());
    }

    #[test]
    fn a_log_another_process_pruned_first_counts_as_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 0);
        std::fs::create_dir_all(store.dir()).unwrap();
        let mut listed = Vec::new();
        for g in 1..=3u64 {
            let path = store.dir().join(format!("{g:08}.{EXTENSION}"));
            let mut bytes = MAGIC.to_vec();
            bytes.resize(1000, 0);
            std::fs::write(&path, &bytes).unwrap();
            listed.push((g, path, 1000));
        }
        // Budget for two logs; the other process already deleted the oldest.
        let store = FileStore::new(dir.path(), 2000);
        std::fs::remove_file(&listed[0].1).unwrap();
        store.prune_listed(3, listed.clone());
        assert!(listed[1].1.exists(), "the next log was deleted too");
        assert!(listed[2].1.exists());
    }

    #[test]
    fn orphan_key_indexes_go_and_key_indexes_count_in_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 1 << 30);
        one_record(&store, "alpha").unwrap();
        let orphan = store.dir().join(format!("00000000.{KEYS_EXTENSION}"));
        let theirs = store.dir().join(format!("00000005.{KEYS_EXTENSION}"));
        std::fs::write(&orphan, KEYS_MAGIC).unwrap();
        std::fs::write(&theirs, b"not a key index").unwrap();
        one_record(&store, "beta").unwrap();
        assert!(!orphan.exists() && theirs.exists());
        let (log, keys) = {
            let log = store.logs().pop().unwrap().1;
            let keys = log.with_extension(KEYS_EXTENSION);
            (log, keys)
        };
        let len = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert_eq!(store.bytes(), len(&log) + len(&keys));
    }

    #[test]
    fn a_record_that_does_not_decode_lets_older_logs_be_tried() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 1 << 30);
        one_record(&store, "alpha").unwrap();
        // A newer log whose record for the key has a sound checksum but no valid payload.
        let (a, counts) = entry("alpha");
        let mut bad = Vec::new();
        encode(&mut bad, format_tag(), key_hash(&a), b"\xff\xff\xff");
        std::fs::write(store.dir().join(format!("00000002.{EXTENSION}")), &bad).unwrap();
        let got = store.lookup(&[a], &Arc::default());
        assert_eq!(
            got.found[0].as_ref().map(|f| f.terms.counts()),
            Some(counts)
        );
        assert!(
            !got.carried.is_empty(),
            "found in an older log: carried forward"
        );
    }

    #[test]
    fn a_tiny_budget_still_keeps_one_log_of_a_floor_size() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 0);
        let texts = ["alpha", "beta", "gamma", "delta"];
        for t in texts {
            one_record(&store, t).unwrap();
        }
        assert_eq!(store.logs().len(), 1);
        let keys: Vec<TermKey> = texts.iter().map(|t| entry(t).0).collect();
        let got = store.lookup(&keys, &Arc::default());
        assert!(got.found.iter().all(Option::is_some));
    }

    fn append_texts(store: &FileStore, texts: &[&str]) {
        let records: Vec<Vec<u8>> = texts
            .iter()
            .map(|t| {
                let (k, c) = entry(t);
                FileStore::record(&k, None, &c)
            })
            .collect();
        let batch: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        store.append(&batch, None).unwrap();
    }

    fn key_entries(store: &FileStore) -> usize {
        let keys = store.logs().pop().unwrap().1.with_extension(KEYS_EXTENSION);
        let len = std::fs::metadata(keys).unwrap().len() as usize - KEYS_MAGIC.len();
        assert_eq!(len % KEY_ENTRY_LEN, 0, "the key index is whole");
        len / KEY_ENTRY_LEN
    }

    fn append_bytes(path: &Path, bytes: &[u8]) {
        let mut f = std::fs::File::options().append(true).open(path).unwrap();
        f.write_all(bytes).unwrap();
    }

    #[test]
    fn a_torn_key_index_hides_nothing_and_is_repaired() {
        let texts = ["alpha", "beta", "gamma", "delta", "epsilon"];
        let keys: Vec<TermKey> = texts.iter().map(|t| entry(t).0).collect();
        let all_found = |got: &Lookup| got.found.iter().all(Option::is_some);
        for damage in ["stray bytes", "cut mid-entry", "stray bytes, then a write"] {
            let dir = tempfile::tempdir().unwrap();
            let store = FileStore::new(dir.path(), 1 << 30);
            append_texts(&store, &texts[..3]);
            let keys_path = store.logs().pop().unwrap().1.with_extension(KEYS_EXTENSION);
            if damage == "stray bytes, then a write" {
                // The entries written after the stray bytes would be misaligned for good.
                append_bytes(&keys_path, b"xxxxx");
                append_texts(&store, &texts[3..]);
                assert_eq!(key_entries(&store), 5, "{damage}");
            } else {
                append_texts(&store, &texts[3..]);
                match damage {
                    "stray bytes" => append_bytes(&keys_path, b"xxxxx"),
                    _ => {
                        let len = std::fs::metadata(&keys_path).unwrap().len();
                        std::fs::File::options()
                            .write(true)
                            .open(&keys_path)
                            .unwrap()
                            .set_len(len - 13)
                            .unwrap();
                    }
                }
            }
            let got = store.lookup(&keys, &Arc::default());
            assert!(all_found(&got), "{damage}");
            // Nothing to append, but the key index is repaired.
            assert_eq!(store.append(&[], Some(got)).unwrap(), 0, "{damage}");
            assert_eq!(key_entries(&store), 5, "{damage}");
            let got = store.lookup(&keys, &Arc::default());
            assert!(all_found(&got) && got.repair.is_empty(), "{damage}");
        }
    }

    #[test]
    fn a_torn_tail_of_a_log_is_cut_at_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 1 << 30);
        one_record(&store, "alpha").unwrap();
        let log = store.logs().pop().unwrap().1;
        let good = std::fs::metadata(&log).unwrap().len();
        // A writer killed mid-write: half a record after the last whole one.
        let (k, c) = entry("never finished");
        let record = FileStore::record(&k, None, &c);
        append_bytes(&log, &record[..record.len() / 2]);
        let got = store.lookup(&[entry("alpha").0], &Arc::default());
        assert!(got.found[0].is_some());
        let written = one_record(&store, "beta").unwrap();
        assert_eq!(std::fs::metadata(&log).unwrap().len(), good + written);
        let got = store.lookup(&[entry("alpha").0, entry("beta").0], &Arc::default());
        assert!(got.found.iter().all(Option::is_some) && got.repair.is_empty());
        assert_eq!(key_entries(&store), 2);
    }

    #[test]
    fn files_named_like_logs_or_key_indexes_that_are_not_acs_own_are_never_written() {
        // Another program's file where the first log goes.
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 1 << 30);
        std::fs::create_dir_all(store.dir()).unwrap();
        let theirs = store.dir().join(format!("00000001.{EXTENSION}"));
        std::fs::write(&theirs, b"hello").unwrap();
        one_record(&store, "alpha").unwrap();
        assert_eq!(std::fs::read(&theirs).unwrap(), b"hello");
        assert!(store.lookup(&[entry("alpha").0], &Arc::default()).found[0].is_some());

        // Another program's file where a real log's key index goes: the log is read by
        // walking it, the file is neither repaired nor appended to.
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path(), 1 << 30);
        one_record(&store, "alpha").unwrap();
        let keys = store.dir().join(format!("00000001.{KEYS_EXTENSION}"));
        std::fs::write(&keys, b"someone else's notes").unwrap();
        let got = store.lookup(&[entry("alpha").0], &Arc::default());
        assert!(got.found[0].is_some() && got.repair.is_empty());
        store.append(&[], Some(got)).unwrap();
        one_record(&store, "beta").unwrap();
        assert_eq!(std::fs::read(&keys).unwrap(), b"someone else's notes");
        let got = store.lookup(&[entry("alpha").0, entry("beta").0], &Arc::default());
        assert!(got.found.iter().all(Option::is_some));
        assert_eq!(store.logs().len(), 2, "beta went to the next generation");
    }
}
