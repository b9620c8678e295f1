//! `references`: whole-word occurrences of an identifier, grouped by file and by the
//! innermost definition that encloses each line.

use crate::error::{Error, Result};
use crate::grep::{grep, CaseMode, GrepRequest};
use crate::repo::Repo;
use crate::symbols::SymbolDef;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReferencesRequest {
    pub name: String,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub paths: Vec<String>,
    pub max_results: usize,
}

impl Default for ReferencesRequest {
    fn default() -> Self {
        Self {
            name: String::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            paths: Vec::new(),
            max_results: 500,
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReferenceLine {
    pub line: u64,
    pub text: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReferenceGroup {
    /// Qualified name of the enclosing definition; None at module level.
    pub symbol: Option<String>,
    pub lines: Vec<ReferenceLine>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReferenceFile {
    pub path: Arc<str>,
    pub count: usize,
    pub groups: Vec<ReferenceGroup>,
}

#[derive(Clone, Debug, Serialize, Default)]
pub struct ReferencesResult {
    pub name: String,
    pub total: usize,
    pub truncated: bool,
    pub files: Vec<ReferenceFile>,
}

pub fn references(repo: &Repo, req: &ReferencesRequest) -> Result<ReferencesResult> {
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::InvalidArgument(
            "references: `name` must not be empty".into(),
        ));
    }
    let found = grep(
        repo,
        &GrepRequest {
            patterns: vec![name.to_string()],
            fixed_strings: true,
            word: true,
            case: CaseMode::Sensitive,
            include: req.include.clone(),
            exclude: req.exclude.clone(),
            paths: req.paths.clone(),
            max_results: req.max_results,
            ..GrepRequest::default()
        },
    )?;
    let index = repo.symbol_index();
    let mut files: Vec<ReferenceFile> = Vec::new();
    for m in &found.matches {
        if files.last().is_none_or(|f| f.path != m.path) {
            files.push(ReferenceFile {
                path: m.path.clone(),
                count: 0,
                groups: Vec::new(),
            });
        }
        let file = files.last_mut().expect("just pushed");
        let fi = repo.index_of(&m.path).unwrap_or(usize::MAX);
        let symbol =
            innermost(index.file_symbols(fi), m.line as u32).map(|d| d.qualified_name.clone());
        file.count += 1;
        let line = ReferenceLine {
            line: m.line,
            text: m.text.clone(),
        };
        match file.groups.iter_mut().find(|g| g.symbol == symbol) {
            Some(g) => g.lines.push(line),
            None => file.groups.push(ReferenceGroup {
                symbol,
                lines: vec![line],
            }),
        }
    }
    Ok(ReferencesResult {
        name: name.to_string(),
        total: found.matches.len(),
        truncated: found.truncated,
        files,
    })
}

/// The smallest definition whose range holds `line`.
pub fn innermost(defs: &[SymbolDef], line: u32) -> Option<&SymbolDef> {
    defs.iter()
        .filter(|d| d.start_line <= line && line <= d.end_line)
        .min_by_key(|d| d.end_line - d.start_line)
}
