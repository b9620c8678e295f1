//! The index layer: what a [`Snapshot`](crate::Snapshot) is searched through, built from its
//! files and kept per content.
//!
//! - per file: definitions (`symbols/`: the Python scanner, tree-sitter for the rest;
//!   `symbols/definition.rs` is their shape) and BM25 term statistics (`terms.rs`, counted
//!   with the tokenizer of `tokenize.rs`, which also holds the format version of what is
//!   stored);
//! - the process-wide caches of those entries by content ([`Store`](crate::Store),
//!   `cache.rs`) and the on-disk per-file store (`filestore.rs`);
//! - per snapshot: the symbol index (`symbols/`), the BM25 indexes (`bm25.rs`), assembled
//!   from per-file entries (`indexing.rs`), with the cache folder's settings and the report
//!   of a build (`persist.rs`);
//! - per snapshot, built on first use: the Python import graph (`imports.rs`);
//! - [`Repo`](crate::Repo) (`repo.rs`): a snapshot with its indexes, built once, the only
//!   thing the tools read;
//! - per repository: the history index (`history/`, [`History`](crate::History)): commits'
//!   message terms and touched paths, read from git objects, seen as of a commit.

pub(crate) mod bm25;
pub(crate) mod cache;
#[allow(unsafe_code)] // flock, geteuid, mmap
pub(crate) mod filestore;
pub(crate) mod history;
pub(crate) mod imports;
pub(crate) mod indexing;
pub(crate) mod persist;
pub(crate) mod repo;
#[allow(unsafe_code)] // malloc_trim
pub(crate) mod symbols;
pub(crate) mod terms;
pub(crate) mod tokenize;
