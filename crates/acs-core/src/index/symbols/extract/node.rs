//! What every language's node rules share: the [`Found`] record of a definition recognised at
//! one node, its rows, its ancestors, and its name read from the source, decoded lossily,
//! with whitespace collapsed and cut to [`MAX_NAME_BYTES`].

use tree_sitter::Node;

use super::MAX_NAME_BYTES;
use crate::index::symbols::definition::SymbolKind;

/// A definition recognised at one node, before its position in the container
/// hierarchy is known.
pub(super) struct Found {
    pub(super) name: String,
    pub(super) kind: SymbolKind,
    /// 0-based first row.
    pub(super) start_row: usize,
    /// 0-based last row, inclusive.
    pub(super) end_row: usize,
    /// Extra container not visible in the tree (Go method receivers).
    pub(super) receiver: Option<String>,
}

/// 0-based (first row, last row inclusive) spanning `first`'s start to
/// `last`'s end. An end at column 0 of a later row belongs to the row before.
pub(super) fn rows(first: Node, last: Node) -> (usize, usize) {
    let start = first.start_position().row;
    let end = last.end_position();
    let mut end_row = end.row;
    if end.column == 0 && end_row > start {
        end_row -= 1;
    }
    (start, end_row.max(start))
}

/// Source text of `node`, decoded lossily, with whitespace runs collapsed to
/// one space and the length capped. `None` if empty.
pub(super) fn text(node: Node, src: &[u8]) -> Option<String> {
    let bytes = src.get(node.start_byte()..node.end_byte())?;
    let raw = String::from_utf8_lossy(bytes);
    let mut s = String::with_capacity(raw.len().min(MAX_NAME_BYTES + 4));
    for word in raw.split_whitespace() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(word);
        if s.len() > MAX_NAME_BYTES {
            break;
        }
    }
    cut_name(&mut s);
    (!s.is_empty()).then_some(s)
}

/// Cut a name to [`MAX_NAME_BYTES`], at a character boundary.
pub(crate) fn cut_name(s: &mut String) {
    if s.len() > MAX_NAME_BYTES {
        let mut cut = MAX_NAME_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

pub(super) fn field_text(node: Node, field: &str, src: &[u8]) -> Option<String> {
    text(node.child_by_field_name(field)?, src)
}

pub(super) fn found(
    name: String,
    kind: SymbolKind,
    (start_row, end_row): (usize, usize),
) -> Option<Found> {
    Some(Found {
        name,
        kind,
        start_row,
        end_row,
        receiver: None,
    })
}

/// The `up`-th ancestor of the current node (0: its parent); `ancestors` are root first.
pub(super) fn parent_of<'t>(ancestors: &[Node<'t>], up: usize) -> Option<Node<'t>> {
    ancestors
        .len()
        .checked_sub(up + 1)
        .and_then(|i| ancestors.get(i))
        .copied()
}
