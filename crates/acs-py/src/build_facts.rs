//! What `acs --version` reports about the engine: the facts `build.rs` embedded, and each
//! language's grammar (its crate's version from Cargo.lock and the tree-sitter ABI version
//! the compiled grammar declares).

use acs_core::Lang;
use serde_json::{json, Value};

/// `{"version", "profile", "target", "rustc", "commit", "tree_sitter", "grammars": [...]}`;
/// a fact the build could not learn (no git checkout, no Cargo.lock) is null.
pub fn build_info() -> Value {
    let crates = env!("ACS_BUILD_TREE_SITTER_CRATES");
    let version_of = |name: &str| {
        crates
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    };
    let grammars: Vec<Value> = Lang::ALL
        .iter()
        .map(|lang| {
            json!({
                "language": lang.name(),
                "crate": lang.grammar_crate(),
                "version": version_of(lang.grammar_crate()),
                "abi": lang.ts_language().abi_version(),
            })
        })
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "profile": non_empty(env!("ACS_BUILD_PROFILE")),
        "target": non_empty(env!("ACS_BUILD_TARGET")),
        "rustc": non_empty(env!("ACS_BUILD_RUSTC")),
        "commit": non_empty(env!("ACS_BUILD_COMMIT")),
        "tree_sitter": version_of("tree-sitter"),
        "grammars": grammars,
    })
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}
