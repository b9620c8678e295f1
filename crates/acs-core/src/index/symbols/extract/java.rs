//! Java's node rules: classes and records, interfaces and annotation types, enums, and
//! methods and constructors (all as methods).

use tree_sitter::Node;

use super::node::{field_text, found, rows, Found};
use crate::index::symbols::definition::SymbolKind;

/// The definition at `node`, if it is one.
pub(super) fn classify(node: Node, src: &[u8]) -> Option<Found> {
    let kind = match node.kind() {
        "class_declaration" | "record_declaration" => SymbolKind::Class,
        "interface_declaration" | "annotation_type_declaration" => SymbolKind::Interface,
        "enum_declaration" => SymbolKind::Enum,
        "method_declaration" | "constructor_declaration" | "compact_constructor_declaration" => {
            SymbolKind::Method
        }
        _ => return None,
    };
    found(field_text(node, "name", src)?, kind, rows(node, node))
}
