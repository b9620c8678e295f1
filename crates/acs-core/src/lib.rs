//! The search engine of acs (agentic code search).
//!
//! Layers, each a folder of `src/` that imports only the folders before it and the files at
//! the root, which every layer shares (errors, [`limits`], [`Cancel`], languages, text and
//! glob helpers, the thread pool). ARCHITECTURE.md has the module table;
//! `tests/module_graph.rs` fails on a cycle between modules or an import of a later layer.
//!
//! 1. **`snapshot/`** ([`Snapshot`]): a repository's text files, sorted by path, immutable,
//!    with path lookup and what opening found ([`OpenStats`]); each file's content is keyed
//!    by a [`ContentKey`] and its bytes shared between snapshots (`content.rs`). Sources
//!    (`source/`) make one from a directory (gitignore-aware) or from a commit of a git
//!    repository (read from the object database, no checkout): files are opened without
//!    following links, names that cannot be exact repository paths are skipped and counted,
//!    and damaged git objects are errors, not hangs.
//! 2. **`index/`**: the index builders ([`SymbolIndex`], [`Bm25Index`]) take a `&Snapshot`
//!    and a [`Store`], whose byte-budgeted caches hold contents, parsed symbol tables and
//!    term statistics by content, so snapshots of many commits share what they have in
//!    common. Persistence ([`IndexCache`], [`IndexReport`], `filestore.rs`) assembles a
//!    snapshot's indexes from per-file entries (definitions, term statistics) found in the
//!    `Store` or in the on-disk store, or computed for the files never seen. On top,
//!    **[`Repo`]**: a `Snapshot` (it derefs to it) with its indexes, built once, and the
//!    `Store` it was opened with ([`Repo::open_dir_in`], [`Repo::open_git_in`];
//!    [`Repo::open_dir`], [`Repo::open_git`] and [`Repo::from_files`] use
//!    [`Store::global`]). [`Repo::index`] makes the three indexes ready at once.
//! 3. **`tools/`**: the tools and their table, the only code besides the executor that uses
//!    `Repo`.
//! 4. **`plan/`**: plans and the executor.
//! 5. **`evidence/`** ([`evidence::Search`]): the one reader of a search's tool outcomes
//!    (JSON, no `Repo`): its candidates, the hand joiner's ranking, the learned ranker's
//!    feature rows ([`evidence::FILE_FEATURES`]) and its predictions through [`TreeEnsemble`].
//!
//! The tools read a `Repo`; each takes a typed request and returns a typed, serialisable
//! result:
//!
//! | tool | request | what it does |
//! |---|---|---|
//! | [`grep()`] | [`GrepRequest`] | regex/literal search, many patterns in one pass ([`grep_fused`]) |
//! | [`find_files`] | [`FindFilesRequest`] | files by glob, path fragment or fuzzy name |
//! | [`symbols()`] | [`SymbolRequest`] | definitions by exact name, prefix, regex or fuzzy name (tree-sitter) |
//! | [`outline()`] | [`OutlineRequest`] | a file's definitions, nested |
//! | [`read()`] | [`ReadRequest`] | a line range, or a definition's body |
//! | [`references()`] | [`ReferencesRequest`] | whole-word uses, grouped by enclosing definition |
//! | [`bm25()`] | [`Bm25Request`] | lexical ranking of files or functions against free text |
//! | [`imports()`] | [`ImportsRequest`] | files a Python file imports, and files importing it |
//!
//! Every result that names a definition names it as a [`Definition`] (`name`,
//! `qualified_name`, `kind`, `path`, `start_line`, `end_line`): flattened into a result that
//! is one (a [`Symbol`], an [`OutlineNode`], a function-level [`Bm25Hit`]), as `enclosing`
//! in a result inside one (a grep match, a references group).
//!
//! A [`Plan`] is a DAG of such calls whose arguments may reference earlier results
//! (`$1.files[0].path`); [`PlanRun`] executes it concurrently on rayon's shared pool and
//! accepts tasks while it runs.
//!
//! Beside the layers, at the root and importing none of them: `gbdt.rs` ([`TreeEnsemble`])
//! evaluates the learned ranker, a gradient-boosted tree ensemble trained by LightGBM
//! (LambdaMART) and exported as JSON, with LightGBM's own decisions and sums (missing values
//! included), so inference needs no LightGBM.
//!
//! Hostile input is bounded: the caps on what one request may ask for and return are the
//! constants of [`limits`] (patterns per grep, context lines, glob length, values spread by
//! `[*]`, result bytes per task and per plan). Long work checks a [`Cancel`] token (a
//! flag, with an optional deadline) between files and between tasks and stops with
//! [`Error::Cancelled`] (`cancelled`); a cancelled index build is not kept.
//!
//! ```
//! use acs_core::{execute, grep, GrepRequest, Plan, Repo};
//! use std::sync::Arc;
//!
//! let repo = Repo::from_files([
//!     ("app/config.py", "def load_config(path):\n    return parse(path)\n"),
//!     ("app/main.py", "from app.config import load_config\nload_config('x')\n"),
//! ])
//! .unwrap();
//!
//! let hits = grep(&repo, &GrepRequest::new("load_config")).unwrap();
//! assert_eq!(hits.files.len(), 2);
//!
//! let plan = Plan::parse(r#"{"tasks": [
//!     {"id": 1, "tool": "symbols", "args": {"name": "load_config"}},
//!     {"id": 2, "tool": "read", "args": {"path": "$1.symbols[0].path", "start": 1, "end": 1}}
//! ]}"#)
//! .unwrap();
//! let report = execute(Arc::new(repo), &plan);
//! assert!(report.complete);
//! assert_eq!(report.tasks.len(), 2);
//! ```
//!
//! Every module but `limits` and `evidence` is private; this page lists the whole public API. Errors carry a stable
//! [`ErrorKind`], whose names and descriptions the Python bindings export, so the two
//! languages share one table of error kinds.

