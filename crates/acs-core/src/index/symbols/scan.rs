//! A linear-time scanner for Python definitions, without a parse tree.
//!
//! [`scan_python`] finds the `def`, `async def` and `class` statements of a Python file and
//! returns the same [`SymbolDef`] values as [`extract_symbols`](super::extract_symbols) with
//! `Lang::Python` gives on ordinary code: bare and qualified names (cut as the extractor cuts
//! them), kind (a `def` whose nearest enclosing definition is a class is a method), lines
//! (decorated definitions start at their first decorator) and parents, in pre-order.
//!
//! Guarantees: one pass over the bytes, O(n) time, memory bounded by the nesting (open
//! definitions, string and f-string field levels, distinct indentations of trailing
//! comments) besides the output, no recursion, never a panic on any bytes (invalid UTF-8 in names is decoded
//! lossily). It tracks what decides where statements start and end: strings (every prefix,
//! triple quotes, escapes, f-string replacement fields nested to any depth), comments,
//! brackets (a newline inside them does not end a line), backslash continuations, and the
//! indentation of logical lines. A body ends where tree-sitter-python's scanner ends it: at
//! its last token, extended over the comment lines after it that are indented at least as
//! deep as the body (tree-sitter delays the dedent over them).
//!
//! Speed (release, one core, shared machine): 400-460 MB/s on CPython's standard library, where
//! tree-sitter parses 9-10 MB/s, and 260-560 MB/s on generated code that tree-sitter parses at
//! 2-3 MB/s (deeply nested calls, 100 kB lines).
//!
//! Known differences from tree-sitter (measured by `tests/scan_vs_treesitter.rs`: on 30,669
//! files with 509k definitions, the CPython 3.11 standard library, its site-packages,
//! Debian's `/usr/lib/python3` and the Google Cloud SDK, one file differs):
//! * invalid code, and code tree-sitter misparses: it recovers from errors in its own way
//!   (Python 2 code, unbalanced brackets, unterminated strings; in CPython's
//!   `test_compile.py` it takes `(bar.` + newline + a less indented `baz)` for a dedent);
//!   the scanner keeps to brackets and indentation;
//! * a lone CR ends a line (as in Python, and for tree-sitter's statements), but
//!   tree-sitter's indentation tracking sees only LF: old Mac files may nest differently;
//! * tabs follow Python's rule (to the next multiple of 8), tree-sitter adds 8 per tab: they
//!   disagree only where spaces and tabs are mixed in a way Python 3 rejects;
//! * identifiers are runs of ASCII letters, digits, `_` and any non-ASCII byte, not the
//!   exact Unicode XID classes;
//! * comments inside f-string replacement fields (Python 3.12) are not recognised.

use super::definition::{SymbolDef, SymbolKind};
use super::extract::{cut_name, qualify};
#[cfg(test)]
use super::extract::{MAX_NAME_BYTES, MAX_QUALIFIED_BYTES};

/// Definitions of a Python source, as `extract_symbols(Lang::Python, source)` reports them
/// on ordinary code (see the module documentation for where they may differ).
pub fn scan_python(source: &[u8]) -> Vec<SymbolDef> {
    Scanner::new(source).run().0
}

/// [`scan_python`], or `None` when the source is not well-formed where the scanner looks: a
/// bracket left open or closed twice, a string left open at the end of its line or of the
/// file. There tree-sitter's error recovery reads the rest of the file better than the
/// scanner, which keeps to brackets and indentation.
pub(crate) fn scan_python_checked(source: &[u8]) -> Option<Vec<SymbolDef>> {
    let (defs, damaged) = Scanner::new(source).run();
    (!damaged).then_some(defs)
}

/// A definition whose body is still open.
struct Open {
    /// Indentation of its `def`/`class` line.
    indent: u32,
    /// Indentation of its body's first line; `None` until that line is seen.
    body: Option<u32>,
    /// Index into the output.
    index: usize,
}

/// One level of an open string literal.
#[derive(Clone, Copy)]
enum Frame {
    /// Inside the text of a string.
    Str { quote: u8, triple: bool, fmt: bool },
    /// Inside an f-string replacement field, `depth` brackets deep.
    Expr { depth: u32 },
    /// Inside a replacement field's format spec (after its top-level `:`).
    Spec,
}

