//! Git source: a commit's tree read straight from the object database, no checkout. Blobs
//! already in the content cache (same id at another commit) are not read.
//!
//! libgit2 opens the repository, reads refs and packed objects; loose objects, commits and
//! trees are read and parsed here ([`super::odb`]), so a damaged object is a clear error, not
//! a hang, and every tree entry's name is checked ([`super::bad_name`]) before it becomes a
//! path.

use super::odb::{self, Kind, Object, Odb, ReadError, MAX_OBJECT};
use super::{bad_name, entry, text_of};
use crate::error::{Error, Result};
use crate::snapshot::content::{ContentCache, ContentKey};
use crate::snapshot::{Loaded, OpenStats, SourceOptions};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Once;

/// A crafted tree can name one subtree many times over (a "tree bomb"): a walk past this
/// many entries is refused rather than run for ever.
const MAX_ENTRIES: usize = 5_000_000;

/// Entries count, but so do their names: nested trees of 4 KB names would make a million
/// paths of 20 KB. A longer path is skipped (a tree with all it holds) and counted in
/// [`OpenStats::skipped_names`]; a walk whose paths add up past [`MAX_PATH_BYTES`] is refused.
const MAX_PATH: usize = 4096;
const MAX_PATH_BYTES: usize = 256 << 20;

pub(crate) fn open_repository(git_dir: &Path) -> Result<Repository> {
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

/// Resolve `rev` to a commit id, or [`Error::UnknownCommit`] (or [`Error::Repository`] for
/// a damaged object on the way).
///
/// The usual forms — a full or abbreviated id, a ref name, followed by `~N`, `^N`, `^{}` or
/// `^{commit}` — are resolved here, reading objects through [`Odb`]. Other rev-parse
/// expressions (`:/text`, `@{…}`) are left to libgit2, whose object reads are not guarded.
fn resolve(repo: &Repository, odb: &mut Odb, at: &At) -> Result<Oid> {
    let rev = at.rev;
    let unknown = |message: String| at.unknown(message);
    if rev.trim().is_empty() {
        return Err(unknown("empty revision".into()));
    }
    // Forms resolved here; anything else (or a base this cannot name, such as a `describe`
    // output) goes to libgit2's rev-parse.
    let own = split_rev(rev).and_then(|(base, steps)| Some((base_id(repo, base).ok()?, steps)));
    let Some((mut id, steps)) = own else {
        let object = repo
            .revparse_single(rev)
            .map_err(|e| unknown(git_message(&e)))?;
        let commit = object
            .peel_to_commit()
            .map_err(|e| unknown(git_message(&e)))?;
        return Ok(commit.id());
    };
    id = peel(odb, id, at)?;
    for step in steps {
        match step {
            Step::Ancestor(n) => {
                for _ in 0..n {
                    id = commit_parents(odb, id, at)?
                        .first()
                        .copied()
                        .ok_or_else(|| unknown(format!("{id} has no parent")))?;
                }
            }
            Step::Parent(0) => {}
            Step::Parent(n) => {
                id = *commit_parents(odb, id, at)?
                    .get(n - 1)
                    .ok_or_else(|| unknown(format!("{id} has no parent {n}")))?;
            }
        }
    }
    Ok(id)
}

/// libgit2's message, or what the failure means when it left none (`:/nomatch` fails with an
/// empty message, which git2 renders as "no error").
fn git_message(e: &git2::Error) -> String {
    let message = e.message().trim();
    if message.is_empty() || message == "no error" {
        "the revision does not resolve to a commit".to_string()
    } else {
        message.to_string()
    }
}

enum Step {
    Ancestor(usize),
    Parent(usize),
}

/// `base` and its `~N` / `^N` steps, or `None` for a form left to libgit2.
fn split_rev(rev: &str) -> Option<(&str, Vec<Step>)> {
    let cut = rev.find(['~', '^']).unwrap_or(rev.len());
    let (base, mut rest) = rev.split_at(cut);
    if base.is_empty() || base.contains([':', '@', '{', ' ']) {
        return None;
    }
    let mut steps = Vec::new();
    while let Some(op) = rest.chars().next() {
        rest = &rest[op.len_utf8()..];
        if op == '^' {
            if let Some(after) = rest.strip_prefix("{}").or(rest.strip_prefix("{commit}")) {
                rest = after;
                continue;
            }
        }
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n = if digits == 0 {
            1
        } else {
            rest[..digits].parse().ok().filter(|&n| n <= 1_000_000)?
        };
        rest = &rest[digits..];
        steps.push(match op {
            '~' => Step::Ancestor(n),
            '^' => Step::Parent(n),
            _ => return None,
        });
    }
    Some((base, steps))
}

/// A ref (as git's dwim rules find it) or an object id, full or abbreviated. Reads refs and
/// object names only, never an object's content.
fn base_id(repo: &Repository, base: &str) -> std::result::Result<Oid, String> {
    let hex = base.len() >= 4 && base.len() <= 40 && base.bytes().all(|b| b.is_ascii_hexdigit());
    if hex && base.len() == 40 {
        return Oid::from_str(base).map_err(|e| e.message().to_string());
    }
    match repo.resolve_reference_from_short_name(base) {
        Ok(reference) => {
            return reference
                .resolve()
                .ok()
                .and_then(|r| r.target())
                .ok_or_else(|| format!("reference '{base}' does not point to an object"));
        }
        Err(e) if !hex => return Err(e.message().to_string()),
        Err(_) => {}
    }
    let odb = repo.odb().map_err(|e| e.message().to_string())?;
    let short = Oid::from_str(base).map_err(|e| e.message().to_string())?;
    odb.exists_prefix(short, base.len())
        .map_err(|e| e.message().to_string())
}

/// What is being opened, for errors.
struct At<'a> {
    git_dir: &'a Path,
    rev: &'a str,
}

