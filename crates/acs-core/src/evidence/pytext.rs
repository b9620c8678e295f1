//! Python's semantics for the few text and number operations a feature depends on, so that
//! the engine computes the very values the shipped model was trained on (in Python):
//! `re`'s `\w` and `\s` (Unicode, as `str` patterns read them), `str.split()`,
//! `str.lower()`, `round(x, 4)`, `x ** 0.5` (the C library's `pow`, not `sqrt`: they differ
//! in the last bit for about one integer in a thousand), and `str(tuple)`, whose order
//! breaks ties between functions of equal score.

use regex::Regex;
use rustc_hash::FxHashSet;
use std::sync::LazyLock;

/// Python `re`'s `\w` for `str` patterns: `str.isalnum()` (letters and characters with a
/// numeric value) or `_`.
pub(crate) const WORD_CLASS: &str = r"[\p{L}\p{N}_]";

/// Python's `str.isspace()` (what `\s` and `str.split()` use): Unicode White_Space and the
/// four information separators U+001C..U+001F.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `len(text.split())`.
pub(crate) fn split_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_word = false;
    for c in text.chars() {
        let space = is_space(c);
        if !space && !in_word {
            count += 1;
        }
        in_word = !space;
    }
    count
}

static WORD_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("{WORD_CLASS}+")).expect("a valid pattern"));

/// `set(re.findall(r"\w+", text))`: the words of a text, for whole-word membership.
pub(crate) fn word_runs(text: &str) -> FxHashSet<&str> {
    WORD_RUN.find_iter(text).map(|m| m.as_str()).collect()
}

/// `str.lower()`: full Unicode lower-casing (`İ` becomes two characters, a final sigma `ς`).
pub(crate) fn lower(text: &str) -> String {
    text.to_lowercase()
}

/// `round(x, 4)`: the decimal nearest to the exact binary value, ties to even, read back
/// (Rust's formatting is exact and rounds ties to even, as CPython's dtoa does).
pub(crate) fn round4(x: f64) -> f64 {
    format!("{x:.4}").parse().unwrap_or(x)
}

/// `x ** 0.5` as Python computes it: the C library's `pow`. LLVM rewrites `powf(0.5)` with
/// a constant exponent into `sqrt`, which rounds differently; an opaque exponent keeps the
/// call.
pub(crate) fn pow_half(x: f64) -> f64 {
    x.powf(std::hint::black_box(0.5))
}

/// The words `acs.joiner._words` finds: ASCII words of three letters or more, identifiers
/// split where a lower-case letter or digit meets an upper-case one, lower-cased, without
/// words too generic to say which file an issue is about. Deduplicated, in order of first
/// appearance.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: FxHashSet<String> = FxHashSet::default();
    let mut keep = |word: &mut String| {
        if word.len() >= 3 && !GENERIC_PATH_WORDS.contains(&word.as_str()) && !seen.contains(word) {
            seen.insert(word.clone());
            out.push(std::mem::take(word));
        }
        word.clear();
    };
    let mut word = String::new();
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            // `re.sub(r"([a-z0-9])([A-Z])", r"\1 \2")` puts a space before such a capital.
            let split = c.is_ascii_uppercase()
                && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            if split {
                keep(&mut word);
            }
            // A word starts with a letter (`[A-Za-z][A-Za-z0-9]*`): leading digits are skipped.
            if !word.is_empty() || c.is_ascii_alphabetic() {
                word.push(c.to_ascii_lowercase());
            }
        } else {
            keep(&mut word);
        }
        prev = Some(c);
    }
    keep(&mut word);
    out
}

/// Path words too generic to say which file an issue is about.
const GENERIC_PATH_WORDS: [&str; 14] = [
    "the", "and", "for", "with", "not", "init", "core", "utils", "util", "base", "main", "models",
    "model", "types",
];

static NOT_PRINTABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\A[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]\z").expect("a valid pattern")
});

/// `repr(text)` for a `str`.
pub(crate) fn repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    let mut buf = [0u8; 4];
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            _ if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ if c.is_ascii() => out.push(c),
            _ if !NOT_PRINTABLE.is_match(c.encode_utf8(&mut buf)) => out.push(c),
            _ if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            _ => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// `str((a, b))` for two strings: how Python orders tuple keys once made text.
pub(crate) fn pair_repr(a: &str, b: &str) -> String {
    format!("({}, {})", repr(a), repr(b))
}

/// The code an issue quotes, one piece a line: the lines of fenced blocks (```` ``` ```` or
/// `~~~`), interactive lines (`>>> `, `... `), and `inline` spans of the other lines.
pub(crate) fn quoted_code(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced || trimmed.starts_with(">>> ") || trimmed.starts_with("... ") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // Between odd and even backticks: `a` b `c` quotes a and c (not an unclosed `d).
        let pieces: Vec<&str> = line.split('`').collect();
        let closed = pieces.len() - usize::from(pieces.len() % 2 == 0);
        for piece in pieces[..closed].iter().skip(1).step_by(2) {
            out.push_str(piece);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_identifiers_as_the_joiner_does() {
        assert_eq!(
            words("renderWidget HTTPServer a1B2c"),
            ["render", "widget", "httpserver", "b2c"]
        );
        assert_eq!(words("9abc x_yz init utils Base"), ["abc"]);
        assert_eq!(words("getURLFor é naïve"), ["get", "urlfor"]);
    }

    #[test]
    fn split_counts_python_whitespace() {
        assert_eq!(split_count("  a b\u{1c}c\u{a0}d  "), 4);
        assert_eq!(split_count(""), 0);
    }

    #[test]
    fn round4_rounds_ties_to_even_on_the_exact_value() {
        assert_eq!(round4(0.03125), 0.0312);
        assert_eq!(round4(0.09375), 0.0938);
        assert_eq!(round4(0.12345), 0.1235);
        assert_eq!(round4(1.0 / 3.0), 0.3333);
    }

    #[test]
    fn repr_quotes_and_escapes_as_python() {
        assert_eq!(repr("a'b"), "\"a'b\"");
        assert_eq!(repr("a'b\""), "'a\\'b\"'");
        assert_eq!(
            repr("t\\\n\u{1}\u{a0}é\u{200b}"),
            "'t\\\\\\n\\x01\\xa0é\\u200b'"
        );
        assert_eq!(pair_repr("p.py", "f"), "('p.py', 'f')");
    }

    #[test]
    fn word_runs_are_python_word_characters() {
        let runs = word_runs("a_b-c² d\u{345}e");
        assert!(runs.contains("a_b") && runs.contains("c²") && runs.contains("d"));
        assert!(runs.contains("e"));
    }

    #[test]
    fn quoted_code_is_fences_interactive_lines_and_closed_inline_spans() {
        let issue = "Prose names f.\n```py\ng(1)\n```\n>>> h()\nsee `i` and `j`, not `k\n";
        let code = quoted_code(issue);
        let words = word_runs(&code);
        for name in ["g", "h", "i", "j"] {
            assert!(words.contains(name), "{name} in {code:?}");
        }
        assert!(!words.contains("f") && !words.contains("k"), "{code:?}");
    }
}