/// What a logical line starts with.
enum Head {
    Decorator,
    Def(SymbolKind, String),
    Other,
}

struct Scanner<'a> {
    src: &'a [u8],
    pos: usize,
    /// 1-based line of `pos`.
    line: u32,
    out: Vec<SymbolDef>,
    open: Vec<Open>,
    /// Line of the last token of the previous logical line.
    prev_end: u32,
    /// Comment-only lines since the previous logical line, as (running minimum of their
    /// indentation, last line at which the minimum had that value): a body with indentation
    /// `b` extends over the comments up to the last entry whose minimum is at least `b`.
    comments: Vec<(u32, u32)>,
    /// First line of the decorators before the coming definition.
    decorators: Option<u32>,
    /// Open string frames; kept to reuse its allocation.
    frames: Vec<Frame>,
    /// Unbalanced brackets or an unterminated string were seen (see [`scan_python_checked`]).
    damaged: bool,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// If `word` is a valid string prefix (`rb`, `F`, ...): whether it makes an f-string (or a
/// t-string, whose fields nest the same way).
fn string_prefix(word: &[u8]) -> Option<bool> {
    if word.is_empty() || word.len() > 2 {
        return None;
    }
    let mut fmt = false;
    let mut seen = [false; 5];
    for &c in word {
        let k = match c.to_ascii_lowercase() {
            b'r' => 0,
            b'b' => 1,
            b'u' => 2,
            b'f' => 3,
            b't' => 4,
            _ => return None,
        };
        if seen[k] {
            return None;
        }
        seen[k] = true;
        fmt |= k >= 3;
    }
    // `u` combines with nothing; `b` does not combine with `f`/`t`.
    let valid = !(word.len() == 2 && (seen[2] || (seen[1] && fmt) || (seen[3] && seen[4])));
    valid.then_some(fmt)
}

fn name_text(bytes: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(bytes).into_owned();
    cut_name(&mut s);
    s
}

