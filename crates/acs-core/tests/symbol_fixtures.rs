//! Definition extraction per language, from fixture files: every source file under
//! `tests/fixtures/symbols/<lang>/` is run through `extract_symbols` (the language comes from
//! its extension, as for a repository's files) and the result is compared with the
//! `<case>.expected` file beside it. Adding a case is adding those two files.
//!
//! `.expected` holds one definition per line, in output order (a parent precedes its
//! children):
//!
//! ```text
//! <index> <kind> <qualified_name> <start>-<end> [parent=<index>] [name=<name>]
//! ```
//!
//! Lines are 1-based and inclusive; `parent` is the index of the enclosing definition (absent
//! at top level); `name` is written only where the bare name is not the qualified name's last
//! dotted part (TypeScript `namespace A.B`). A name or qualified name that is empty or holds
//! whitespace, quotes or control characters is written as a Rust string literal.
//!
//! `ACS_BLESS=1 cargo test -p acs-core --test symbol_fixtures` writes every `.expected` file
//! from the current output instead of comparing; review the diff before committing it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use acs_core::Lang;
use acs_core::{extract_symbols, SymbolDef};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/symbols")
}

/// Every fixture source (not `.expected`, not `README*`), sorted, found by walking the folder.
fn sources(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                dirs.push(path);
            } else if !file_name.ends_with(".expected") && !file_name.starts_with("README") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `s` as is when it reads as one word, else as a Rust string literal.
fn word(s: &str) -> String {
    if s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c == '"' || c.is_control())
    {
        format!("{s:?}")
    } else {
        s.to_string()
    }
}

fn render(defs: &[SymbolDef]) -> String {
    let mut out = String::new();
    for (i, d) in defs.iter().enumerate() {
        let q = &d.qualified_name;
        let _ = write!(
            out,
            "{i} {} {} {}-{}",
            d.kind.as_str(),
            word(q),
            d.start_line,
            d.end_line
        );
        if let Some(p) = d.parent {
            let _ = write!(out, " parent={p}");
        }
        if q.rsplit('.').next() != Some(d.name.as_str()) {
            let _ = write!(out, " name={}", word(&d.name));
        }
        out.push('\n');
    }
    out
}

/// Parents precede children and enclose their line range; qualified names end with the name.
fn invariant_errors(defs: &[SymbolDef]) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        if !(d.start_line >= 1 && d.start_line <= d.end_line) {
            errors.push(format!("{i}: bad line range: {d:?}"));
        }
        if !d.qualified_name.ends_with(d.name.as_str()) {
            errors.push(format!(
                "{i}: qualified name does not end with the name: {d:?}"
            ));
        }
        if let Some(p) = d.parent {
            let p = p as usize;
            match defs.get(p) {
                Some(parent) if p < i => {
                    if parent.start_line > d.start_line || parent.end_line < d.end_line {
                        errors.push(format!("{i}: outside its parent {p}: {d:?}"));
                    }
                }
                _ => errors.push(format!("{i}: parent {p} does not precede it: {d:?}")),
            }
        }
    }
    errors
}

/// A line diff (longest common subsequence; fixtures are small).
fn diff(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        }
    }
    out
}

#[test]
fn symbol_fixtures() {
    let root = fixtures_root();
    let bless = std::env::var_os("ACS_BLESS").is_some_and(|v| !v.is_empty() && v != "0");
    let cases = sources(&root);
    assert!(!cases.is_empty(), "no fixtures under {}", root.display());
    let mut failures = Vec::new();
    for source_path in &cases {
        let shown = source_path
            .strip_prefix(&root)
            .unwrap_or(source_path)
            .display();
        let Some(lang) = source_path.to_str().and_then(Lang::from_path) else {
            failures.push(format!("{shown}: no language for this extension"));
            continue;
        };
        let source = std::fs::read(source_path).expect("read fixture");
        let defs = extract_symbols(lang, &source);
        for error in invariant_errors(&defs) {
            failures.push(format!("{shown}: {error}"));
        }
        let got = render(&defs);
        let expected_path = source_path.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &got).expect("write .expected");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!(
                "{shown} ({lang:?}): output differs from {} (- expected, + actual):\n{}",
                expected_path.display(),
                diff(&want, &got)
            )),
            Err(e) => failures.push(format!(
                "{shown}: {}: {e} (ACS_BLESS=1 writes it)",
                expected_path.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} symbol fixtures failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    println!("{} symbol fixtures checked", cases.len());
}

#[test]
fn diff_marks_changed_lines() {
    let d = diff("a\nb\nc\n", "a\nx\nc\nd\n");
    assert_eq!(d, "  a\n- b\n+ x\n  c\n+ d\n");
}
