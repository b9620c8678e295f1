//! Sources: how a [`Snapshot`] is made, from a directory, from a git commit or from files in
//! memory. Sources know snapshots and the content cache, nothing above them.
//!
//! Both sources hand over paths that are exact, unique and inside the root: a name that
//! cannot be a repository path (see [`bad_name`]) is skipped and counted in
//! [`crate::OpenStats::skipped_names`], never rewritten.

pub(crate) mod dir;
pub(crate) mod git;
pub(crate) mod odb;

use crate::error::{Error, Result};
use crate::lang::Lang;
use crate::snapshot::content::{ContentCache, ContentKey};
use crate::snapshot::pathsafe;
use crate::snapshot::{FileEntry, Loaded, OpenStats, Origin, Snapshot, SourceOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Whether `path` is a git directory (what `git rev-parse --git-dir` would name), not a work
/// tree: the layout git itself checks for (`HEAD`, `objects/`, `refs/`), a `HEAD` that reads
/// as git's (`ref: …` or an object id), and no `.git` entry (a work tree that happens to
/// hold such files and folders is still a work tree).
fn is_git_dir(path: &Path) -> bool {
    use std::io::Read as _;
    if std::fs::symlink_metadata(path.join(".git")).is_ok()
        || !path.join("objects").is_dir()
        || !path.join("refs").is_dir()
    {
        return false;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK); // a FIFO named HEAD must not block
    }
    let Ok(file) = options.open(path.join("HEAD")) else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::with_capacity(256);
    if file.take(256).read_to_end(&mut head).is_err() {
        return false;
    }
    let head = head.trim_ascii();
    head.starts_with(b"ref: ")
        || ((head.len() == 40 || head.len() == 64) && head.iter().all(u8::is_ascii_hexdigit))
}

/// The snapshot of a directory (walked with gitignore rules), contents interned in `contents`;
/// a git directory itself is opened at its `HEAD` commit (see [`crate::Repo::open_dir`]).
pub(crate) fn open_dir(
    root: PathBuf,
    opts: &SourceOptions,
    contents: &ContentCache,
) -> Result<Snapshot> {
    let start = std::time::Instant::now();
    if is_git_dir(&root) {
        return open_git(root.clone(), "HEAD", opts, contents).map_err(|e| match e {
            Error::UnknownCommit { message, .. } => Error::Repository {
                path: root.display().to_string(),
                message: format!("a git directory with no commit at HEAD ({message})"),
            },
            other => other,
        });
    }
    let loaded = dir::load(&root, opts, contents)?;
    let root = root.canonicalize().unwrap_or(root);
    Ok(Snapshot::new(loaded, Origin::Directory { root }, start))
}

/// The snapshot of commit `rev` of the git repository at `git_dir`, read from its object
/// database (no checkout), contents interned in `contents`.
pub(crate) fn open_git(
    git_dir: PathBuf,
    rev: &str,
    opts: &SourceOptions,
    contents: &ContentCache,
) -> Result<Snapshot> {
    let start = std::time::Instant::now();
    let (loaded, commit) = git::load(&git_dir, rev, opts, contents)?;
    let origin = Origin::Git {
        git_dir,
        rev: rev.to_string(),
        commit,
    };
    Ok(Snapshot::new(loaded, origin, start))
}

/// The snapshot of in-memory files (binary ones skipped and counted), contents interned in
/// `contents`.
pub(crate) fn from_files<P: AsRef<str>, C: AsRef<[u8]>>(
    files: impl IntoIterator<Item = (P, C)>,
    contents: &ContentCache,
) -> Result<Snapshot> {
    let start = std::time::Instant::now();
    let mut entries = Vec::new();
    let mut stats = OpenStats::default();
    for (path, content) in files {
        let path = pathsafe::normalize(path.as_ref(), None)?;
        let bytes = content.as_ref();
        if is_binary(bytes) {
            stats.skipped_binary += 1;
            continue;
        }
        entries.push(entry(path, bytes.to_vec(), None, contents));
    }
    let loaded = Loaded {
        files: entries,
        links: HashMap::new(),
        stats,
    };
    let origin = Origin::Directory {
        root: PathBuf::new(),
    };
    Ok(Snapshot::new(loaded, origin, start))
}