impl<'a> Scanner<'a> {
    fn new(src: &'a [u8]) -> Self {
        Scanner {
            src,
            pos: 0,
            line: 1,
            out: Vec::new(),
            open: Vec::new(),
            prev_end: 1,
            comments: Vec::new(),
            decorators: None,
            frames: Vec::new(),
            damaged: false,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.src.get(self.pos + i).copied()
    }

    /// Length of a backslash continuation (`\` then LF or CRLF) at `pos`, or 0.
    fn continuation(&self) -> usize {
        match (self.at(0), self.at(1), self.at(2)) {
            (Some(b'\\'), Some(b'\n'), _) => 2,
            (Some(b'\\'), Some(b'\r'), Some(b'\n')) => 3,
            _ => 0,
        }
    }

    fn newline(&mut self) {
        self.pos += 1;
        self.line = self.line.saturating_add(1);
    }

    fn run(mut self) -> (Vec<SymbolDef>, bool) {
        if self.src.starts_with("\u{feff}".as_bytes()) {
            self.pos = 3;
        }
        while let Some(indent) = self.indentation() {
            match self.peek() {
                Some(b'\n') => self.newline(),
                Some(b'#') => {
                    self.comment_line(indent);
                    self.skip_comment();
                }
                _ => self.logical_line(indent),
            }
        }
        self.close(0);
        (self.out, self.damaged)
    }

    /// Skip the indentation at the start of a physical line and measure it; `None` at the end.
    fn indentation(&mut self) -> Option<u32> {
        let mut col = 0u32;
        loop {
            match self.peek()? {
                b' ' => col = col.saturating_add(1),
                b'\t' => col = (col / 8).saturating_add(1).saturating_mul(8),
                // As tree-sitter-python's scanner does.
                b'\r' | b'\x0c' => col = 0,
                b'\\' if self.continuation() > 0 => {
                    self.pos += self.continuation() - 1;
                    self.line = self.line.saturating_add(1);
                }
                _ => return Some(col),
            }
            self.pos += 1;
        }
    }

    /// Leave `pos` on the newline (or the end) after a comment.
    fn skip_comment(&mut self) {
        self.pos =
            memchr::memchr(b'\n', &self.src[self.pos..]).map_or(self.src.len(), |i| self.pos + i);
    }

    fn comment_line(&mut self, indent: u32) {
        let line = self.line;
        match self.comments.last_mut() {
            Some(last) if indent >= last.0 => last.1 = line,
            _ => self.comments.push((indent, line)),
        }
    }

    /// A logical line starts at `pos` with this indentation: close the bodies it ends, then
    /// read it.
    fn logical_line(&mut self, indent: u32) {
        let first = self.line;
        self.close(indent);
        self.comments.clear();
        let head = self.head();
        let want_colon = matches!(head, Head::Def(..));
        let (end, inline_body) = self.rest_of_line(want_colon);
        match head {
            Head::Decorator => {
                self.decorators.get_or_insert(first);
            }
            Head::Other => self.decorators = None,
            Head::Def(kind, name) => {
                let parent = self.open.last().map(|o| o.index);
                let kind = match (kind, parent.map(|p| self.out[p].kind)) {
                    (SymbolKind::Function, Some(SymbolKind::Class)) => SymbolKind::Method,
                    (kind, _) => kind,
                };
                let qualified_name = qualify(
                    parent.map(|p| self.out[p].qualified_name.as_str()),
                    None,
                    &name,
                );
                let index = self.out.len();
                self.out.push(SymbolDef {
                    name,
                    qualified_name,
                    kind,
                    start_line: self.decorators.take().unwrap_or(first),
                    end_line: end,
                    parent: parent.and_then(|p| u32::try_from(p).ok()),
                });
                if !inline_body {
                    self.open.push(Open {
                        indent,
                        body: None,
                        index,
                    });
                }
            }
        }
        self.prev_end = end;
    }

    /// Close the open bodies that a logical line (or the end, `indent` 0) at `indent` ends.
    fn close(&mut self, indent: u32) {
        if let Some(top) = self.open.last_mut() {
            if top.body.is_none() && indent > top.indent {
                top.body = Some(indent);
            }
        }
        // Bodies close innermost first, with decreasing body indentation, so the number of
        // trailing comment entries they take only grows.
        let mut taken = 0;
        while let Some(top) = self.open.last() {
            if top.indent < indent {
                break;
            }
            let mut end = self.prev_end;
            if let Some(body) = top.body {
                while taken < self.comments.len() && self.comments[taken].0 >= body {
                    taken += 1;
                }
                if taken > 0 {
                    end = end.max(self.comments[taken - 1].1);
                }
            }
            let def = &mut self.out[top.index];
            def.end_line = end.max(def.start_line);
            self.open.pop();
        }
    }

    /// An identifier-like word at `pos` (not consumed): ASCII letters, digits and `_`, and
    /// alphanumeric non-ASCII characters (close to Python's XID classes). Like tree-sitter,
    /// it stops at invalid UTF-8.
    fn word(&self) -> &'a [u8] {
        let rest = &self.src[self.pos..];
        let mut n = 0;
        while let Some(&b) = rest.get(n) {
            if b.is_ascii_alphanumeric() || b == b'_' {
                n += 1;
                continue;
            }
            let width = match b {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => break,
            };
            let ch = rest
                .get(n..n + width)
                .and_then(|c| std::str::from_utf8(c).ok())
                .and_then(|c| c.chars().next());
            match ch {
                Some(c) if c.is_alphanumeric() => n += width,
                _ => break,
            }
        }
        &rest[..n]
    }