impl At<'_> {
    /// A damaged or malformed object: [`Error::Repository`], naming it.
    fn damaged(&self, message: String) -> Error {
        Error::Repository {
            path: self.git_dir.display().to_string(),
            message: format!("{message} (opening '{}')", self.rev),
        }
    }

    fn unknown(&self, message: String) -> Error {
        Error::UnknownCommit {
            rev: self.rev.to_string(),
            message,
        }
    }
}

/// Follow annotated tags to the commit they name.
fn peel(odb: &mut Odb, mut id: Oid, at: &At) -> Result<Oid> {
    for _ in 0..16 {
        match read(odb, id, at)? {
            (Kind::Commit, _) => return Ok(id),
            (Kind::Tag, body) => {
                id = header_id(&body, b"object ")
                    .ok_or_else(|| at.damaged(format!("tag {id} names no object")))?;
            }
            (kind, _) => {
                return Err(at.unknown(format!("{id} is a {}, not a commit", kind.name())));
            }
        }
    }
    Err(at.unknown("tags nested too deep".into()))
}

/// A commit or tree object, or [`Error::Repository`] naming it.
fn read(odb: &mut Odb, id: Oid, at: &At) -> Result<(Kind, Vec<u8>)> {
    match odb.read(id, MAX_OBJECT) {
        Ok(Object::Body(kind, body)) => Ok((kind, body)),
        Ok(Object::TooLarge(kind)) => Err(at.damaged(format!(
            "{} {id} is larger than {MAX_OBJECT} bytes",
            kind.name()
        ))),
        Err(odb::ReadError::Damaged(message)) => Err(at.damaged(message)),
        Err(odb::ReadError::Missing(message)) => Err(at.unknown(message)),
    }
}

/// The id after `field` on a header line of a commit or tag (headers end at a blank line).
fn header_id(body: &[u8], field: &[u8]) -> Option<Oid> {
    header_ids(body, field).next()
}

pub(crate) fn header_ids<'b>(body: &'b [u8], field: &'b [u8]) -> impl Iterator<Item = Oid> + 'b {
    body.split(|&b| b == b'\n')
        .take_while(|line| !line.is_empty())
        .filter_map(move |line| line.strip_prefix(field))
        .filter_map(|hex| std::str::from_utf8(hex).ok())
        .filter_map(|hex| Oid::from_str(hex.trim()).ok())
}

fn commit_parents(odb: &mut Odb, id: Oid, at: &At) -> Result<Vec<Oid>> {
    match read(odb, id, at)? {
        (Kind::Commit, body) => Ok(header_ids(&body, b"parent ").collect()),
        (kind, _) => Err(at.damaged(format!("{id} is a {}, not a commit", kind.name()))),
    }
}

