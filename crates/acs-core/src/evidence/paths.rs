//! What a candidate file's path says: its words (against the issue's), and what kind of
//! file it is (test, auxiliary, source). The patterns are `acs.joiner`'s and
//! `acs.rank.features`' regular expressions, with Python's `$` (end, or before a final
//! newline) and `\w` spelled out.

use super::pytext::{self, WORD_CLASS};
use regex::Regex;
use rustc_hash::FxHashSet;
use std::sync::LazyLock;

/// Python's `$` without MULTILINE: the end, or just before a newline that ends the text.
const END: &str = r"\n?\z";

/// Tests, docs, examples, benchmarks, vendored code.
static AUXILIARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:^|/)(?:tests?|testing|test[-_]data|testdata|fixtures|docs?|examples?|benchmarks?|vendor|vendored|third_party|_vendor|typeshed|website)(?:/|{END})|(?:^|/)test_[^/]*{END}|_tests?\.{WORD_CLASS}+{END}|(?:^|/)conftest\.py{END}"
    ))
    .expect("a valid pattern")
});

/// Source code a fix edits; prose, data and configuration rarely are the fix. Case-blind as
/// Python's `re.I`, which also takes `İ` and `ı` for `i`.
static SOURCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\.(?:py|pyx|pxd|js|jsx|mjs|ts|tsx|go|rs|java|kt|scala|c|cc|cpp|cxx|h|hh|hpp|cs|rb|php|sw[iİı]ft|m|mm|lua|sh|r|jl|ex|exs|erl|hs|ml|clj|dart|vue|svelte){END}"
    ))
    .expect("a valid pattern")
});

/// Test files (the ranker's `is_test`: narrower than auxiliary).
static TEST_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:^|/)(?:tests?|testing)(?:/|{END})|(?:^|/)test_[^/]*{END}|_tests?\.{WORD_CLASS}+{END}|(?:^|/)conftest\.py{END}"
    ))
    .expect("a valid pattern")
});

/// The issue is about tests when it names a test file or a test function.
static TEST_MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?:^|[\s\x1C-\x1F/`'"(])(?:tests?/|test_{WORD_CLASS}+|{WORD_CLASS}+_test\.{WORD_CLASS}+|conftest\.py)"#
    ))
    .expect("a valid pattern")
});

pub(crate) fn is_auxiliary(path: &str) -> bool {
    AUXILIARY.is_match(path)
}

pub(crate) fn is_source(path: &str) -> bool {
    SOURCE.is_match(path)
}

pub(crate) fn is_test(path: &str) -> bool {
    TEST_PATH.is_match(path)
}

pub(crate) fn mentions_tests(issue: &str) -> bool {
    TEST_MENTION.is_match(issue)
}

/// A candidate file's words: of its name, and of its whole path (`acs.joiner.path_words`),
/// and what kind of file it is.
#[derive(Debug, Clone)]
pub(crate) struct PathFacts {
    pub(crate) name_words: Vec<String>,
    pub(crate) path_words: Vec<String>,
    pub(crate) auxiliary: bool,
    pub(crate) source: bool,
    pub(crate) test: bool,
}

impl PathFacts {
    pub(crate) fn of(path: &str) -> PathFacts {
        let stem = path.rsplit_once('.').map_or(path, |(stem, _)| stem);
        let name = stem.rsplit_once('/').map_or(stem, |(_, name)| name);
        PathFacts {
            name_words: pytext::words(name),
            path_words: pytext::words(&stem.replace('/', " ")),
            auxiliary: is_auxiliary(path),
            source: is_source(path),
            test: is_test(path),
        }
    }

    /// `len(name & words) / max(1, len(name))`: the share of the file's name the issue says.
    pub(crate) fn name_share(&self, words: &FxHashSet<String>) -> f64 {
        share(&self.name_words, words)
    }

    /// `acs.joiner._path_overlap`: how much of a file's name (and, less, of its folders)
    /// the issue's words cover.
    pub(crate) fn overlap(&self, words: &FxHashSet<String>) -> f64 {
        let common = self
            .path_words
            .iter()
            .filter(|w| words.contains(*w))
            .count();
        self.name_share(words) + 0.3 * common as f64 / self.path_words.len().max(1) as f64
    }
}

/// `len(a & words) / max(1, len(a))` for a deduplicated `a`.
pub(crate) fn share(a: &[String], words: &FxHashSet<String>) -> f64 {
    let common = a.iter().filter(|w| words.contains(*w)).count();
    common as f64 / a.len().max(1) as f64
}

/// The file name without its extension (`path.rsplit("/", 1)[-1].rsplit(".", 1)[0]`).
pub(crate) fn file_stem(path: &str) -> &str {
    let name = path.rsplit_once('/').map_or(path, |(_, name)| name);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_files() {
        assert!(
            is_auxiliary("pkg/tests/x.py") && is_auxiliary("docs") && is_auxiliary("a_test.py")
        );
        assert!(is_auxiliary("pkg/tests\n") && !is_auxiliary("pkg/testsuite/x.py"));
        assert!(is_source("a/b.PY") && is_source("a.swİft") && !is_source("a.md"));
        assert!(is_source("a.py\n") && !is_source("a.py\n\n"));
        assert!(is_test("test_x.py") && !is_test("docs/x.py"));
    }

    #[test]
    fn test_mentions() {
        assert!(mentions_tests("see tests/foo") && mentions_tests("(test_foo fails"));
        assert!(mentions_tests("x\u{1c}foo_test.py") && !mentions_tests("latest_foo"));
        assert!(!mentions_tests("mytests/ here"));
    }

    #[test]
    fn path_words_and_stems() {
        let facts = PathFacts::of("pkg/io/render_widget.py");
        assert_eq!(facts.name_words, ["render", "widget"]);
        assert_eq!(facts.path_words, ["pkg", "render", "widget"]);
        assert_eq!(file_stem("a.b/c.tar.gz"), "c.tar");
        assert_eq!(PathFacts::of("a.b/c").name_words, Vec::<String>::new());
    }
}