    /// Skip spaces, tabs, form feeds and continuations between two tokens of a line.
    fn skip_blank(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\x0c' | b'\r') => self.pos += 1,
                Some(b'\\') if self.continuation() > 0 => {
                    self.pos += self.continuation();
                    self.line = self.line.saturating_add(1);
                }
                _ => return,
            }
        }
    }

    /// Read a decorator or a definition head (keyword and name) at `pos`.
    fn head(&mut self) -> Head {
        if self.peek() == Some(b'@') {
            return Head::Decorator;
        }
        let start = self.pos;
        let mut word = self.word();
        if word == b"async" {
            self.pos += word.len();
            let before = self.pos;
            self.skip_blank();
            word = self.word();
            if self.pos == before || word != b"def" {
                self.pos = start;
                return Head::Other;
            }
        }
        let kind = match word {
            b"def" => SymbolKind::Function,
            b"class" => SymbolKind::Class,
            _ => {
                self.pos = start;
                return Head::Other;
            }
        };
        self.pos += word.len();
        self.skip_blank();
        let name = self.word();
        // A name cannot start with a digit; tree-sitter finds no definition without one.
        if name.is_empty() || name[0].is_ascii_digit() || self.string_after(name).is_some() {
            self.pos = start;
            return Head::Other;
        }
        self.pos += name.len();
        Head::Def(kind, name_text(name))
    }

    /// If a quote follows `word` (at `pos`), whether the string it starts is an f-string.
    fn string_after(&self, word: &[u8]) -> Option<bool> {
        match self.src.get(self.pos + word.len()) {
            Some(b'\'' | b'"') => Some(string_prefix(word).unwrap_or(false)),
            _ => None,
        }
    }

    /// Read to the end of the logical line (consuming its newline). Returns the line of its
    /// last token and, when `want_colon`, whether a token follows the first top-level `:`
    /// (a body on the same line as the head).
    fn rest_of_line(&mut self, want_colon: bool) -> (u32, bool) {
        let mut depth = 0u32;
        let mut last = self.line;
        let mut colon = !want_colon;
        let mut after_colon = false;
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.newline();
                    if depth == 0 {
                        break;
                    }
                    continue;
                }
                // A lone CR ends a line for tree-sitter too, but only LF counts lines.
                b'\r' if depth == 0 && self.at(1) != Some(b'\n') => {
                    self.pos += 1;
                    break;
                }
                b' ' | b'\t' | b'\r' | b'\x0c' => {
                    self.pos += 1;
                    continue;
                }
                b'#' => {
                    // A comment on a line joined by a continuation ends the line there.
                    last = self.line;
                    self.skip_comment();
                    continue;
                }
                b'\\' if self.continuation() > 0 => {
                    self.pos += self.continuation();
                    self.line = self.line.saturating_add(1);
                    continue;
                }
                b'\'' | b'"' => self.string(false),
                b'(' | b'[' | b'{' => {
                    depth = depth.saturating_add(1);
                    self.pos += 1;
                }
                b')' | b']' | b'}' => {
                    self.damaged |= depth == 0;
                    depth = depth.saturating_sub(1);
                    self.pos += 1;
                }
                b':' if depth == 0 && !colon => {
                    colon = true;
                    last = self.line;
                    self.pos += 1;
                    continue;
                }
                b if is_ident(b) => {
                    let word = self.word();
                    match self.string_after(word) {
                        Some(fmt) => {
                            self.pos += word.len();
                            self.string(fmt);
                        }
                        // A non-ASCII byte may start no word: step over it.
                        None => self.pos += word.len().max(1),
                    }
                }
                _ => self.pos += 1,
            }
            // A token ended on the current line.
            last = self.line;
            after_colon |= colon && want_colon;
        }
        // The file ended inside brackets.
        self.damaged |= depth > 0;
        (last, after_colon)
    }

    /// Skip a string literal whose opening quote is at `pos`, with its f-string fields.
    fn string(&mut self, fmt: bool) {
        self.frames.clear();
        self.open_string(fmt);
        while let Some(&frame) = self.frames.last() {
            let Some(b) = self.peek() else {
                self.damaged = true; // the file ended inside a string
                self.frames.clear();
                return;
            };
            match (frame, b) {
                (_, b'\\') => {
                    let n = self.continuation();
                    if n > 0 {
                        self.pos += n;
                        self.line = self.line.saturating_add(1);
                    } else {
                        // An escaped character (a quote does not end even a raw string).
                        self.pos = (self.pos + 2).min(self.src.len());
                    }
                }
                (_, b'\n') => {
                    if self.in_triple() {
                        self.newline();
                    } else {
                        // Unterminated: drop the innermost single-quoted string and all
                        // inside it; the newline is read again by what remains.
                        self.damaged = true;
                        while let Some(f) = self.frames.pop() {
                            if let Frame::Str { triple: false, .. } = f {
                                break;
                            }
                        }
                    }
                }
                (Frame::Str { quote, triple, fmt }, _) => {
                    if b == quote {
                        if !triple {
                            self.pos += 1;
                            self.frames.pop();
                        } else if self.at(1) == Some(quote) && self.at(2) == Some(quote) {
                            self.pos += 3;
                            self.frames.pop();
                        } else {
                            self.pos += 1;
                        }
                    } else if fmt && b == b'{' {
                        if self.at(1) == Some(b'{') {
                            self.pos += 2;
                        } else {
                            self.pos += 1;
                            self.frames.push(Frame::Expr { depth: 0 });
                        }
                    } else if fmt {
                        self.pos += 1;
                    } else {
                        // Plain text: jump to the next byte that matters.
                        let rest = &self.src[self.pos..];
                        self.pos +=
                            memchr::memchr3(quote, b'\\', b'\n', rest).unwrap_or(rest.len());
                    }
                }
                (Frame::Expr { depth }, _) => match b {
                    b'\'' | b'"' => self.open_string(false),
                    b'(' | b'[' | b'{' => {
                        self.set_depth(depth.saturating_add(1));
                        self.pos += 1;
                    }
                    b')' | b']' => {
                        self.set_depth(depth.saturating_sub(1));
                        self.pos += 1;
                    }
                    b'}' if depth == 0 => {
                        self.frames.pop();
                        self.pos += 1;
                    }
                    b'}' => {
                        self.set_depth(depth - 1);
                        self.pos += 1;
                    }
                    b':' if depth == 0 => {
                        if let Some(top) = self.frames.last_mut() {
                            *top = Frame::Spec;
                        }
                        self.pos += 1;
                    }
                    b if is_ident(b) => {
                        let word = self.word();
                        match self.string_after(word) {
                            Some(fmt) => {
                                self.pos += word.len();
                                self.open_string(fmt);
                            }
                            // A non-ASCII byte may start no word: step over it.
                            None => self.pos += word.len().max(1),
                        }
                    }
                    _ => self.pos += 1,
                },
                (Frame::Spec, _) => match b {
                    b'{' => {
                        self.pos += 1;
                        self.frames.push(Frame::Expr { depth: 0 });
                    }
                    b'}' => {
                        self.frames.pop();
                        self.pos += 1;
                    }
                    _ => {
                        // The f-string's own quote ends the spec (and, there, the string).
                        let owner = self.frames.len().checked_sub(2).map(|i| self.frames[i]);
                        match owner {
                            Some(Frame::Str { quote, .. }) if quote == b => {
                                self.frames.pop();
                            }
                            _ => self.pos += 1,
                        }
                    }
                },
            }
        }
    }

    /// Push a string frame for the quote at `pos` and step over its opening quote(s).
    fn open_string(&mut self, fmt: bool) {
        let Some(quote) = self.peek() else { return };
        let triple = self.at(1) == Some(quote) && self.at(2) == Some(quote);
        self.pos += if triple { 3 } else { 1 };
        self.frames.push(Frame::Str { quote, triple, fmt });
    }

    fn set_depth(&mut self, depth: u32) {
        if let Some(Frame::Expr { depth: d }) = self.frames.last_mut() {
            *d = depth;
        }
    }

    /// Whether the innermost string open is triple-quoted (a newline may continue it).
    fn in_triple(&self) -> bool {
        self.frames.iter().rev().find_map(|f| match f {
            Frame::Str { triple, .. } => Some(*triple),
            _ => None,
        }) == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::symbols::extract_symbols;
    use crate::lang::Lang;
    use std::time::Duration;
    use SymbolKind::*;

    use crate::index::symbols::extract::{rows, Row};

    /// The scanner gives `want`, and so does tree-sitter.
    fn check(src: &str, want: &[Row]) {
        let scanned = scan_python(src.as_bytes());
        assert_eq!(rows(&scanned), want, "scanner\n--- source ---\n{src}");
        let parsed = extract_symbols(Lang::Python, src.as_bytes());
        assert_eq!(rows(&parsed), want, "tree-sitter\n--- source ---\n{src}");
    }

    /// The scanner agrees with tree-sitter; on failure, shows the first difference only.
    fn same_as_tree_sitter(src: &[u8]) {
        let parsed = extract_symbols(Lang::Python, src);
        let scanned = scan_python(src);
        let first = (0..parsed.len().max(scanned.len())).find(|&i| parsed.get(i) != scanned.get(i));
        if let Some(i) = first {
            panic!(
                "at {i}: tree-sitter {:?}\nscanner {:?}",
                parsed.get(i),
                scanned.get(i)
            );
        }
    }

    #[test]
    fn the_checked_scan_refuses_sources_it_cannot_read_soundly() {
        let fine = "def f(x):\n    return [x,\n        '''a\n)'''\n    ]\nclass C:\n    pass\n";
        assert_eq!(
            scan_python_checked(fine.as_bytes()).map(|d| d.len()),
            Some(2)
        );
        for broken in [
            "def f(x:\n    pass\n",                     // a bracket never closed
            "def f():\n    return 1)\ndef g(): pass\n", // closed twice
            "def f():\n    s = 'open\ndef g(): pass\n", // a string open at its line's end
            "def f():\n    s = '''open\n",              // a string open at the end
        ] {
            assert!(scan_python_checked(broken.as_bytes()).is_none(), "{broken}");
            // The plain scan still answers.
            assert!(!scan_python(broken.as_bytes()).is_empty(), "{broken}");
        }
    }

    #[test]
    fn functions_classes_methods_and_nesting() {
        check(
            "\
import os

def top(a, b):
    return a + b

class Outer:
    \"\"\"Docs.\"\"\"

    class Inner:
        def get(self):
            def helper():
                return 1
            return helper()

    async def fetch(self):
        pass
",
            &[
                ("top", "top", Function, 3, 4, None),
                ("Outer", "Outer", Class, 6, 16, None),
                ("Inner", "Outer.Inner", Class, 9, 13, Some(1)),
                ("get", "Outer.Inner.get", Method, 10, 13, Some(2)),
                (
                    "helper",
                    "Outer.Inner.get.helper",
                    Function,
                    11,
                    12,
                    Some(3),
                ),
                ("fetch", "Outer.fetch", Method, 15, 16, Some(1)),
            ],
        );
    }

    #[test]
    fn decorators_set_the_start_line() {
        check(
            "\
@dataclass
class Point:
    x: int

    @property
    # a comment between decorators
    @cache(
        size=3,
    )

    def norm(self):
        return abs(self.x)
x = 1
@bare
def f(): pass
",
            &[
                ("Point", "Point", Class, 1, 12, None),
                ("norm", "Point.norm", Method, 5, 12, Some(0)),
                ("f", "f", Function, 14, 15, None),
            ],
        );
    }

    #[test]
    fn definitions_under_compound_statements_and_one_liners() {
        check(
            "\
class A:
    if TYPE_CHECKING:
        def typed(self): ...
    try:
        class Fast: x = 1; y = 2
    except ImportError:
        def fast(self): return (1,
            2)
    with ctx:
        for x in y:
            while z:
                async  def deep(self): pass  # trailing
    match p:
        case 1:
            def m(self):
                def inner(): pass
                return inner
",
            &[
                ("A", "A", Class, 1, 17, None),
                ("typed", "A.typed", Method, 3, 3, Some(0)),
                ("Fast", "A.Fast", Class, 5, 5, Some(0)),
                ("fast", "A.fast", Method, 7, 8, Some(0)),
                ("deep", "A.deep", Method, 12, 12, Some(0)),
                ("m", "A.m", Method, 15, 17, Some(0)),
                ("inner", "A.m.inner", Function, 16, 16, Some(5)),
            ],
        );
    }

    #[test]
    fn strings_and_comments_hide_keywords_and_brackets() {
        check(
            "\
def a():
    s = 'def x(): pass ('
    t = \"\"\"
class X:
    def y(self): ]
\"\"\"
    u = rb'\\\\' + Rb\"\\\"\" + f'{x[\"k\"]!r:>{w}}' + F\"\"\"{
d}\"\"\"
    # def hidden(): (
    return s
def b(x=\"{\", y=')'):
    pass
",
            &[
                ("a", "a", Function, 1, 10, None),
                ("b", "b", Function, 11, 12, None),
            ],
        );
    }

    #[test]
    fn brackets_and_continuations_join_lines() {
        check(
            "\
def f(a,
b,
      c):
    x = [1,
2]
    y = 1 + \\
3
class \\
  C: pass
def g(): \\
  return 1
def h():
    return 1 \\
    # a comment joined to the statement
x = 1
",
            &[
                ("f", "f", Function, 1, 7, None),
                ("C", "C", Class, 8, 9, None),
                ("g", "g", Function, 10, 11, None),
                ("h", "h", Function, 12, 14, None),
            ],
        );
    }

    #[test]
    fn trailing_comments_end_a_body_as_tree_sitter_does() {
        // Comments after a body belong to it while they are indented as deep as the body.
        check(
            "\
class A:
    def f(self):
        x = 1

        # in f

    # in A
  # ends A
    # after
y = 1
def g():
    pass
    # in g
# not in g
",
            &[
                ("A", "A", Class, 1, 7, None),
                ("f", "A.f", Method, 2, 5, Some(0)),
                ("g", "g", Function, 11, 13, None),
            ],
        );
    }

    #[test]
    fn tabs_crlf_and_form_feeds() {
        check(
            "class A:\r\n\tdef f(self):\r\n\t\treturn 1\r\n\r\n\tdef g(self):\r\n\t\tpass\r\n\x0c\r\ndef h(): pass\r\n",
            &[
                ("A", "A", Class, 1, 6, None),
                ("f", "A.f", Method, 2, 3, Some(0)),
                ("g", "A.g", Method, 5, 6, Some(0)),
                ("h", "h", Function, 8, 8, None),
            ],
        );
        // Lone CRs end lines (tree-sitter numbers lines by LF only).
        same_as_tree_sitter(b"def a():\r    # c\r    x = 1\rdef b():\r    pass\r");
    }

    #[test]
    fn long_names_and_deep_nesting_are_cut_like_the_extractor() {
        let long = "n".repeat(300);
        let mut src = format!("def {long}():\n    pass\ndef caf\u{e9}_\u{3b1}():\n    pass\n");
        for d in 0..120 {
            src.push_str(&" ".repeat(d * 4));
            src.push_str(&format!("def nested_function_{d}():\n"));
        }
        src.push_str(&" ".repeat(480));
        src.push_str("pass\n");
        let defs = scan_python(src.as_bytes());
        assert_eq!(defs[0].name.len(), MAX_NAME_BYTES);
        assert!(defs.last().unwrap().qualified_name.len() <= MAX_QUALIFIED_BYTES);
        assert!(defs.last().unwrap().qualified_name.len() > MAX_QUALIFIED_BYTES - 30);
        same_as_tree_sitter(src.as_bytes());
        // Invalid UTF-8 in a name is decoded lossily, as the extractor does.
        same_as_tree_sitter(b"def caf\xe9():\n    pass\n");
        same_as_tree_sitter("def caf\u{e9}_\u{1F600}():\n    pass\n".as_bytes());
    }

    #[test]
    fn any_bytes_scan_without_panic() {
        // xorshift: deterministic pseudo-random bytes, biased towards Python's syntax.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let alphabet = b"def class async @:()[]{}'\"\\#\n\n\t  rbf{}x=1";
        for round in 0..400 {
            let len = (round * 7) % 300;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    if state % 4 == 0 {
                        (state >> 32) as u8
                    } else {
                        alphabet[(state >> 40) as usize % alphabet.len()]
                    }
                })
                .collect();
            let defs = scan_python(&bytes);
            for (i, d) in defs.iter().enumerate() {
                assert!(d.start_line <= d.end_line, "{d:?}");
                assert!(d.parent.is_none_or(|p| (p as usize) < i), "{d:?}");
            }
        }
    }

    /// Random valid programs: nested blocks, decorators, one-liners, multi-line strings and
    /// brackets, blank lines and comments at any indentation. The scanner must agree exactly.
    #[test]
    fn random_valid_programs_agree_with_tree_sitter() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as usize % n
        };
        for _ in 0..300 {
            let mut src = String::new();
            // A quarter of the programs indent with tabs.
            let tabs = next(4) == 0;
            // Open blocks: (body indentation, whether it has a statement yet).
            let mut blocks: Vec<(usize, bool)> = vec![(0, true)];
            for k in 0..60 {
                let (ind, has_statement) = *blocks.last().unwrap();
                let pad = if tabs {
                    "\t".repeat(ind / 8)
                } else {
                    " ".repeat(ind)
                };
                let statement = match next(16) {
                    0 | 1 => format!("{}# c{k}\n", " ".repeat(next(ind + 9))),
                    2 => "\n".to_string(),
                    3..=5 if blocks.len() > 1 && has_statement => {
                        blocks.pop();
                        continue;
                    }
                    6 => format!(
                        "{pad}def f{k}(a,\n{}b): return [a,\n b]\n",
                        " ".repeat(next(9))
                    ),
                    7 => format!("{pad}s = '''\n  def x{k}():\nclass Y:'''; t = (\n# ) \"\n)\n"),
                    8 => format!("{pad}u = f\"{{a!r:>{{w}}}}\" + rb'\\\\' + \\\n  'x' # \"\n"),
                    9 => format!("{pad}v = 1 \\\n  # joined\n"),
                    10 | 11 => format!("{pad}pass\n"),
                    _ => {
                        let head = match next(7) {
                            0 => format!("class C{k}(Base):\n"),
                            1 => format!(
                                "@dec{k}\n{pad}@other(lambda x: x)\n{pad}def m{k}(self) -> int:\n"
                            ),
                            2 => format!("async def a{k}():  # head\n"),
                            3 => "if x:\n".to_string(),
                            4 => "for i in y:\n".to_string(),
                            // A `try` needs its `except`.
                            5 => format!(
                                "try:\n{pad}{}pass\n{pad}except E:\n",
                                if tabs { "\t" } else { " " }
                            ),
                            _ => format!("def f{k}(x=':'):\n"),
                        };
                        src.push_str(&pad);
                        src.push_str(&head);
                        blocks.last_mut().unwrap().1 = true;
                        let step = if tabs { 8 } else { [2, 4, 4, 8][next(4)] };
                        blocks.push((ind + step, false));
                        continue;
                    }
                };
                src.push_str(&statement);
                if !statement.trim_start().starts_with('#') && statement != "\n" {
                    blocks.last_mut().unwrap().1 = true;
                }
            }
            if let Some(&(ind, false)) = blocks.last() {
                let pad = if tabs {
                    "\t".repeat(ind / 8)
                } else {
                    " ".repeat(ind)
                };
                src.push_str(&format!("{pad}pass\n"));
            }
            same_as_tree_sitter(src.as_bytes());
        }
    }

    /// CPU time of this thread so far: the scanner runs on the caller's thread, and CPU time,
    /// unlike wall time, does not grow when the machine is busy.
    #[allow(unsafe_code)] // clock_gettime
    fn thread_cpu() -> Duration {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid, writable timespec; this clock is always supported.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        assert_eq!(rc, 0);
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }

    fn assert_fast(what: &str, src: &[u8], limit: Duration) -> Vec<SymbolDef> {
        let start = thread_cpu();
        let defs = scan_python(src);
        let spent = thread_cpu() - start;
        assert!(
            spent < limit,
            "{what}: {spent:?} of CPU for {} bytes",
            src.len()
        );
        defs
    }

    #[test]
    fn pathological_inputs_take_linear_time() {
        let limit = Duration::from_secs(1);
        // 10k-deep brackets, then a definition that must still be found.
        let mut src = format!("x = {}{}\n", "(".repeat(10_000), ")".repeat(10_000));
        src.push_str("def after(): pass\n");
        let defs = assert_fast("deep brackets", src.as_bytes(), limit);
        assert_eq!(rows(&defs), [("after", "after", Function, 2, 2, None)]);
        // A 100 kB line inside a function.
        let src = format!("def f():\n    x = [{}]\n", "1, ".repeat(33_000));
        let defs = assert_fast("long line", src.as_bytes(), limit);
        assert_eq!(rows(&defs), [("f", "f", Function, 1, 2, None)]);
        // 1 MB of nested calls over many lines.
        let mut src = String::from("def g():\n    return ");
        while src.len() < 1 << 20 {
            src.push_str("call(a, 'x', f'{b}',\n");
        }
        src.push_str(&")".repeat(src.matches('(').count()));
        src.push('\n');
        let defs = assert_fast("nested calls", src.as_bytes(), limit);
        assert_eq!(defs.len(), 1);
        assert_eq!(defs[0].end_line as usize, src.matches('\n').count());
        // 1 MB of unterminated f-string fields and quotes.
        let src = "f'{{{(['\"\n".repeat(100_000);
        assert_fast("open strings", src.as_bytes(), limit);
        // 1 MB of definitions nested as deep as the lines allow.
        let mut src = String::new();
        let mut d = 0;
        while src.len() < 1 << 20 {
            src.push_str(&" ".repeat(d));
            src.push_str("def f():\n");
            d = (d + 1) % 1000;
        }
        assert_fast("nested definitions", src.as_bytes(), limit);
    }
}
