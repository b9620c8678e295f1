//! Bounded parsing: one reusable parser per language per thread; no parse of a source of
//! 4 GiB or more (tree-sitter addresses bytes with u32); a time limit after which the parse is
//! cancelled; and, for inputs whose parse could overflow the calling thread's stack (see
//! [`INLINE_PARSE_MAX_BYTES`]), a helper thread whose stack grows with the input.

use std::cell::RefCell;

use tree_sitter::{Parser, Tree};

use crate::lang::Lang;

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

/// A parse that gave up for reasons outside the input (the time limit, no helper thread):
/// another try, on a less loaded machine, may succeed, so its result must not be cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Incomplete;

/// The syntax tree of `source`; `Ok(None)` if it is too large or cannot be parsed (the same
/// answer on every try), `Err(Incomplete)` if its parse was cancelled for taking too long or
/// had no thread to run on.
pub(super) fn parse(lang: Lang, source: &[u8]) -> Result<Option<Tree>, Incomplete> {
    // tree-sitter addresses bytes with u32.
    if u32::try_from(source.len()).is_err() {
        return Ok(None);
    }
    let fresh = || match new_parser(lang) {
        Some(mut parser) => run_parser(&mut parser, source),
        None => Ok(None),
    };
    PARSERS
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut parsers) => {
                let parser = &mut parsers[slot(lang)];
                if parser.is_none() {
                    *parser = new_parser(lang);
                }
                let Some(p) = parser.as_mut() else {
                    return Ok(None);
                };
                let tree = run_parser(p, source);
                if !matches!(tree, Ok(Some(_))) {
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

/// tree-sitter's error recovery can take minutes on some garbage (8 KB of `<-` repeated
/// takes seconds as Python); a parse that takes longer than this is cancelled, and its file's
/// result is incomplete (used, never cached: see [`Incomplete`]).
const PARSE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Tests only: a source containing this is parsed as if over the time limit from the point
/// the parse reaches it (so a test can cancel a parse with its stack as deep as it gets).
#[cfg(test)]
pub(crate) const TEST_TIMEOUT_MARKER: &[u8] = b"ACS_TEST_PARSE_TIMEOUT";

/// The byte offset from which the parse counts as over the time limit (tests only).
fn forced_timeout_at(source: &[u8]) -> Option<usize> {
    #[cfg(test)]
    if let Some(at) = memchr::memmem::find(source, TEST_TIMEOUT_MARKER) {
        return Some(at);
    }
    let _ = source;
    None
}

fn parse_bounded(parser: &mut Parser, source: &[u8]) -> Result<Option<Tree>, Incomplete> {
    let start = std::time::Instant::now();
    let forced_at = forced_timeout_at(source);
    let mut calls = 0u32;
    let mut cancelled = false;
    // Returning true cancels the parse; the clock is read every 256 progress reports.
    let mut cancel = |state: &tree_sitter::ParseState| {
        calls = calls.wrapping_add(1);
        let forced = forced_at.is_some_and(|at| state.current_byte_offset() >= at);
        cancelled = forced || (calls % 256 == 0 && start.elapsed() > PARSE_TIME_LIMIT);
        cancelled
    };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut cancel);
    let len = source.len();
    let mut read = |i: usize, _| if i < len { &source[i..] } else { &[][..] };
    let tree = parser.parse_with_options(&mut read, None, Some(options));
    if tree.is_none() {
        // A cancelled parse keeps its GLR stack for a resume; freeing it (now, or whenever
        // the parser is next reset or dropped) recurses as deep as the parse got. Free it
        // here, on the thread whose stack `run_parser` sized for this input: the caller's
        // may be a 2 MiB thread, where that would overflow and abort the process.
        parser.reset();
    }
    match tree {
        None if cancelled => Err(Incomplete),
        tree => Ok(tree),
    }
}

fn run_parser(parser: &mut Parser, source: &[u8]) -> Result<Option<Tree>, Incomplete> {
    let stack = source
        .len()
        .saturating_mul(PARSE_STACK_PER_BYTE)
        .saturating_add(PARSE_STACK_BASE)
        .min(PARSE_STACK_MAX);
    // The pools' workers have a known, large stack: parses that fit run there directly.
    let here = crate::pool::worker_stack_size();
    if source.len() <= INLINE_PARSE_MAX_BYTES || stack <= here {
        return parse_bounded(parser, source);
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("acs-parse".to_string())
            .stack_size(stack)
            .spawn_scoped(scope, || parse_bounded(parser, source))
            // Could not get a thread (resource limits): incomplete, another try may get one.
            .map_err(|_| Incomplete)?;
        handle.join().map_err(|_| Incomplete)?
    })
}

#[cfg(test)]
mod tests {
    use crate::index::symbols::extract::{extract_symbols, extract_symbols_complete};
    use crate::lang::Lang;

    const ALL: [Lang; 7] = Lang::ALL;

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

    /// A parse cancelled by the time limit (as on a loaded machine) keeps its GLR stack for a
    /// resume that never comes; freeing that stack recurses as deep as the parse got, so it
    /// must happen on the thread that parsed (sized for the input), not on the caller's
    /// 2 MiB stack. The marker cancels these parses mid-way, where their stacks are deep
    /// enough to overflow 2 MiB (checked: from about 40 KB of `{(` or 80 KB of `<T>(`).
    #[test]
    fn a_cancelled_pathological_parse_does_not_overflow_a_2mib_stack() {
        let marker = std::str::from_utf8(super::TEST_TIMEOUT_MARKER).unwrap();
        let cut_at = |unit: &str, before: usize, after: usize| {
            format!("{}{marker}{}", unit.repeat(before), unit.repeat(after))
        };
        let cases = [
            (Lang::Java, cut_at("{(", 30_000, 10_000)),
            (Lang::Tsx, cut_at("<T>(", 22_000, 3_000)),
        ];
        let worker = std::thread::Builder::new()
            .name("cancelled-glr-2mib".to_string())
            .stack_size(2 << 20)
            .spawn(move || {
                for (lang, src) in &cases {
                    // Incomplete: the answer of a parse over the time limit.
                    assert_eq!(extract_symbols_complete(*lang, src.as_bytes()), None);
                }
                extract_symbols(Lang::Java, b"class A { void m() {} }").len()
            })
            .expect("spawn");
        assert_eq!(worker.join().ok(), Some(2));
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
}

#[cfg(test)]
mod timeout_tests {
    use super::TEST_TIMEOUT_MARKER;
    use crate::index::symbols::extract::{extract_symbols, extract_symbols_complete};
    use crate::lang::Lang;

    #[test]
    fn a_parse_over_the_time_limit_is_incomplete_not_empty() {
        let body = "func F() { x := 1; _ = x }\n".repeat(400);
        let marked = format!(
            "package p\n// {}\n{body}",
            std::str::from_utf8(TEST_TIMEOUT_MARKER).unwrap()
        );
        assert_eq!(extract_symbols_complete(Lang::Go, marked.as_bytes()), None);
        // The public answer stays an empty list, and the parser is usable afterwards.
        assert!(extract_symbols(Lang::Go, marked.as_bytes()).is_empty());
        let plain = format!("package p\n{body}");
        let defs = extract_symbols_complete(Lang::Go, plain.as_bytes()).unwrap();
        assert_eq!(defs.len(), 400);
        // Unparseable is a complete answer.
        assert_eq!(extract_symbols_complete(Lang::Go, b""), Some(Vec::new()));
    }
}