/// A repository opened to read its commits and trees one by one (the history index's walk),
/// as [`load`] reads them: libgit2 for refs and packs, [`Odb`] for every object.
pub(crate) struct Objects {
    repo: Repository,
    git_dir: std::path::PathBuf,
    loose: Vec<std::path::PathBuf>,
}

impl Objects {
    pub(crate) fn open(git_dir: &Path) -> Result<Objects> {
        let repo = open_repository(git_dir)?;
        let loose = odb::loose_dirs(&repo);
        let git_dir = repo.path().to_path_buf();
        Ok(Objects {
            repo,
            git_dir,
            loose,
        })
    }

    /// The repository's common git folder (shared by its linked work trees).
    pub(crate) fn common_dir(&self) -> &Path {
        self.repo.commondir()
    }

    /// The git folder and the folders of loose objects, for readers made on other threads
    /// (a libgit2 handle must not be shared across threads).
    pub(crate) fn parts(&self) -> (&Path, &[std::path::PathBuf]) {
        (&self.git_dir, &self.loose)
    }

    /// `rev` as a commit id: [`Error::UnknownCommit`], or [`Error::Repository`] for a damaged
    /// object on the way.
    pub(crate) fn resolve(&self, rev: &str) -> Result<Oid> {
        let mut odb = Odb::new(&self.git_dir, &self.loose, None);
        let at = At {
            git_dir: &self.git_dir,
            rev,
        };
        resolve(&self.repo, &mut odb, &at)
    }
}

/// A tree's entries: mode, name, id.
pub(crate) fn tree_entries(body: &[u8]) -> Option<Vec<(u32, &[u8], Oid)>> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let space = memchr::memchr(b' ', rest)?;
        let mode = std::str::from_utf8(&rest[..space]).ok()?;
        let mode = u32::from_str_radix(mode, 8).ok()?;
        rest = &rest[space + 1..];
        let nul = memchr::memchr(0, rest)?;
        let name = &rest[..nul];
        rest = &rest[nul + 1..];
        let id = Oid::from_bytes(rest.get(..20)?).ok()?;
        rest = &rest[20..];
        out.push((mode, name, id));
    }
    Some(out)
}

