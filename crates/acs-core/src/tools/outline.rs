//! `outline`: a file's definitions as a tree, with line ranges.

use crate::error::Result;
use crate::index::repo::Repo;
use crate::index::symbols::Definition;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An outline request: a file's definitions, nested.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutlineRequest {
    /// The file.
    pub path: String,
}

/// One definition of an outline, with the definitions inside it. Each node carries its
/// path like every other [`Definition`], so a reader handles outline nodes as it handles
/// `symbols` entries.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OutlineNode {
    /// The definition (its fields flattened into the node's).
    #[serde(flatten)]
    pub definition: Definition,
    /// The definitions nested inside this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<OutlineNode>,
}

/// The outline of one file.
#[derive(Clone, Debug, Serialize)]
pub struct OutlineResult {
    /// The file.
    pub path: Arc<str>,
    /// None when the file's language has no symbol support.
    pub language: Option<crate::lang::Lang>,
    /// Lines in the file.
    pub line_count: usize,
    /// Top-level definitions, each with its nested ones.
    pub symbols: Vec<OutlineNode>,
}

/// A file's definitions, nested.
pub fn outline(repo: &Repo, req: &OutlineRequest) -> Result<OutlineResult> {
    let (index, file) = repo.file_indexed(&req.path)?;
    let defs = repo.symbol_index().file_symbols(index);
    // Definitions come in pre-order with parents first, so children can be attached by
    // walking backwards: each node is complete when its parent is reached.
    let mut nodes: Vec<Option<OutlineNode>> = defs
        .iter()
        .map(|d| {
            Some(OutlineNode {
                definition: Definition::new(d, &file.path),
                children: Vec::new(),
            })
        })
        .collect();
    let mut roots = Vec::new();
    for i in (0..defs.len()).rev() {
        let node = nodes[i].take().expect("each node is taken once");
        match defs[i].parent.map(|p| p as usize).filter(|&p| p < i) {
            Some(p) => nodes[p]
                .as_mut()
                .expect("parents precede children")
                .children
                .push(node),
            None => roots.push(node),
        }
    }
    roots.reverse();
    fn order(nodes: &mut [OutlineNode]) {
        nodes.sort_by_key(|n| n.definition.start_line);
        for n in nodes {
            order(&mut n.children);
        }
    }
    order(&mut roots);
    Ok(OutlineResult {
        path: file.path.clone(),
        language: file.lang,
        line_count: crate::text::line_count(&file.content),
        symbols: roots,
    })
}
