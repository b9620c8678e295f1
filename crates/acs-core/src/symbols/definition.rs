//! [`Definition`]: the one shape in which every tool result names a definition, so that
//! readers of any tool's result find a definition under the same field names.

use super::{SymbolDef, SymbolKind};
use serde::Serialize;
use std::sync::Arc;

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
