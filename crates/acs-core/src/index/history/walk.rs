//! The walk: the commits reachable from a tip that the index lacks, read through the guarded
//! object reader, ordered parents first, each non-merge commit's tree diffed against its
//! parent's (in parallel), then appended to the index.

use super::{Change, Commits, HistoryIndex, MAX_MESSAGE, MAX_TOUCHED};
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::index::tokenize::tokenize;
use crate::snapshot::source::bad_name;
use crate::snapshot::source::git::{header_ids, tree_entries, Objects};
use crate::snapshot::source::odb::{Kind, Object, Odb, MAX_OBJECT};
use git2::Oid;
use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};

/// Trees read for one commit's diff before it counts as a bulk change: a crafted tree of
/// many nested folders must not cost more than this.
const MAX_TREE_READS: usize = 4 * MAX_TOUCHED + 64;
/// A path longer than this is skipped (as the snapshot's source skips it).
const MAX_PATH: usize = 4096;
/// The fewest commits diffed per reader: each chunk opens its own (a libgit2 handle must not
/// be shared across threads), whose caches (trees, pack deltas) start cold.
const MIN_CHUNK: usize = 256;

/// Commits per chunk for `n` commits: a few chunks per thread, to balance the load.
fn chunk_size(n: usize) -> usize {
    n.div_ceil(4 * rayon::current_num_threads()).max(MIN_CHUNK)
}
/// Trees kept per reader: a child's diff reads its parent's trees again.
const TREE_CACHE: usize = 4096;

pub(super) fn id_bytes(id: Oid) -> [u8; 20] {
    let mut out = [0u8; 20];
    let raw = id.as_bytes();
    let n = raw.len().min(20);
    out[..n].copy_from_slice(&raw[..n]);
    out
}

