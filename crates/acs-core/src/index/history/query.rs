//! The queries of a [`History`]: each a lookup in the index's postings, counting only the
//! commits visible from the commit the history is seen from.

use super::{at_most, walk, Change, History};
use crate::error::Result;
use crate::index::tokenize::tokenize;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// BM25's parameters, as the file index's (`index/bm25.rs`).
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// Bytes of a query text that are tokenized (an issue longer than this is cut).
pub(crate) const MAX_QUERY_TEXT: usize = 256 << 10;
/// The most items a request may ask for or give (commits, files, paths).
pub(crate) const MAX_ITEMS: usize = 10_000;

/// A past commit whose message is like the text asked about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PastFix {
    /// Its full id.
    pub commit: String,
    /// Its BM25 score against the text.
    pub score: f64,
    /// Its committer time (seconds since the epoch).
    pub time: i64,
    /// Files it touched (over the cap: a bulk change, its files not listed and not scored).
    pub files: u32,
}

/// A file, scored by the past commits that touched it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileScore {
    /// Its path (as the commits touched it: renames are not followed).
    pub path: String,
    /// The sum of the scores of the similar commits that touched it.
    pub score: f64,
    /// How many of the similar commits touched it.
    pub commits: u32,
}

/// Past fixes like a text, and the files they touched.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SimilarFixes {
    /// The most similar visible commits, best first.
    pub commits: Vec<PastFix>,
    /// The files those commits touched, by summed score, best first.
    pub files: Vec<FileScore>,
    /// The visible non-merge commits the text was scored against.
    pub documents: u32,
}

/// A file changed in the same commits as the files asked about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoChanged {
    /// Its path.
    pub path: String,
    /// Visible commits that changed it and at least one of the files asked about.
    pub count: u32,
}

/// The files most often changed together with given files.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CoChange {
    /// Visible commits that changed at least one of the files asked about.
    pub commits: u32,
    /// The files changed with them (the files asked about left out), most often first.
    pub files: Vec<CoChanged>,
}

/// How much and how lately a file changed before the commit the history is seen from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileActivity {
    /// The path asked about.
    pub path: String,
    /// Churn: visible commits that touched it.
    pub commits: u32,
    /// The last visible commit that touched it, if any.
    pub last_commit: Option<String>,
    /// Visible non-merge commits after that one (0: it is the latest).
    pub commits_since: Option<u32>,
    /// Seconds between that commit's and the seen-from commit's committer times.
    pub seconds_since: Option<i64>,
}

