//! `references`: whole-word occurrences of an identifier, grouped by file and by the
//! innermost definition that encloses each line.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::index::repo::Repo;
use crate::index::symbols::Definition;
use crate::tools::grep::{grep_cancellable, CaseMode, GrepRequest};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A references request: whole-word uses of a name.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReferencesRequest {
    /// The identifier to look for.
    pub name: String,
    /// Globs a file must match (any of); `!glob` excludes.
    pub include: Vec<String>,
    /// Globs that exclude a file.
    pub exclude: Vec<String>,
    /// Restrict the search to these files or folders.
    pub paths: Vec<String>,
    /// At most this many lines (default 500).
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

/// One line that uses the name.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReferenceLine {
    /// 1-based line number.
    pub line: u64,
    /// The line.
    pub text: String,
}

/// The uses of the name inside one definition, or at module level.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReferenceGroup {
    /// The innermost definition around the lines (as a `grep` match's `enclosing`); absent
    /// at module level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enclosing: Option<Definition>,
    /// The lines, in order.
    pub lines: Vec<ReferenceLine>,
}

impl ReferenceGroup {
    /// The qualified name of the group's definition. Lines are grouped by it, not by the
    /// whole definition: two definitions of one name in a file (`if`/`else` branches) share
    /// a group, the first one's.
    fn qualified_name(&self) -> Option<&str> {
        self.enclosing.as_ref().map(|d| d.qualified_name.as_str())
    }
}

/// The uses of the name in one file.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReferenceFile {
    /// The file.
    pub path: Arc<str>,
    /// Lines found in it.
    pub count: usize,
    /// By enclosing definition, in order of first use.
    pub groups: Vec<ReferenceGroup>,
}

/// The uses of a name, grouped by file and enclosing definition.
#[derive(Clone, Debug, Serialize, Default)]
pub struct ReferencesResult {
    /// The name looked for.
    pub name: String,
    /// Lines found before `max_results` was applied.
    pub total: usize,
    /// True when `max_results` dropped some lines.
    pub truncated: bool,
    /// Files in path order.
    pub files: Vec<ReferenceFile>,
}

/// Whole-word uses of a name, grouped by enclosing definition.
pub fn references(repo: &Repo, req: &ReferencesRequest) -> Result<ReferencesResult> {
    references_cancellable(repo, req, &Cancel::new())
}

/// [`references`], stopping with [`Error::Cancelled`] once `cancel` is set.
pub fn references_cancellable(
    repo: &Repo,
    req: &ReferencesRequest,
    cancel: &Cancel,
) -> Result<ReferencesResult> {
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::InvalidArgument(
            "references: `name` must not be empty".into(),
        ));
    }
    let found = grep_cancellable(
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
        cancel,
    )?;
    let index = repo.try_symbol_index(cancel)?;
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
        let enclosing = Definition::enclosing(index.file_symbols(fi), m.line as u32, &m.path);
        let qualified_name = enclosing.as_ref().map(|d| d.qualified_name.as_str());
        file.count += 1;
        let line = ReferenceLine {
            line: m.line,
            text: m.text.clone(),
        };
        match file
            .groups
            .iter_mut()
            .find(|g| g.qualified_name() == qualified_name)
        {
            Some(g) => g.lines.push(line),
            None => file.groups.push(ReferenceGroup {
                enclosing,
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