/// A file is binary when it holds a NUL byte anywhere (stricter than git's first-8000-bytes
/// heuristic, and what ripgrep ends up treating as binary in recursive searches).
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, bytes).is_some()
}

/// File name endings of formats that are binary by definition (images, fonts, archives,
/// compiled code, media). Such files are counted as binary without being read: from git,
/// reading means inflating the whole blob (bokeh's 40 MB of PNGs cost more than its code).
const BINARY_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "woff",
    "woff2", "ttf", "otf", "eot", "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "jar",
    "war", "whl", "egg", "so", "dylib", "dll", "exe", "o", "a", "lib", "obj", "class", "pyc",
    "pyo", "pyd", "mp3", "mp4", "m4a", "wav", "ogg", "flac", "avi", "mov", "mkv", "webm", "wasm",
    "npy", "npz",
];

/// Whether `path` names a file of a binary format, by its ending (case-insensitive).
pub(crate) fn binary_by_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 5 => BINARY_EXTENSIONS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(ext)),
        _ => false,
    }
}

/// Whether `bytes` start with a UTF-16 byte order mark (`FF FE` little, `FE FF` big endian).
pub(crate) fn is_utf16(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF])
}

/// A UTF-16 file (with its BOM) as UTF-8, without the BOM; unpaired surrogates and an odd
/// last byte become U+FFFD. Line breaks stay line breaks, so line numbers are unchanged.
pub(crate) fn decode_utf16(bytes: &[u8]) -> Vec<u8> {
    let little = bytes.starts_with(&[0xFF, 0xFE]);
    let body = &bytes[2..];
    let units = body.chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let mut text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if body.len() % 2 == 1 {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    text.into_bytes()
}

/// Text as loaded: UTF-16 decoded to UTF-8, or `None` when the file is binary.
pub(crate) fn text_of(bytes: Vec<u8>) -> Option<Vec<u8>> {
    let bytes = if is_utf16(&bytes) {
        decode_utf16(&bytes)
    } else {
        bytes
    };
    (!is_binary(&bytes)).then_some(bytes)
}

/// Whether one path component cannot be a repository path component: empty, `.`, `..`,
/// `.git` in any case (as git's fsck refuses it), or holding `/` or `\` (both separators to
/// [`crate::snapshot::pathsafe::normalize`], so such a name would be read as another path).
pub(crate) fn bad_name(name: &str) -> bool {
    name.is_empty()
        || name == "."
        || name == ".."
        || name.eq_ignore_ascii_case(".git")
        || name.contains(['/', '\\'])
}

pub(crate) fn entry(
    path: String,
    bytes: Vec<u8>,
    key: Option<ContentKey>,
    contents: &ContentCache,
) -> FileEntry {
    let key = key.unwrap_or_else(|| ContentKey::of_bytes(&bytes));
    let content = contents.intern(key, bytes);
    let lang = Lang::from_path(&path);
    FileEntry {
        path: Arc::from(path),
        content,
        key,
        lang,
    }
}

#[cfg(test)]
mod tests {
    use super::binary_by_name;

    #[test]
    fn binary_formats_are_known_by_their_ending() {
        for path in [
            "a.png",
            "docs/Logo.PNG",
            "x/y.tar.gz",
            "m.cpython-311.pyc",
            "f.woff2",
        ] {
            assert!(binary_by_name(path), "{path}");
        }
        // Text formats, names without an ending, and dot-files are read.
        for path in [
            "a.py",
            "icon.svg",
            "notes.txt",
            "png",
            ".png",
            "dir.png/readme.md",
        ] {
            assert!(!binary_by_name(path), "{path}");
        }
    }
}