pub(super) fn hex(id: &[u8; 20]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn oid(id: &[u8; 20]) -> Option<Oid> {
    Oid::from_bytes(id).ok()
}

/// What one walk did.
pub(super) struct Walked {
    pub commits: usize,
    pub skipped_names: u64,
}

/// A commit read, before its diff.
struct Read {
    id: Oid,
    tree: Option<Oid>,
    time: i64,
    /// Parents the walk could read (a commit object), in order.
    parents: Vec<Oid>,
    /// Whether a parent could not be read.
    parent_missing: bool,
    merge: bool,
    terms: Vec<(String, u32)>,
}

/// A tree entry's mode and id.
type Entry = (u32, Oid);

/// The touched paths of one commit.
enum Touched {
    Paths(Vec<String>),
    Bulk(usize),
    /// A merge, or a commit whose parent or parent's tree is unknown.
    Unknown,
    /// A tree that could not be read (missing or damaged).
    Unreadable(Oid),
}

/// The index loaded from the store, if it is sound and no object its walk missed has
/// appeared since (a clone deepened): then it is rebuilt. An object still damaged has not
/// appeared (read whole: a damaged packed object may have a sound header).
pub(super) fn usable(objects: &Objects, commits: Commits) -> Option<HistoryIndex> {
    let index = HistoryIndex::new(commits)?;
    let (git_dir, loose) = objects.parts();
    let mut odb = Odb::new(git_dir, loose, None);
    let appeared = index
        .commits
        .missing
        .iter()
        .filter_map(oid)
        .any(|id| matches!(odb.read(id, MAX_OBJECT), Ok(Object::Body(..))));
    (!appeared).then_some(index)
}

/// Walk the commits reachable from `tip` that `index` lacks and append them.
pub(super) fn extend(
    objects: &Objects,
    index: &mut HistoryIndex,
    tip: Oid,
    cancel: &Cancel,
) -> Result<Walked> {
    let (git_dir, loose) = objects.parts();
    let mut missing: FxHashSet<[u8; 20]> = index.commits.missing.iter().copied().collect();
    let read = read_new(git_dir, loose, index, tip, &mut missing, cancel)?;
    let trees: FxHashMap<Oid, Option<Oid>> = read.iter().map(|r| (r.id, r.tree)).collect();
    let parent_tree = |r: &Read| -> Option<Option<Oid>> {
        let parent = r.parents.first()?;
        Some(match trees.get(parent) {
            Some(tree) => *tree,
            None => {
                let at = index.position(&id_bytes(*parent))? as usize;
                oid(&index.commits.trees[at]).filter(|t| !t.is_zero())
            }
        })
    };
    let jobs: Vec<(Option<Option<Oid>>, &Read)> =
        read.iter().map(|r| (parent_tree(r), r)).collect();
    let diffed: Vec<(Touched, u64)> = crate::pool::build_map(
        &jobs.chunks(chunk_size(jobs.len())).collect::<Vec<_>>(),
        |_, chunk| {
            if cancel.is_cancelled() {
                return Vec::new();
            }
            let mut differ = Differ::new(git_dir, loose);
            chunk
                .iter()
                .map(|(parent_tree, r)| differ.touched(r, *parent_tree))
                .collect::<Vec<_>>()
        },
    )
    .into_iter()
    .flatten()
    .collect();
    cancel.check()?;
    let mut skipped_names = 0;
    let from = index.len();
    let c = &mut index.commits;
    for start in [&mut c.parent_start, &mut c.term_start, &mut c.path_start] {
        if start.is_empty() {
            start.push(0);
        }
    }
    let mut new_positions: FxHashMap<Oid, u32> = FxHashMap::default();
    for (r, (touched, skipped)) in read.iter().zip(diffed) {
        skipped_names += skipped;
        if let Touched::Unreadable(id) = touched {
            missing.insert(id_bytes(id));
        }
        let parents: Vec<u32> = r
            .parents
            .iter()
            .filter_map(|p| {
                let known = new_positions.get(p).copied();
                known.or_else(|| index.position(&id_bytes(*p)))
            })
            .collect();
        new_positions.insert(r.id, index.len() as u32);
        append(index, r, &parents, &touched);
    }
    let mut missing: Vec<[u8; 20]> = missing.into_iter().collect();
    missing.sort_unstable();
    index.commits.missing = missing;
    index
        .derive_from(from)
        .ok_or_else(|| Error::Internal("the history walk met a commit twice".into()))?;
    Ok(Walked {
        commits: read.len(),
        skipped_names,
    })
}

/// The commits reachable from `tip` that `index` lacks, parents before children (an
/// iterative depth-first walk: deep histories cannot overflow the stack). A commit that
/// cannot be read ends its line and is added to `missing`; the tip itself must be readable.
fn read_new(
    git_dir: &Path,
    loose: &[PathBuf],
    index: &HistoryIndex,
    tip: Oid,
    missing: &mut FxHashSet<[u8; 20]>,
    cancel: &Cancel,
) -> Result<Vec<Read>> {
    let mut odb = Odb::new(git_dir, loose, None);
    let first = read_commit(&mut odb, tip).ok_or_else(|| Error::UnknownCommit {
        rev: tip.to_string(),
        message: "the commit object is missing or damaged".into(),
    })?;
    let mut seen: FxHashSet<Oid> = FxHashSet::default();
    seen.insert(tip);
    let mut out = Vec::new();
    // (commit, next parent to visit)
    let mut stack: Vec<(Read, usize)> = vec![(first, 0)];
    while let Some((top, next)) = stack.last_mut() {
        let Some(&parent) = top.parents.get(*next) else {
            let (done, _) = stack.pop().expect("not empty");
            out.push(done);
            if out.len() % 256 == 0 {
                cancel.check()?;
            }
            continue;
        };
        *next += 1;
        if index.position(&id_bytes(parent)).is_some() || !seen.insert(parent) {
            continue;
        }
        match read_commit(&mut odb, parent) {
            Some(read) => stack.push((read, 0)),
            None => {
                missing.insert(id_bytes(parent));
                let (top, next) = stack.last_mut().expect("not empty");
                top.parents.remove(*next - 1);
                *next -= 1;
                top.parent_missing = true;
            }
        }
    }
    Ok(out)
}

/// A commit's tree, parents, committer time and message terms; `None` when it cannot be
/// read as a commit.
fn read_commit(odb: &mut Odb, id: Oid) -> Option<Read> {
    let Ok(Object::Body(Kind::Commit, body)) = odb.read(id, MAX_OBJECT) else {
        return None;
    };
    let tree = header_ids(&body, b"tree ").next();
    let parents: Vec<Oid> = header_ids(&body, b"parent ").collect();
    let time = committer_time(&body).unwrap_or(0);
    let message = body
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(&[][..], |at| &body[at + 2..]);
    let merge = parents.len() > 1;
    let terms = if merge {
        Vec::new()
    } else {
        message_terms(message)
    };
    Some(Read {
        id,
        tree,
        time,
        parents,
        parent_missing: false,
        merge,
        terms,
    })
}

/// The time on the `committer` header line (`name <mail> 1700000000 +0100`).
fn committer_time(body: &[u8]) -> Option<i64> {
    let line = body
        .split(|&b| b == b'\n')
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(b"committer "))?;
    let line = std::str::from_utf8(line).ok()?;
    let mut fields = line.rsplit(' ');
    let _zone = fields.next()?;
    fields.next()?.parse().ok()
}

