//! The learned ranker at inference: the feature rows of a search's candidates, the two tree
//! ensembles (files, then functions, whose rows include their file's score), probabilities
//! calibrated on held-out training folds, and the confident set (the threshold that
//! maximised F0.5 there). Nothing crosses into Python per candidate.

use super::candidates::FnId;
use super::columns::{FILE_FEATURES, FUNCTION_FEATURES};
use super::features;
use super::joiner::{by_score, function_label, merge_lines, Ranked, Ranking};
use super::pytext::round4;
use super::Search;
use crate::TreeEnsemble;
use crate::{Error, Result};
use std::borrow::Cow;
use std::sync::Arc;

/// A model's calibration at one level: P(edited) = sigmoid(a * s + b * (s - best) + c) of
/// a raw score `s`, and the probability from which an item is confident.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// The coefficients (a, b, c).
    pub coefficients: [f64; 3],
    /// The confident set's threshold on the (rounded) probability.
    pub threshold: f64,
}

/// The shipped ranker: two ensembles, each reading some of [`FILE_FEATURES`] or
/// [`FUNCTION_FEATURES`] by name, and their calibrations. Cheap to share.
#[derive(Debug, Clone)]
pub struct LearnedRanker {
    files: Arc<TreeEnsemble>,
    functions: Arc<TreeEnsemble>,
    file_columns: Columns,
    function_columns: Columns,
    file_calibration: Calibration,
    function_calibration: Calibration,
}

/// Which of the engine's columns a model reads, in the model's order: the engine computes
/// a superset of what any one model reads, so a model trained before a feature was added
/// keeps working. `None`: all of them, in the engine's order (nothing to copy).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Columns(Option<Vec<usize>>);

impl Columns {
    /// The columns of `model`'s features among `names`, or [`Error::InvalidArgument`]
    /// naming the first feature this engine does not compute (a model is never silently
    /// misread).
    fn of(model: &TreeEnsemble, names: &[&str], level: &str) -> Result<Columns> {
        let wanted = model.feature_names();
        if wanted.iter().map(String::as_str).eq(names.iter().copied()) {
            return Ok(Columns(None));
        }
        let index: rustc_hash::FxHashMap<&str, usize> =
            names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        wanted
            .iter()
            .map(|name| {
                index.get(name.as_str()).copied().ok_or_else(|| {
                    let short: String = name.chars().take(40).collect();
                    Error::InvalidArgument(format!(
                        "ranker model: the {level} model reads the feature {short:?}, which this \
                         acs does not compute"
                    ))
                })
            })
            .collect::<Result<Vec<usize>>>()
            .map(|columns| Columns(Some(columns)))
    }

    /// The model's rows, from rows of `width` engine columns.
    fn select<'a>(&self, rows: &'a [f64], width: usize) -> Cow<'a, [f64]> {
        let Some(columns) = &self.0 else {
            return Cow::Borrowed(rows);
        };
        let mut out = Vec::with_capacity(rows.len() / width.max(1) * columns.len());
        for row in rows.chunks_exact(width) {
            out.extend(columns.iter().map(|&c| row[c]));
        }
        Cow::Owned(out)
    }
}

impl LearnedRanker {
    /// A ranker of two ensembles whose features are among this engine's, found by name
    /// (else [`Error::InvalidArgument`]: a model is never silently misread).
    pub fn new(
        files: Arc<TreeEnsemble>,
        functions: Arc<TreeEnsemble>,
        file_calibration: Calibration,
        function_calibration: Calibration,
    ) -> Result<LearnedRanker> {
        let file_columns = Columns::of(&files, &FILE_FEATURES, "file")?;
        let function_columns = Columns::of(&functions, &FUNCTION_FEATURES, "function")?;
        Ok(LearnedRanker {
            files,
            functions,
            file_columns,
            function_columns,
            file_calibration,
            function_calibration,
        })
    }

