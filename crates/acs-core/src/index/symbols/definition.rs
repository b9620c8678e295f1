//! The shapes of a definition: [`SymbolDef`], one definition found in a file (what the
//! extractors produce, the caches hold and the on-disk store keeps), of a [`SymbolKind`];
//! and [`Definition`], the one shape in which every tool result names a definition, so that
//! readers of any tool's result find a definition under the same field names. Nothing here
//! imports another module of the engine.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What sort of definition a [`SymbolDef`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    /// A class (Python, JavaScript/TypeScript, Java).
    Class,
    /// An interface (TypeScript, Java, Go).
    Interface,
    /// A struct (Rust, Go).
    Struct,
    /// An enum (Rust, TypeScript, Java).
    Enum,
    /// A trait (Rust).
    Trait,
    /// An `impl` block (Rust).
    Impl,
    /// A function outside any class.
    Function,
    /// A function inside a class, impl or interface.
    Method,
    /// A module (Rust `mod`, TypeScript namespace).
    Module,
}

impl SymbolKind {
    /// Every kind, in declaration order (the bindings export their names).
    pub const ALL: [SymbolKind; 9] = [
        SymbolKind::Class,
        SymbolKind::Interface,
        SymbolKind::Struct,
        SymbolKind::Enum,
        SymbolKind::Trait,
        SymbolKind::Impl,
        SymbolKind::Function,
        SymbolKind::Method,
        SymbolKind::Module,
    ];

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolDef {
    /// Bare name, e.g. `get`.
    pub name: String,
    /// Dotted container path, e.g. `Outer.Inner.get`; top level: same as `name`.
    pub qualified_name: String,
    /// What sort of definition.
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

/// A definition as tool results name it. Results that are definitions (a `symbols` entry,
/// an `outline` node, a function-level `bm25` hit) embed it flattened, next to their own
/// fields; results inside a definition (a `grep` match, a `references` group) hold it as
/// `enclosing`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Definition {
    /// Bare name, e.g. `get`.
    pub name: String,
    /// Dotted container path, e.g. `Class.get`; top level: same as `name`.
    pub qualified_name: String,
    /// What sort of definition.
    pub kind: SymbolKind,
    /// The file.
    pub path: Arc<str>,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (inclusive).
    pub end_line: u32,
}

impl Definition {
    /// `def`, found in the file at `path`.
    pub fn new(def: &SymbolDef, path: &Arc<str>) -> Definition {
        Definition {
            name: def.name.clone(),
            qualified_name: def.qualified_name.clone(),
            kind: def.kind,
            path: path.clone(),
            start_line: def.start_line,
            end_line: def.end_line,
        }
    }

    /// The innermost of `defs` (the definitions of the file at `path`) whose lines hold
    /// `line`; `None` at module level.
    pub fn enclosing(defs: &[SymbolDef], line: u32, path: &Arc<str>) -> Option<Definition> {
        defs.iter()
            .filter(|d| d.start_line <= line && line <= d.end_line)
            .min_by_key(|d| d.end_line - d.start_line)
            .map(|d| Definition::new(d, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, qualified_name: &str, start_line: u32, end_line: u32) -> SymbolDef {
        SymbolDef {
            name: name.into(),
            qualified_name: qualified_name.into(),
            kind: SymbolKind::Function,
            start_line,
            end_line,
            parent: None,
        }
    }

    #[test]
    fn the_innermost_definition_encloses_a_line() {
        let path: Arc<str> = "a.py".into();
        let defs = [def("A", "A", 1, 10), def("f", "A.f", 3, 5)];
        let inner = Definition::enclosing(&defs, 4, &path).unwrap();
        assert_eq!(
            (inner.name.as_str(), inner.qualified_name.as_str()),
            ("f", "A.f")
        );
        assert_eq!(Definition::enclosing(&defs, 8, &path).unwrap().name, "A");
        assert_eq!(Definition::enclosing(&defs, 11, &path), None);
    }

    #[test]
    fn it_serialises_with_the_documented_field_names() {
        let d = Definition::new(&def("f", "A.f", 3, 5), &"a.py".into());
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({"name": "f", "qualified_name": "A.f", "kind": "function",
                               "path": "a.py", "start_line": 3, "end_line": 5})
        );
    }
}
