//! The hand joiner's score (`acs.joiner.rank`): the evidence of a search summed with
//! weights tuned on the development set, files ranked, the confident set cut at a share of
//! the best score, functions of the confident files ranked, and the line ranges of both.
//! The learned ranker reads this ranking too: its scores and ranks are features.

use super::candidates::{Candidates, FileId, FnId, Ordered, Span};
use super::paths::PathFacts;
use super::pytext::round4;
use super::IssueFacts;
use rustc_hash::FxHashMap;
use std::cmp::Ordering;

use super::weights::*;

/// `-x` as a sort key that orders like Python's `sorted(key=-x)`: -0.0 equals 0.0 there.
pub(crate) fn descending(x: f64) -> f64 {
    -x + 0.0
}

/// Compare by descending score, then by `tie`.
pub(crate) fn by_score(a: f64, b: f64, tie: impl FnOnce() -> Ordering) -> Ordering {
    descending(a).total_cmp(&descending(b)).then_with(tie)
}

/// An item of a ranked list: its score (rounded as returned) and whether it is confident.
#[derive(Debug, Clone)]
pub(crate) struct Ranked<K> {
    pub(crate) key: K,
    pub(crate) score: f64,
    pub(crate) confident: bool,
}

/// A ranking of one search, before it is named for the caller.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ranking {
    pub(crate) files: Vec<Ranked<FileId>>,
    pub(crate) functions: Vec<Ranked<FnId>>,
    /// (file, start, end), merged.
    pub(crate) lines: Vec<(FileId, i64, i64)>,
    /// Why each item is there: by path, or by `path:name`.
    pub(crate) why: Ordered<String, String>,
}

/// The joiner's confident rule: at least `cut` of the best score, and above zero.
fn confident(scores: &[f64], cut: f64) -> Vec<bool> {
    let Some(&best) = scores.first() else {
        return Vec::new();
    };
    let floor = cut * best;
    scores.iter().map(|&s| s >= floor && s > 0.0).collect()
}

/// Overlapping or touching ranges of one file become one, in order of their first range.
pub(crate) fn merge_lines(
    spans: impl IntoIterator<Item = (FileId, i64, i64)>,
) -> Vec<(FileId, i64, i64)> {
    let mut out: Vec<(FileId, i64, i64)> = Vec::new();
    for (file, start, end) in spans {
        let kept = out.iter_mut().find(|k| {
            k.0 == file && start <= k.2.saturating_add(1) && k.1 <= end.saturating_add(1)
        });
        match kept {
            Some(kept) => {
                kept.1 = kept.1.min(start);
                kept.2 = kept.2.max(end);
            }
            None => out.push((file, start, end)),
        }
    }
    out
}

/// The `path:name` a function's reason is filed under.
pub(crate) fn function_label(c: &Candidates, function: FnId) -> String {
    format!(
        "{}:{}",
        c.path(c.function_file(function)),
        c.function_name(function)
    )
}

