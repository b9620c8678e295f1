//! [`Repo`]: a [`Snapshot`] with its indexes (symbols, BM25 of files and of functions, each
//! built once, on first use or by [`Repo::index`]) and the [`Store`] it was opened with,
//! which every index it builds goes through. The tools and the executor read a `Repo`; its
//! file access is the snapshot's (`Repo` derefs to [`Snapshot`]).
//!
//! Every tool reads from a `Repo` and nothing else, so once a snapshot is open no tool
//! touches the filesystem or the git object database again.

use crate::cancel::Cancel;
use crate::error::Result;
use crate::index::bm25::{Bm25Index, Level};
use crate::index::cache::Store;
use crate::index::filestore::FileStore;
use crate::index::imports::ImportGraph;
use crate::index::persist::{self, IndexCache, IndexReport, IndexSource};
use crate::index::symbols::SymbolIndex;
use crate::snapshot::{Snapshot, SourceOptions};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// A snapshot of a repository's text files with its indexes and its store.
pub struct Repo {
    snapshot: Snapshot,
    /// The caches this snapshot was loaded through; its indexes are built through them too.
    store: Store,
    symbols: OnceLock<Arc<SymbolIndex>>,
    bm25_files: OnceLock<Arc<Bm25Index>>,
    bm25_functions: OnceLock<Arc<Bm25Index>>,
    /// Built on first use by the `imports` tool (not by [`Repo::index`]: few plans ask).
    imports: OnceLock<Arc<ImportGraph>>,
    /// One builder per index at a time (the others wait, or give up when cancelled); a
    /// cancelled build leaves its `OnceLock` empty for the next caller.
    build_gates: [Mutex<()>; 3],
}

impl std::ops::Deref for Repo {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl Repo {
    /// Open a directory (walked with gitignore rules, no git needed).
    ///
    /// A git directory itself (a `.git` folder or a bare repository: `HEAD`, `objects/`,
    /// `refs/`) is opened at its `HEAD` commit instead, so git's internals (`config`, hooks)
    /// are never indexed as files; with no commit it is an [`crate::Error::Repository`].
    pub fn open_dir(root: impl Into<PathBuf>, opts: &SourceOptions) -> Result<Repo> {
        Self::open_dir_in(root, opts, Store::global())
    }

    /// [`Repo::open_dir`] through the caches of `store`, which the repo keeps.
    pub fn open_dir_in(
        root: impl Into<PathBuf>,
        opts: &SourceOptions,
        store: &Store,
    ) -> Result<Repo> {
        crate::pool::init();
        let snapshot = crate::snapshot::source::open_dir(root.into(), opts, store.contents())?;
        Ok(Self::new(snapshot, store))
    }

    /// Open `rev` (a commit id, branch, tag or any rev-parse expression) of the git
    /// repository at `git_dir` (a work tree, a `.git` folder or a bare mirror), reading the
    /// object database directly: no checkout.
    pub fn open_git(git_dir: impl Into<PathBuf>, rev: &str, opts: &SourceOptions) -> Result<Repo> {
        Self::open_git_in(git_dir, rev, opts, Store::global())
    }

    /// [`Repo::open_git`] through the caches of `store`, which the repo keeps.
    pub fn open_git_in(
        git_dir: impl Into<PathBuf>,
        rev: &str,
        opts: &SourceOptions,
        store: &Store,
    ) -> Result<Repo> {
        crate::pool::init();
        let snapshot =
            crate::snapshot::source::open_git(git_dir.into(), rev, opts, store.contents())?;
        Ok(Self::new(snapshot, store))
    }

    /// Build a snapshot from in-memory files (tests, and callers with their own source).
    pub fn from_files<P: AsRef<str>, C: AsRef<[u8]>>(
        files: impl IntoIterator<Item = (P, C)>,
    ) -> Result<Repo> {
        Self::from_files_in(files, Store::global())
    }

    /// [`Repo::from_files`] through the caches of `store`.
    pub fn from_files_in<P: AsRef<str>, C: AsRef<[u8]>>(
        files: impl IntoIterator<Item = (P, C)>,
        store: &Store,
    ) -> Result<Repo> {
        crate::pool::init();
        let snapshot = crate::snapshot::source::from_files(files, store.contents())?;
        Ok(Self::new(snapshot, store))
    }

    /// `snapshot`, with no index built yet, building them through `store`.
    pub fn new(snapshot: Snapshot, store: &Store) -> Repo {
        Repo {
            snapshot,
            store: store.clone(),
            symbols: OnceLock::new(),
            bm25_files: OnceLock::new(),
            bm25_functions: OnceLock::new(),
            imports: OnceLock::new(),
            build_gates: Default::default(),
        }
    }

    /// The Python import graph, built on first call.
    pub(crate) fn import_graph(&self) -> &Arc<ImportGraph> {
        self.imports
            .get_or_init(|| Arc::new(ImportGraph::build(&self.snapshot)))
    }

    /// The files, as opened.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The caches this snapshot was opened with, which its indexes are built through.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The BM25 index of files or of function-level chunks, built on first use.
    pub fn bm25_index(&self, level: Level) -> &Arc<Bm25Index> {
        uncancelled(self.try_bm25_index(level, &Cancel::new()))
    }

