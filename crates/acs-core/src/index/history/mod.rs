//! The history index of a repository: for every commit reachable from the commits asked
//! about, its id, committer time and parents; for every non-merge commit, the terms of its
//! message (the BM25 tokenizer) and the paths it touched (its tree against its parent's,
//! names only). Read from git objects through the snapshot layer's guarded reader
//! (`snapshot/source/odb.rs`), never a `git log` process.
//!
//! - **As of a commit.** Every query is asked of a [`History`]: the index seen from one
//!   commit, which sees only that commit's proper ancestors. The commit itself and anything
//!   after it are never visible: a training instance is a fix whose own commit is in the
//!   index, and seeing it would make its features lie. BM25's statistics (document count,
//!   document frequencies, mean length) are counted over the visible commits too.
//! - **Built once, extended.** Commits are immutable, so what the index says of a commit id
//!   never goes stale: asking about a later commit walks only the commits the index lacks
//!   (`walk.rs`), and the index is kept in this process and in the cache folder
//!   (`store.rs`: checksummed, budgeted, only its own files; a torn or foreign file is
//!   rebuilt, not trusted).
//! - **Partial histories.** A commit whose parent (a shallow clone's boundary) or tree is
//!   missing or damaged is kept with its message and no paths, and the object is listed in
//!   [`HistoryReport::missing`]; the walk goes on elsewhere, never errors out or hangs.
//!   When a listed object turns up later (`git fetch --unshallow`), the index is rebuilt.
//! - **Bounded.** A commit touching more than [`MAX_TOUCHED`] files (a vendoring commit) is
//!   recorded as such, its paths not expanded; only the first [`MAX_MESSAGE`] bytes of a
//!   message are read.
//!
//! Queries (`query.rs`): similar past fixes (BM25 of a text over past messages, summed onto
//! the files those commits touched), co-change (files changed in the same commits as given
//! files), and per-file activity (churn, and how long since the last change, in commits and
//! seconds). Renames are not followed: a file's changes before a rename count under its old
//! path.

mod query;
mod store;
mod walk;

pub use query::{CoChange, CoChanged, CommitInfo, FileActivity, FileScore, PastFix, SimilarFixes};

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::index::persist::IndexCache;
use crate::snapshot::source::git::Objects;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A commit touching more files than this is a bulk change (vendoring, a mass rename, a
/// reformat): recorded with its count, its paths not expanded.
pub(crate) const MAX_TOUCHED: usize = 500;
/// Bytes of a commit message that are tokenized (a longer message is cut).
pub(crate) const MAX_MESSAGE: usize = 64 << 10;
/// Commit ids listed in a report's `missing`.
const MAX_MISSING_LISTED: usize = 20;
/// Histories kept in this process (the most recently used).
const MEMORY_ENTRIES: usize = 4;

/// What the index knows of a commit's changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Change {
    /// A non-merge commit whose touched paths are listed.
    Paths,
    /// A merge: walked through, neither its message nor its paths indexed.
    Merge,
    /// A non-merge commit touching more than [`MAX_TOUCHED`] files: paths not listed.
    Bulk,
    /// A non-merge commit whose parent or tree is missing or damaged: no paths.
    Partial,
}

/// The stored index: columns per commit, in an order where every commit comes after its
/// parents (so a larger index is a later commit along any line of history).
#[derive(Clone, Default, Serialize, Deserialize)]
pub(crate) struct Commits {
    ids: Vec<[u8; 20]>,
    /// The commit's tree, all zero when unreadable.
    trees: Vec<[u8; 20]>,
    times: Vec<i64>,
    changes: Vec<Change>,
    /// Files touched (at least [`MAX_TOUCHED`] + 1 for a bulk change).
    touched: Vec<u32>,
    /// Parents of commit `i` (indices): `parents[parent_start[i]..parent_start[i + 1]]`.
    /// A parent the walk could not read is not among them.
    parent_start: Vec<u32>,
    parents: Vec<u32>,
    /// (term, count) pairs of the message of commit `i`, as for the parents.
    term_start: Vec<u32>,
    terms: Vec<(u32, u32)>,
    /// Paths touched by commit `i`, as for the parents.
    path_start: Vec<u32>,
    paths: Vec<u32>,
    vocabulary: Vec<String>,
    path_names: Vec<String>,
    /// Objects the walk needed and could not read (missing or damaged), sorted.
    missing: Vec<[u8; 20]>,
}

