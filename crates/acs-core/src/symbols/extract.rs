//! Symbol (definition) extraction from source files with tree-sitter.
//!
//! The syntax tree is walked iteratively with a `TreeCursor` (no recursion,
//! no tree-sitter queries), so deeply nested input cannot overflow the stack.
//! Every byte slice taken from the source is decoded lossily; malformed input
//! yields partial results, never a panic.

use std::cell::{Cell, RefCell};

use tree_sitter::{Node, Parser, Tree};

use crate::lang::Lang;

/// Names longer than this (in bytes) are cut at a char boundary. Only
/// pathological input (e.g. a computed JS property name spanning a whole
/// expression) gets near it.
const MAX_NAME_BYTES: usize = 256;

/// Qualified names longer than this keep only their tail (which still ends
/// with the bare name). This bounds memory on adversarial input such as tens
/// of thousands of nested functions, where full paths would grow
/// quadratically.
const MAX_QUALIFIED_BYTES: usize = 1024;

/// What sort of definition a [`SymbolDef`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    Class,
    Interface,
    Struct,
    Enum,
    Trait,
    Impl,
    Function,
    Method,
    Module,
}

impl SymbolKind {
    /// Lowercase name; identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Class => "class",
            SymbolKind::Interface => "interface",
            SymbolKind::Struct => "struct",
            SymbolKind::Enum => "enum",
            SymbolKind::Trait => "trait",
            SymbolKind::Impl => "impl",
            SymbolKind::Function => "function",
            SymbolKind::Method => "method",
            SymbolKind::Module => "module",
        }
    }
}

/// One definition found in a file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SymbolDef {
    /// Bare name, e.g. `get`.
    pub name: String,
    /// Dotted container path, e.g. `Outer.Inner.get`; top level: same as `name`.
    pub qualified_name: String,
    pub kind: SymbolKind,
    /// 1-based, inclusive. For Python decorated definitions, the first
    /// decorator line; for exported JS/TS declarations, the `export` line
    /// (which also covers decorators written before `export`).
    pub start_line: u32,
    /// 1-based, inclusive.
    pub end_line: u32,
    /// Index of the enclosing definition in the same `Vec`.
    pub parent: Option<u32>,
}

/// Extracts definitions in source order (pre-order: a parent always precedes
/// its children). Returns an empty `Vec` if the source cannot be parsed at all
/// (sources of 4 GiB or more are not parsed).
pub fn extract_symbols(lang: Lang, source: &[u8]) -> Vec<SymbolDef> {
    // tree-sitter addresses bytes with u32.
    if u32::try_from(source.len()).is_err() {
        return Vec::new();
    }
    match parse(lang, source) {
        Some(tree) => collect(lang, &tree, source),
        None => Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// Parsing: one reusable parser per language per thread.

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; 7]> = RefCell::new(Default::default());
}

fn slot(lang: Lang) -> usize {
    match lang {
        Lang::Python => 0,
        Lang::JavaScript => 1,
        Lang::TypeScript => 2,
        Lang::Tsx => 3,
        Lang::Go => 4,
        Lang::Rust => 5,
        Lang::Java => 6,
    }
}

fn new_parser(lang: Lang) -> Option<Parser> {
    let mut parser = Parser::new();
    parser.set_language(&lang.ts_language()).ok()?;
    Some(parser)
}

fn parse(lang: Lang, source: &[u8]) -> Option<Tree> {
    let fresh = || run_parser(&mut new_parser(lang)?, source);
    PARSERS
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut parsers) => {
                let parser = &mut parsers[slot(lang)];
                if parser.is_none() {
                    *parser = new_parser(lang);
                }
                let tree = run_parser(parser.as_mut()?, source);
                if tree.is_none() {
                    // Leave no half-finished state behind for the next call.
                    *parser = None;
                }
                tree
            }
            // Unreachable in practice (no re-entrancy), but never panic.
            Err(_) => fresh(),
        })
        .unwrap_or_else(|_| fresh())
}

/// Inputs up to this size are parsed on the calling thread.
///
/// tree-sitter's C code (0.25.10, unchanged in 0.27) frees its GLR parse
/// stack recursively (`stack_node_release`). After error recovery on
/// pathological nesting (Java `{(` or Go `{-` repeated) that recursion needs
/// 32-64 bytes of native stack per input byte: a 64 KiB file of `{(`
/// overflows a 2 MiB thread stack and aborts the process. Stack overflow
/// cannot be caught, so larger inputs are parsed on a helper thread whose
/// stack grows with the input size. At this size the worst case needs about
/// 0.5 MiB, which any normal thread has free.
const INLINE_PARSE_MAX_BYTES: usize = 8 * 1024;
/// Helper-thread stack per input byte: twice the worst case measured.
const PARSE_STACK_PER_BYTE: usize = 128;
const PARSE_STACK_BASE: usize = 4 << 20;
/// Only address space is reserved; pages are committed as they are touched.
/// This covers inputs up to ~8 MiB at the worst measured ratio.
const PARSE_STACK_MAX: usize = 1 << 30;

