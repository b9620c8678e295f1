//! Rust's node rules: functions (methods inside `impl` and `trait`), structs and unions,
//! enums, traits, `impl` blocks (named after their type), and inline modules.

use tree_sitter::Node;

use super::node::{field_text, found, rows, text, Found};
use crate::index::symbols::definition::SymbolKind;

/// The definition at `node`, if it is one.
pub(super) fn classify(node: Node, enclosing: Option<SymbolKind>, src: &[u8]) -> Option<Found> {
    let in_impl_or_trait = matches!(enclosing, Some(SymbolKind::Impl | SymbolKind::Trait));
    let (kind, name) = match node.kind() {
        // `function_signature_item`: bodiless `fn f();` in traits and
        // `extern` blocks.
        "function_item" | "function_signature_item" => (
            if in_impl_or_trait {
                SymbolKind::Method
            } else {
                SymbolKind::Function
            },
            field_text(node, "name", src)?,
        ),
        "struct_item" | "union_item" => (SymbolKind::Struct, field_text(node, "name", src)?),
        "enum_item" => (SymbolKind::Enum, field_text(node, "name", src)?),
        "trait_item" => (SymbolKind::Trait, field_text(node, "name", src)?),
        "impl_item" => (
            SymbolKind::Impl,
            rust_type_name(node.child_by_field_name("type")?, src)?,
        ),
        // Inline modules only; `mod foo;` just points at another file.
        "mod_item" if node.child_by_field_name("body").is_some() => {
            (SymbolKind::Module, field_text(node, "name", src)?)
        }
        _ => return None,
    };
    found(name, kind, rows(node, node))
}

/// `&'a foo::Bar<T>` -> `Bar`. Types without a path-like name (tuples,
/// slices, `dyn Trait`, ...) use their whitespace-collapsed source text.
fn rust_type_name(ty: Node, src: &[u8]) -> Option<String> {
    let mut ty = ty;
    for _ in 0..16 {
        ty = match ty.kind() {
            "generic_type" | "reference_type" | "pointer_type" => ty.child_by_field_name("type")?,
            "scoped_type_identifier" => ty.child_by_field_name("name")?,
            _ => return text(ty, src),
        };
    }
    None
}
