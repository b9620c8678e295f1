//! The `bm25` tool: files, or functions and classes, of a [`Repo`] ranked against free text
//! (an issue, a question) on the repo's BM25 indexes ([`crate::index::bm25::Bm25Index`]), built on first use.

use crate::error::{Error, Result};
use crate::glob::PathFilter;
use crate::index::bm25::Level;
use crate::index::repo::Repo;
use crate::index::symbols::Definition;
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

/// One ranked document: `{path, score}` for a file, the [`Definition`]'s fields and
/// `score` for a function or class.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Bm25Hit {
    /// What was ranked (its fields flattened into the hit's).
    #[serde(flatten)]
    pub document: Document,
    /// BM25 score; higher is better.
    pub score: f32,
}

/// A document of a BM25 index, as a hit names it.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Document {
    /// A file-level hit.
    File {
        /// The file.
        path: Arc<str>,
    },
    /// A function-level hit: the function or class (its file is its `path`).
    Definition(Definition),
}

impl Bm25Hit {
    /// The hit's file, at either level.
    pub fn path(&self) -> &Arc<str> {
        match &self.document {
            Document::File { path } => path,
            Document::Definition(d) => &d.path,
        }
    }

    /// Function-level hits: the definition.
    pub fn definition(&self) -> Option<&Definition> {
        match &self.document {
            Document::File { .. } => None,
            Document::Definition(d) => Some(d),
        }
    }
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
            let path = &files[doc.file as usize].path;
            let def = doc
                .def
                .and_then(|di| symbols.map(|s| &s.file_symbols(doc.file as usize)[di as usize]));
            let document = match def {
                Some(d) => Document::Definition(Definition::new(d, path)),
                None => Document::File { path: path.clone() },
            };
            Bm25Hit { document, score }
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
        let paths: Vec<&str> = r.hits.iter().map(|h| &**h.path()).collect();
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
        let def = f.hits[0].definition().unwrap();
        assert_eq!(def.qualified_name, "parse_body");
        assert_eq!((&*def.path, def.start_line, def.end_line), ("c.py", 3, 4));
        assert!(r.hits[0].definition().is_none());
    }
}