pub(crate) fn load(
    git_dir: &Path,
    rev: &str,
    opts: &SourceOptions,
    contents: &ContentCache,
) -> Result<(Loaded, String)> {
    let repo = open_repository(git_dir)?;
    let loose = odb::loose_dirs(&repo);
    let git_dir = repo.path().to_path_buf();
    let mut odb = Odb::new(&git_dir, &loose, None);
    let at = &At {
        git_dir: &git_dir,
        rev,
    };
    let commit_id = resolve(&repo, &mut odb, at)?;
    drop(repo);
    let tree_id = match read(&mut odb, commit_id, at)? {
        (Kind::Commit, body) => header_id(&body, b"tree ")
            .ok_or_else(|| at.damaged(format!("commit {commit_id} names no tree")))?,
        (kind, _) => {
            return Err(at.damaged(format!("{commit_id} is a {}, not a commit", kind.name())))
        }
    };

    let excluded = opts.exclusion()?;
    let mut stats = OpenStats::default();
    let mut links: HashMap<String, Oid> = HashMap::new();
    let mut blobs: Vec<(String, Oid)> = Vec::new();
    let mut walked = 0usize;
    let mut path_bytes = 0usize;
    // Depth first over (folder prefix, tree id), with an explicit stack: crafted depth
    // cannot overflow the native one.
    let mut stack: Vec<(String, Oid)> = vec![(String::new(), tree_id)];
    while let Some((dir, id)) = stack.pop() {
        let body = match read(&mut odb, id, at)? {
            (Kind::Tree, body) => body,
            (kind, _) => {
                return Err(at.damaged(format!("{id} is a {}, not a tree", kind.name())));
            }
        };
        let entries =
            tree_entries(&body).ok_or_else(|| at.damaged(format!("tree {id} is malformed")))?;
        walked += entries.len();
        if walked > MAX_ENTRIES {
            return Err(at.damaged(format!("the tree has more than {MAX_ENTRIES} entries")));
        }
        let mut names: HashSet<&[u8]> = HashSet::with_capacity(entries.len());
        for (mode, name, id) in entries {
            // Skip (and for a tree, skip all it holds) what cannot be an exact, unique path.
            let Ok(name) = std::str::from_utf8(name) else {
                stats.skipped_names += 1;
                continue;
            };
            if bad_name(name) || !names.insert(name.as_bytes()) {
                stats.skipped_names += 1;
                continue;
            }
            let hidden = name.starts_with('.');
            if dir.len() + name.len() > MAX_PATH {
                stats.skipped_names += 1;
                continue;
            }
            let path = format!("{dir}{name}");
            path_bytes += path.len();
            if path_bytes > MAX_PATH_BYTES {
                return Err(at.damaged(format!(
                    "the tree's paths add up to more than {MAX_PATH_BYTES} bytes"
                )));
            }
            if excluded.as_ref().is_some_and(|x| !x.matches(&path)) {
                continue;
            }
            match mode & 0o170000 {
                0o040000 if hidden && !opts.hidden => {}
                0o040000 => stack.push((format!("{path}/"), id)),
                0o100000 | 0o120000 if hidden && !opts.hidden => {}
                0o120000 => {
                    stats.skipped_links += 1;
                    links.insert(path, id);
                }
                0o100000 => blobs.push((path, id)),
                _ => {} // submodules (commits) and anything unexpected
            }
        }
    }

    // A link's target is a path string; we never follow it, but say whether it would have
    // left the repository so `read` can give the precise error.
    let links = links
        .into_iter()
        .map(|(path, id)| {
            let outside = match odb.read(id, 4096) {
                Ok(Object::Body(Kind::Blob, target)) => {
                    let target = String::from_utf8_lossy(&target);
                    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                    let joined = match dir {
                        "" => target.to_string(),
                        dir => format!("{dir}/{target}"),
                    };
                    target.starts_with('/')
                        || crate::snapshot::pathsafe::normalize(&joined, None).is_err()
                }
                _ => false,
            };
            (path, outside)
        })
        .collect();
    drop(odb);

    enum Read {
        Text(String, Vec<u8>, ContentKey),
        Cached(crate::snapshot::FileEntry),
        Binary,
        Large,
        Failed(String, String),
    }
    let reads: Vec<Read> = blobs
        .par_chunks(256)
        .flat_map_iter(|chunk| {
            // Each chunk has its own reader: a libgit2 handle must not be shared across threads.
            let mut odb = Odb::new(&git_dir, &loose, None);
            chunk
                .iter()
                .map(|(path, oid)| {
                    if super::binary_by_name(path) {
                        return Read::Binary;
                    }
                    let key = ContentKey::GitBlob(oid_bytes(oid));
                    if let Some(content) = contents.get(&key) {
                        let lang = crate::lang::Lang::from_path(path);
                        return Read::Cached(crate::snapshot::FileEntry {
                            path: path.as_str().into(),
                            content,
                            key,
                            lang,
                        });
                    }
                    match odb.read(*oid, opts.max_file_size) {
                        Ok(Object::Body(Kind::Blob, bytes)) => match text_of(bytes) {
                            Some(text) => Read::Text(path.clone(), text, key),
                            None => Read::Binary,
                        },
                        Ok(Object::TooLarge(Kind::Blob)) => Read::Large,
                        // Missing, damaged, or not a blob: named and counted as unreadable.
                        Ok(Object::Body(kind, _) | Object::TooLarge(kind)) => Read::Failed(
                            path.clone(),
                            format!("object {oid} is a {}, not a blob", kind.name()),
                        ),
                        Err(ReadError::Damaged(why)) => {
                            Read::Failed(path.clone(), format!("damaged {why}"))
                        }
                        Err(ReadError::Missing(why)) => {
                            Read::Failed(path.clone(), format!("missing {why}"))
                        }
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();

    let mut files = Vec::with_capacity(reads.len());
    for r in reads {
        match r {
            Read::Text(path, bytes, key) => files.push(entry(path, bytes, Some(key), contents)),
            Read::Cached(e) => files.push(e),
            Read::Binary => stats.skipped_binary += 1,
            Read::Large => stats.skipped_large += 1,
            Read::Failed(path, why) => stats.add_unreadable(&path, &why),
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