/// The terms of a message's first [`MAX_MESSAGE`] bytes (not UTF-8: decoded lossily), with
/// their counts.
fn message_terms(message: &[u8]) -> Vec<(String, u32)> {
    let cut = &message[..message.len().min(MAX_MESSAGE)];
    let text = String::from_utf8_lossy(cut);
    let mut counts: FxHashMap<String, u32> = FxHashMap::default();
    tokenize(&text, |t| match counts.get_mut(t) {
        Some(c) => *c += 1,
        None => {
            counts.insert(t.to_string(), 1);
        }
    });
    let mut terms: Vec<(String, u32)> = counts.into_iter().collect();
    terms.sort_unstable();
    terms
}

/// Append commit `r`, whose parents (`parents`, indices) are in the index already, with
/// what its diff found.
fn append(index: &mut HistoryIndex, r: &Read, parents: &[u32], touched: &Touched) {
    let (c, l) = (&mut index.commits, &mut index.lookup);
    c.ids.push(id_bytes(r.id));
    c.trees.push(r.tree.map_or([0; 20], id_bytes));
    c.times.push(r.time);
    let (change, count) = match touched {
        _ if r.merge => (Change::Merge, 0),
        Touched::Paths(paths) => (Change::Paths, paths.len()),
        Touched::Bulk(count) => (Change::Bulk, *count),
        Touched::Unknown | Touched::Unreadable(_) => (Change::Partial, 0),
    };
    c.changes.push(change);
    c.touched.push(u32::try_from(count).unwrap_or(u32::MAX));
    c.parents.extend_from_slice(parents);
    c.parent_start.push(c.parents.len() as u32);
    for (term, count) in &r.terms {
        let id = intern(&mut l.term_ids, &mut c.vocabulary, term);
        c.terms.push((id, *count));
    }
    c.term_start.push(c.terms.len() as u32);
    if let Touched::Paths(paths) = touched {
        for path in paths {
            let id = intern(&mut l.path_ids, &mut c.path_names, path);
            c.paths.push(id);
        }
    }
    c.path_start.push(c.paths.len() as u32);
}

fn intern(ids: &mut FxHashMap<String, u32>, names: &mut Vec<String>, name: &str) -> u32 {
    if let Some(&id) = ids.get(name) {
        return id;
    }
    let id = names.len() as u32;
    names.push(name.to_string());
    ids.insert(name.to_string(), id);
    id
}

/// The entries of a tree read (none for no tree); `None` when it is malformed.
fn entries(body: &Option<std::rc::Rc<Vec<u8>>>) -> Option<Vec<(u32, &[u8], Oid)>> {
    match body.as_deref() {
        Some(body) => tree_entries(body),
        None => Some(Vec::new()),
    }
}

/// Diffs trees through one reader, with a small cache of trees read.
struct Differ<'a> {
    odb: Odb<'a>,
    trees: FxHashMap<Oid, std::rc::Rc<Vec<u8>>>,
}

impl<'a> Differ<'a> {
    fn new(git_dir: &'a Path, loose: &'a [PathBuf]) -> Self {
        Differ {
            odb: Odb::new(git_dir, loose, None),
            trees: FxHashMap::default(),
        }
    }

