//! `imports`: the repository files that given Python files import, and those that import
//! them (the snapshot's import graph, `index/imports.rs`). A fix often lands one import away
//! from where an issue points: in a module the named file uses, or in one that uses it.

use crate::error::Result;
use crate::index::repo::Repo;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which way to follow the import graph.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportDirection {
    /// The files the given files import.
    Imports,
    /// The files that import the given files.
    ImportedBy,
    /// Both.
    #[default]
    Both,
}

/// An imports request: the neighbours of some files in the import graph.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportsRequest {
    /// The files whose neighbours to list.
    pub paths: Vec<String>,
    /// Which way (default both).
    pub direction: ImportDirection,
    /// At most this many files in all (default 100).
    pub limit: usize,
}

impl Default for ImportsRequest {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            direction: ImportDirection::Both,
            limit: 100,
        }
    }
}

/// One neighbour: `path` is imported by, or imports, `via` (one of the files asked about).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ImportedFile {
    /// The neighbouring file.
    pub path: Arc<str>,
    /// The file asked about that it is a neighbour of.
    pub via: Arc<str>,
    /// `imports` (`via` imports `path`) or `imported_by` (`path` imports `via`).
    pub direction: ImportDirection,
    /// For `imports`: the module name `via` wrote (relative imports resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
}

/// The neighbours, for each file asked about in order: what it imports, then what imports
/// it, each in path order.
#[derive(Clone, Debug, Serialize)]
pub struct ImportsResult {
    /// The neighbours, at most `limit`.
    pub files: Vec<ImportedFile>,
    /// More neighbours than `limit` were found.
    pub truncated: bool,
}

/// The import-graph neighbours of `req.paths`.
pub fn imports(repo: &Repo, req: &ImportsRequest) -> Result<ImportsResult> {
    let asked: Vec<usize> = req
        .paths
        .iter()
        .map(|p| repo.file_indexed(p).map(|(i, _)| i))
        .collect::<Result<_>>()?;
    let graph = repo.import_graph();
    let files = repo.files();
    let mut out = Vec::new();
    let mut truncated = false;
    let mut push = |found: ImportedFile| {
        if out.len() < req.limit {
            out.push(found);
        } else {
            truncated = true;
        }
    };
    for &i in &asked {
        let via = &files[i].path;
        if req.direction != ImportDirection::ImportedBy {
            for imp in graph.imports(i) {
                push(ImportedFile {
                    path: files[imp.file as usize].path.clone(),
                    via: via.clone(),
                    direction: ImportDirection::Imports,
                    module: Some(imp.module.clone()),
                });
            }
        }
        if req.direction != ImportDirection::Imports {
            for &j in graph.imported_by(i) {
                push(ImportedFile {
                    path: files[j as usize].path.clone(),
                    via: via.clone(),
                    direction: ImportDirection::ImportedBy,
                    module: None,
                });
            }
        }
    }
    Ok(ImportsResult {
        files: out,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use crate::index::repo::Repo;
    use crate::tools::Tool;
    use serde_json::{json, Value};

    fn repo() -> Repo {
        Repo::from_files([
            ("app/__init__.py", ""),
            ("app/models.py", "from app import db\n"),
            ("app/db.py", "import sqlite3\n"),
            (
                "app/views.py",
                "from app.models import User\nfrom app import db\n",
            ),
        ])
        .unwrap()
    }

    fn run(args: Value) -> Value {
        Tool::Imports.run(&repo(), &args).unwrap()
    }

    #[test]
    fn a_file_with_what_it_imports_and_what_imports_it() {
        let out = run(json!({"paths": ["app/models.py"]}));
        assert_eq!(
            out["files"],
            json!([
                {"path": "app/db.py", "via": "app/models.py", "direction": "imports", "module": "app.db"},
                {"path": "app/views.py", "via": "app/models.py", "direction": "imported_by"},
            ])
        );
        assert_eq!(out["truncated"], json!(false));
        let only = run(json!({"paths": ["app/db.py"], "direction": "imported_by"}));
        let paths: Vec<&str> = only["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["app/models.py", "app/views.py"]);
    }

    #[test]
    fn the_limit_cuts_and_says_so() {
        let out = run(json!({"paths": ["app/db.py", "app/models.py"], "limit": 1}));
        assert_eq!(out["files"].as_array().unwrap().len(), 1);
        assert_eq!(out["truncated"], json!(true));
    }

    #[test]
    fn bad_paths_and_arguments_are_refused() {
        let repo = repo();
        let outside = Tool::Imports.run(&repo, &json!({"paths": ["../etc/passwd"]}));
        assert!(outside.unwrap_err().to_string().contains("outside"));
        let missing = Tool::Imports.run(&repo, &json!({"paths": ["nope.py"]}));
        assert!(missing.is_err());
        let bad = Tool::Imports.validate(&json!({"direction": "sideways"}), false);
        assert!(bad.unwrap_err().to_string().contains("sideways"));
    }
}
