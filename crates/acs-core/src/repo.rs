//! [`Repo`]: an immutable, in-memory snapshot of a repository's searchable files.
//!
//! Every tool reads from a `Repo` and nothing else, so once a snapshot is open no tool
//! touches the filesystem or the git object database again.

use crate::bm25::{Bm25Index, Level};
use crate::cache::{ContentKey, Store};
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::filestore::FileStore;
use crate::lang::Lang;
use crate::pathsafe;
use crate::persist::{self, IndexCache, IndexReport};
use crate::symbols::SymbolIndex;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// What to load when opening a repository.
#[derive(Clone, Debug)]
pub struct SourceOptions {
    /// Files larger than this are skipped (and counted in [`OpenStats::skipped_large`]).
    pub max_file_size: u64,
    /// Also load hidden files and folders (`.git` is never loaded).
    pub hidden: bool,
    /// Globs (ripgrep `-g` conventions) of files and folders not to load, e.g. `site-packages`.
    pub exclude: Vec<String>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            max_file_size: 4 << 20,
            hidden: false,
            exclude: Vec::new(),
        }
    }
}

impl SourceOptions {
    pub(crate) fn exclusion(&self) -> Result<Option<crate::glob::PathFilter>> {
        if self.exclude.is_empty() {
            return Ok(None);
        }
        Ok(Some(crate::glob::PathFilter::new(&[], &self.exclude)?))
    }
}

/// One searchable text file of a snapshot.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// Repository-relative, `/`-separated.
    pub path: Arc<str>,
    pub content: crate::cache::Content,
    pub key: ContentKey,
    pub lang: Option<Lang>,
}

/// Where a snapshot came from.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    Directory {
        root: PathBuf,
    },
    Git {
        git_dir: PathBuf,
        rev: String,
        commit: String,
    },
}

/// What opening a repository found, for users and for the benchmarks.
///
/// UTF-16 files (with a byte order mark) are decoded to UTF-8 and loaded like any text file;
/// their line structure is unchanged. Every file not loaded is counted in one `skipped_*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OpenStats {
    pub files: usize,
    pub bytes: u64,
    /// Files with a NUL byte (after UTF-16 decoding).
    pub skipped_binary: usize,
    /// Files over [`SourceOptions::max_file_size`].
    pub skipped_large: usize,
    /// Symbolic links: never followed.
    pub skipped_links: usize,
    /// Files that could not be read: vanished, permission denied, not a regular file when
    /// opened (swapped since the walk), a link on the way, a damaged git blob.
    pub skipped_unreadable: usize,
    /// Entries whose name cannot be an exact, unique repository path: not UTF-8; empty, `.`,
    /// `..` or `.git` in any case; holding `/` or `\`; or a second entry of the same name in
    /// a crafted git tree. A folder's files are each counted; a git tree's are not read.
    pub skipped_names: usize,
    pub elapsed_ms: f64,
}

/// An immutable snapshot of a repository's text files, sorted by path.
pub struct Repo {
    files: Vec<FileEntry>,
    by_path: HashMap<Arc<str>, usize>,
    /// Symlinks that were not loaded, with whether their target lies outside the root.
    links: HashMap<String, bool>,
    origin: Origin,
    stats: OpenStats,
    /// The caches this snapshot was loaded through; its indexes are built through them too.
    store: Store,
    symbols: OnceLock<Arc<SymbolIndex>>,
    bm25_files: OnceLock<Arc<Bm25Index>>,
    bm25_functions: OnceLock<Arc<Bm25Index>>,
    /// One builder per index at a time (the others wait, or give up when cancelled); a
    /// cancelled build leaves its `OnceLock` empty for the next caller.
    build_gates: [Mutex<()>; 3],
}

/// Whether `path` is a git directory (what `git rev-parse --git-dir` would name), not a work
/// tree: the layout git itself checks for.
fn is_git_dir(path: &std::path::Path) -> bool {
    path.join("HEAD").is_file() && path.join("objects").is_dir() && path.join("refs").is_dir()
}

/// The raw material a source hands over to build a [`Repo`].
pub(crate) struct Loaded {
    pub files: Vec<FileEntry>,
    pub links: HashMap<String, bool>,
    pub stats: OpenStats,
}

