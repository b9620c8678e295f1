//! The tokenizer of the BM25 indexes, and the format version of the per-file entries it
//! helps make. Identifiers are split on case and underscores (`parseHTTPHeader_v2` gives
//! `parse`, `http`, `header`, `v2`, and the whole `parsehttpheader_v2`), so an issue that
//! says "HTTP header parsing" meets code that says `parse_http_header`.
//!
//! The terms it finds are stored: the on-disk per-file store keeps each file's term
//! statistics, tagged with [`FORMAT_VERSION`]. A change of what it finds must bump it.

use rustc_hash::FxHashSet as HashSet;
use std::sync::OnceLock;

/// What the stored per-file entries mean: bump when this tokenizer or the definitions
/// extractor (`symbols`: the Python scanner, the tree-sitter rules) changes what it finds.
/// It tags every record of the on-disk store and the index digest, so entries of another
/// meaning are never read. 2: Python definitions from the scanner; 3: per-file store, no
/// packs.
pub(crate) const FORMAT_VERSION: u32 = 3;

/// Words too common in code and prose to say anything about a location.
const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "def", "do", "else", "for", "from", "if",
    "in", "is", "it", "not", "of", "on", "or", "self", "that", "the", "this", "to", "with",
    "return", "import", "none", "true", "false", "we", "i", "you", "but", "can", "when", "so",
    "was",
];

/// Lower-cased search terms of `text`: every identifier-like word, its parts split on case
/// changes and underscores, and the whole word when it had parts.
pub(crate) fn tokenize(text: &str, mut emit: impl FnMut(&str)) {
    tokenize_at(text, |_, t| emit(t));
}

/// [`tokenize`], giving with each term the byte offset in `text` of the word it came from.
pub(crate) fn tokenize_at(text: &str, mut emit: impl FnMut(usize, &str)) {
    let mut lower = String::new();
    words(text, |at, w| {
        word_tokens(w, &mut lower, &mut |t| emit(at, t))
    });
}

/// The identifier-like words of `text` (letters, digits, `_`) with their byte offsets.
/// ASCII is classified per byte; other characters are decoded.
pub(crate) fn words<'t>(text: &'t str, mut emit: impl FnMut(usize, &'t str)) {
    let bytes = text.as_bytes();
    let mut start = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (in_word, width) = if b.is_ascii() {
            (b.is_ascii_alphanumeric() || b == b'_', 1)
        } else {
            let c = text[i..].chars().next().expect("a character starts here");
            (c.is_alphanumeric(), c.len_utf8())
        };
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                emit(s, &text[s..i]);
                start = None;
            }
            _ => {}
        }
        i += width;
    }
    if let Some(s) = start {
        emit(s, &text[s..]);
    }
}

/// The terms of one word (see [`tokenize`]), lower-cased in `lower`.
pub(crate) fn word_tokens(word: &str, lower: &mut String, emit: &mut dyn FnMut(&str)) {
    word_terms(word, &mut |part| {
        lower.clear();
        if part.is_ascii() {
            lower.extend(part.bytes().map(|b| b.to_ascii_lowercase() as char));
        } else {
            lower.extend(part.chars().flat_map(char::to_lowercase));
        }
        if keep(lower) {
            emit(lower);
        }
    });
}

/// The parts of one word, then the word itself when it has several parts.
fn word_terms(word: &str, emit: &mut dyn FnMut(&str)) {
    let mut parts = 0;
    split_identifier(word, &mut |p| {
        parts += 1;
        emit(p);
    });
    if parts > 1 {
        emit(word);
    }
}

fn keep(term: &str) -> bool {
    static STOP_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    // Hashed once per token: a fast hash matters (FxHash, as for every map here).
    let stop = STOP_SET.get_or_init(|| STOP.iter().copied().collect());
    term.len() >= 2
        && term.len() <= 64
        && !stop.contains(term)
        && !term.bytes().all(|b| b.is_ascii_digit())
}

/// `parseHTTPHeader_v2` -> `parse`, `HTTP`, `Header`, `v2`.
fn split_identifier(word: &str, emit: &mut dyn FnMut(&str)) {
    for piece in word.split('_').filter(|p| !p.is_empty()) {
        let mut start = 0;
        let mut prev: Option<char> = None;
        let mut iter = piece.char_indices().peekable();
        while let Some((i, cur)) = iter.next() {
            if let Some(prev) = prev {
                let next_lower = iter.peek().is_some_and(|(_, n)| n.is_lowercase());
                let boundary = (prev.is_lowercase() && cur.is_uppercase())
                    || (prev.is_uppercase() && cur.is_uppercase() && next_lower);
                if boundary {
                    emit(&piece[start..i]);
                    start = i;
                }
            }
            prev = Some(cur);
        }
        emit(&piece[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        tokenize(text, |t| out.push(t.to_string()));
        out
    }

    #[test]
    fn identifiers_split_on_case_and_underscores() {
        assert_eq!(
            tokens("parseHTTPHeader_v2"),
            ["parse", "http", "header", "v2", "parsehttpheader_v2"]
        );
        assert_eq!(
            tokens("load_settings(path)"),
            ["load", "settings", "load_settings", "path"]
        );
        assert_eq!(tokens("XMLParser"), ["xml", "parser", "xmlparser"]);
    }

    #[test]
    fn words_are_classified_per_character_as_unicode_says() {
        let text = "naïve_café(Ünï) x²y ٣٤ 中文字 _a__b\u{fffd}c é\u{301}t ÀB";
        let mut reference = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
            match (c.is_alphanumeric() || c == '_', start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    reference.push((s, &text[s..i]));
                    start = None;
                }
                _ => {}
            }
        }
        let mut found = Vec::new();
        words(text, |at, w| found.push((at, w)));
        assert_eq!(found, reference);
        assert_eq!(tokens("ÀBc_dÉf"), ["à", "bc", "éf", "àbc_déf"]);
    }

    #[test]
    fn stop_words_numbers_and_single_letters_are_dropped() {
        assert_eq!(tokens("if the x is 42 then return self"), ["then"]);
    }
}
