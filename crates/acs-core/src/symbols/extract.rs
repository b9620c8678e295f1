// PLACEHOLDER: replaced by the tree-sitter extractor under development.
use crate::lang::Lang;
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
    pub fn as_str(self) -> &'static str {
        "function"
    }
}
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolDef {
    pub name: String,
    pub qualified_name: String,
    pub kind: SymbolKind,
    pub start_line: u32,
    pub end_line: u32,
    pub parent: Option<u32>,
}
pub fn extract_symbols(_lang: Lang, _source: &[u8]) -> Vec<SymbolDef> {
    Vec::new()
}