    /// What commit `r` touched (its tree against its first parent's, `parent_tree`:
    /// `None` for a root commit, `Some(None)` when the parent's tree is unknown), and the
    /// names skipped.
    fn touched(&mut self, r: &Read, parent_tree: Option<Option<Oid>>) -> (Touched, u64) {
        let mut skipped = 0;
        if r.merge {
            return (Touched::Unknown, 0);
        }
        let touched = match (r.tree, parent_tree, r.parent_missing) {
            (Some(tree), None, false) => self.diff(None, tree, &mut skipped),
            (Some(tree), Some(Some(old)), false) => self.diff(Some(old), tree, &mut skipped),
            _ => Touched::Unknown,
        };
        (touched, skipped)
    }

    fn tree(&mut self, id: Oid) -> Option<std::rc::Rc<Vec<u8>>> {
        if let Some(body) = self.trees.get(&id) {
            return Some(body.clone());
        }
        let Ok(Object::Body(Kind::Tree, body)) = self.odb.read(id, MAX_OBJECT) else {
            return None;
        };
        if self.trees.len() >= TREE_CACHE {
            self.trees.clear();
        }
        let body = std::rc::Rc::new(body);
        self.trees.insert(id, body.clone());
        Some(body)
    }

    /// The paths that differ between trees `old` (none: the empty tree) and `new`, names
    /// only; a name that cannot be a path is skipped and counted in `skipped`.
    fn diff(&mut self, old: Option<Oid>, new: Oid, skipped: &mut u64) -> Touched {
        let mut paths: Vec<String> = Vec::new();
        let mut reads = 0;
        let mut pending: Vec<(String, Option<Oid>, Option<Oid>)> =
            vec![(String::new(), old, Some(new))];
        while let Some((dir, old, new)) = pending.pop() {
            reads += usize::from(old.is_some()) + usize::from(new.is_some());
            if reads > MAX_TREE_READS {
                return Touched::Bulk(paths.len().max(MAX_TOUCHED + 1));
            }
            let old_body = match old {
                Some(id) => match self.tree(id) {
                    Some(body) => Some(body),
                    None => return Touched::Unreadable(id),
                },
                None => None,
            };
            let new_body = match new {
                Some(id) => match self.tree(id) {
                    Some(body) => Some(body),
                    None => return Touched::Unreadable(id),
                },
                None => None,
            };
            let old_entries = match entries(&old_body) {
                Some(entries) => entries,
                None => return old.map_or(Touched::Unknown, Touched::Unreadable),
            };
            let new_entries = match entries(&new_body) {
                Some(entries) => entries,
                None => return new.map_or(Touched::Unknown, Touched::Unreadable),
            };
            let mut before: FxHashMap<&[u8], Entry> = old_entries
                .iter()
                .map(|&(mode, name, id)| (name, (mode, id)))
                .collect();
            let mut changes: Vec<(&[u8], Option<Entry>, Option<Entry>)> = Vec::new();
            for &(mode, name, id) in &new_entries {
                let was = before.remove(name);
                if was != Some((mode, id)) {
                    changes.push((name, was, Some((mode, id))));
                }
            }
            changes.extend(
                before
                    .into_iter()
                    .map(|(name, was)| (name, Some(was), None)),
            );
            for (name, was, now) in changes {
                let Some(name) = std::str::from_utf8(name).ok().filter(|n| !bad_name(n)) else {
                    *skipped += 1;
                    continue;
                };
                if dir.len() + name.len() > MAX_PATH {
                    *skipped += 1;
                    continue;
                }
                let path = format!("{dir}{name}");
                let is_tree = |e: Option<Entry>| e.filter(|(m, _)| m & 0o170000 == 0o040000);
                let (old_tree, new_tree) = (is_tree(was), is_tree(now));
                if old_tree.is_some() || new_tree.is_some() {
                    pending.push((
                        format!("{path}/"),
                        old_tree.map(|e| e.1),
                        new_tree.map(|e| e.1),
                    ));
                }
                let is_file = |e: Option<Entry>| e.is_some() && is_tree(e).is_none();
                if is_file(was) || is_file(now) {
                    paths.push(path);
                    if paths.len() > MAX_TOUCHED {
                        return Touched::Bulk(paths.len());
                    }
                }
            }
        }
        paths.sort_unstable();
        paths.dedup();
        Touched::Paths(paths)
    }
}
