//! The tree walk, common to all languages: an iterative cursor walk (no recursion, no
//! tree-sitter queries) that asks the language's rules ([`classify`]) whether each named node
//! is a definition, and places what they find: line ranges, parents, qualified names (with
//! Go receivers) cut to [`MAX_QUALIFIED_BYTES`].

use tree_sitter::{Node, Tree};

use super::node::Found;
use super::MAX_QUALIFIED_BYTES;
use super::{go, java, javascript, python, rust};
use crate::index::symbols::definition::{SymbolDef, SymbolKind};
use crate::lang::Lang;

/// The definitions in `tree`, in pre-order (a parent always precedes its children).
pub(super) fn collect(lang: Lang, tree: &Tree, src: &[u8]) -> Vec<SymbolDef> {
    let mut out: Vec<SymbolDef> = Vec::new();
    // (tree depth of the defining node, index into `out`) for every
    // definition that encloses the current node.
    let mut scopes: Vec<(usize, usize)> = Vec::new();
    // Ancestors of the current node; `path[d]` is at tree depth `d`.
    let mut path: Vec<Node> = Vec::new();
    let mut cursor = tree.walk();
    let mut depth = 0usize;
    loop {
        let node = cursor.node();
        path.truncate(depth);
        while scopes.last().is_some_and(|&(d, _)| d >= depth) {
            scopes.pop();
        }
        if node.is_named() {
            let enclosing = scopes.last().map(|&(_, i)| i);
            let enclosing_kind = enclosing.and_then(|i| out.get(i)).map(|s| s.kind);
            if let Some(found) = classify(lang, node, &path, enclosing_kind, src) {
                let prefix = enclosing
                    .and_then(|i| out.get(i))
                    .map(|s| s.qualified_name.as_str());
                let qualified_name = qualify(prefix, found.receiver.as_deref(), &found.name);
                scopes.push((depth, out.len()));
                out.push(SymbolDef {
                    name: found.name,
                    qualified_name,
                    kind: found.kind,
                    start_line: line(found.start_row),
                    end_line: line(found.end_row),
                    parent: enclosing.and_then(|i| u32::try_from(i).ok()),
                });
            }
        }
        path.push(node);
        if may_hold_definitions(lang, node.kind()) && cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
            depth = depth.saturating_sub(1);
        }
    }
}

/// Whether the walk must look inside a node of this kind. Python definitions only appear at
/// statement level (see [`python::may_hold_definitions`]); the other languages allow
/// definitions inside expressions (callbacks, closures), so everything is visited.
fn may_hold_definitions(lang: Lang, kind: &str) -> bool {
    match lang {
        Lang::Python => python::may_hold_definitions(kind),
        _ => true,
    }
}

fn line(row: usize) -> u32 {
    u32::try_from(row).unwrap_or(u32::MAX - 1).saturating_add(1)
}

pub(crate) fn qualify(prefix: Option<&str>, receiver: Option<&str>, name: &str) -> String {
    let mut q = String::new();
    for part in [prefix, receiver].into_iter().flatten() {
        q.push_str(part);
        q.push('.');
    }
    q.push_str(name);
    if q.len() > MAX_QUALIFIED_BYTES {
        let mut cut = q.len() - MAX_QUALIFIED_BYTES;
        while !q.is_char_boundary(cut) {
            cut += 1;
        }
        q.drain(..cut);
    }
    q
}

/// Is `node` a definition? `ancestors` are its ancestors (root first);
/// `enclosing` is the kind of the nearest enclosing definition.
fn classify(
    lang: Lang,
    node: Node,
    ancestors: &[Node],
    enclosing: Option<SymbolKind>,
    src: &[u8],
) -> Option<Found> {
    match lang {
        Lang::Python => python::classify(node, ancestors, enclosing, src),
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => {
            javascript::classify(node, ancestors, src)
        }
        Lang::Go => go::classify(node, ancestors, src),
        Lang::Rust => rust::classify(node, enclosing, src),
        Lang::Java => java::classify(node, src),
    }
}

#[cfg(test)]
mod tests {
    use crate::index::symbols::extract::tests::assert_invariants;
    use crate::index::symbols::extract::{extract_symbols, MAX_QUALIFIED_BYTES};
    use crate::lang::Lang;

    #[test]
    fn deeply_nested_definitions_keep_qualified_names_bounded() {
        const N: usize = 5_000;
        let src = format!("{}{}", "function f() {".repeat(N), "}".repeat(N));
        let defs = extract_symbols(Lang::JavaScript, src.as_bytes());
        assert_eq!(defs.len(), N);
        assert_eq!(defs[2].qualified_name, "f.f.f");
        assert_eq!(defs[N - 1].parent, Some((N - 2) as u32));
        let longest = defs.iter().map(|d| d.qualified_name.len()).max();
        assert_eq!(longest, Some(MAX_QUALIFIED_BYTES));
        assert_invariants(&defs);
    }
}
