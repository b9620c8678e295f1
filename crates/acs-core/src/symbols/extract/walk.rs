//! The tree walk, common to all languages: an iterative cursor walk (no recursion, no
//! tree-sitter queries) that asks the language's rules ([`classify`]) whether each named node
//! is a definition, and places what they find: line ranges, parents, qualified names (with
//! Go receivers), names and qualified names cut to [`MAX_NAME_BYTES`] and
//! [`MAX_QUALIFIED_BYTES`].

use tree_sitter::{Node, Tree};

use super::{go, java, javascript, python, rust};
use super::{SymbolDef, SymbolKind, MAX_NAME_BYTES, MAX_QUALIFIED_BYTES};
use crate::lang::Lang;

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
/// statement level, so expressions, strings and simple statements (most of a file's nodes)
/// are skipped; the other languages allow definitions inside expressions (callbacks,
/// closures), so everything is visited.
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

/// The `up`-th ancestor of the current node (0: its parent); `ancestors` are root first.
pub(super) fn parent_of<'t>(ancestors: &[Node<'t>], up: usize) -> Option<Node<'t>> {
    ancestors
        .len()
        .checked_sub(up + 1)
        .and_then(|i| ancestors.get(i))
        .copied()
}

#[cfg(test)]
mod tests {
    use crate::lang::Lang;
    use crate::symbols::extract::tests::assert_invariants;
    use crate::symbols::extract::{extract_symbols, MAX_QUALIFIED_BYTES};

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