    /// The best `top_k` files and `top_k_functions` functions of `search`.
    pub(crate) fn rank(&self, s: &Search, top_k: usize, top_k_functions: usize) -> Result<Ranking> {
        let c = &s.cands;
        let (file_keys, rows) = features::file_rows(s);
        let rows = self.file_columns.select(&rows, FILE_FEATURES.len());
        let raw = self.files.predict(&rows, file_keys.len())?;
        let probs = calibrated(&raw, &self.file_calibration.coefficients);
        let mut order: Vec<usize> = (0..raw.len()).collect();
        order.sort_by(|&a, &b| {
            by_score(raw[a], raw[b], || {
                c.path(file_keys[a]).cmp(c.path(file_keys[b]))
            })
        });
        let mut files: Vec<Ranked<u32>> = order
            .iter()
            .take(top_k)
            .map(|&i| Ranked {
                key: file_keys[i],
                score: round4(probs[i]),
                confident: false,
            })
            .collect();
        mark_confident(&mut files, self.file_calibration.threshold);

        let file_scores: Vec<(&str, f64)> = file_keys
            .iter()
            .zip(&raw)
            .map(|(&f, &score)| (c.path(f), score))
            .collect();
        let (fn_keys, rows) = features::function_rows(s, &file_scores);
        let rows = self.function_columns.select(&rows, FUNCTION_FEATURES.len());
        let raw = self.functions.predict(&rows, fn_keys.len())?;
        let probs = calibrated(&raw, &self.function_calibration.coefficients);
        let mut order: Vec<usize> = (0..raw.len()).collect();
        let key = |f: FnId| (c.path(c.function_file(f)), c.function_name(f));
        order.sort_by(|&a, &b| by_score(raw[a], raw[b], || key(fn_keys[a]).cmp(&key(fn_keys[b]))));
        let mut functions: Vec<Ranked<FnId>> = order
            .iter()
            .take(top_k_functions)
            .map(|&i| Ranked {
                key: fn_keys[i],
                score: round4(probs[i]),
                confident: false,
            })
            .collect();
        mark_confident(&mut functions, self.function_calibration.threshold);

        let confident_files: Vec<u32> = files
            .iter()
            .filter(|f| f.confident)
            .map(|f| f.key)
            .collect();
        let mut lines: Vec<(u32, i64, i64)> = functions
            .iter()
            .filter(|f| f.confident)
            .map(|f| {
                let span = &c.features.spans[&f.key];
                (c.function_file(f.key), span.start, span.end)
            })
            .collect();
        for (&file, spans) in &c.joiner.lines {
            if confident_files.contains(&file) {
                lines.extend(spans.iter().take(5).map(|&(a, b)| (file, a, b)));
            }
        }
        let reasons = &s.hand_all().why;
        let mut why = super::candidates::Ordered::<String, String>::default();
        for f in &files {
            let neighbour = c.neighbours.get(&f.key).map(|(_, text)| text);
            if let Some(reason) = reasons.get(c.path(f.key)).or(neighbour) {
                why.insert(c.path(f.key).to_string(), reason.clone());
            }
        }
        for f in &functions {
            let label = function_label(c, f.key);
            if let Some(reason) = reasons.get(&label) {
                why.insert(label, reason.clone());
            }
        }
        Ok(Ranking {
            files,
            functions,
            lines: merge_lines(lines),
            why,
        })
    }
}

/// `1 / (1 + e^-x)`, computed on the side where the exponential cannot overflow.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// P(edited) of each of a query's raw scores (`acs.rank.calibration.calibrated`).
pub fn calibrated(scores: &[f64], coefficients: &[f64; 3]) -> Vec<f64> {
    let Some(&first) = scores.first() else {
        return Vec::new();
    };
    let best = scores.iter().fold(first, |m, &s| if s > m { s } else { m });
    let [a, b, c] = *coefficients;
    scores
        .iter()
        .map(|&s| sigmoid(a * s + b * (s - best) + c))
        .collect()
}

/// The set chosen for precision: scores at or above the threshold, and at least the first
/// item (an empty answer has no precision at all).
fn mark_confident<K>(items: &mut [Ranked<K>], threshold: f64) {
    for (i, item) in items.iter_mut().enumerate() {
        item.confident = i == 0 || item.score >= threshold;
    }
}
