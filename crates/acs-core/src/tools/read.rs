//! `read`: a slice of a file by line range, or a definition's body by qualified name.

use crate::error::{Error, Result};
use crate::index::repo::Repo;
use crate::text::{clip_line, line_starts, strip_bom};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A read request: a line range of a file, or a definition's body.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadRequest {
    /// The file.
    pub path: String,
    /// 1-based first line (default 1).
    pub start: Option<u64>,
    /// 1-based last line, inclusive (default: `start + max_lines - 1`).
    pub end: Option<u64>,
    /// A definition to read instead of a range: `Class.method`, `func`, or a bare name
    /// when it is unique in the file.
    pub symbol: Option<String>,
    /// At most this many lines (default 400).
    pub max_lines: usize,
    /// Lines longer than this many characters are cut (default 500).
    pub max_line_chars: usize,
}

impl Default for ReadRequest {
    fn default() -> Self {
        Self {
            path: String::new(),
            start: None,
            end: None,
            symbol: None,
            max_lines: 400,
            max_line_chars: 500,
        }
    }
}

/// The lines read.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReadResult {
    /// The file.
    pub path: Arc<str>,
    /// First line returned (1-based).
    pub start_line: u64,
    /// Last line returned (inclusive); `start_line - 1` when nothing was returned.
    pub end_line: u64,
    /// Lines in the file.
    pub total_lines: u64,
    /// The lines, each cut at `max_line_chars`.
    pub lines: Vec<String>,
    /// True when `max_lines` cut the requested range.
    pub truncated: bool,
    /// The qualified name of the definition read, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
}

/// Read a line range, or a definition's body.
pub fn read(repo: &Repo, req: &ReadRequest) -> Result<ReadResult> {
    let (index, file) = repo.file_indexed(&req.path)?;
    // A byte-order mark is not part of line 1.
    let content = strip_bom(&file.content);
    let starts = line_starts(content);
    let total = crate::text::line_count(content) as u64;
    let (start, end, symbol) = match &req.symbol {
        Some(name) => {
            let defs = repo.symbol_index().file_symbols(index);
            let def = defs
                .iter()
                .find(|d| d.qualified_name == *name)
                .or_else(|| {
                    let mut named = defs.iter().filter(|d| d.name == *name);
                    match (named.next(), named.next()) {
                        (Some(only), None) => Some(only),
                        _ => None,
                    }
                })
                .ok_or_else(|| Error::SymbolNotFound {
                    path: file.path.to_string(),
                    name: name.clone(),
                })?;
            (
                def.start_line as u64,
                def.end_line as u64,
                Some(def.qualified_name.clone()),
            )
        }
        None => {
            let start = req.start.unwrap_or(1);
            if start == 0 {
                return Err(Error::InvalidArgument(
                    "read: line numbers start at 1".into(),
                ));
            }
            let end = req
                .end
                .unwrap_or(start.saturating_add(req.max_lines as u64).saturating_sub(1));
            if end < start {
                return Err(Error::InvalidArgument(format!(
                    "read: end {end} is before start {start}"
                )));
            }
            (start, end, None)
        }
    };
    let want_end = end.min(total);
    let cap_end = want_end.min(start.saturating_add(req.max_lines as u64).saturating_sub(1));
    let mut lines = Vec::new();
    let mut n = start;
    while n <= cap_end {
        let lo = starts[(n - 1) as usize];
        let hi = starts.get(n as usize).map_or(content.len(), |&s| s);
        let line = &content[lo..hi];
        lines.push(clip_line(
            line.strip_suffix(b"\n").unwrap_or(line),
            0,
            req.max_line_chars,
        ));
        n += 1;
    }
    Ok(ReadResult {
        path: file.path.clone(),
        start_line: start,
        end_line: start + lines.len() as u64 - 1,
        total_lines: total,
        truncated: cap_end < want_end,
        lines,
        symbol,
    })
}