thread_local! {
    /// Stack size of the current thread when known to be large (the engine's pool
    /// workers, see [`crate::pool`]); 0 when unknown.
    static KNOWN_STACK: Cell<usize> = const { Cell::new(0) };
}

/// Declare the current thread's stack size, so parses that fit run on it directly instead
/// of on a helper thread.
pub fn set_thread_stack_size(bytes: usize) {
    let _ = KNOWN_STACK.try_with(|s| s.set(bytes));
}

/// tree-sitter's error recovery can take minutes on some garbage (8 KB of `<-` repeated
/// takes seconds as Python); a file that takes longer than this has no symbols.
const PARSE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

fn parse_bounded(parser: &mut Parser, source: &[u8]) -> Option<Tree> {
    let start = std::time::Instant::now();
    let mut calls = 0u32;
    // Returning true cancels the parse; the clock is read every 256 progress reports.
    let mut cancel = |_: &tree_sitter::ParseState| {
        calls = calls.wrapping_add(1);
        calls % 256 == 0 && start.elapsed() > PARSE_TIME_LIMIT
    };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut cancel);
    let len = source.len();
    let mut read = |i: usize, _| if i < len { &source[i..] } else { &[][..] };
    parser.parse_with_options(&mut read, None, Some(options))
}

fn run_parser(parser: &mut Parser, source: &[u8]) -> Option<Tree> {
    let stack = source
        .len()
        .saturating_mul(PARSE_STACK_PER_BYTE)
        .saturating_add(PARSE_STACK_BASE)
        .min(PARSE_STACK_MAX);
    let here = KNOWN_STACK.try_with(Cell::get).unwrap_or(0);
    if source.len() <= INLINE_PARSE_MAX_BYTES || stack <= here {
        return parse_bounded(parser, source);
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("acs-parse".to_string())
            .stack_size(stack)
            .spawn_scoped(scope, || parse_bounded(parser, source))
            // Could not get a thread (resource limits): no symbols.
            .ok()?;
        handle.join().ok().flatten()
    })
}

// ---------------------------------------------------------------------------
// Tree walk.

/// A definition recognised at one node, before its position in the container
/// hierarchy is known.
struct Found {
    name: String,
    kind: SymbolKind,
    /// 0-based first row.
    start_row: usize,
    /// 0-based last row, inclusive.
    end_row: usize,
    /// Extra container not visible in the tree (Go method receivers).
    receiver: Option<String>,
}

fn collect(lang: Lang, tree: &Tree, src: &[u8]) -> Vec<SymbolDef> {
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
fn may_hold_definitions(lang: Lang, kind: &str) -> bool {
    match lang {
        Lang::Python => matches!(
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
        ),
        _ => true,
    }
}

fn line(row: usize) -> u32 {
    u32::try_from(row).unwrap_or(u32::MAX - 1).saturating_add(1)
}

/// 0-based (first row, last row inclusive) spanning `first`'s start to
/// `last`'s end. An end at column 0 of a later row belongs to the row before.
fn rows(first: Node, last: Node) -> (usize, usize) {
    let start = first.start_position().row;
    let end = last.end_position();
    let mut end_row = end.row;
    if end.column == 0 && end_row > start {
        end_row -= 1;
    }
    (start, end_row.max(start))
}

fn qualify(prefix: Option<&str>, receiver: Option<&str>, name: &str) -> String {
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
fn text(node: Node, src: &[u8]) -> Option<String> {
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
    if s.len() > MAX_NAME_BYTES {
        let mut cut = MAX_NAME_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    (!s.is_empty()).then_some(s)
}

fn field_text(node: Node, field: &str, src: &[u8]) -> Option<String> {
    text(node.child_by_field_name(field)?, src)
}

fn found(name: String, kind: SymbolKind, (start_row, end_row): (usize, usize)) -> Option<Found> {
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
        Lang::Python => python(node, ancestors, enclosing, src),
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => js(node, ancestors, src),
        Lang::Go => go(node, ancestors, src),
        Lang::Rust => rust(node, enclosing, src),
        Lang::Java => java(node, src),
    }
}

fn parent_of<'t>(ancestors: &[Node<'t>], up: usize) -> Option<Node<'t>> {
    ancestors
        .len()
        .checked_sub(up + 1)
        .and_then(|i| ancestors.get(i))
        .copied()
}

// --- Python ---------------------------------------------------------------

