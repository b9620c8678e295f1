//! The snapshot layer, the bottom one. [`Snapshot`] (here): the files of a repository at one
//! moment, sorted by path, with what opening it found; sources (`source/`: a directory, a
//! commit of a git repository, in-memory files) produce one, index builders read one, and a
//! [`crate::Repo`] holds one with its indexes and store. `content.rs` is a file's content
//! (its key, its shared bytes, the cache that shares them); `pathsafe.rs` normalises the
//! paths users give. Nothing here but `source/` reads the filesystem or git, and nothing
//! here imports another layer.

pub(crate) mod content;
pub(crate) mod pathsafe;
#[allow(unsafe_code)] // openat without following links; libgit2 options
pub(crate) mod source;

use crate::error::{Error, Result};
use crate::lang::Lang;
use crate::snapshot::content::{Content, ContentKey};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

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
    /// The bytes (UTF-8 after decoding), shared with the content cache.
    pub content: Content,
    /// Identity of the bytes.
    pub key: ContentKey,
    /// The language, when the symbol extractor knows it.
    pub lang: Option<Lang>,
}

/// Where a snapshot came from.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    /// A directory, walked.
    Directory {
        /// The folder, as given.
        root: PathBuf,
    },
    /// A commit of a git repository.
    Git {
        /// The git directory, as given.
        git_dir: PathBuf,
        /// The revision, as given.
        rev: String,
        /// The commit it resolved to (hex id).
        commit: String,
    },
}

/// What opening a repository found, for users and for the benchmarks.
///
/// UTF-16 files (with a byte order mark) are decoded to UTF-8 and loaded like any text file;
/// their line structure is unchanged. Every file not loaded is counted in one `skipped_*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OpenStats {
    /// Files loaded.
    pub files: usize,
    /// Bytes loaded.
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
    /// The first [`MAX_UNREADABLE_LISTED`] of them by path, with why: a file missing from
    /// the snapshot must not go unnoticed (a search would quietly omit it).
    pub unreadable: Vec<Unreadable>,
    /// Entries whose name cannot be an exact, unique repository path: not UTF-8; empty, `.`,
    /// `..` or `.git` in any case; holding `/` or `\`; a path over 4 KiB; or a second entry
    /// of the same name in a crafted git tree. A folder's files are each counted; a git tree's are not read.
    pub skipped_names: usize,
    /// Wall time of opening.
    pub elapsed_ms: f64,
}

/// At most this many unreadable files are named in [`OpenStats::unreadable`] (all are
/// counted in [`OpenStats::skipped_unreadable`]).
pub const MAX_UNREADABLE_LISTED: usize = 100;
/// Characters of a reason kept (an error message can quote anything).
const MAX_REASON_CHARS: usize = 160;

/// A file that could not be read, and why, briefly (`damaged object <id>: ...`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    /// Repository-relative, `/`-separated.
    pub path: String,
    /// Why it could not be read.
    pub reason: String,
}

impl OpenStats {
    /// Count `path` as unreadable for `reason` (cut to its first characters).
    pub(crate) fn add_unreadable(&mut self, path: &str, reason: &str) {
        self.skipped_unreadable += 1;
        let reason = match reason.char_indices().nth(MAX_REASON_CHARS) {
            Some((cut, _)) => format!("{}...", &reason[..cut]),
            None => reason.to_string(),
        };
        self.unreadable.push(Unreadable {
            path: path.to_string(),
            reason,
        });
    }
}

/// The raw material a source hands over to build a [`Snapshot`].
pub(crate) struct Loaded {
    pub files: Vec<FileEntry>,
    pub links: HashMap<String, bool>,
    pub stats: OpenStats,
}

/// An immutable snapshot of a repository's text files, sorted by path (paths unique), with
/// the links that were not followed, where it came from and what opening it found.
pub struct Snapshot {
    files: Vec<FileEntry>,
    by_path: HashMap<Arc<str>, usize>,
    /// Symlinks that were not loaded, with whether their target lies outside the root.
    links: HashMap<String, bool>,
    origin: Origin,
    stats: OpenStats,
}

impl Snapshot {
    /// Sort and deduplicate what a source loaded, and count it; `start` is when opening
    /// began (for [`OpenStats::elapsed_ms`]).
    pub(crate) fn new(mut loaded: Loaded, origin: Origin, start: std::time::Instant) -> Snapshot {
        loaded.files.sort_by(|a, b| a.path.cmp(&b.path));
        loaded.files.dedup_by(|a, b| a.path == b.path);
        let by_path = loaded
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let mut stats = loaded.stats;
        // Named in path order, whatever order the readers finished in.
        stats.unreadable.sort_by(|a, b| a.path.cmp(&b.path));
        stats.unreadable.truncate(MAX_UNREADABLE_LISTED);
        stats.files = loaded.files.len();
        stats.bytes = loaded.files.iter().map(|f| f.content.len() as u64).sum();
        stats.elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        Snapshot {
            files: loaded.files,
            by_path,
            links: loaded.links,
            origin,
            stats,
        }
    }

    /// The files, sorted by path.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Where the snapshot came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// What opening found.
    pub fn stats(&self) -> &OpenStats {
        &self.stats
    }

    fn root(&self) -> Option<&std::path::Path> {
        match &self.origin {
            Origin::Directory { root } if !root.as_os_str().is_empty() => Some(root),
            _ => None,
        }
    }

    /// Normalise a user path against this repository (lexically: `..` above the root and absolute paths outside it are refused).
    pub fn normalize(&self, raw: &str) -> Result<String> {
        pathsafe::normalize(raw, self.root())
    }

    /// The file at `raw`, or a precise error: outside the repository, a symlink that was
    /// not followed, or simply absent.
    pub fn file(&self, raw: &str) -> Result<&FileEntry> {
        self.file_indexed(raw).map(|(_, f)| f)
    }

    /// Like [`Snapshot::file`], with the file's index in [`Snapshot::files`] (which is also its
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
}