/// The best `top_k` files and `top_k_functions` functions of the joiner's evidence.
pub(crate) fn rank(
    issue: &IssueFacts,
    c: &Candidates,
    facts: &[PathFacts],
    top_k: usize,
    top_k_functions: usize,
) -> Ranking {
    let ev = &c.joiner;
    let mut files: Ordered<FileId, f64> = ev.files.clone();
    // A function's evidence is also evidence for its file.
    for (&function, &s) in &ev.functions {
        let file = c.function_file(function);
        let sum = files.get(&file).copied().unwrap_or(0.0) + W_FUNCTION_TO_FILE * s;
        files.insert(file, sum);
    }
    let mut overlaps: FxHashMap<FileId, f64> = FxHashMap::default();
    for (file, score) in files.iter_mut() {
        let overlap = W_PATH_WORDS * facts[*file as usize].overlap(&issue.words);
        *score += overlap;
        overlaps.insert(*file, overlap);
    }
    for (file, score) in files.iter_mut() {
        let facts = &facts[*file as usize];
        if facts.auxiliary && !issue.mentions_tests {
            *score *= DOWNWEIGHT;
        }
        if !facts.source {
            *score *= NON_SOURCE;
        }
    }
    let mut ranked: Vec<(FileId, f64)> = files.into_iter().collect();
    ranked.sort_by(|a, b| by_score(a.1, b.1, || c.path(a.0).cmp(c.path(b.0))));
    ranked.truncate(top_k);
    ranked.retain(|&(_, s)| s > 0.0);
    let top = ranked.first().map_or(1.0, |&(_, s)| s);
    let file_score: Vec<(FileId, f64)> = ranked.iter().map(|&(f, s)| (f, s / top)).collect();
    let scores: Vec<f64> = file_score.iter().map(|&(_, s)| s).collect();
    let sure: FxHashMap<FileId, (f64, bool)> = file_score
        .iter()
        .zip(confident(&scores, CUT))
        .map(|(&(f, s), ok)| (f, (s, ok)))
        .collect();
    let is_sure = |file: FileId| sure.get(&file).is_some_and(|&(_, ok)| ok);

    // Functions of confident files only.
    let mut candidates: Ordered<FnId, f64> = ev.functions.clone();
    for (&function, &s) in &ev.drilled {
        *candidates.entry(function).or_insert(0.0) += s;
    }
    let mut functions: Vec<(FnId, f64, &Span)> = Vec::new();
    for (&function, &s) in &candidates {
        let file = c.function_file(function);
        if !is_sure(file) {
            continue;
        }
        let score = s * (1.0 - FILE_SHARE + FILE_SHARE * sure[&file].0);
        functions.push((function, score, &ev.spans[&function]));
    }
    functions.sort_by(|a, b| {
        by_score(a.1, b.1, || {
            let (pa, pb) = (c.path(c.function_file(a.0)), c.path(c.function_file(b.0)));
            pa.cmp(pb).then(a.2.start.cmp(&b.2.start))
        })
    });
    functions.truncate(top_k_functions);
    functions.retain(|&(_, s, _)| s > 0.0);
    let fn_top = functions.first().map_or(1.0, |&(_, s, _)| s);
    let fn_scores: Vec<f64> = functions.iter().map(|&(_, s, _)| s).collect();
    let ranked_functions: Vec<Ranked<FnId>> = functions
        .iter()
        .zip(confident(&fn_scores, FN_CUT))
        .map(|(&(key, s, _), ok)| Ranked {
            key,
            score: round4(s / fn_top),
            confident: ok,
        })
        .collect();

    let mut lines: Vec<(FileId, i64, i64)> = functions
        .iter()
        .zip(&ranked_functions)
        .filter(|(_, r)| r.confident)
        .map(|(&(key, _, span), _)| (c.function_file(key), span.start, span.end))
        .collect();
    for (&file, spans) in &ev.lines {
        if is_sure(file) {
            lines.extend(spans.iter().take(5).map(|&(a, b)| (file, a, b)));
        }
    }

    let mut why: Ordered<String, String> = Ordered::default();
    for &(file, _) in &file_score {
        // The path's words count as evidence too, when they explain it best.
        let noted = ev.why_files.get(&file);
        let overlap = overlaps[&file];
        if overlap > noted.map_or(0.0, |r| r.amount) {
            why.insert(
                c.path(file).to_string(),
                "its name matches words of the issue".into(),
            );
        } else if let Some(reason) = noted {
            why.insert(c.path(file).to_string(), reason.text.clone());
        }
    }
    for f in &ranked_functions {
        if let Some(reason) = ev.why_functions.get(&f.key) {
            why.insert(function_label(c, f.key), reason.text.clone());
        }
    }
    Ranking {
        files: file_score
            .iter()
            .map(|&(key, s)| Ranked {
                key,
                score: round4(s),
                confident: sure[&key].1,
            })
            .collect(),
        functions: ranked_functions,
        lines: merge_lines(lines),
        why,
    }
}
