//! The hand joiner's weights of each kind of evidence (tuned on the development set by
//! coordinate descent; `acs.joiner`'s docstring tells how), and its confident cuts.

pub(crate) const W_BM25_FILE: f64 = 1.0;
pub(crate) const W_BM25_FUNCTION: f64 = 1.1;
pub(crate) const W_PATH: f64 = 1.25;
pub(crate) const W_FRAME: f64 = 0.7;
pub(crate) const W_SYMBOL: f64 = 1.5;
pub(crate) const W_STRING: f64 = 2.0;
pub(crate) const W_DRILL: f64 = 0.5;
/// BM25 of the title alone: a second opinion the body's code and logs cannot drown.
pub(crate) const W_TITLE_FILE: f64 = 0.6;
pub(crate) const W_TITLE_FUNCTION: f64 = 0.6;
/// The share of a function's evidence its file receives.
pub(crate) const W_FUNCTION_TO_FILE: f64 = 0.5;
/// The definition around a found message (a share of `W_STRING`).
pub(crate) const W_STRING_FUNCTION: f64 = 0.1;
/// A user of the definition or constant that holds a quoted message.
pub(crate) const W_CALLER: f64 = 1.0;
/// A near miss of a name is weaker than the name itself.
pub(crate) const W_FUZZY: f64 = 0.6;
/// The words in a candidate file's name.
pub(crate) const W_PATH_WORDS: f64 = 0.8;
/// Tests, docs, examples and vendored code, unless the issue names a test.
pub(crate) const DOWNWEIGHT: f64 = 0.06;
/// Prose, data and configuration.
pub(crate) const NON_SOURCE: f64 = 0.3;
/// How much a function's score follows its file's.
pub(crate) const FILE_SHARE: f64 = 0.5;

/// The confident set: what scores at least this share of the best file (function).
pub const CUT: f64 = 0.35;
/// The same for functions.
pub const FN_CUT: f64 = 0.35;
