//! The `bm25` tool: files, or functions and classes, of a [`Repo`] ranked against free text
//! (an issue, a question) on the repo's BM25 indexes ([`crate::bm25::Bm25Index`]), built on first use.

use crate::bm25::Level;
use crate::error::{Error, Result};
use crate::glob::PathFilter;
use crate::repo::Repo;
use crate::symbols::SymbolKind;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A BM25 request: rank files or functions against free text.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bm25Request {
    /// Free text: an issue, a question, a list of words.
    pub query: String,
    /// Rank files (default) or functions.
    pub level: Level,
    /// Globs a file must match (any of); `!glob` excludes.
    pub include: Vec<String>,
    /// Globs that exclude a file.
    pub exclude: Vec<String>,
    /// At most this many hits (default 20).
    pub limit: usize,
}

impl Default for Bm25Request {
    fn default() -> Self {
        Self {
            query: String::new(),
            level: Level::File,
            include: Vec::new(),
            exclude: Vec::new(),
            limit: 20,
        }
    }
}

/// One ranked document.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Bm25Hit {
    /// The file.
    pub path: Arc<str>,
    /// BM25 score; higher is better.
    pub score: f32,
    /// Function-level hits: the definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Function-level hits: the definition's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<SymbolKind>,
    /// Function-level hits: the definition's first line (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_line: Option<u32>,
    /// Function-level hits: the definition's last line (inclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
}

/// The hits of a [`bm25`] request, best first.
#[derive(Clone, Debug, Serialize, Default)]
pub struct Bm25Result {
    /// Best first.
    pub hits: Vec<Bm25Hit>,
    /// Documents in the index (files, or functions and classes).
    pub documents: usize,
}

/// Rank files or functions of `repo` against `req.query`.
pub fn bm25(repo: &Repo, req: &Bm25Request) -> Result<Bm25Result> {
    if req.query.trim().is_empty() {
        return Err(Error::InvalidArgument(
            "bm25: `query` must not be empty".into(),
        ));
    }
    let filter = PathFilter::new(&req.include, &req.exclude)?;
    let index = repo.bm25_index(req.level);
    let files = repo.files();
    let symbols = (req.level == Level::Function).then(|| repo.symbol_index());
    let hits = index
        .search(&req.query, req.limit, |d| {
            filter.matches(&files[d.file as usize].path)
        })
        .into_iter()
        .map(|(score, doc)| {
            let path = files[doc.file as usize].path.clone();
            let def = doc
                .def
                .and_then(|di| symbols.map(|s| &s.file_symbols(doc.file as usize)[di as usize]));
            Bm25Hit {
                path,
                score,
                name: def.map(|d| d.qualified_name.clone()),
                kind: def.map(|d| d.kind),
                start_line: def.map(|d| d.start_line),
                end_line: def.map(|d| d.end_line),
            }
        })
        .collect();
    Ok(Bm25Result {
        hits,
        documents: index.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_matching_terms_rank_first() {
        let repo = Repo::from_files([
            ("a.py", "def parse_header(h):\n    return h\n"),
            ("b.py", "def render(page):\n    return page\n"),
            (
                "c.py",
                "def header_footer():\n    pass\ndef parse_body():\n    pass\n",
            ),
        ])
        .unwrap();
        let r = bm25(
            &repo,
            &Bm25Request {
                query: "header parsing fails in parse_header".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let paths: Vec<&str> = r.hits.iter().map(|h| &*h.path).collect();
        assert_eq!(paths, ["a.py", "c.py"]);
        let f = bm25(
            &repo,
            &Bm25Request {
                query: "parse_body".into(),
                level: Level::Function,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(f.hits[0].name.as_deref(), Some("parse_body"));
        assert_eq!(
            (f.hits[0].start_line, f.hits[0].end_line),
            (Some(3), Some(4))
        );
    }
}
