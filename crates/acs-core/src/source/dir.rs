//! Directory source: a gitignore-aware walk (ripgrep's `ignore` crate), then a parallel read.

use super::{entry, is_binary};
use crate::cache::Store;
use crate::error::{Error, Result};
use crate::repo::{FileEntry, Loaded, OpenStats, SourceOptions};
use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

enum Walked {
    File(PathBuf, String),
    Link(String, bool),
    /// A name that is not UTF-8: it cannot be a repository path without colliding with
    /// another file's lossy spelling, so it is skipped and counted as unreadable.
    BadName,
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
    let walker = walker(root, opts)?;

    let mut stats = OpenStats::default();
    let mut links = HashMap::new();
    let read: Mutex<Vec<Result<FileEntry, Read>>> = Mutex::new(Vec::new());
    // The walk runs on this thread while the pool reads (and hashes) what it has found so
    // far. A file that vanished or is unreadable is counted, not fatal: a live work tree
    // changes under us.
    rayon::in_place_scope(|scope| {
        for dent in walker.flatten() {
            match classify(dent, root, &canonical_root) {
                Some(Walked::File(abs, rel)) => {
                    let read = &read;
                    let max = opts.max_file_size;
                    scope.spawn(move |_| {
                        let item = match read_text(&abs, max) {
                            Read::Text(bytes) => Ok(entry(rel, bytes, None, store)),
                            skipped => Err(skipped),
                        };
                        read.lock().unwrap_or_else(|e| e.into_inner()).push(item);
                    });
                }
                Some(Walked::Link(rel, outside)) => {
                    stats.skipped_links += 1;
                    links.insert(rel, outside);
                }
                Some(Walked::BadName) => stats.skipped_unreadable += 1,
                None => {}
            }
        }
    });
    let mut files = Vec::new();
    for item in read.into_inner().unwrap_or_else(|e| e.into_inner()) {
        match item {
            Ok(file) => files.push(file),
            Err(Read::Binary) => stats.skipped_binary += 1,
            Err(Read::Large) => stats.skipped_large += 1,
            Err(_) => stats.skipped_unreadable += 1,
        }
    }
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
/// that a compiled file (`.pyc`, images) costs one small read, not a whole one. The size from
/// `fstat` sizes the buffer, which saves the extra read that finds the end of the file.
fn read_text(path: &Path, max_size: u64) -> Read {
    const HEAD: usize = 8 * 1024;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Read::Unreadable;
    };
    let size = match file.metadata() {
        Ok(m) if m.len() > max_size => return Read::Large,
        Ok(m) => m.len() as usize,
        Err(_) => return Read::Unreadable,
    };
    let mut bytes = vec![0u8; size];
    let head = size.min(HEAD);
    let Ok(got) = read_full(&mut file, &mut bytes[..head]) else {
        return Read::Unreadable;
    };
    if is_binary(&bytes[..got]) {
        return Read::Binary;
    }
    if got < head {
        bytes.truncate(got); // shrank since fstat
        return Read::Text(bytes);
    }
    let Ok(rest) = read_full(&mut file, &mut bytes[head..]) else {
        return Read::Unreadable;
    };
    bytes.truncate(head + rest);
    if is_binary(&bytes[head..]) {
        Read::Binary
    } else {
        Read::Text(bytes)
    }
}

/// Fill `buf` or stop at the end of the file; the number of bytes read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn walker(root: &Path, opts: &SourceOptions) -> Result<ignore::Walk> {
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
    Ok(builder.build())
}

fn classify(dent: ignore::DirEntry, root: &Path, canonical_root: &Path) -> Option<Walked> {
    let file_type = dent.file_type()?;
    let Some(rel) = dent.path().strip_prefix(root).ok()?.to_str() else {
        return Some(Walked::BadName);
    };
    let rel = rel.replace('\\', "/");
    if rel.is_empty() {
        return None;
    }
    if file_type.is_symlink() {
        let outside = match dent.path().canonicalize() {
            Ok(target) => !target.starts_with(canonical_root),
            Err(_) => false, // dangling or a loop: nothing to read either way
        };
        Some(Walked::Link(rel, outside))
    } else if file_type.is_file() {
        // The size is checked when the file is opened: a `stat` here would double the calls.
        Some(Walked::File(dent.into_path(), rel))
    } else {
        None
    }
}
