//! The features' names, in the column order the shipped model was trained with, and the
//! version of their meaning. A column is found by its name at compile time (`fc!`, `nc!`),
//! so a misspelt name fails the build.

/// The version of the features' meaning: a model trained on another version is refused.
/// Bump it whenever a feature changes meaning, not when the code that computes it moves.
pub const FEATURES_VERSION: u32 = 1;

/// Function candidates come from this many of the best files (the default planner outlines
/// them all). On the development set, every gold function of an issue is among the
/// candidates of the best 10 files, outlined, in 66.4% of issues, of the best 20 in 75.8%;
/// but 20 nearly doubles a warm localize (standard library p50 17 -> 32 ms) and the shipped
/// model, trained on the old candidates, gains nothing from them: 10 until a model trained
/// on the wider candidates shows the gain that pays for it.
pub const FUNCTION_FILES: usize = 10;

/// The columns of a file row (a model reads those it was trained on, by name).
pub const FILE_FEATURES: [&str; 48] = [
    "bm25_issue_norm",
    "bm25_issue_rank",
    "bm25_issue_raw",
    "bm25_title_norm",
    "bm25_title_rank",
    "bm25_title_raw",
    "fn_bm25_issue_max",
    "fn_bm25_issue_best_rank",
    "fn_bm25_issue_hits",
    "fn_bm25_title_max",
    "fn_bm25_title_best_rank",
    "fn_bm25_title_hits",
    "drill_max",
    "sym_hits",
    "sym_specificity",
    "sym_ident_rank",
    "sym_weight",
    "sym_frame",
    "sym_fuzzy",
    "path_score",
    "path_top",
    "frame_hits",
    "grep_hits",
    "grep_specificity",
    "caller_hits",
    "caller_weight",
    "name_share",
    "dir_share",
    "stem_in_issue",
    "is_test",
    "is_auxiliary",
    "is_source",
    "is_init",
    "depth",
    "function_candidates",
    "hand_norm",
    "hand_rank",
    "issue_mentions_tests",
    "issue_words",
    "issue_identifiers",
    "issue_frames",
    "candidates",
    // Added after the shipped model (which reads the columns above, by name): the import
    // graph around the best files (the `imports` tool, asked in the file ranker's order).
    "import_hits",
    "import_best_rank",
    "imported_by_best",
    "imports_best",
    "neighbour_bm25_raw",
    "neighbour_bm25_rank",
];

/// The columns of a function row. A model reads those it was trained on, by name, so new
/// columns go at the end and an old model keeps working.
pub const FUNCTION_FEATURES: [&str; 35] = [
    "bm25_issue_norm",
    "bm25_issue_rank",
    "bm25_title_norm",
    "bm25_title_rank",
    "drill_norm",
    "drill_rank",
    "sym_specificity",
    "sym_ident_rank",
    "sym_frame",
    "sym_fuzzy",
    "qualified_in_issue",
    "name_in_issue",
    "name_share",
    "caller_weight",
    "grep_hits",
    "outlined",
    "is_method",
    "is_class",
    "is_private",
    "is_dunder",
    "span_lines",
    "file_score",
    "file_rank",
    "file_is_test",
    "file_is_auxiliary",
    "file_functions",
    "hand_norm",
    "hand_rank",
    "issue_words",
    "candidates",
    // Added after the shipped model (which reads the columns above, by name):
    "frame_function",
    "in_quoted_code",
    "identifier_rank",
    "class_in_issue",
    "rank_in_file",
];

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The column of `name` in `names`; a name that is not there fails the build (the callers
/// evaluate it in a `const` block).
pub(crate) const fn column(names: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < names.len() {
        if same(names[i], name) {
            return i;
        }
        i += 1;
    }
    panic!("not a feature name")
}

/// The column of a file feature, found at compile time.
macro_rules! fc {
    ($name:literal) => {
        const { $crate::evidence::columns::column(&$crate::evidence::columns::FILE_FEATURES, $name) }
    };
}
/// The column of a function feature, found at compile time.
macro_rules! nc {
    ($name:literal) => {
        const {
            $crate::evidence::columns::column(
                &$crate::evidence::columns::FUNCTION_FEATURES,
                $name,
            )
        }
    };
}
pub(crate) use {fc, nc};