/// What is derived from [`Commits`] on load, never stored.
#[derive(Clone, Default)]
struct Lookup {
    by_id: FxHashMap<[u8; 20], u32>,
    term_ids: FxHashMap<String, u32>,
    path_ids: FxHashMap<String, u32>,
    /// Per term: (commit, count), commits ascending.
    term_postings: Vec<Vec<(u32, u32)>>,
    /// Per path: commits touching it, ascending.
    path_postings: Vec<Vec<u32>>,
    /// Per commit: the sum of its term counts.
    doc_len: Vec<u32>,
}

/// A repository's history index: [`Commits`] and what is looked up through.
#[derive(Clone, Default)]
pub(crate) struct HistoryIndex {
    commits: Commits,
    lookup: Lookup,
}

fn range(start: &[u32], i: usize) -> std::ops::Range<usize> {
    start[i] as usize..start[i + 1] as usize
}

impl HistoryIndex {
    /// The index over `commits` if every column agrees with the others and every index in
    /// it points where it may (parents before their children); `None` otherwise.
    fn new(commits: Commits) -> Option<HistoryIndex> {
        if !commits.sound() {
            return None;
        }
        let mut index = HistoryIndex {
            commits,
            lookup: Lookup::default(),
        };
        index.derive_from(0)?;
        Some(index)
    }

    /// Extend the lookup with commits `from..`: ids, postings, lengths. `None` on a
    /// repeated commit id (a damaged index).
    fn derive_from(&mut self, from: usize) -> Option<()> {
        let c = &self.commits;
        let l = &mut self.lookup;
        for (i, name) in c.vocabulary.iter().enumerate().skip(l.term_ids.len()) {
            l.term_ids.insert(name.clone(), i as u32);
        }
        for (i, name) in c.path_names.iter().enumerate().skip(l.path_ids.len()) {
            l.path_ids.insert(name.clone(), i as u32);
        }
        l.term_postings.resize(c.vocabulary.len(), Vec::new());
        l.path_postings.resize(c.path_names.len(), Vec::new());
        for i in from..c.ids.len() {
            if l.by_id.insert(c.ids[i], i as u32).is_some() {
                return None;
            }
            let mut len = 0u32;
            for &(term, count) in &c.terms[range(&c.term_start, i)] {
                l.term_postings[term as usize].push((i as u32, count));
                len = len.saturating_add(count);
            }
            l.doc_len.push(len);
            for &path in &c.paths[range(&c.path_start, i)] {
                l.path_postings[path as usize].push(i as u32);
            }
        }
        Some(())
    }

    fn len(&self) -> usize {
        self.commits.ids.len()
    }

    fn position(&self, id: &[u8; 20]) -> Option<u32> {
        self.lookup.by_id.get(id).copied()
    }

    fn parents_of(&self, i: usize) -> &[u32] {
        &self.commits.parents[range(&self.commits.parent_start, i)]
    }
}

impl Commits {
    fn sound(&self) -> bool {
        let n = self.ids.len();
        let columns = [
            self.trees.len(),
            self.times.len(),
            self.changes.len(),
            self.touched.len(),
        ];
        let starts = [
            (&self.parent_start, self.parents.len()),
            (&self.term_start, self.terms.len()),
            (&self.path_start, self.paths.len()),
        ];
        let starts_sound = starts.iter().all(|(start, total)| {
            start.len() == n + 1
                && start[0] == 0
                && start[n] as usize == *total
                && start.windows(2).all(|w| w[0] <= w[1])
        });
        if columns.iter().any(|&len| len != n) || !starts_sound {
            return false;
        }
        let parents_before = (0..n).all(|i| {
            self.parents[range(&self.parent_start, i)]
                .iter()
                .all(|&p| (p as usize) < i)
        });
        let (terms, paths) = (self.vocabulary.len(), self.path_names.len());
        parents_before
            && self
                .terms
                .iter()
                .all(|&(t, count)| (t as usize) < terms && count > 0)
            && self.paths.iter().all(|&p| (p as usize) < paths)
            && self.missing.windows(2).all(|w| w[0] < w[1])
    }
}