fn python(
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

// --- JavaScript / TypeScript / TSX -----------------------------------------

fn is_function_value(kind: &str) -> bool {
    matches!(
        kind,
        "arrow_function" | "function_expression" | "function" | "generator_function"
    )
}

fn js(node: Node, ancestors: &[Node], src: &[u8]) -> Option<Found> {
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

// --- Go --------------------------------------------------------------------

fn go(node: Node, ancestors: &[Node], src: &[u8]) -> Option<Found> {
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

// --- Rust ------------------------------------------------------------------

fn rust(node: Node, enclosing: Option<SymbolKind>, src: &[u8]) -> Option<Found> {
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

// --- Java ------------------------------------------------------------------

fn java(node: Node, src: &[u8]) -> Option<Found> {
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

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use SymbolKind::*;

    /// Compact expectation: (name, qualified_name, kind, start, end, parent).
    type Row<'a> = (&'a str, &'a str, SymbolKind, u32, u32, Option<u32>);

    fn rows(defs: &[SymbolDef]) -> Vec<Row<'_>> {
        defs.iter()
            .map(|d| {
                (
                    d.name.as_str(),
                    d.qualified_name.as_str(),
                    d.kind,
                    d.start_line,
                    d.end_line,
                    d.parent,
                )
            })
            .collect()
    }

    /// Parents precede children and enclose their line range.
    fn assert_invariants(defs: &[SymbolDef]) {
        for (i, d) in defs.iter().enumerate() {
            assert!(d.start_line >= 1 && d.start_line <= d.end_line, "{d:?}");
            assert!(d.qualified_name.ends_with(d.name.as_str()), "{d:?}");
            if let Some(p) = d.parent {
                let p = p as usize;
                assert!(p < i, "parent after child: {d:?}");
                assert!(defs[p].start_line <= d.start_line, "{d:?}");
                assert!(defs[p].end_line >= d.end_line, "{d:?}");
            }
        }
    }

    // What each language's rules find is checked by fixtures: a source and its `.expected`
    // output per case under `tests/fixtures/symbols/<lang>/`, run by `tests/symbol_fixtures.rs`.

    // --- Robustness ---------------------------------------------------------

    const ALL: [Lang; 7] = Lang::ALL;

    #[test]
    fn empty_and_whitespace_input_yield_nothing() {
        for lang in ALL {
            assert!(extract_symbols(lang, b"").is_empty(), "{lang:?}");
            assert!(extract_symbols(lang, b"\n\n  \t\n").is_empty(), "{lang:?}");
        }
    }

    #[test]
    fn invalid_utf8_does_not_panic_and_names_are_lossy() {
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        for lang in ALL {
            let _ = extract_symbols(lang, &garbage);
        }
        let src = b"def caf\xe9(x):\n    pass\n";
        let defs = extract_symbols(Lang::Python, src);
        for d in &defs {
            assert!(d.start_line >= 1);
        }
        let src = b"class Ok:\n    def m(self):\n        return b'\xff\xfe'\n";
        let defs = extract_symbols(Lang::Python, src);
        assert_eq!(defs.len(), 2);
        assert_eq!(defs[1].qualified_name, "Ok.m");
    }

    #[test]
    fn syntax_errors_give_partial_results() {
        let src = "\
def good():
    pass

def broken(:
    return ((

class Later:
    def m(self): pass
";
        let defs = extract_symbols(Lang::Python, src.as_bytes());
        assert!(defs.iter().any(|d| d.name == "good"), "{defs:?}");
        assert_invariants(&defs);

        let src = "class A { m() { if ( } }\nfunction ok() {}\n";
        for lang in [Lang::JavaScript, Lang::TypeScript, Lang::Tsx] {
            let defs = extract_symbols(lang, src.as_bytes());
            assert_invariants(&defs);
        }
        let src = "fn ok() {}\nimpl { fn (\nstruct S {";
        let defs = extract_symbols(Lang::Rust, src.as_bytes());
        assert!(defs.iter().any(|d| d.name == "ok"), "{defs:?}");
        assert_invariants(&defs);
        let src = "package p\nfunc (*) X() {\nfunc Ok() {}\n";
        assert_invariants(&extract_symbols(Lang::Go, src.as_bytes()));
        let src = "class A { void m( { } class B { B() {} }";
        assert_invariants(&extract_symbols(Lang::Java, src.as_bytes()));
    }

    #[test]
    fn million_char_line_is_handled() {
        let long = "x".repeat(1_000_000);
        let src = format!("s = \"{long}\"\ndef after():\n    pass\n");
        let defs = extract_symbols(Lang::Python, src.as_bytes());
        assert_eq!(
            rows(&defs),
            [("after", "after", Function, 2, 3, None)],
            "definition after the long line"
        );
        // A million-character identifier: the name is capped, not the line.
        let src = format!("function {long}() {{}}\n");
        let defs = extract_symbols(Lang::JavaScript, src.as_bytes());
        assert_eq!(defs.len(), 1);
        assert!(defs[0].name.len() <= MAX_NAME_BYTES);
        for lang in ALL {
            let _ = extract_symbols(lang, long.as_bytes());
        }
    }

    #[test]
    fn deeply_nested_input_does_not_overflow_the_stack() {
        const N: usize = 5_000;
        let parens = format!("x = {}1{}\n", "(".repeat(N), ")".repeat(N));
        let brackets = format!("x = {}1{}\n", "[".repeat(N), "]".repeat(N));
        let unclosed = "{[(".repeat(N);
        for lang in ALL {
            for src in [&parens, &brackets, &unclosed] {
                let _ = extract_symbols(lang, src.as_bytes());
            }
        }
        let js = format!("let v = {}0{};\n", "(() => ".repeat(N), ")".repeat(N));
        let _ = extract_symbols(Lang::JavaScript, js.as_bytes());
        let rs = format!("fn f() {}{}\n", "{".repeat(N), "}".repeat(N));
        assert_eq!(extract_symbols(Lang::Rust, rs.as_bytes()).len(), 1);
    }

    /// Inputs whose GLR error recovery makes tree-sitter's C code recurse
    /// deeply (32-64 bytes of native stack per input byte); 80-100 KB of these
    /// overflow a 2 MiB stack if parsed on the calling thread (checked).
    #[test]
    fn pathological_glr_recursion_does_not_overflow_a_2mib_stack() {
        let cases = [
            (Lang::Java, "{(".repeat(40_000)),
            (Lang::Tsx, "<T>(".repeat(25_000)),
        ];
        let worker = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                for (lang, src) in &cases {
                    let _ = extract_symbols(*lang, src.as_bytes());
                }
                // The parser is still usable afterwards.
                extract_symbols(Lang::Java, b"class A { void m() {} }").len()
            })
            .expect("spawn");
        assert_eq!(worker.join().ok(), Some(2));
    }

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

    #[test]
    fn parser_reuse_across_languages_and_calls() {
        for _ in 0..3 {
            for lang in ALL {
                let _ = extract_symbols(lang, b"x");
            }
            let defs = extract_symbols(Lang::Go, b"package p\nfunc A() {}\n");
            assert_eq!(defs.len(), 1);
        }
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| extract_symbols(Lang::Python, b"def f():\n    pass\n").len())
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().ok(), Some(1));
        }
    }

    #[test]
    fn kind_names_match_serde_representation() {
        type Str<'a> = serde::de::value::StrDeserializer<'a, serde::de::value::Error>;
        let all = [
            Class, Interface, Struct, Enum, Trait, Impl, Function, Method, Module,
        ];
        for kind in all {
            let parsed = <SymbolKind as serde::Deserialize>::deserialize(Str::new(kind.as_str()));
            assert_eq!(parsed, Ok(kind));
        }
    }

    // --- Speed sanity check (prints, does not assert) -----------------------

    #[test]
    fn speed_python_10k_lines() {
        const TEMPLATE: &str = r#"
@register
class Service@N(Base):
    """Service number @N."""

    def __init__(self, cfg: dict[str, int]) -> None:
        self.cfg = cfg
        self.items = [x * 2 for x in range(@N) if x % 3]

    async def handle(self, req, *args, **kw):
        def inner(y):
            return {'k': y, 'v': f"{y!r}"}
        try:
            return await self.run(inner(req), *args)
        except (ValueError, KeyError) as e:
            raise RuntimeError('bad') from e

def helper_@N(a, b=1, /, c=2, *, d=3):
    return lambda z: a + b + c + d + z
"#;
        let mut src = String::new();
        let mut i = 0;
        while src.lines().count() < 10_000 {
            src.push_str(&TEMPLATE.replace("@N", &i.to_string()));
            i += 1;
        }
        // Warm up the thread's parser so the timing covers parsing only.
        let _ = extract_symbols(Lang::Python, b"pass\n");
        let start = std::time::Instant::now();
        let defs = extract_symbols(Lang::Python, src.as_bytes());
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(defs.len(), i * 5);
        assert_eq!(defs[2].qualified_name, "Service0.handle");
        assert_eq!(defs[3].qualified_name, "Service0.handle.inner");
        assert_eq!((defs[0].start_line, defs[0].end_line), (2, 16));
        println!(
            "python: {} lines, {} bytes, {} symbols in {:.1} ms = {:.1} MB/s",
            src.lines().count(),
            src.len(),
            defs.len(),
            secs * 1e3,
            src.len() as f64 / secs / 1e6
        );
    }
}