/// One visible commit, as the index holds it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommitInfo {
    /// Its full id.
    pub commit: String,
    /// Its committer time (seconds since the epoch).
    pub time: i64,
    /// Whether it is a merge (neither its message nor its paths are indexed).
    pub merge: bool,
    /// Files it touched (for a bulk change, more than the cap; 0 when unknown).
    pub files: u32,
    /// The paths it touched, sorted; `None` for a merge, a bulk change, or a commit whose
    /// parent or tree could not be read.
    pub paths: Option<Vec<String>>,
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl History {
    /// The commit `id` (a full hex id) if it is visible: a proper ancestor of the commit the
    /// history is seen from.
    pub fn commit(&self, id: &str) -> Option<CommitInfo> {
        let oid = git2::Oid::from_str(id).ok().filter(|_| id.len() == 40)?;
        let c = self
            .index
            .position(&walk::id_bytes(oid))
            .filter(|&c| self.sees(c))?;
        let commits = &self.index.commits;
        let i = c as usize;
        let paths = (commits.changes[i] == Change::Paths).then(|| {
            commits.paths[super::range(&commits.path_start, i)]
                .iter()
                .map(|&p| commits.path_names[p as usize].clone())
                .collect()
        });
        Some(CommitInfo {
            commit: walk::hex(&commits.ids[i]),
            time: commits.times[i],
            merge: commits.changes[i] == Change::Merge,
            files: commits.touched[i],
            paths,
        })
    }

    /// The past commits most like `text` (BM25 over their messages; document count,
    /// frequencies and mean length counted over the visible commits), at most `commits`
    /// of them, and the files they touched, each scored by the sum of the scores of those
    /// that touched it, at most `files` of them. Only the first [`MAX_QUERY_TEXT`] bytes of
    /// `text` are read.
    pub fn similar_fixes(&self, text: &str, commits: usize, files: usize) -> Result<SimilarFixes> {
        at_most("commits", commits, MAX_ITEMS)?;
        at_most("files", files, MAX_ITEMS)?;
        let lookup = &self.index.lookup;
        let mut terms: FxHashMap<u32, u32> = FxHashMap::default();
        tokenize(prefix(text, MAX_QUERY_TEXT), |t| {
            if let Some(&id) = lookup.term_ids.get(t) {
                *terms.entry(id).or_default() += 1;
            }
        });
        let n = f64::from(self.documents);
        let mut scores: FxHashMap<u32, f64> = FxHashMap::default();
        let mut seen: Vec<(u32, u32)> = Vec::new();
        for (&term, &query_count) in &terms {
            seen.clear();
            seen.extend(
                lookup.term_postings[term as usize]
                    .iter()
                    .filter(|(c, _)| self.sees(*c)),
            );
            if seen.is_empty() {
                continue;
            }
            let df = seen.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            let weight = idf * (1.0 + f64::from(query_count).ln());
            for &(c, count) in &seen {
                let tf = f64::from(count);
                let len = f64::from(lookup.doc_len[c as usize]);
                let norm = K1 * (1.0 - B + B * len / self.mean_length);
                *scores.entry(c).or_default() += weight * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        // Best first; ties by the later commit, then by index, so the order is total.
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        ranked.truncate(commits);
        Ok(SimilarFixes {
            files: self.files_of(&ranked, files),
            commits: ranked
                .iter()
                .map(|&(c, score)| self.past_fix(c, score))
                .collect(),
            documents: self.documents,
        })
    }

    fn past_fix(&self, c: u32, score: f64) -> PastFix {
        let commits = &self.index.commits;
        PastFix {
            commit: walk::hex(&commits.ids[c as usize]),
            score,
            time: commits.times[c as usize],
            files: commits.touched[c as usize],
        }
    }

    /// The files `ranked` commits touched, scored by the sum of their scores, best `limit`.
    fn files_of(&self, ranked: &[(u32, f64)], limit: usize) -> Vec<FileScore> {
        let commits = &self.index.commits;
        let mut by_path: FxHashMap<u32, (f64, u32)> = FxHashMap::default();
        for &(c, score) in ranked {
            for &path in &commits.paths[super::range(&commits.path_start, c as usize)] {
                let entry = by_path.entry(path).or_default();
                entry.0 += score;
                entry.1 += 1;
            }
        }
        let mut files: Vec<FileScore> = by_path
            .into_iter()
            .map(|(path, (score, n))| FileScore {
                path: commits.path_names[path as usize].clone(),
                score,
                commits: n,
            })
            .collect();
        files.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.path.cmp(&b.path)));
        files.truncate(limit);
        files
    }

    /// The files most often changed in the same visible commits as `paths` (which are left
    /// out of the answer), at most `limit`. Paths the history never saw count for nothing.
    pub fn co_change(&self, paths: &[&str], limit: usize) -> Result<CoChange> {
        at_most("paths", paths.len(), MAX_ITEMS)?;
        at_most("limit", limit, MAX_ITEMS)?;
        let (commits, lookup) = (&self.index.commits, &self.index.lookup);
        let asked: FxHashSet<u32> = paths
            .iter()
            .filter_map(|p| lookup.path_ids.get(*p).copied())
            .collect();
        let mut touching: Vec<u32> = asked
            .iter()
            .flat_map(|&p| lookup.path_postings[p as usize].iter().copied())
            .filter(|&c| self.sees(c))
            .collect();
        touching.sort_unstable();
        touching.dedup();
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        for &c in &touching {
            for &p in &commits.paths[super::range(&commits.path_start, c as usize)] {
                if !asked.contains(&p) {
                    *counts.entry(p).or_default() += 1;
                }
            }
        }
        let mut files: Vec<CoChanged> = counts
            .into_iter()
            .map(|(p, count)| CoChanged {
                path: commits.path_names[p as usize].clone(),
                count,
            })
            .collect();
        files.sort_unstable_by(|a, b| b.count.cmp(&a.count).then(a.path.cmp(&b.path)));
        files.truncate(limit);
        Ok(CoChange {
            commits: touching.len() as u32,
            files,
        })
    }

    /// Churn and recency of each of `paths`, in order: a path no visible commit touched has
    /// 0 commits and no last change.
    pub fn activity(&self, paths: &[&str]) -> Result<Vec<FileActivity>> {
        at_most("paths", paths.len(), MAX_ITEMS)?;
        let (commits, lookup) = (&self.index.commits, &self.index.lookup);
        let now = commits.times[self.at as usize];
        Ok(paths
            .iter()
            .map(|&path| {
                let postings = lookup
                    .path_ids
                    .get(path)
                    .map_or(&[][..], |&p| &lookup.path_postings[p as usize]);
                let mut visible = postings.iter().copied().filter(|&c| self.sees(c));
                let last = visible.next_back();
                let count = visible.count() as u32 + u32::from(last.is_some());
                FileActivity {
                    path: path.to_string(),
                    commits: count,
                    last_commit: last.map(|c| walk::hex(&commits.ids[c as usize])),
                    commits_since: last.map(|c| self.documents - self.rank[c as usize] - 1),
                    seconds_since: last.map(|c| now - commits.times[c as usize]),
                }
            })
            .collect())
    }
}
