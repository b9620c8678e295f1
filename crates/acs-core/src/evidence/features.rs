//! The learned ranker's features (`acs.rank.features`): one row per candidate file, then
//! per candidate function of the best files, in the column order the shipped model was
//! trained with. Scores are relative within one search (a query's best hit is 1.0), so they
//! mean the same on any repository. Missing evidence is NaN, not zero: "no BM25 hit" is
//! not "the lowest BM25 hit", and the tree model learns a direction for it.

use super::candidates::{last_part, FileId, FnId, Span};
use super::columns::{fc, nc, FILE_FEATURES, FUNCTION_FEATURES, FUNCTION_FILES};
use super::joiner::by_score;
use super::paths::{file_stem, share};
use super::pytext::{self, lower, pair_repr, split_count, word_runs};
use super::Search;
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Ordering;

/// Candidates and their feature rows, row-major (`keys.len() * width` values).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable<K> {
    /// One key per row: a path, or a (path, qualified name) pair.
    pub keys: Vec<K>,
    /// The values, row after row; NaN is missing.
    pub values: Vec<f64>,
    /// Values per row.
    pub width: usize,
}

impl<K> FeatureTable<K> {
    /// The values of row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.width..(i + 1) * self.width]
    }
}

/// 1-based ranks by descending score, ties by `tie` (`features._ranks`).
fn ranks<K: Copy + std::hash::Hash + Eq>(
    scores: &[(K, f64)],
    tie: impl Fn(K, K) -> Ordering,
) -> FxHashMap<K, f64> {
    let mut order: Vec<(K, f64)> = scores.to_vec();
    order.sort_by(|a, b| by_score(a.1, b.1, || tie(a.0, b.0)));
    order
        .into_iter()
        .enumerate()
        .map(|(i, (k, _))| (k, (i + 1) as f64))
        .collect()
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// How many function candidates each file has.
fn functions_per_file(s: &Search) -> FxHashMap<FileId, usize> {
    let mut counts: FxHashMap<FileId, usize> = FxHashMap::default();
    for &function in s.cands.features.functions.keys() {
        *counts.entry(s.cands.function_file(function)).or_default() += 1;
    }
    counts
}

/// One row per candidate file, files in path order.
pub(crate) fn file_rows(s: &Search) -> (Vec<FileId>, Vec<f64>) {
    let c = &s.cands;
    let hand = s.hand_all();
    let hand_files: Vec<(FileId, f64)> = hand.files.iter().map(|r| (r.key, r.score)).collect();
    let hand_rank = ranks(&hand_files, |a, b| c.path(a).cmp(c.path(b)));
    let hand_files: FxHashMap<FileId, f64> = hand_files.into_iter().collect();
    let lowered = lower(&s.issue.text);
    let tokens = word_runs(&lowered);
    let per_file = functions_per_file(s);
    let query = [
        (fc!("issue_mentions_tests"), flag(s.issue.mentions_tests)),
        (fc!("issue_words"), split_count(&s.issue.text) as f64),
        (fc!("issue_identifiers"), s.issue.identifiers.len() as f64),
        (fc!("issue_frames"), s.issue.frames.len() as f64),
        (fc!("candidates"), c.features.files.len() as f64),
    ];
    let mut keys: Vec<FileId> = c.features.files.keys().copied().collect();
    keys.sort_by(|&a, &b| c.path(a).cmp(c.path(b)));
    let mut values = Vec::with_capacity(keys.len() * FILE_FEATURES.len());
    for &file in &keys {
        let path = c.path(file);
        let facts = &s.facts[file as usize];
        let mut v = c.features.files[&file];
        let name_share = facts.name_share(&s.issue.words);
        v[fc!("name_share")] = name_share;
        v[fc!("dir_share")] = facts.overlap(&s.issue.words) - name_share;
        let stem = file_stem(path);
        v[fc!("stem_in_issue")] =
            flag(stem.chars().count() >= 3 && tokens.contains(lower(stem).as_str()));
        v[fc!("is_test")] = flag(facts.test);
        v[fc!("is_auxiliary")] = flag(facts.auxiliary);
        v[fc!("is_source")] = flag(facts.source);
        v[fc!("is_init")] = flag(path.ends_with("__init__.py"));
        v[fc!("depth")] = path.matches('/').count() as f64;
        v[fc!("function_candidates")] = per_file.get(&file).copied().unwrap_or(0) as f64;
        if let Some(&score) = hand_files.get(&file) {
            v[fc!("hand_norm")] = score;
            v[fc!("hand_rank")] = hand_rank[&file];
        }
        for (col, value) in query {
            v[col] = value;
        }
        values.extend_from_slice(&v);
    }
    (keys, values)
}

/// One row per function candidate of the `FUNCTION_FILES` best files by `file_scores`
/// (the file ranker's scores), functions in (path, name) order.
pub(crate) fn function_rows(s: &Search, file_scores: &[(&str, f64)]) -> (Vec<FnId>, Vec<f64>) {
    let c = &s.cands;
    let hand = s.hand_all();
    let hand_fns: Vec<(FnId, f64)> = hand.functions.iter().map(|r| (r.key, r.score)).collect();
    // Python ordered these ties by `str((path, name))`.
    let labels: FxHashMap<FnId, String> = hand_fns
        .iter()
        .map(|&(f, _)| (f, pair_repr(c.path(c.function_file(f)), c.function_name(f))))
        .collect();
    let hand_rank = ranks(&hand_fns, |a, b| labels[&a].cmp(&labels[&b]));
    let hand_fns: FxHashMap<FnId, f64> = hand_fns.into_iter().collect();
    let indexed: Vec<(usize, f64)> = file_scores.iter().map(|&(_, v)| v).enumerate().collect();
    let file_rank = ranks(&indexed, |a, b| file_scores[a].0.cmp(file_scores[b].0));
    let file_score: FxHashMap<&str, (f64, f64)> = file_scores
        .iter()
        .enumerate()
        .map(|(i, &(path, score))| (path, (score, file_rank[&i])))
        .collect();
    let mut best: Vec<(usize, f64)> = indexed;
    best.sort_by(|a, b| by_score(a.1, b.1, || file_scores[a.0].0.cmp(file_scores[b.0].0)));
    let best_files: FxHashSet<&str> = best
        .iter()
        .take(FUNCTION_FILES)
        .map(|&(i, _)| file_scores[i].0)
        .collect();
    let identifiers: FxHashSet<&str> = s.issue.identifiers.iter().map(String::as_str).collect();
    let tokens = word_runs(&s.issue.text);
    let per_file = functions_per_file(s);
    let mut keys: Vec<FnId> = c
        .features
        .functions
        .keys()
        .copied()
        .filter(|&f| best_files.contains(c.path(c.function_file(f))))
        .collect();
    keys.sort_by(|&a, &b| {
        let (fa, fb) = (c.function_file(a), c.function_file(b));
        c.path(fa)
            .cmp(c.path(fb))
            .then_with(|| c.function_name(a).cmp(c.function_name(b)))
    });
    let issue_words = split_count(&s.issue.text) as f64;
    let code_words = word_runs(&s.issue.code);
    let rank_in_file = ranks_in_file(s, &keys, &hand_fns);
    let mut values = Vec::with_capacity(keys.len() * FUNCTION_FEATURES.len());
    for &function in &keys {
        let file = c.function_file(function);
        let path = c.path(file);
        let qualified = c.function_name(function);
        let span = &c.features.spans[&function];
        let name = last_part(qualified);
        let facts = &s.facts[file as usize];
        let mut v = c.features.functions[&function];
        v[nc!("qualified_in_issue")] =
            flag(identifiers.contains(qualified) || s.issue.text.contains(qualified));
        v[nc!("name_in_issue")] = flag(tokens.contains(name));
        v[nc!("name_share")] = share(&pytext::words(name), &s.issue.words);
        v[nc!("is_method")] = flag(c.kind(span) == "method");
        v[nc!("is_class")] = flag(c.kind(span) == "class");
        v[nc!("is_private")] = flag(name.starts_with('_') && !name.starts_with("__"));
        v[nc!("is_dunder")] = flag(name.starts_with("__") && name.ends_with("__"));
        v[nc!("span_lines")] = (i128::from(span.end) - i128::from(span.start) + 1) as f64;
        if let Some(&(score, rank)) = file_score.get(path) {
            v[nc!("file_score")] = score;
            v[nc!("file_rank")] = rank;
        }
        v[nc!("file_is_test")] = flag(facts.test);
        v[nc!("file_is_auxiliary")] = flag(facts.auxiliary);
        v[nc!("file_functions")] = per_file.get(&file).copied().unwrap_or(0) as f64;
        if let Some(&score) = hand_fns.get(&function) {
            v[nc!("hand_norm")] = score;
            v[nc!("hand_rank")] = hand_rank[&function];
        }
        v[nc!("issue_words")] = issue_words;
        v[nc!("candidates")] = keys.len() as f64;
        v[nc!("frame_function")] = frame_function(s, path, name, span);
        v[nc!("in_quoted_code")] = flag(name.chars().count() >= 3 && code_words.contains(name));
        v[nc!("identifier_rank")] = identifier_rank(s, qualified, name);
        v[nc!("class_in_issue")] = flag(class_in_issue(qualified, &tokens));
        if let Some(&rank) = rank_in_file.get(&function) {
            v[nc!("rank_in_file")] = rank;
        }
        values.extend_from_slice(&v);
    }
    (keys, values)
}

/// 2 when a traceback frame is in this definition (a function of its name, in its file, at
/// a line inside its span: a method of the same name in another class of the file is not),
/// 1 when a frame names a function of this name elsewhere, 0 otherwise.
fn frame_function(s: &Search, path: &str, name: &str, span: &Span) -> f64 {
    let mut found = 0.0;
    for frame in &s.issue.frames {
        if frame.2.as_deref() != Some(name) {
            continue;
        }
        if frame.0.ends_with(path) && (span.start..=span.end).contains(&frame.1) {
            return 2.0;
        }
        found = 1.0;
    }
    found
}

/// The place (0-based) of the first of the issue's identifiers that names this definition
/// (its qualified name, a dotted path ending in it, or its last part); NaN when none does.
fn identifier_rank(s: &Search, qualified: &str, name: &str) -> f64 {
    s.issue
        .identifiers
        .iter()
        .position(|id| {
            id == qualified
                || id
                    .strip_suffix(qualified)
                    .is_some_and(|rest| rest.ends_with('.'))
                || last_part(id) == name
        })
        .map_or(f64::NAN, |i| i as f64)
}

/// A method or nested definition whose enclosing class (or function) the issue names.
fn class_in_issue(qualified: &str, tokens: &FxHashSet<&str>) -> bool {
    let Some((outer, _)) = qualified.rsplit_once('.') else {
        return false;
    };
    outer
        .split('.')
        .any(|part| part.chars().count() >= 3 && tokens.contains(part))
}

/// Each function's 1-based rank among its own file's candidates by the joiner's score
/// (ties by name); functions without a score have none.
fn ranks_in_file(
    s: &Search,
    keys: &[FnId],
    hand_fns: &FxHashMap<FnId, f64>,
) -> FxHashMap<FnId, f64> {
    let c = &s.cands;
    let mut by_file: FxHashMap<FileId, Vec<(FnId, f64)>> = FxHashMap::default();
    for &f in keys {
        if let Some(&score) = hand_fns.get(&f) {
            by_file
                .entry(c.function_file(f))
                .or_default()
                .push((f, score));
        }
    }
    let mut out = FxHashMap::default();
    for scores in by_file.values() {
        out.extend(ranks(scores, |a, b| {
            c.function_name(a).cmp(c.function_name(b))
        }));
    }
    out
}
