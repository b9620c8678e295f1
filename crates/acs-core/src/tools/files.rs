//! `find_files`: files by glob, and by path fragment or fuzzy name, ranked.

use crate::error::{Error, Result};
use crate::glob::PathFilter;
use crate::index::repo::Repo;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A find_files request: files by glob, path fragment or fuzzy name.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindFilesRequest {
    /// A glob (ripgrep `-g` conventions); files must match it.
    pub glob: Option<String>,
    /// A path fragment or fuzzy name (`modl/basemodl` finds `pydantic/main/base_model.py`).
    pub query: Option<String>,
    /// Globs that exclude a file.
    pub exclude: Vec<String>,
    /// At most this many files (default 50).
    pub limit: usize,
}

impl Default for FindFilesRequest {
    fn default() -> Self {
        Self {
            glob: None,
            query: None,
            exclude: Vec::new(),
            limit: 50,
        }
    }
}

/// One file found.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FoundFile {
    /// The file.
    pub path: Arc<str>,
    /// Higher is better; 0 when only a glob was given.
    pub score: f64,
}

/// The files of a [`find_files`] request, best first.
#[derive(Clone, Debug, Serialize, Default)]
pub struct FindFilesResult {
    /// Best first, at most `limit`.
    pub files: Vec<FoundFile>,
    /// Files found before `limit` was applied.
    pub total: usize,
}

/// Find files by glob, path fragment or fuzzy name; at least one of `glob` and `query`.
pub fn find_files(repo: &Repo, req: &FindFilesRequest) -> Result<FindFilesResult> {
    if req.glob.is_none() && req.query.as_deref().is_none_or(|q| q.trim().is_empty()) {
        return Err(Error::InvalidArgument(
            "find_files: give a `glob`, a `query`, or both".into(),
        ));
    }
    let include: Vec<String> = req.glob.iter().cloned().collect();
    let filter = PathFilter::new(&include, &req.exclude)?;
    let query = req
        .query
        .as_deref()
        .map(|q| q.trim().replace('\\', "/").to_lowercase());
    let mut found: Vec<FoundFile> = repo
        .files()
        .iter()
        .filter(|f| filter.matches(&f.path))
        .filter_map(|f| {
            let score = match &query {
                Some(q) => path_score(&f.path, q)?,
                None => 0.0,
            };
            Some(FoundFile {
                path: f.path.clone(),
                score,
            })
        })
        .collect();
    // Best score first; among equals, shorter paths (closer to the root) first.
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.path.len().cmp(&b.path.len()))
            .then(a.path.cmp(&b.path))
    });
    let total = found.len();
    found.truncate(req.limit);
    Ok(FindFilesResult {
        files: found,
        total,
    })
}

/// How well `path` answers `query` (lower-cased), or None when it does not at all.
///
/// Tiers, best first: the file name equals the query (with or without extension); the path
/// ends with the query; the file name contains it; the path contains it; the query's
/// characters appear in order (fuzzy), scored by how tightly they cluster.
pub(crate) fn path_score(path: &str, query: &str) -> Option<f64> {
    let lower = path.to_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let stem = name.split('.').next().unwrap_or(name);
    if name == query || stem == query {
        return Some(100.0);
    }
    if lower.ends_with(query)
        && (lower.len() == query.len()
            || query.starts_with('/')
            || lower.as_bytes()[lower.len() - query.len() - 1] == b'/')
    {
        return Some(90.0);
    }
    if let Some(module) = dotted_module_path(query) {
        if lower.ends_with(&format!("{module}.py"))
            || lower.ends_with(&format!("{module}/__init__.py"))
        {
            return Some(85.0);
        }
    }
    if name.contains(query) {
        return Some(70.0 + 10.0 * query.len() as f64 / name.len() as f64);
    }
    if lower.contains(query) {
        return Some(50.0 + 10.0 * query.len() as f64 / lower.len() as f64);
    }
    fuzzy_score(&lower, query).map(|s| 40.0 * s)
}

/// `pkg.sub.mod` → `pkg/sub/mod` (to be found as `.py` or `/__init__.py`), for issue
/// texts that name Python modules.
fn dotted_module_path(query: &str) -> Option<String> {
    if query.contains('/') || !query.contains('.') || query.ends_with(".py") {
        return None;
    }
    Some(query.replace('.', "/"))
}

/// Subsequence match scored in (0, 1]: 1 when the characters are contiguous.
fn fuzzy_score(haystack: &str, needle: &str) -> Option<f64> {
    let needle: Vec<char> = needle.chars().filter(|c| !c.is_whitespace()).collect();
    if needle.is_empty() {
        return None;
    }
    let mut it = needle.iter().peekable();
    let (mut first, mut last) = (None, 0usize);
    for (i, c) in haystack.chars().enumerate() {
        if it.peek() == Some(&&c) {
            first.get_or_insert(i);
            last = i;
            it.next();
        }
    }
    if it.peek().is_some() {
        return None;
    }
    let span = (last - first.unwrap_or(0) + 1) as f64;
    Some(needle.len() as f64 / span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_beat_fragments_beat_fuzzy() {
        let exact = path_score("moto/s3/models.py", "models.py").unwrap();
        let fragment = path_score("moto/s3/models_old.py", "models").unwrap();
        let fuzzy = path_score("moto/s3/my_odd_els.py", "models").unwrap();
        assert!(
            exact > fragment && fragment > fuzzy,
            "{exact} {fragment} {fuzzy}"
        );
    }

    #[test]
    fn dotted_module_names_find_their_file() {
        assert!(path_score("dask/dataframe/core.py", "dask.dataframe.core").unwrap() >= 85.0);
        assert!(path_score("dask/array/__init__.py", "dask.array").unwrap() >= 85.0);
    }

    #[test]
    fn unrelated_paths_do_not_match() {
        assert_eq!(path_score("a/b.py", "zzz"), None);
    }
}
