//! Sources: how a [`crate::Repo`] gets its files, from a directory or from a git commit.
//!
//! Both sources hand over paths that are exact, unique and inside the root: a name that
//! cannot be a repository path (see [`bad_name`]) is skipped and counted in
//! [`crate::OpenStats::skipped_names`], never rewritten.

pub(crate) mod dir;
pub(crate) mod git;
mod odb;

use crate::cache::{ContentKey, Store};
use crate::lang::Lang;
use crate::repo::FileEntry;
use std::sync::Arc;

/// A file is binary when it holds a NUL byte anywhere (stricter than git's first-8000-bytes
/// heuristic, and what ripgrep ends up treating as binary in recursive searches).
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, bytes).is_some()
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
/// [`crate::pathsafe::normalize`], so such a name would be read as another path).
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
    store: &Store,
) -> FileEntry {
    let key = key.unwrap_or_else(|| ContentKey::of_bytes(&bytes));
    let content = store.intern_content(key, bytes);
    let lang = Lang::from_path(&path);
    FileEntry {
        path: Arc::from(path),
        content,
        key,
        lang,
    }
}