    /// [`Repo::bm25_index`], giving up with [`crate::Error::Cancelled`] when `cancel` is set while
    /// it is built (or while another caller builds it); nothing partial is kept.
    pub fn try_bm25_index(&self, level: Level, cancel: &Cancel) -> Result<&Arc<Bm25Index>> {
        match level {
            Level::File => build_once(&self.bm25_files, &self.build_gates[1], cancel, || {
                Bm25Index::files_cancellable(&self.snapshot, &self.store, cancel)
            }),
            Level::Function => {
                // Built first, outside the BM25 build, so no index build ever waits on another.
                let symbols = self.try_symbol_index(cancel)?;
                build_once(&self.bm25_functions, &self.build_gates[2], cancel, || {
                    Bm25Index::functions_cancellable(&self.snapshot, symbols, &self.store, cancel)
                })
            }
        }
    }

    /// Make every index ready now: the symbol index and both BM25 indexes, assembled from
    /// per-file entries taken from the process's caches, else from the on-disk store of
    /// `cache`, else computed and appended there (see `indexing.rs` and `filestore.rs`); and
    /// the import graph, which the default planner asks in every search (a scan of the
    /// Python files' statement starts, not stored). Indexes this snapshot already has are
    /// kept.
    pub fn index(&self, cache: Option<&IndexCache>) -> IndexReport {
        uncancelled(self.index_cancellable(cache, &Cancel::new()))
    }

    /// [`Repo::index`] that stops with [`crate::Error::Cancelled`] when `cancel` is set during a
    /// build: no index is kept and nothing is written to the store.
    pub fn index_cancellable(
        &self,
        cache: Option<&IndexCache>,
        cancel: &Cancel,
    ) -> Result<IndexReport> {
        let start = std::time::Instant::now();
        let ms = || start.elapsed().as_secs_f64() * 1000.0;
        if let (Some(symbols), Some(_), Some(_)) = (
            self.symbols.get(),
            self.bm25_files.get(),
            self.bm25_functions.get(),
        ) {
            self.import_graph();
            return Ok(IndexReport {
                source: IndexSource::Memory,
                digest: persist::digest(&self.snapshot),
                symbols: symbols.len(),
                files_memory: self.files().len(),
                elapsed_ms: ms(),
                ..IndexReport::default()
            });
        }
        let disk = cache.map(|c| FileStore::new(&c.dir, c.max_bytes));
        let (indexes, how) =
            crate::index::indexing::build(&self.snapshot, &self.store, disk.as_ref(), cancel)?;
        self.import_graph();
        let report = IndexReport {
            source: IndexSource::of(how.disk, how.processed),
            digest: persist::digest(&self.snapshot),
            path: disk.map(|d| d.dir().to_path_buf()),
            bytes: how.bytes_read + how.bytes_written,
            bytes_read: how.bytes_read,
            bytes_written: how.bytes_written,
            files_memory: how.memory,
            files_disk: how.disk,
            files_processed: how.processed,
            parsed: how.parsed,
            symbols: indexes.symbols.len(),
            elapsed_ms: ms(),
            warning: how.warning,
        };
        // A concurrent lazy build may have won; either copy describes the same content.
        let _ = self.symbols.set(indexes.symbols);
        let _ = self.bm25_files.set(indexes.bm25_files);
        let _ = self.bm25_functions.set(indexes.bm25_functions);
        Ok(report)
    }

    /// The symbol index, built on first use (in parallel, reusing cached parses).
    pub fn symbol_index(&self) -> &Arc<SymbolIndex> {
        uncancelled(self.try_symbol_index(&Cancel::new()))
    }

    /// [`Repo::symbol_index`], giving up with [`crate::Error::Cancelled`] when `cancel` is set
    /// while it is built (or while another caller builds it); nothing partial is kept.
    pub fn try_symbol_index(&self, cancel: &Cancel) -> Result<&Arc<SymbolIndex>> {
        build_once(&self.symbols, &self.build_gates[0], cancel, || {
            SymbolIndex::build_cancellable(&self.snapshot, &self.store, cancel)
        })
    }
}

/// `slot`'s value, built by `build` if it is empty. One caller builds at a time (behind
/// `gate`); the others wait for it, checking `cancel`. A failed (cancelled) build leaves the
/// slot empty, so the next caller builds it whole. Like `OnceLock::get_or_init`, it is
/// called from plain threads or global-pool tasks, and builds run on `pool::build_map`'s
/// own pool, so a waiter never blocks the builder it waits for.
fn build_once<'a, T>(
    slot: &'a OnceLock<Arc<T>>,
    gate: &Mutex<()>,
    cancel: &Cancel,
    build: impl FnOnce() -> Result<T>,
) -> Result<&'a Arc<T>> {
    if let Some(v) = slot.get() {
        return Ok(v);
    }
    let _turn = loop {
        match gate.try_lock() {
            Ok(g) => break g,
            Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                cancel.check()?;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    };
    if let Some(v) = slot.get() {
        return Ok(v);
    }
    let built = Arc::new(build()?);
    Ok(slot.get_or_init(|| built))
}

/// The value of an index lookup that no one can cancel.
fn uncancelled<T>(r: Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => unreachable!("an uncancellable build failed: {e}"),
    }
}