impl Repo {
    /// Open a directory (walked with gitignore rules, no git needed).
    ///
    /// A git directory itself (a `.git` folder or a bare repository: `HEAD`, `objects/`,
    /// `refs/`) is opened at its `HEAD` commit instead, so git's internals (`config`, hooks)
    /// are never indexed as files; with no commit it is an [`Error::Repository`].
    pub fn open_dir(root: impl Into<PathBuf>, opts: &SourceOptions) -> Result<Repo> {
        Self::open_dir_in(root, opts, Store::global())
    }

    pub fn open_dir_in(
        root: impl Into<PathBuf>,
        opts: &SourceOptions,
        store: &Store,
    ) -> Result<Repo> {
        crate::pool::init();
        let start = std::time::Instant::now();
        let root = root.into();
        if is_git_dir(&root) {
            return Self::open_git_in(&root, "HEAD", opts, store).map_err(|e| match e {
                Error::UnknownCommit { message, .. } => Error::Repository {
                    path: root.display().to_string(),
                    message: format!("a git directory with no commit at HEAD ({message})"),
                },
                other => other,
            });
        }
        let loaded = crate::source::dir::load(&root, opts, store)?;
        let root = root.canonicalize().unwrap_or(root);
        Ok(Self::build(
            loaded,
            Origin::Directory { root },
            store,
            start,
        ))
    }

    /// Open `rev` (a commit id, branch, tag or any rev-parse expression) of the git
    /// repository at `git_dir` (a work tree, a `.git` folder or a bare mirror), reading the
    /// object database directly: no checkout.
    pub fn open_git(git_dir: impl Into<PathBuf>, rev: &str, opts: &SourceOptions) -> Result<Repo> {
        Self::open_git_in(git_dir, rev, opts, Store::global())
    }

    pub fn open_git_in(
        git_dir: impl Into<PathBuf>,
        rev: &str,
        opts: &SourceOptions,
        store: &Store,
    ) -> Result<Repo> {
        crate::pool::init();
        let start = std::time::Instant::now();
        let git_dir = git_dir.into();
        let (loaded, commit) = crate::source::git::load(&git_dir, rev, opts, store)?;
        let origin = Origin::Git {
            git_dir,
            rev: rev.to_string(),
            commit,
        };
        Ok(Self::build(loaded, origin, store, start))
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
        let start = std::time::Instant::now();
        let mut entries = Vec::new();
        let mut stats = OpenStats::default();
        for (path, content) in files {
            let path = pathsafe::normalize(path.as_ref(), None)?;
            let bytes = content.as_ref();
            if crate::source::is_binary(bytes) {
                stats.skipped_binary += 1;
                continue;
            }
            entries.push(crate::source::entry(path, bytes.to_vec(), None, store));
        }
        let loaded = Loaded {
            files: entries,
            links: HashMap::new(),
            stats,
        };
        Ok(Self::build(
            loaded,
            Origin::Directory {
                root: PathBuf::new(),
            },
            store,
            start,
        ))
    }

    fn build(mut loaded: Loaded, origin: Origin, store: &Store, start: std::time::Instant) -> Repo {
        loaded.files.sort_by(|a, b| a.path.cmp(&b.path));
        loaded.files.dedup_by(|a, b| a.path == b.path);
        let by_path = loaded
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let mut stats = loaded.stats;
        stats.files = loaded.files.len();
        stats.bytes = loaded.files.iter().map(|f| f.content.len() as u64).sum();
        stats.elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        Repo {
            files: loaded.files,
            by_path,
            links: loaded.links,
            origin,
            stats,
            store: store.clone(),
            symbols: OnceLock::new(),
            bm25_files: OnceLock::new(),
            bm25_functions: OnceLock::new(),
            build_gates: Default::default(),
        }
    }

    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn stats(&self) -> &OpenStats {
        &self.stats
    }

