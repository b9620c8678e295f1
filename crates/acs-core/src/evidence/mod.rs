//! Evidence: the one reader of a search's tool outcomes, and the rankings made from it.
//!
//! A search (an issue and the successful tool calls a policy made for it) is read once, in
//! order ([`Search::from_json`]), into its candidates (every file and definition a tool
//! surfaced) and two readings of what the tools said about each: the hand joiner's
//! weighted sums, and the learned ranker's raw feature values. From them:
//!
//! * [`Search::hand_ranking`]: the hand-weighted joiner's ranked files, functions, line
//!   ranges and reasons (`acs.joiner.rank`; the `hand` policy, and the default without a
//!   model);
//! * [`Search::file_table`], [`Search::function_table`]: the feature rows the tree models
//!   read, in the column order of [`FILE_FEATURES`] and [`FUNCTION_FEATURES`] (training
//!   reads these);
//! * [`Search::learned_ranking`]: the same rows predicted by a [`LearnedRanker`]'s
//!   [`TreeEnsemble`](crate::TreeEnsemble)s, calibrated, and ranked (the default policy).
//!
//! The features were defined in Python first, and the shipped model was trained on what
//! Python computed, so every operation here is Python's to the bit: float sums in the
//! order evidence arrived, `x ** 0.5` through the C library's `pow`, `round(x, 4)`, `re`'s
//! Unicode `\w` and `\s`, ties broken as Python's sorts break them (`pytext.rs`).
//! `tests/test_evidence_identity.py` holds the proof: the tables and rankings of recorded
//! searches against the Python code this replaced.
//!
//! ```
//! use acs_core::evidence::{Search, FILE_FEATURES};
//!
//! let search = Search::from_json(br#"{"issue": "render_widget fails", "title": "render_widget fails",
//!     "identifiers": ["render_widget"], "frames": [],
//!     "outcomes": [["symbols", {"name": "render_widget"}, {"symbols": [
//!         {"path": "pkg/widget.py", "name": "render_widget", "qualified_name": "render_widget",
//!          "kind": "function", "start_line": 3, "end_line": 9}]}]]}"#).unwrap();
//! let ranked = search.hand_ranking(10, 20);
//! assert_eq!(ranked.files[0].path, "pkg/widget.py");
//! assert_eq!(ranked.functions[0].name, "render_widget");
//! let table = search.file_table();
//! assert_eq!(table.keys, ["pkg/widget.py"]);
//! assert_eq!(table.width, FILE_FEATURES.len());
//! ```

mod candidates;
mod columns;
mod features;
mod input;
mod joiner;
mod paths;
mod pytext;
mod ranker;
mod weights;

pub use columns::{FEATURES_VERSION, FILE_FEATURES, FUNCTION_FEATURES, FUNCTION_FILES};
pub use features::FeatureTable;
pub use ranker::{calibrated, Calibration, LearnedRanker};
pub use weights::{CUT, FN_CUT};

use crate::Result;
use candidates::{Candidates, FileId, FnId, Span};
use input::{Frame, Input};
use paths::PathFacts;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::sync::OnceLock;

/// What the readers need of the issue, computed once.
#[derive(Debug)]
pub(crate) struct IssueFacts {
    text: String,
    title: String,
    identifiers: Vec<String>,
    /// An identifier's place in the issue (a later repeat wins, as in a Python dict).
    identifier_rank: FxHashMap<String, usize>,
    frames: Vec<Frame>,
    /// Functions of the stack trace.
    frame_functions: FxHashSet<String>,
    /// The issue's words (`acs.joiner._words`).
    words: FxHashSet<String>,
    /// The issue names a test file or function.
    mentions_tests: bool,
    /// The code the issue quotes (fenced blocks, inline code, `>>>` lines), one piece a line.
    code: String,
}