/// What [`History::open`] did, serialised for Python and JSON readers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HistoryReport {
    /// Where the index came from: `memory`, `disk`, `built` (walked whole now) or
    /// `extended` (found, and the commits it lacked walked now).
    pub source: &'static str,
    /// The commit the history is seen from (full id).
    pub as_of: String,
    /// Commits in the index (all those walked, for any commit asked about so far).
    pub commits: usize,
    /// Commits visible from `as_of`: its proper ancestors.
    pub visible: usize,
    /// Commits walked now.
    pub walked: usize,
    /// Merge commits, and non-merge commits too large to list ([`MAX_TOUCHED`]) or whose
    /// parent or tree could not be read, in the index.
    pub merges: usize,
    /// See `merges`.
    pub bulk: usize,
    /// See `merges`.
    pub partial: usize,
    /// How many objects the walk needed and could not read (a shallow clone's boundary, a
    /// damaged object), and the first few of them.
    pub missing_count: usize,
    /// See `missing_count`.
    pub missing: Vec<String>,
    /// Tree entries whose name cannot be a repository path (not UTF-8, `..`, ...), skipped.
    pub skipped_names: u64,
    /// The store file, when a cache folder was given.
    pub path: Option<PathBuf>,
    /// Bytes read from and written to the store.
    pub bytes_read: u64,
    /// See `bytes_read`.
    pub bytes_written: u64,
    /// Wall time of the call.
    pub elapsed_ms: f64,
    /// Why the cache folder could not be used (the index is complete all the same).
    pub warning: Option<String>,
}

/// A repository's history as seen from one commit: only its proper ancestors are visible.
/// Cheap to query; made by [`History::open`].
pub struct History {
    index: Arc<HistoryIndex>,
    /// The commit seen from.
    at: u32,
    /// Bit `i` set: commit `i` is a proper ancestor of `at`.
    visible: Vec<u64>,
    /// Per commit: how many visible non-merge commits come before it in the index.
    rank: Vec<u32>,
    /// Visible non-merge commits (BM25's documents) and their mean length.
    documents: u32,
    mean_length: f64,
}

/// Histories kept in this process, most recently used last, by repository folder.
static MEMORY: Mutex<Vec<(PathBuf, Arc<HistoryIndex>)>> = Mutex::new(Vec::new());

fn remembered(key: &Path) -> Option<Arc<HistoryIndex>> {
    let mut memory = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    let at = memory.iter().position(|(k, _)| k == key)?;
    let entry = memory.remove(at);
    let index = entry.1.clone();
    memory.push(entry);
    Some(index)
}

fn forget_key(key: &Path) {
    let mut memory = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    memory.retain(|(k, _)| k != key);
}

fn remember(key: PathBuf, index: Arc<HistoryIndex>) {
    let mut memory = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    memory.retain(|(k, _)| *k != key);
    memory.push((key, index));
    if memory.len() > MEMORY_ENTRIES {
        memory.remove(0);
    }
}

impl History {
    /// The history of the git repository at `git_dir` as of commit `as_of` (any revision
    /// git resolves: an id, a branch, `HEAD~3`): its proper ancestors. The index is taken
    /// from this process, else from the store in `cache`'s folder, else built; the commits
    /// it lacks are walked now and the store is updated. `cancel` stops a long walk
    /// ([`Error::Cancelled`]; nothing is kept).
    ///
    /// Errors: [`Error::Repository`] (not a repository), [`Error::UnknownCommit`] (`as_of`
    /// does not resolve, or its own commit object is missing or damaged).
    pub fn open(
        git_dir: impl AsRef<Path>,
        as_of: &str,
        cache: Option<&IndexCache>,
        cancel: &Cancel,
    ) -> Result<(History, HistoryReport)> {
        let start = std::time::Instant::now();
        let objects = Objects::open(git_dir.as_ref())?;
        let tip = objects.resolve(as_of)?;
        let tip_id = walk::id_bytes(tip);
        let key = repository_key(&objects);
        let mut report = HistoryReport {
            as_of: tip.to_string(),
            ..HistoryReport::default()
        };
        let store = cache.map(|c| store::HistoryStore::new(c, &key));
        let (mut index, source) = match remembered(&key) {
            Some(index) => (index, "memory"),
            None => match store.as_ref().and_then(|s| s.load(&mut report)) {
                Some(commits) => match walk::usable(&objects, commits) {
                    Some(index) => (Arc::new(index), "disk"),
                    None => (Arc::default(), "built"),
                },
                None => (Arc::default(), "built"),
            },
        };
        report.source = source;
        let walk_now = index.position(&tip_id).is_none();
        if walk_now {
            // Grown in place when nothing else holds it (no live `History` seen from it).
            forget_key(&key);
            if index.len() > 0 {
                report.source = "extended";
            }
            let mut grown = Arc::try_unwrap(index).unwrap_or_else(|shared| (*shared).clone());
            let walked = walk::extend(&objects, &mut grown, tip, cancel)?;
            report.walked = walked.commits;
            report.skipped_names = walked.skipped_names;
            index = Arc::new(grown);
        }
        // Stored when it grew, or when this process built it without a cache folder.
        if let Some(store) = store.as_ref().filter(|s| walk_now || !s.exists()) {
            store.save(&index.commits, &mut report);
        }
        remember(key, index.clone());
        let history = History::at(index, tip_id);
        history.fill(&mut report);
        report.path = store.map(|s| s.path().to_path_buf());
        report.elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        Ok((history, report))
    }