    /// The caches this snapshot was opened with, which its indexes are built through.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn root(&self) -> Option<&std::path::Path> {
        match &self.origin {
            Origin::Directory { root } if !root.as_os_str().is_empty() => Some(root),
            _ => None,
        }
    }

    /// Normalise a user path against this repository (see [`pathsafe::normalize`]).
    pub fn normalize(&self, raw: &str) -> Result<String> {
        pathsafe::normalize(raw, self.root())
    }

    /// The file at `raw`, or a precise error: outside the repository, a symlink that was
    /// not followed, or simply absent.
    pub fn file(&self, raw: &str) -> Result<&FileEntry> {
        self.file_indexed(raw).map(|(_, f)| f)
    }

    /// Like [`Repo::file`], with the file's index in [`Repo::files`] (which is also its
    /// index in the symbol index).
    pub fn file_indexed(&self, raw: &str) -> Result<(usize, &FileEntry)> {
        let path = self.normalize(raw)?;
        if let Some(&i) = self.by_path.get(path.as_str()) {
            return Ok((i, &self.files[i]));
        }
        match self.links.get(&path) {
            Some(true) => Err(Error::PathOutsideRepo {
                path: raw.to_string(),
            }),
            _ => Err(Error::FileNotFound {
                path: raw.to_string(),
            }),
        }
    }

    /// The index of a path exactly as the snapshot spells it.
    pub fn index_of(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// Files under `raw` when it names a folder, or the one file it names.
    pub fn files_under(&self, raw: &str) -> Result<Vec<usize>> {
        let path = self.normalize(raw)?;
        if let Some(&i) = self.by_path.get(path.as_str()) {
            return Ok(vec![i]);
        }
        if path.is_empty() {
            return Ok((0..self.files.len()).collect());
        }
        let prefix = format!("{path}/");
        let lo = self.files.partition_point(|f| *f.path < *prefix.as_str());
        let hits: Vec<usize> = (lo..self.files.len())
            .take_while(|&i| self.files[i].path.starts_with(&prefix))
            .collect();
        if hits.is_empty() {
            self.file(raw)?;
        }
        Ok(hits)
    }

    /// Resolve a list of path restrictions to a set of file indexes (None = every file).
    pub fn restrict(&self, paths: &[String]) -> Result<Option<HashSet<usize>>> {
        if paths.is_empty() {
            return Ok(None);
        }
        let mut set = HashSet::new();
        for p in paths {
            set.extend(self.files_under(p)?);
        }
        Ok(Some(set))
    }

    /// The BM25 index of files or of function-level chunks, built on first use.
    pub fn bm25_index(&self, level: Level) -> &Arc<Bm25Index> {
        uncancelled(self.try_bm25_index(level, &Cancel::new()))
    }

    /// [`Repo::bm25_index`], giving up with [`Error::Cancelled`] when `cancel` is set while
    /// it is built (or while another caller builds it); nothing partial is kept.
    pub fn try_bm25_index(&self, level: Level, cancel: &Cancel) -> Result<&Arc<Bm25Index>> {
        match level {
            Level::File => build_once(&self.bm25_files, &self.build_gates[1], cancel, || {
                Bm25Index::files_cancellable(self, &self.store, cancel)
            }),
            Level::Function => {
                // Built first, outside the BM25 build, so no index build ever waits on another.
                let symbols = self.try_symbol_index(cancel)?;
                build_once(&self.bm25_functions, &self.build_gates[2], cancel, || {
                    Bm25Index::functions_cancellable(self, symbols, &self.store, cancel)
                })
            }
        }
    }

    /// Make every index ready now: the symbol index and both BM25 indexes, assembled from
    /// per-file entries taken from the process's caches, else from the on-disk store of
    /// `cache`, else computed and appended there (see [`crate::indexing`],
    /// [`crate::filestore`]). Indexes this snapshot already has are kept.
    pub fn index(&self, cache: Option<&IndexCache>) -> IndexReport {
        uncancelled(self.index_cancellable(cache, &Cancel::new()))
    }

    /// [`Repo::index`] that stops with [`Error::Cancelled`] when `cancel` is set during a
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
            return Ok(IndexReport {
                source: "memory",
                digest: persist::digest(self),
                symbols: symbols.len(),
                files_memory: self.files.len(),
                elapsed_ms: ms(),
                ..IndexReport::default()
            });
        }
        let disk = cache.map(|c| FileStore::new(&c.dir, c.max_bytes));
        let (indexes, how) = crate::indexing::build(self, &self.store, disk.as_ref(), cancel)?;
        let source = match (how.processed, how.disk) {
            (0, 0) => "memory",
            (0, _) => "disk",
            _ => "built",
        };
        let report = IndexReport {
            source,
            digest: persist::digest(self),
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

    /// [`Repo::symbol_index`], giving up with [`Error::Cancelled`] when `cancel` is set
    /// while it is built (or while another caller builds it); nothing partial is kept.
    pub fn try_symbol_index(&self, cancel: &Cancel) -> Result<&Arc<SymbolIndex>> {
        build_once(&self.symbols, &self.build_gates[0], cancel, || {
            SymbolIndex::build_cancellable(self, &self.store, cancel)
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
