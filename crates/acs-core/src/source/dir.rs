//! Directory source: a gitignore-aware walk (ripgrep's `ignore` crate), then a parallel read.

use super::{entry, is_binary};
use crate::cache::Store;
use crate::error::{Error, Result};
use crate::repo::{Loaded, OpenStats, SourceOptions};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

enum Walked {
    File(PathBuf, String),
    Link(String, bool),
    Large,
}

pub(crate) fn load(root: &Path, opts: &SourceOptions, store: &Store) -> Result<Loaded> {
    let meta = std::fs::metadata(root).map_err(|e| Error::Repository {
        path: root.display().to_string(),
        message: e.to_string(),
    })?;
    if !meta.is_dir() {
        return Err(Error::Repository {
            path: root.display().to_string(),
            message: "not a directory".into(),
        });
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let walked = walk(root, &canonical_root, opts)?;

    let mut stats = OpenStats::default();
    let mut links = HashMap::new();
    let mut to_read = Vec::new();
    for item in walked {
        match item {
            Walked::File(abs, rel) => to_read.push((abs, rel)),
            Walked::Link(rel, outside) => {
                stats.skipped_links += 1;
                links.insert(rel, outside);
            }
            Walked::Large => stats.skipped_large += 1,
        }
    }

    // Read in parallel on the shared pool; a file that vanished or is unreadable is counted,
    // not fatal, because a live work tree changes under us.
    let read: Vec<(String, Read)> = to_read
        .into_par_iter()
        .map(|(abs, rel)| (rel, read_text(&abs, opts.max_file_size)))
        .collect();
    let mut files = Vec::with_capacity(read.len());
    for (rel, item) in read {
        match item {
            Read::Unreadable => stats.skipped_unreadable += 1,
            Read::Binary => stats.skipped_binary += 1,
            Read::Large => stats.skipped_large += 1,
            Read::Text(bytes) => files.push((rel, bytes)),
        }
    }
    let files = files
        .into_par_iter()
        .map(|(rel, bytes)| entry(rel, bytes, None, store))
        .collect();
    Ok(Loaded {
        files,
        links,
        stats,
    })
}

enum Read {
    Text(Vec<u8>),
    Binary,
    Large,
    Unreadable,
}

/// Read a file unless it is binary or too large. Like ripgrep, look at the head first, so
/// that a compiled file (`.pyc`, images) costs one small read, not a whole one.
fn read_text(path: &Path, max_size: u64) -> Read {
    const HEAD: usize = 8 * 1024;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Read::Unreadable;
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max_size {
        return Read::Large;
    }
    let mut bytes = Vec::with_capacity(size as usize + 1);
    if (&mut file)
        .take(HEAD as u64)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return Read::Unreadable;
    }
    if is_binary(&bytes) {
        return Read::Binary;
    }
    if bytes.len() == HEAD && file.read_to_end(&mut bytes).is_err() {
        return Read::Unreadable;
    }
    if bytes.len() as u64 > max_size {
        Read::Large // grew since the size check
    } else if bytes.len() > HEAD && is_binary(&bytes[HEAD..]) {
        Read::Binary
    } else {
        Read::Text(bytes)
    }
}

fn walk(root: &Path, canonical_root: &Path, opts: &SourceOptions) -> Result<Vec<Walked>> {
    let excluded = opts.exclusion()?;
    let root_owned = root.to_path_buf();
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(!opts.hidden)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false) // results must not depend on the user's global git config
        .require_git(false) // .gitignore applies outside a git work tree too
        .ignore(true)
        .parents(true)
        .follow_links(false)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            // Prune excluded folders here so the walk never descends into them.
            match (&excluded, e.path().strip_prefix(&root_owned)) {
                (Some(x), Ok(rel)) if !rel.as_os_str().is_empty() => {
                    x.matches(&rel.to_string_lossy().replace('\\', "/"))
                }
                _ => true,
            }
        });
    let mut out = Vec::new();
    for dent in builder.build().flatten() {
        let Some(file_type) = dent.file_type() else {
            continue;
        };
        let Ok(rel) = dent.path().strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel.is_empty() {
            continue;
        }
        if file_type.is_symlink() {
            let outside = match dent.path().canonicalize() {
                Ok(target) => !target.starts_with(canonical_root),
                Err(_) => false, // dangling or a loop: nothing to read either way
            };
            out.push(Walked::Link(rel, outside));
        } else if file_type.is_file() {
            let too_large = dent
                .metadata()
                .map(|m| m.len() > opts.max_file_size)
                .unwrap_or(false);
            out.push(if too_large {
                Walked::Large
            } else {
                Walked::File(dent.path().to_path_buf(), rel)
            });
        }
    }
    Ok(out)
}
