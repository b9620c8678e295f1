//! Git objects read without libgit2's inflate of loose objects: on a truncated loose object
//! it loops forever (libgit2 #7342, fixed upstream after the newest libgit2-sys,
//! 0.18.8+1.9.7), and it trusts a header that understates the size (#7177). A loose object
//! (`objects/xx/yyyy…`, here or in an alternate) is inflated here with `miniz_oxide`, in one
//! bounded call, and must be exactly `"<type> <len>\0"` and `len` bytes, with nothing after,
//! and hash to its id (a loose file's name is only a claim; see [`verify`]).
//! A loose object file is opened without following a link and must be a regular file.
//!
//! Alternates (`objects/info/alternates`, transitively) are honoured as git honours them:
//! they name object folders anywhere on the system, which are read too. A repository is
//! trusted that far; only object *content* is checked, not where an alternate points.
//!
//! Packed objects are read by libgit2 (a pack is checked against its index when opened, and
//! libgit2's strict hash verification checks each object read), after their size is read
//! from the pack without inflating them.

use git2::{ObjectType, Oid, Repository};
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZFlush, MZStatus};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Commits, trees and tags larger than this are damaged or hostile (a tree of a million
/// entries is about 40 MB).
pub(crate) const MAX_OBJECT: u64 = 256 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl Kind {
    fn parse(name: &[u8]) -> Option<Kind> {
        Some(match name {
            b"commit" => Kind::Commit,
            b"tree" => Kind::Tree,
            b"blob" => Kind::Blob,
            b"tag" => Kind::Tag,
            _ => return None,
        })
    }

    fn of(kind: ObjectType) -> Option<Kind> {
        Some(match kind {
            ObjectType::Commit => Kind::Commit,
            ObjectType::Tree => Kind::Tree,
            ObjectType::Blob => Kind::Blob,
            ObjectType::Tag => Kind::Tag,
            _ => return None,
        })
    }

    fn object_type(self) -> ObjectType {
        match self {
            Kind::Commit => ObjectType::Commit,
            Kind::Tree => ObjectType::Tree,
            Kind::Blob => ObjectType::Blob,
            Kind::Tag => ObjectType::Tag,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Commit => "commit",
            Kind::Tree => "tree",
            Kind::Blob => "blob",
            Kind::Tag => "tag",
        }
    }
}

pub(crate) enum Object {
    Body(Kind, Vec<u8>),
    /// Declared larger than the caller's limit; not inflated.
    TooLarge(Kind),
}

pub(crate) enum ReadError {
    /// No such object (or the repository could not be opened).
    Missing(String),
    /// The object is there but unreadable: damaged, or an I/O error.
    Damaged(String),
}

/// One thread's reader. libgit2 handles must not be shared across threads, so each thread
/// (or chunk of work) makes its own; the packed-object handle is opened on first need.
pub(crate) struct Odb<'a> {
    git_dir: &'a Path,
    loose: &'a [PathBuf],
    packed: Option<Repository>,
}

impl<'a> Odb<'a> {
    pub(crate) fn new(git_dir: &'a Path, loose: &'a [PathBuf], repo: Option<Repository>) -> Self {
        Odb {
            git_dir,
            loose,
            packed: repo,
        }
    }

