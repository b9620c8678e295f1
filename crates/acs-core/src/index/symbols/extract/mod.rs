//! Definition extraction with tree-sitter: the public surface ([`extract_symbols`]) and the
//! caps on name lengths. What it finds is a [`SymbolDef`] (`symbols/definition.rs`).
//!
//! - `parse.rs`: bounded parsing: a reusable parser per language per thread, a time limit,
//!   and a helper thread with a big stack for inputs whose parse could overflow this one.
//! - `walk.rs`: the iterative cursor walk (no recursion, no tree-sitter queries, so deeply
//!   nested input cannot overflow the stack), which asks each language's rules about each
//!   node and places what they find: line ranges, parents, qualified names.
//! - `node.rs`: what the language rules share: the record of a found definition, rows,
//!   ancestors, names read from the source and cut to size.
//! - one module per language with its node rules: `python.rs`, `javascript.rs` (JavaScript,
//!   TypeScript and TSX), `go.rs`, `rust.rs`, `java.rs`.
//!
//! Every byte slice taken from the source is decoded lossily; malformed input yields partial
//! results, never a panic. What each language's rules find is checked by the fixtures under
//! `tests/fixtures/symbols/`, run by `tests/symbol_fixtures.rs`.

mod go;
mod java;
mod javascript;
mod node;
mod parse;
mod python;
mod rust;
mod walk;

// Shared with the Python scanner, so both cut names the same way.
pub(crate) use node::cut_name;
pub(crate) use walk::qualify;

use crate::index::symbols::definition::SymbolDef;
#[cfg(test)]
use crate::index::symbols::definition::SymbolKind;
use crate::lang::Lang;

/// Names longer than this (in bytes) are cut at a char boundary. Only
/// pathological input (e.g. a computed JS property name spanning a whole
/// expression) gets near it.
pub(crate) const MAX_NAME_BYTES: usize = 256;

/// Qualified names longer than this keep only their tail (which still ends
/// with the bare name). This bounds memory on adversarial input such as tens
/// of thousands of nested functions, where full paths would grow
/// quadratically.
pub(crate) const MAX_QUALIFIED_BYTES: usize = 1024;

/// Extracts definitions in source order (pre-order: a parent always precedes
/// its children). Returns an empty `Vec` if the source cannot be parsed at all
/// (sources of 4 GiB or more are not parsed), or if its parse was cancelled for taking too
/// long.
pub fn extract_symbols(lang: Lang, source: &[u8]) -> Vec<SymbolDef> {
    extract_symbols_complete(lang, source).unwrap_or_default()
}

/// [`extract_symbols`], or `None` when the parse gave up for reasons outside the input (the
/// time limit, no helper thread): another try may find definitions, so the answer must not
/// be cached.
pub(crate) fn extract_symbols_complete(lang: Lang, source: &[u8]) -> Option<Vec<SymbolDef>> {
    match parse::parse(lang, source) {
        Ok(Some(tree)) => Some(walk::collect(lang, &tree, source)),
        Ok(None) => Some(Vec::new()),
        Err(parse::Incomplete) => None,
    }
}

#[cfg(test)]
pub(crate) use parse::TEST_TIMEOUT_MARKER;

/// Compact expectation of a definition in unit tests (here and in the scanner's):
/// (name, qualified_name, kind, start, end, parent).
#[cfg(test)]
pub(crate) type Row<'a> = (&'a str, &'a str, SymbolKind, u32, u32, Option<u32>);

#[cfg(test)]
pub(crate) fn rows(defs: &[SymbolDef]) -> Vec<Row<'_>> {
    defs.iter()
        .map(|d| {
            let (n, q) = (d.name.as_str(), d.qualified_name.as_str());
            (n, q, d.kind, d.start_line, d.end_line, d.parent)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use SymbolKind::*;

    #[test]
    fn all_symbol_kinds_are_listed_once_by_their_serialised_names() {
        let names: Vec<String> = SymbolKind::ALL
            .iter()
            .map(|k| {
                serde_json::to_value(k)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let as_str: Vec<&str> = SymbolKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, as_str);
        let unique: std::collections::HashSet<&str> = as_str.iter().copied().collect();
        assert_eq!(unique.len(), as_str.len());
        // A kind missing from ALL would still deserialise: check the round trip covers them.
        for k in SymbolKind::ALL {
            let back: SymbolKind = serde_json::from_value(serde_json::json!(k.as_str())).unwrap();
            assert_eq!(back, k);
        }
    }

    /// Parents precede children and enclose their line range.
    pub(super) fn assert_invariants(defs: &[SymbolDef]) {
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
        let secs = start.elapsed().as_secs_f64(); // wall-clock: allowed: printed, not asserted
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
