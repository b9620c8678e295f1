//! Go's node rules: functions, methods (qualified by their receiver's type name), and struct
//! and interface types, also inside functions.

use tree_sitter::Node;

use super::node::{field_text, found, parent_of, rows, text, Found};
use crate::index::symbols::definition::SymbolKind;

/// The definition at `node`, if it is one.
pub(super) fn classify(node: Node, ancestors: &[Node], src: &[u8]) -> Option<Found> {
    match node.kind() {
        "function_declaration" => found(
            field_text(node, "name", src)?,
            SymbolKind::Function,
            rows(node, node),
        ),
        "method_declaration" => {
            let name = field_text(node, "name", src)?;
            let receiver = node
                .child_by_field_name("receiver")
                .and_then(|r| go_receiver_type(r, src));
            let mut f = found(name, SymbolKind::Method, rows(node, node))?;
            f.receiver = receiver;
            Some(f)
        }
        "type_spec" => {
            let kind = match node.child_by_field_name("type")?.kind() {
                "struct_type" => SymbolKind::Struct,
                "interface_type" => SymbolKind::Interface,
                _ => return None,
            };
            // `type Foo struct {...}`: include the `type` keyword, unless the
            // spec is one of several in a `type ( ... )` group.
            let first = match parent_of(ancestors, 0) {
                Some(p) if p.kind() == "type_declaration" && p.named_child_count() == 1 => p,
                _ => node,
            };
            found(field_text(node, "name", src)?, kind, rows(first, node))
        }
        _ => None,
    }
}

/// `(s *Stack[T])` -> `Stack`.
fn go_receiver_type(receiver: Node, src: &[u8]) -> Option<String> {
    let mut cursor = receiver.walk();
    let param = receiver
        .named_children(&mut cursor)
        .find(|c| c.kind() == "parameter_declaration")?;
    let mut ty = param.child_by_field_name("type")?;
    // Bounded unwrapping of `*`, `(...)` and type arguments.
    for _ in 0..16 {
        ty = match ty.kind() {
            "pointer_type" | "parenthesized_type" => ty.named_child(0)?,
            "generic_type" => ty.child_by_field_name("type")?,
            "qualified_type" => ty.child_by_field_name("name")?,
            _ => return text(ty, src),
        };
    }
    None
}