    /// The object `oid`, or why not. Bodies declared larger than `limit` are not inflated.
    pub(crate) fn read(&mut self, oid: Oid, limit: u64) -> Result<Object, ReadError> {
        let hex = oid.to_string();
        let bad = |e: String| ReadError::Damaged(format!("object {hex}: {e}"));
        for dir in self.loose {
            let path = dir.join(&hex[..2]).join(&hex[2..]);
            match open_loose(&path) {
                Ok(file) => {
                    let object = read_loose(file, limit).map_err(bad)?;
                    if let Object::Body(kind, body) = &object {
                        verify(oid, *kind, body).map_err(bad)?;
                    }
                    return Ok(object);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(bad(e.to_string())),
            }
        }
        // Not loose anywhere, so libgit2 will find it in a pack (or not at all).
        if self.packed.is_none() {
            let repo = Repository::open(self.git_dir)
                .map_err(|e| ReadError::Missing(e.message().to_string()))?;
            self.packed = Some(repo);
        }
        let repo = self.packed.as_ref().expect("opened above");
        let odb = repo.odb().map_err(|e| bad(e.message().to_string()))?;
        let failed = |e: git2::Error| {
            if e.code() == git2::ErrorCode::NotFound {
                ReadError::Missing(format!("object {hex}: {}", e.message()))
            } else {
                bad(e.message().to_string())
            }
        };
        // Size and type first, without inflating: a delta can claim gigabytes, and `limit`
        // must hold before anything that large is built.
        let (size, kind) = odb.read_header(oid).map_err(failed)?;
        let kind = Kind::of(kind).ok_or_else(|| bad("unknown object type".into()))?;
        if size as u64 > limit {
            return Ok(Object::TooLarge(kind));
        }
        let object = odb.read(oid).map_err(failed)?;
        let kind = Kind::of(object.kind()).ok_or_else(|| bad("unknown object type".into()))?;
        if object.len() as u64 > limit {
            return Ok(Object::TooLarge(kind));
        }
        Ok(Object::Body(kind, object.data().to_vec()))
    }
}

/// Open a loose object file: never through a link (in its last component), never blocking
/// (a FIFO planted there), and only a regular file.
fn open_loose(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// The folders that may hold loose objects: `objects/` of the repository (its common dir
/// for a linked work tree) and of its alternates, transitively (git stops at depth 5).
pub(crate) fn loose_dirs(repo: &Repository) -> Vec<PathBuf> {
    let mut dirs = vec![repo.commondir().join("objects")];
    let mut next = 0;
    let mut depth = vec![0];
    while next < dirs.len() {
        let (dir, d) = (dirs[next].clone(), depth[next]);
        next += 1;
        if d >= 5 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(dir.join("info").join("alternates")) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let alt = dir.join(line); // an absolute line replaces `dir`
            if !dirs.contains(&alt) {
                dirs.push(alt);
                depth.push(d + 1);
            }
        }
    }
    dirs
}

/// A loose object's file name is only a claim: its content must hash to that id, or a file
/// planted under a blob's id would be read (and cached, in memory and on disk, by that id)
/// as the blob. Hash `"<type> <len>\0"` and the body (what git names the object by).
fn verify(oid: Oid, kind: Kind, body: &[u8]) -> Result<(), String> {
    let actual = Oid::hash_object(kind.object_type(), body).map_err(|e| e.message().to_string())?;
    if actual != oid {
        return Err(damaged(&format!("its content hashes to {actual}")));
    }
    Ok(())
}

fn damaged(what: &str) -> String {
    format!("damaged loose object ({what})")
}

fn read_loose(mut file: std::fs::File, limit: u64) -> Result<Object, String> {
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    // The header sits in the first bytes of the stream.
    let mut head = vec![0u8; size.min(1024) as usize];
    file.read_exact(&mut head).map_err(|e| e.to_string())?;
    let (kind, len, header_len) = header(&head)?;
    if len > limit {
        return Ok(Object::TooLarge(kind));
    }
    // Deflate grows incompressible data by at most 5 bytes per 16 KiB block, and shrinks
    // nothing by more than ~1032:1: anything outside these bounds is not this object.
    if size > len + len / 1024 + 1024 || len > size.saturating_mul(1100) + 4096 {
        return Err(damaged("its size does not fit its header"));
    }
    let mut input = head;
    file.read_to_end(&mut input).map_err(|e| e.to_string())?;
    // One bounded call over the whole input; one spare byte catches a body that is longer
    // than its header says.
    let total = header_len + len as usize;
    let mut out = vec![0u8; total + 1];
    let mut state = InflateState::new_boxed(DataFormat::Zlib);
    let r = inflate(&mut state, &input, &mut out, MZFlush::Finish);
    match r.status {
        Ok(MZStatus::StreamEnd) => {}
        _ if r.bytes_written > total => return Err(damaged("longer than its header says")),
        _ => return Err(damaged("truncated or corrupt")),
    }
    if r.bytes_written != total {
        return Err(damaged("shorter than its header says"));
    }
    if r.bytes_consumed != input.len() {
        return Err(damaged("garbage after the object"));
    }
    out.truncate(total);
    out.drain(..header_len);
    Ok(Object::Body(kind, out))
}

/// Parse `"<type> <len>\0"` from the start of a loose object: kind, length, header length.
fn header(compressed: &[u8]) -> Result<(Kind, u64, usize), String> {
    let mut state = InflateState::new_boxed(DataFormat::Zlib);
    let mut out = [0u8; 64];
    let r = inflate(&mut state, compressed, &mut out, MZFlush::None);
    let got = &out[..r.bytes_written];
    let nul = memchr::memchr(0, got).ok_or_else(|| damaged("no header"))?;
    let text = &got[..nul];
    let space = memchr::memchr(b' ', text).ok_or_else(|| damaged("bad header"))?;
    let kind = Kind::parse(&text[..space]).ok_or_else(|| damaged("unknown type"))?;
    let digits = &text[space + 1..];
    let canonical = !digits.is_empty()
        && digits.len() <= 18
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1);
    if !canonical {
        return Err(damaged("bad length"));
    }
    let len = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<u64>().ok())
        .ok_or_else(|| damaged("bad length"))?;
    Ok((kind, len, nul + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loose(body: &[u8]) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(body, 6)
    }

    fn parse(bytes: &[u8], limit: u64) -> Result<Object, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("obj");
        std::fs::write(&path, bytes).unwrap();
        read_loose(std::fs::File::open(&path).unwrap(), limit)
    }

    #[test]
    fn a_sound_object_reads_exactly() {
        let Ok(Object::Body(Kind::Blob, body)) = parse(&loose(b"blob 5\0hello"), 100) else {
            panic!("not read");
        };
        assert_eq!(body, b"hello");
        assert!(matches!(
            parse(&loose(b"blob 5\0hello"), 4),
            Ok(Object::TooLarge(Kind::Blob))
        ));
    }

    #[test]
    fn damaged_objects_are_errors() {
        let good = loose(&[b"blob 3000\0".as_slice(), &[b'x'; 3000]].concat());
        for bad in [
            good[..10].to_vec(),
            good[..good.len() - 3].to_vec(),
            [good.as_slice(), b"junk"].concat(),
            loose(b"blob 6\0hello"),
            loose(b"blob 4\0hello"),
            loose(b"blob 05\0hello"),
            loose(b"blub 5\0hello"),
            loose(b"blob 5hello"),
            loose(b"blob 99999999999999\0hello"),
            b"not zlib at all".to_vec(),
            Vec::new(),
        ] {
            assert!(parse(&bad, u64::MAX).is_err(), "{bad:?}");
        }
    }
}
