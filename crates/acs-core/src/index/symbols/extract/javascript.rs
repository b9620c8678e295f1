//! JavaScript, TypeScript and TSX node rules (the grammars share their node kinds): classes
//! and class expressions, functions and generators, methods and class fields holding
//! functions, variables bound to a function or class, TypeScript interfaces, enums and
//! namespaces. `export` starts a declaration's range; anonymous default exports are named
//! `default`.

use tree_sitter::Node;

use super::node::{field_text, found, parent_of, rows, text, Found};
use crate::index::symbols::definition::SymbolKind;

fn is_function_value(kind: &str) -> bool {
    matches!(
        kind,
        "arrow_function" | "function_expression" | "function" | "generator_function"
    )
}

/// The definition at `node`, if it is one.
pub(super) fn classify(node: Node, ancestors: &[Node], src: &[u8]) -> Option<Found> {
    let parent = parent_of(ancestors, 0);
    let parent_kind = parent.map(|p| p.kind()).unwrap_or("");
    // `export ...` (and decorators written before `export`) start the range.
    let first = match parent {
        Some(p) if parent_kind == "export_statement" => p,
        _ => node,
    };
    // Name of a declaration; anonymous `export default` items are "default".
    let name_or_default = || {
        field_text(node, "name", src)
            .or_else(|| (parent_kind == "export_statement").then(|| "default".to_string()))
    };
    match node.kind() {
        "class_declaration" | "abstract_class_declaration" => {
            found(name_or_default()?, SymbolKind::Class, rows(first, node))
        }
        // Class expression. Assigned to a variable: reported at the
        // declarator under the variable's name.
        "class" if parent_kind == "variable_declarator" => None,
        "class" => found(name_or_default()?, SymbolKind::Class, rows(first, node)),
        "interface_declaration" => found(
            field_text(node, "name", src)?,
            SymbolKind::Interface,
            rows(first, node),
        ),
        "enum_declaration" => found(
            field_text(node, "name", src)?,
            SymbolKind::Enum,
            rows(first, node),
        ),
        "function_declaration" | "generator_function_declaration" => {
            found(name_or_default()?, SymbolKind::Function, rows(first, node))
        }
        // `export default function () {}` / `export default () => ...`
        k if is_function_value(k) && parent_kind == "export_statement" => {
            found(name_or_default()?, SymbolKind::Function, rows(first, node))
        }
        "method_definition" if parent_kind == "class_body" => found(
            field_text(node, "name", src)?,
            SymbolKind::Method,
            rows(node, node),
        ),
        // Class fields holding functions: `onClick = () => {...}`.
        "field_definition" | "public_field_definition" if parent_kind == "class_body" => {
            let value = node.child_by_field_name("value")?;
            if !is_function_value(value.kind()) {
                return None;
            }
            let name_node = node
                .child_by_field_name("property")
                .or_else(|| node.child_by_field_name("name"))?;
            found(text(name_node, src)?, SymbolKind::Method, rows(node, node))
        }
        "variable_declarator" => {
            let name_node = node.child_by_field_name("name")?;
            if name_node.kind() != "identifier" {
                return None; // destructuring pattern
            }
            let value = node.child_by_field_name("value")?;
            let kind = match value.kind() {
                "class" => SymbolKind::Class,
                k if is_function_value(k) => SymbolKind::Function,
                _ => return None,
            };
            // `const f = ...;` with a single declarator spans the whole
            // statement (including a wrapping `export`).
            let decl = parent.filter(|d| {
                matches!(d.kind(), "lexical_declaration" | "variable_declaration")
                    && d.named_child_count() == 1
            });
            let (first, last) = match decl {
                Some(decl) => match parent_of(ancestors, 1) {
                    Some(export) if export.kind() == "export_statement" => (export, decl),
                    _ => (decl, decl),
                },
                None => (node, node),
            };
            found(text(name_node, src)?, kind, rows(first, last))
        }
        // TypeScript `namespace A.B {}` / `module A {}`; not `declare module "x"`.
        "internal_module" | "module" => {
            let name_node = node.child_by_field_name("name")?;
            if !matches!(name_node.kind(), "identifier" | "nested_identifier") {
                return None;
            }
            found(text(name_node, src)?, SymbolKind::Module, rows(first, node))
        }
        _ => None,
    }
}
