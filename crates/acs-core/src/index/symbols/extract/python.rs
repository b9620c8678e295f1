//! Python's node rules: classes, and functions (methods directly inside a class); a
//! decorated definition's range starts at its first decorator. Definitions are statements, so
//! the walk skips expressions, strings and simple statements.

use tree_sitter::Node;

use super::node::{field_text, found, parent_of, rows, Found};
use crate::index::symbols::definition::SymbolKind;

/// Whether the walk must look inside a node of this kind: definitions only appear at
/// statement level, so expressions, strings and simple statements (most of a file's nodes)
/// are skipped.
pub(super) fn may_hold_definitions(kind: &str) -> bool {
    matches!(
        kind,
        "module"
            | "block"
            | "class_definition"
            | "function_definition"
            | "decorated_definition"
            | "if_statement"
            | "elif_clause"
            | "else_clause"
            | "for_statement"
            | "while_statement"
            | "try_statement"
            | "except_clause"
            | "except_group_clause"
            | "finally_clause"
            | "with_statement"
            | "match_statement"
            | "case_clause"
            | "ERROR"
    )
}

/// The definition at `node`, if it is one.
pub(super) fn classify(
    node: Node,
    ancestors: &[Node],
    enclosing: Option<SymbolKind>,
    src: &[u8],
) -> Option<Found> {
    let kind = match node.kind() {
        "class_definition" => SymbolKind::Class,
        "function_definition" if enclosing == Some(SymbolKind::Class) => SymbolKind::Method,
        "function_definition" => SymbolKind::Function,
        _ => return None,
    };
    let name = field_text(node, "name", src)?;
    // A decorated definition's range starts at its first decorator.
    let first = match parent_of(ancestors, 0) {
        Some(p) if p.kind() == "decorated_definition" => p,
        _ => node,
    };
    found(name, kind, rows(first, node))
}