impl IssueFacts {
    fn new(input: &Input<'_>) -> IssueFacts {
        let identifier_rank = input
            .identifiers
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), i))
            .collect();
        let frame_functions = input
            .frames
            .iter()
            .filter_map(|f| f.2.clone())
            .filter(|f| !f.is_empty())
            .collect();
        IssueFacts {
            words: pytext::words(&input.issue).into_iter().collect(),
            mentions_tests: paths::mentions_tests(&input.issue),
            code: pytext::quoted_code(&input.issue),
            text: input.issue.clone(),
            title: input.title.clone(),
            identifiers: input.identifiers.clone(),
            identifier_rank,
            frames: input.frames.clone(),
            frame_functions,
        }
    }
}

/// One search's candidates and evidence, read once; every ranking and table is computed
/// from it. Immutable (the joiner's ranking of every candidate, which the features read,
/// is computed once, on first use) and safe to share between threads.
#[derive(Debug)]
pub struct Search {
    issue: IssueFacts,
    cands: Candidates,
    /// What each candidate file's path says, by file id.
    facts: Vec<PathFacts>,
    hand_all: OnceLock<joiner::Ranking>,
}

impl Search {
    /// Read a search given as JSON: the issue, its title, identifiers and stack frames (as
    /// `acs.issue.parse_issue` found them) and the successful tool calls, in order, each
    /// `[tool, arguments, result]`:
    ///
    /// `{"issue": str, "title": str, "identifiers": [str], "frames": [[path, line,
    /// function or null]], "outcomes": [[tool, {arguments}, {result}]]}`
    ///
    /// Tools other than `bm25`, `symbols`, `find_files`, `references`, `grep` and `outline`
    /// are skipped. A result that lacks what its tool always returns is
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn from_json(json: &[u8]) -> Result<Search> {
        let input = Input::parse(json)?;
        let issue = IssueFacts::new(&input);
        let cands = Candidates::read(&issue, &input)?;
        let facts = cands.paths.iter().map(|p| PathFacts::of(p)).collect();
        Ok(Search {
            issue,
            cands,
            facts,
            hand_all: OnceLock::new(),
        })
    }

    /// How many candidate files and definitions the search surfaced.
    pub fn candidates(&self) -> (usize, usize) {
        (
            self.cands.features.files.len(),
            self.cands.features.functions.len(),
        )
    }

    /// The joiner's ranking of every candidate: its scores and ranks are features.
    fn hand_all(&self) -> &joiner::Ranking {
        self.hand_all.get_or_init(|| {
            let (files, functions) = self.candidates();
            joiner::rank(
                &self.issue,
                &self.cands,
                &self.facts,
                files.max(1),
                functions.max(1),
            )
        })
    }

    /// The hand-weighted joiner's best `top_k` files and `top_k_functions` functions, each
    /// scored relative to the best of its list, the confident sets (at least [`CUT`] of
    /// the best score), their line ranges, and why each item is there.
    pub fn hand_ranking(&self, top_k: usize, top_k_functions: usize) -> Answer {
        let ranking = joiner::rank(
            &self.issue,
            &self.cands,
            &self.facts,
            top_k,
            top_k_functions,
        );
        self.answer(ranking, &self.cands.joiner.spans)
    }

    /// The learned ranker's best `top_k` files and `top_k_functions` functions, each with
    /// its calibrated probability of being edited.
    pub fn learned_ranking(
        &self,
        ranker: &LearnedRanker,
        top_k: usize,
        top_k_functions: usize,
    ) -> Result<Answer> {
        let ranking = ranker.rank(self, top_k, top_k_functions)?;
        Ok(self.answer(ranking, &self.cands.features.spans))
    }

    /// The candidate files and their rows of [`FILE_FEATURES`], in path order.
    pub fn file_table(&self) -> FeatureTable<String> {
        let (keys, values) = features::file_rows(self);
        FeatureTable {
            keys: keys
                .iter()
                .map(|&f| self.cands.path(f).to_string())
                .collect(),
            values,
            width: FILE_FEATURES.len(),
        }
    }