    /// The history seen from `tip`, which `index` holds.
    fn at(index: Arc<HistoryIndex>, tip: [u8; 20]) -> History {
        let at = index.position(&tip).expect("the tip was walked");
        let n = index.len();
        let mut visible = vec![0u64; n.div_ceil(64)];
        let mut pending: Vec<u32> = index.parents_of(at as usize).to_vec();
        while let Some(i) = pending.pop() {
            let (word, bit) = (i as usize / 64, 1u64 << (i % 64));
            if visible[word] & bit == 0 {
                visible[word] |= bit;
                pending.extend_from_slice(index.parents_of(i as usize));
            }
        }
        let mut rank = Vec::with_capacity(n);
        let (mut documents, mut length) = (0u32, 0u64);
        for i in 0..n {
            rank.push(documents);
            let seen = visible[i / 64] & (1 << (i % 64)) != 0;
            if seen && index.commits.changes[i] != Change::Merge {
                documents += 1;
                length += u64::from(index.lookup.doc_len[i]);
            }
        }
        let mean_length = if documents == 0 {
            1.0
        } else {
            (length as f64 / f64::from(documents)).max(1.0)
        };
        History {
            index,
            at,
            visible,
            rank,
            documents,
            mean_length,
        }
    }

    fn fill(&self, report: &mut HistoryReport) {
        let c = &self.index.commits;
        let count = |kind: Change| c.changes.iter().filter(|k| **k == kind).count();
        report.commits = self.index.len();
        report.visible = self.visible.iter().map(|w| w.count_ones() as usize).sum();
        report.merges = count(Change::Merge);
        report.bulk = count(Change::Bulk);
        report.partial = count(Change::Partial);
        report.missing_count = c.missing.len();
        report.missing = c
            .missing
            .iter()
            .take(MAX_MISSING_LISTED)
            .map(walk::hex)
            .collect();
    }

    /// Drop the history index of the repository at `git_dir` from this process's memory (a
    /// later [`History::open`] reads the store or walks again): for tests and benchmarks,
    /// and to give the memory back.
    pub fn forget(git_dir: impl AsRef<Path>) {
        if let Ok(objects) = Objects::open(git_dir.as_ref()) {
            forget_key(&repository_key(&objects));
        }
    }

    /// Whether commit `i` is visible (a proper ancestor of the commit seen from).
    fn sees(&self, i: u32) -> bool {
        self.visible[i as usize / 64] & (1 << (i % 64)) != 0
    }

    /// The full id of the commit the history is seen from.
    pub fn as_of(&self) -> String {
        walk::hex(&self.index.commits.ids[self.at as usize])
    }

    /// Visible commits, merges included.
    pub fn visible_commits(&self) -> usize {
        self.visible.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// What names a repository in this process's memory and in the store: its common git
/// folder, canonical.
fn repository_key(objects: &Objects) -> PathBuf {
    let dir = objects.common_dir();
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

/// Refuse a request larger than `max` items, naming `what`.
fn at_most(what: &str, given: usize, max: usize) -> Result<()> {
    if given > max {
        return Err(Error::InvalidArgument(format!(
            "{what}: {given} given, at most {max}"
        )));
    }
    Ok(())
}
