//! Git source: a commit's tree read straight from the object database (libgit2), no
//! checkout. Blobs already in the content cache (same id at another commit) are not read.

use super::{entry, is_binary};
use crate::cache::{ContentKey, Store};
use crate::error::{Error, Result};
use crate::repo::{Loaded, OpenStats, SourceOptions};
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Once;

const LINK_MODE: i32 = 0o120000;

fn open_repository(git_dir: &Path) -> Result<Repository> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Read-only use: a mirror owned by another user is fine to read.
        // SAFETY: called once, before any other libgit2 use in this process.
        unsafe {
            let _ = git2::opts::set_verify_owner_validation(false);
        }
    });
    if !git_dir.exists() {
        return Err(Error::Repository {
            path: git_dir.display().to_string(),
            message: "no such directory".into(),
        });
    }
    Repository::open(git_dir).map_err(|e| Error::Repository {
        path: git_dir.display().to_string(),
        message: e.message().to_string(),
    })
}

/// Resolve `rev` to a commit id (hex), or [`Error::UnknownCommit`].
pub(crate) fn resolve(repo: &Repository, rev: &str) -> Result<Oid> {
    let unknown = |message: String| Error::UnknownCommit {
        rev: rev.to_string(),
        message,
    };
    if rev.trim().is_empty() {
        return Err(unknown("empty revision".into()));
    }
    let object = repo
        .revparse_single(rev)
        .map_err(|e| unknown(e.message().to_string()))?;
    let commit = object
        .peel_to_commit()
        .map_err(|e| unknown(e.message().to_string()))?;
    Ok(commit.id())
}

pub(crate) fn load(
    git_dir: &Path,
    rev: &str,
    opts: &SourceOptions,
    store: &Store,
) -> Result<(Loaded, String)> {
    let repo = open_repository(git_dir)?;
    let commit_id = resolve(&repo, rev)?;
    let tree = repo
        .find_commit(commit_id)
        .and_then(|c| c.tree())
        .map_err(|e| Error::UnknownCommit {
            rev: rev.to_string(),
            message: e.message().to_string(),
        })?;

    let excluded = opts.exclusion()?;
    let mut stats = OpenStats::default();
    let mut links = HashMap::new();
    let mut blobs: Vec<(String, Oid)> = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, e| {
        let Some(name) = e.name() else {
            // Not UTF-8: no repository path can name it without colliding (see dir.rs).
            stats.skipped_unreadable += 1;
            return TreeWalkResult::Skip;
        };
        let hidden = name.starts_with('.');
        let path = format!("{dir}{name}");
        if excluded.as_ref().is_some_and(|x| !x.matches(&path)) {
            return TreeWalkResult::Skip;
        }
        match e.kind() {
            Some(ObjectType::Tree) if hidden && !opts.hidden => TreeWalkResult::Skip,
            Some(ObjectType::Blob) if hidden && !opts.hidden => TreeWalkResult::Ok,
            Some(ObjectType::Blob) if e.filemode() == LINK_MODE => {
                stats.skipped_links += 1;
                // A link's target is a path string; we never follow it, but say whether it
                // would have left the repository so `read` can give the precise error.
                let target = repo
                    .find_blob(e.id())
                    .map(|b| String::from_utf8_lossy(b.content()).into_owned());
                let outside = match target {
                    Ok(t) => {
                        t.starts_with('/')
                            || crate::pathsafe::normalize(&format!("{dir}{t}"), None).is_err()
                    }
                    Err(_) => false,
                };
                links.insert(path, outside);
                TreeWalkResult::Ok
            }
            Some(ObjectType::Blob) => {
                blobs.push((path, e.id()));
                TreeWalkResult::Ok
            }
            _ => TreeWalkResult::Ok, // submodules (commits) and anything unexpected
        }
    })
    .map_err(|e| Error::Repository {
        path: git_dir.display().to_string(),
        message: e.message().to_string(),
    })?;
    drop(tree);
    drop(repo);

    // Each chunk opens its own handle: a libgit2 repository must not be shared across threads.
    enum Read {
        Text(String, Vec<u8>, ContentKey),
        Cached(crate::repo::FileEntry),
        Binary,
        Large,
        Failed,
    }
    let reads: Vec<Read> = blobs
        .par_chunks(256)
        .flat_map_iter(|chunk| {
            let repo = Repository::open(git_dir).ok();
            chunk
                .iter()
                .map(|(path, oid)| {
                    let key = ContentKey::GitBlob(oid_bytes(oid));
                    if let Some(content) = store.content(&key) {
                        let lang = crate::lang::Lang::from_path(path);
                        return Read::Cached(crate::repo::FileEntry {
                            path: path.as_str().into(),
                            content,
                            key,
                            lang,
                        });
                    }
                    let Some(repo) = repo.as_ref() else {
                        return Read::Failed;
                    };
                    let Ok(blob) = repo.find_blob(*oid) else {
                        return Read::Failed;
                    };
                    let bytes = blob.content();
                    if bytes.len() as u64 > opts.max_file_size {
                        Read::Large
                    } else if is_binary(bytes) {
                        Read::Binary
                    } else {
                        Read::Text(path.clone(), bytes.to_vec(), key)
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();

    let mut files = Vec::with_capacity(reads.len());
    for r in reads {
        match r {
            Read::Text(path, bytes, key) => files.push(entry(path, bytes, Some(key), store)),
            Read::Cached(e) => files.push(e),
            Read::Binary => stats.skipped_binary += 1,
            Read::Large => stats.skipped_large += 1,
            Read::Failed => stats.skipped_unreadable += 1,
        }
    }
    Ok((
        Loaded {
            files,
            links,
            stats,
        },
        commit_id.to_string(),
    ))
}

fn oid_bytes(oid: &Oid) -> [u8; 20] {
    let mut out = [0u8; 20];
    let raw = oid.as_bytes();
    let n = raw.len().min(20);
    out[..n].copy_from_slice(&raw[..n]);
    out
}