    /// The function candidates of the [`FUNCTION_FILES`] best files by `file_scores` (the
    /// file model's scores of the candidate files) and their rows of
    /// [`FUNCTION_FEATURES`], in (path, qualified name) order. A path named twice counts
    /// once, with its last score.
    pub fn function_table(&self, file_scores: &[(&str, f64)]) -> FeatureTable<(String, String)> {
        let mut unique: FxHashMap<&str, usize> = FxHashMap::default();
        let mut scores: Vec<(&str, f64)> = Vec::with_capacity(file_scores.len());
        for &(path, score) in file_scores {
            match unique.get(path) {
                Some(&i) => scores[i].1 = score,
                None => {
                    unique.insert(path, scores.len());
                    scores.push((path, score));
                }
            }
        }
        let (keys, values) = features::function_rows(self, &scores);
        FeatureTable {
            keys: keys.iter().map(|&f| self.function_key(f)).collect(),
            values,
            width: FUNCTION_FEATURES.len(),
        }
    }

    fn function_key(&self, function: FnId) -> (String, String) {
        let c = &self.cands;
        (
            c.path(c.function_file(function)).to_string(),
            c.function_name(function).to_string(),
        )
    }

    /// A ranking named for the caller; functions take their kind and lines from `spans`.
    fn answer(&self, ranking: joiner::Ranking, spans: &FxHashMap<FnId, Span>) -> Answer {
        let c = &self.cands;
        let path = |f: FileId| c.path(f).to_string();
        Answer {
            files: ranking
                .files
                .iter()
                .map(|r| RankedFile {
                    path: path(r.key),
                    score: r.score,
                    confident: r.confident,
                })
                .collect(),
            functions: ranking
                .functions
                .iter()
                .map(|r| {
                    let span = &spans[&r.key];
                    RankedFunction {
                        path: path(c.function_file(r.key)),
                        name: c.function_name(r.key).to_string(),
                        kind: c.kind(span).to_string(),
                        start_line: span.start,
                        end_line: span.end,
                        score: r.score,
                        confident: r.confident,
                    }
                })
                .collect(),
            lines: ranking
                .lines
                .iter()
                .map(|&(f, start, end)| LineRange {
                    path: path(f),
                    start,
                    end,
                })
                .collect(),
            why: ranking.why.into_iter().collect(),
        }
    }
}

/// A ranked file: `score` in [0, 1] (rounded to 4 decimals), and whether it is in the
/// confident set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedFile {
    /// Its repository path.
    pub path: String,
    /// Higher is likelier to be edited.
    pub score: f64,
    /// In the set chosen for precision.
    pub confident: bool,
}

/// A ranked definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedFunction {
    /// Its file.
    pub path: String,
    /// Its qualified name.
    pub name: String,
    /// `function`, `method`, `class`, ...
    pub kind: String,
    /// Its first line (1-based).
    pub start_line: i64,
    /// Its last line.
    pub end_line: i64,
    /// Higher is likelier to be edited.
    pub score: f64,
    /// In the set chosen for precision.
    pub confident: bool,
}

/// Lines of a file the answer points at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineRange {
    /// The file.
    pub path: String,
    /// First line.
    pub start: i64,
    /// Last line.
    pub end: i64,
}

/// A ranking as `localize` returns it (`why` holds every item's reason, by path or
/// `path:name`; the caller keeps those it shows).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Files, best first.
    pub files: Vec<RankedFile>,
    /// Functions, best first.
    pub functions: Vec<RankedFunction>,
    /// Line ranges of the confident functions and files, merged.
    pub lines: Vec<LineRange>,
    /// Why each item is there, in words, in ranking order (files first).
    pub why: Vec<(String, String)>,
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        struct Why<'a>(&'a [(String, String)]);
        impl Serialize for Why<'_> {
            fn serialize<S: Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0 {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("files", &self.files)?;
        map.serialize_entry("functions", &self.functions)?;
        map.serialize_entry("lines", &self.lines)?;
        map.serialize_entry("why", &Why(&self.why))?;
        map.end()
    }
}