#![deny(missing_docs)]
// `pub` means public API: an item the re-exports below leave out is `pub(crate)`.
#![deny(unreachable_pub)]

// Every module but `limits` and `evidence` (the rankers' own namespace) is private: the
// public API is what is re-exported below (ripgrep's crates are the model), so a module's
// internals can change without breaking a caller. The layers are folders (snapshot, index,
// tools, plan, evidence), each using only those before it; the files
// here are what every layer shares, and the tree ensemble, beside them
// (tests/module_graph.rs checks both).
mod byte_lru;
mod cancel;
mod error;
pub mod evidence;
mod gbdt;
mod glob;
mod index;
mod lang;
pub mod limits;
mod plan;
mod pool;
mod snapshot;
mod text;
mod tools;

pub use cancel::Cancel;
pub use error::{Error, ErrorKind, Result};
pub use gbdt::TreeEnsemble;
pub use index::bm25::{Bm25Index, Level as Bm25Level};
pub use index::cache::Store;
pub use index::history::{
    CoChange, CoChanged, CommitInfo, FileActivity, FileScore, History, HistoryReport, PastFix,
    SimilarFixes,
};
pub use index::persist::{IndexCache, IndexReport, IndexSource};
pub use index::repo::Repo;
pub use index::symbols::scan::scan_python;
pub use index::symbols::{
    definitions, extract_symbols, Definition, MatchMode, Symbol, SymbolDef, SymbolIndex,
    SymbolKind, SymbolRequest, SymbolResult,
};
pub use lang::Lang;
pub use plan::executor::{execute, guarded, PlanRun, RunReport, Status, TaskOutcome};
pub use plan::{Plan, TaskSpec};
pub use snapshot::content::ContentKey;
pub use snapshot::{
    FileEntry, OpenStats, Origin, Snapshot, SourceOptions, Unreadable, MAX_UNREADABLE_LISTED,
};
pub use tools::bm25::{bm25, Bm25Hit, Bm25Request, Bm25Result, Document as Bm25Document};
pub use tools::files::{find_files, FindFilesRequest, FindFilesResult, FoundFile};
pub use tools::grep::{
    grep, grep_cancellable, grep_fused, grep_fused_cancellable, CaseMode, GrepMatch, GrepRequest,
    GrepResult,
};
pub use tools::imports::{imports, ImportDirection, ImportedFile, ImportsRequest, ImportsResult};
pub use tools::outline::{outline, OutlineNode, OutlineRequest, OutlineResult};
pub use tools::read::{read, ReadRequest, ReadResult};
pub use tools::references::{
    references, references_cancellable, ReferencesRequest, ReferencesResult,
};
pub use tools::spec::{ArgSpec, ArgType};
pub use tools::symbols::symbols;
pub use tools::Tool;
