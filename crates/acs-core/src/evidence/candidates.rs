//! The one reader of tool outcomes: a single pass over a search's successful calls that
//! builds the candidates (every file and definition a tool surfaced) with both readings of
//! the evidence: the hand joiner's weighted sums (and its reasons, spans and line ranges),
//! and the learned ranker's raw feature values (`acs.rank.features.gather`). Both read the
//! same hits, normalised the same way, in the same order, so neither can drift from the
//! other.

use super::columns::{fc, nc, FILE_FEATURES, FUNCTION_FEATURES};
use super::input::{
    arg_is, invalid, required_str, truthy, Bm25Result, Def, FindFilesResult, GrepResult,
    ImportsResult, Input, OutlineNode, ReferencesResult, SymbolsResult, ToolResult,
};
use super::pytext::pow_half;
use super::weights::*;
use super::IssueFacts;
use crate::Result;
use indexmap::IndexMap;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};
use serde_json::{Map, Value};

/// A candidate file: an index into [`Candidates::paths`].
pub(crate) type FileId = u32;
/// A candidate definition: an index into [`Candidates::functions`].
pub(crate) type FnId = u32;

/// An insertion-ordered map: the joiner sums floats in the order evidence arrived, and a
/// float sum depends on its order.
pub(crate) type Ordered<K, V> = IndexMap<K, V, FxBuildHasher>;

/// A definition's kind (an index into [`Candidates::kinds`]) and lines, as the rankers keep
/// them (the last tool to name it wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) kind: u32,
    pub(crate) start: i64,
    pub(crate) end: i64,
}

/// A candidate's raw feature values; NaN is "no such evidence".
pub(crate) type FileValues = [f64; FILE_FEATURES.len()];
pub(crate) type FunctionValues = [f64; FUNCTION_FEATURES.len()];

/// The larger of a value and what is there (`FileEvidence.best`).
fn best(values: &mut [f64], col: usize, value: f64) {
    let old = values[col];
    if old.is_nan() || value > old {
        values[col] = value;
    }
}

/// The smaller (a rank): `best(..., low=True)`.
fn best_low(values: &mut [f64], col: usize, value: f64) {
    let old = values[col];
    if old.is_nan() || value < old {
        values[col] = value;
    }
}

/// A count or sum (`FileEvidence.add`): absent reads as 0.
fn add(values: &mut [f64], col: usize, value: f64) {
    let old = values[col];
    values[col] = if old.is_nan() { 0.0 } else { old } + value;
}

/// The strongest piece of evidence of a candidate so far: its amount, and a line for people.
#[derive(Debug, Clone)]
pub(crate) struct Reason {
    pub(crate) amount: f64,
    pub(crate) text: String,
}

/// Keep `text` if it explains `key` best so far (`Evidence.note`): text similarity
/// (`similar`) explains least. The text is made only when it is kept.
fn note<K: std::hash::Hash + Eq>(
    why: &mut FxHashMap<K, Reason>,
    key: K,
    amount: f64,
    similar: bool,
    text: impl FnOnce() -> String,
) {
    let amount = if similar { amount * 0.25 } else { amount };
    let current = why.get(&key).map_or(0.0, |r| r.amount);
    if amount > current {
        why.insert(
            key,
            Reason {
                amount,
                text: text(),
            },
        );
    }
}

/// The hand joiner's reading (`acs.joiner.Evidence`).
#[derive(Debug, Default)]
pub(crate) struct JoinerEvidence {
    pub(crate) files: Ordered<FileId, f64>,
    pub(crate) functions: Ordered<FnId, f64>,
    /// Functions ranked inside files already chosen (drill-down): no new evidence for
    /// their file.
    pub(crate) drilled: Ordered<FnId, f64>,
    pub(crate) spans: FxHashMap<FnId, Span>,
    pub(crate) lines: Ordered<FileId, Vec<(i64, i64)>>,
    pub(crate) why_files: FxHashMap<FileId, Reason>,
    pub(crate) why_functions: FxHashMap<FnId, Reason>,
}

impl JoinerEvidence {
    fn add_file(&mut self, file: FileId, amount: f64, similar: bool, why: impl FnOnce() -> String) {
        *self.files.entry(file).or_insert(0.0) += amount;
        note(&mut self.why_files, file, amount, similar, why);
    }

    fn add_function(
        &mut self,
        function: FnId,
        amount: f64,
        drilled: bool,
        similar: bool,
        why: impl FnOnce() -> String,
    ) {
        let sums = if drilled {
            &mut self.drilled
        } else {
            &mut self.functions
        };
        *sums.entry(function).or_insert(0.0) += amount;
        note(&mut self.why_functions, function, amount, similar, why);
    }
}

/// The learned ranker's reading (`acs.rank.features.Candidates`): every surfaced file and
/// definition with its raw values.
#[derive(Debug, Default)]
pub(crate) struct FeatureEvidence {
    pub(crate) files: Ordered<FileId, FileValues>,
    pub(crate) functions: Ordered<FnId, FunctionValues>,
    /// Spans as the ranker reads them: outlines included.
    pub(crate) spans: FxHashMap<FnId, Span>,
}

impl FeatureEvidence {
    fn file(&mut self, file: FileId) -> &mut FileValues {
        self.files
            .entry(file)
            .or_insert([f64::NAN; FILE_FEATURES.len()])
    }

    fn function(&mut self, function: FnId) -> &mut FunctionValues {
        self.functions
            .entry(function)
            .or_insert([f64::NAN; FUNCTION_FEATURES.len()])
    }
}

/// The candidates of one search, each named once (paths and definitions interned), and
/// both readings of their evidence.
#[derive(Debug, Default)]
pub(crate) struct Candidates {
    pub(crate) paths: Vec<String>,
    path_ids: FxHashMap<String, FileId>,
    /// (file, qualified name) of each definition.
    pub(crate) functions: Vec<(FileId, String)>,
    function_ids: FxHashMap<FileId, FxHashMap<String, FnId>>,
    /// The kinds of definition met (`function`, `method`, ...), each once.
    pub(crate) kinds: Vec<String>,
    pub(crate) joiner: JoinerEvidence,
    pub(crate) features: FeatureEvidence,
    /// Why an import-graph neighbour is a candidate (the best-ranked file it neighbours),
    /// for files no other evidence explains.
    pub(crate) neighbours: FxHashMap<FileId, (usize, String)>,
}

/// Python's `x / max(...)` normalisation of one result: (1-based rank, hit, score / best),
/// or nothing when no score is positive.
fn normalised<T>(hits: &[T], score: impl Fn(&T) -> f64) -> Vec<(usize, &T, f64)> {
    let top = hits.iter().map(&score).fold(None, |m: Option<f64>, s| {
        Some(match m {
            Some(m) if m >= s => m,
            _ => s,
        })
    });
    match top {
        Some(top) if top > 0.0 => hits
            .iter()
            .enumerate()
            .map(|(i, h)| (i + 1, h, score(h) / top))
            .collect(),
        _ => Vec::new(),
    }
}

impl Candidates {
    pub(crate) fn file_id(&mut self, path: &str) -> FileId {
        if let Some(&id) = self.path_ids.get(path) {
            return id;
        }
        let id = FileId::try_from(self.paths.len()).expect("fewer than 2^32 candidates");
        self.paths.push(path.to_string());
        self.path_ids.insert(path.to_string(), id);
        id
    }

    /// The definition's id (`acs.definitions.key`: its path and qualified name).
    fn function_id(&mut self, path: &str, qualified_name: &str) -> FnId {
        let file = self.file_id(path);
        let next = FnId::try_from(self.functions.len()).expect("fewer than 2^32 candidates");
        let ids = self.function_ids.entry(file).or_default();
        if let Some(&id) = ids.get(qualified_name) {
            return id;
        }
        ids.insert(qualified_name.to_string(), next);
        self.functions.push((file, qualified_name.to_string()));
        next
    }

    /// A definition's span, its kind interned.
    fn span(&mut self, kind: &str, start: i64, end: i64) -> Span {
        let kind = match self.kinds.iter().position(|k| k == kind) {
            Some(i) => i,
            None => {
                self.kinds.push(kind.to_string());
                self.kinds.len() - 1
            }
        };
        Span {
            kind: u32::try_from(kind).expect("fewer than 2^32 kinds"),
            start,
            end,
        }
    }

    fn span_of(&mut self, d: &Def<'_>) -> Span {
        self.span(&d.kind, d.start_line, d.end_line)
    }

    /// The kind of definition a span names.
    pub(crate) fn kind(&self, span: &Span) -> &str {
        &self.kinds[span.kind as usize]
    }

    pub(crate) fn path(&self, file: FileId) -> &str {
        &self.paths[file as usize]
    }

    pub(crate) fn function_file(&self, function: FnId) -> FileId {
        self.functions[function as usize].0
    }

    pub(crate) fn function_name(&self, function: FnId) -> &str {
        &self.functions[function as usize].1
    }

    /// Read every successful call of a search, in order.
    pub(crate) fn read(issue: &IssueFacts, input: &Input<'_>) -> Result<Candidates> {
        let mut c = Candidates::default();
        for call in &input.outcomes {
            let args = &call.args;
            match &call.result {
                ToolResult::Bm25(r) if arg_is(args, "level", "function") => {
                    c.bm25_functions(issue, args, r)?
                }
                ToolResult::Bm25(r) if truthy(args.get("include")) => c.bm25_neighbours(r),
                ToolResult::Bm25(r) => c.bm25_files(issue, args, r),
                ToolResult::Symbols(r) => c.symbols(issue, args, r)?,
                ToolResult::FindFiles(r) => c.find_files(issue, args, r)?,
                ToolResult::References(r) => c.references(args, r)?,
                ToolResult::Grep(r) => c.grep(args, r)?,
                ToolResult::Outline(r) => c.outline(&r.symbols),
                ToolResult::Imports(r) => c.imports(args, r),
                ToolResult::Other => {}
            }
        }
        // A function's file is a candidate too.
        let files: Vec<FileId> = c
            .features
            .functions
            .keys()
            .map(|&f| c.function_file(f))
            .collect();
        for file in files {
            c.features.file(file);
        }
        Ok(c)
    }

    /// Which of the issue's queries a BM25 call ran: the title alone, or the issue.
    fn title_query(issue: &IssueFacts, args: &Map<String, Value>) -> bool {
        !issue.title.is_empty() && arg_is(args, "query", &issue.title)
    }

    fn bm25_functions(
        &mut self,
        issue: &IssueFacts,
        args: &Map<String, Value>,
        result: &Bm25Result,
    ) -> Result<()> {
        // A ranking inside chosen files (drill-down) is normalised to its own best.
        let drill = truthy(args.get("include"));
        let mut weight = if drill { W_DRILL } else { W_BM25_FUNCTION };
        if arg_is(args, "query", &issue.title) {
            weight = W_TITLE_FUNCTION;
        }
        let why = if drill {
            "best text match in its file (BM25)"
        } else {
            "text similar to the issue (BM25)"
        };
        let title = Self::title_query(issue, args);
        let (norm, rank, max, best_rank, hits) = if title {
            (
                nc!("bm25_title_norm"),
                nc!("bm25_title_rank"),
                fc!("fn_bm25_title_max"),
                fc!("fn_bm25_title_best_rank"),
                fc!("fn_bm25_title_hits"),
            )
        } else {
            (
                nc!("bm25_issue_norm"),
                nc!("bm25_issue_rank"),
                fc!("fn_bm25_issue_max"),
                fc!("fn_bm25_issue_best_rank"),
                fc!("fn_bm25_issue_hits"),
            )
        };
        for (r, hit, s) in normalised(&result.hits, |h| h.score.0) {
            let d = hit.definition()?;
            let key = self.function_id(&d.path, &d.qualified_name);
            let file = self.function_file(key);
            let span = self.span_of(&d);
            self.joiner
                .add_function(key, weight * s, drill, true, || why.to_string());
            self.joiner.spans.insert(key, span);
            self.features.spans.insert(key, span);
            let r = r as f64;
            let f = self.features.function(key);
            if drill {
                best(f, nc!("drill_norm"), s);
                best_low(f, nc!("drill_rank"), r);
                best(self.features.file(file), fc!("drill_max"), s);
                continue;
            }
            best(f, norm, s);
            best_low(f, rank, r);
            let f = self.features.file(file);
            best(f, max, s);
            best_low(f, best_rank, r);
            add(f, hits, 1.0);
        }
        Ok(())
    }

    fn bm25_files(&mut self, issue: &IssueFacts, args: &Map<String, Value>, result: &Bm25Result) {
        let weight = if arg_is(args, "query", &issue.title) {
            W_TITLE_FILE
        } else {
            W_BM25_FILE
        };
        let (norm, rank, raw) = if Self::title_query(issue, args) {
            (
                fc!("bm25_title_norm"),
                fc!("bm25_title_rank"),
                fc!("bm25_title_raw"),
            )
        } else {
            (
                fc!("bm25_issue_norm"),
                fc!("bm25_issue_rank"),
                fc!("bm25_issue_raw"),
            )
        };
        for (r, hit, s) in normalised(&result.hits, |h| h.score.0) {
            let file = self.file_id(&hit.path);
            self.joiner.add_file(file, weight * s, true, || {
                "text similar to the issue (BM25)".to_string()
            });
            let f = self.features.file(file);
            best(f, norm, s);
            best_low(f, rank, r as f64);
            best(f, raw, hit.score.0);
        }
    }

    fn symbols(
        &mut self,
        issue: &IssueFacts,
        args: &Map<String, Value>,
        result: &SymbolsResult,
    ) -> Result<()> {
        let defs = &result.symbols;
        if defs.is_empty() {
            return Ok(());
        }
        let name = required_str(args, "symbols", "name")?;
        // A name defined once is strong evidence; one defined everywhere is not.
        let specificity = 1.0 / pow_half(defs.len() as f64);
        let rank = issue.identifier_rank.get(name).copied().unwrap_or(10) as f64;
        let mut weight = W_SYMBOL * specificity / (1.0 + 0.1 * rank);
        let fuzzy = arg_is(args, "mode", "fuzzy");
        if fuzzy {
            weight *= W_FUZZY;
        }
        for d in defs {
            let key = self.function_id(&d.path, &d.qualified_name);
            let file = self.file_id(&d.path);
            let span = self.span_of(d);
            let in_frame = issue.frame_functions.contains(d.name()?);
            let bonus = if in_frame { 1.5 } else { 1.0 };
            let why = || {
                let how = if fuzzy {
                    format!(", close to `{name}` in the issue")
                } else if bonus > 1.0 {
                    " (in the stack trace)".to_string()
                } else {
                    ", named in the issue".to_string()
                };
                format!("defines `{}`{how}", &*d.qualified_name)
            };
            self.joiner
                .add_function(key, weight * bonus, false, false, why);
            self.joiner.spans.insert(key, span);
            self.joiner.add_file(file, 0.5 * weight, false, why);
            self.features.spans.insert(key, span);
            let in_frame = if in_frame { 1.0 } else { 0.0 };
            let f = self.features.function(key);
            if fuzzy {
                best(f, nc!("sym_fuzzy"), specificity);
                add(self.features.file(file), fc!("sym_fuzzy"), 1.0);
                continue;
            }
            best(f, nc!("sym_specificity"), specificity);
            best_low(f, nc!("sym_ident_rank"), rank);
            best(f, nc!("sym_frame"), in_frame);
            let f = self.features.file(file);
            add(f, fc!("sym_hits"), 1.0);
            best(f, fc!("sym_specificity"), specificity);
            best_low(f, fc!("sym_ident_rank"), rank);
            add(f, fc!("sym_weight"), specificity / (1.0 + 0.1 * rank));
            add(f, fc!("sym_frame"), in_frame);
        }
        Ok(())
    }

    fn find_files(
        &mut self,
        issue: &IssueFacts,
        args: &Map<String, Value>,
        result: &FindFilesResult,
    ) -> Result<()> {
        for (i, hit) in result.files.iter().enumerate() {
            let file = self.file_id(&hit.path);
            let named = i == 0 && hit.score.0 >= 85.0;
            if named {
                let query = args
                    .get("query")
                    .ok_or_else(|| invalid("a find_files call without a `query`".into()))?;
                let query = match query {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.joiner.add_file(file, W_PATH, false, || {
                    format!("path named in the issue: {query}")
                });
                for frame in &issue.frames {
                    if frame.0.ends_with(&*hit.path) {
                        let line = frame.1;
                        self.joiner
                            .add_file(file, W_FRAME, false, || format!("stack trace, line {line}"));
                        let lines = self.joiner.lines.entry(file).or_default();
                        lines.push((line.saturating_sub(5).max(1), line.saturating_add(5)));
                    }
                }
            }
            let f = self.features.file(file);
            best(f, fc!("path_score"), hit.score.0);
            if named {
                f[fc!("path_top")] = 1.0;
                for frame in &issue.frames {
                    if frame.0.ends_with(&*hit.path) {
                        add(f, fc!("frame_hits"), 1.0);
                    }
                }
            }
        }
        Ok(())
    }

    fn references(&mut self, args: &Map<String, Value>, result: &ReferencesResult) -> Result<()> {
        // Uses of a definition that builds a message the issue quotes (callers), inside
        // other definitions than the one named.
        let name = required_str(args, "references", "name")?;
        let mut groups: Vec<(&str, Def<'_>)> = Vec::new();
        for f in &result.files {
            for g in &f.groups {
                if let Some(d) = g.enclosing()? {
                    if last_part(&d.qualified_name) != name {
                        groups.push((&f.path, d));
                    }
                }
            }
        }
        let scale = pow_half(groups.len().max(1) as f64);
        let amount = W_CALLER / scale;
        let weight = 1.0 / scale;
        for (path, d) in groups {
            let key = self.function_id(&d.path, &d.qualified_name);
            let file = self.file_id(path);
            let span = self.span_of(&d);
            self.joiner.add_function(key, amount, false, false, || {
                format!("uses `{name}`, which the issue's text leads to")
            });
            self.joiner.spans.insert(key, span);
            self.joiner
                .add_file(file, 0.5 * amount, false, || format!("uses `{name}`"));
            self.features.spans.insert(key, span);
            add(self.features.function(key), nc!("caller_weight"), weight);
            let f = self.features.file(file);
            add(f, fc!("caller_hits"), 1.0);
            add(f, fc!("caller_weight"), weight);
        }
        Ok(())
    }

    fn grep(&mut self, args: &Map<String, Value>, result: &GrepResult<'_>) -> Result<()> {
        let scale = pow_half(result.files.len().max(1) as f64);
        let amount = W_STRING / scale;
        let specificity = 1.0 / scale;
        let text = grep_text(args);
        let why = || format!("contains \"{text}\"");
        for hit in &result.files {
            let file = self.file_id(&hit.path);
            self.joiner.add_file(file, amount, false, why);
            let f = self.features.file(file);
            add(f, fc!("grep_hits"), 1.0);
            best(f, fc!("grep_specificity"), specificity);
        }
        let matches = &result.matches[..result.matches.len().min(20)];
        for m in matches {
            if let Some(d) = m.enclosing()? {
                let key = self.function_id(&d.path, &d.qualified_name);
                let span = self.span_of(&d);
                self.joiner
                    .add_function(key, W_STRING_FUNCTION * amount, false, false, why);
                self.joiner.spans.insert(key, span);
                self.features.spans.insert(key, span);
                add(self.features.function(key), nc!("grep_hits"), 1.0);
            }
        }
        for m in matches {
            let file = self.file_id(&m.path);
            self.joiner
                .lines
                .entry(file)
                .or_default()
                .push((m.line, m.line));
        }
        Ok(())
    }

    /// The import-graph neighbours of the asked files (the best files, in the file ranker's
    /// order): how many asked files a file neighbours, the best rank among them, and which
    /// way the imports go. Evidence for the learned ranker only: the hand joiner never read
    /// the import graph, and its weights stay as they were tuned.
    fn imports(&mut self, args: &Map<String, Value>, result: &ImportsResult<'_>) {
        let asked: Vec<&str> = match args.get("paths") {
            Some(Value::Array(paths)) => paths.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut counted: FxHashSet<(FileId, usize)> = FxHashSet::default();
        for hit in &result.files {
            let at = asked
                .iter()
                .position(|&p| p == &*hit.via)
                .unwrap_or(asked.len());
            let file = self.file_id(&hit.path);
            let f = self.features.file(file);
            if counted.insert((file, at)) {
                add(f, fc!("import_hits"), 1.0);
            }
            best_low(f, fc!("import_best_rank"), (at + 1) as f64);
            let imported = &*hit.direction == "imports";
            let direction = if imported {
                fc!("imported_by_best")
            } else {
                fc!("imports_best")
            };
            add(f, direction, 1.0);
            let why = || {
                let verb = if imported { "imported by" } else { "imports" };
                format!("{verb} {}, one of the best files", &*hit.via)
            };
            match self.neighbours.get(&file) {
                Some((best, _)) if *best <= at => {}
                _ => {
                    self.neighbours.insert(file, (at, why()));
                }
            }
        }
    }

    /// A file-level BM25 limited to chosen files (the import-graph neighbours): their
    /// similarity to the issue, which the repository-wide ranking left out.
    fn bm25_neighbours(&mut self, result: &Bm25Result) {
        for (r, hit, _) in normalised(&result.hits, |h| h.score.0) {
            let file = self.file_id(&hit.path);
            let f = self.features.file(file);
            best(f, fc!("neighbour_bm25_raw"), hit.score.0);
            best_low(f, fc!("neighbour_bm25_rank"), r as f64);
        }
    }

    /// Every definition of an outline (nested ones after their parent) is a candidate.
    fn outline(&mut self, nodes: &[OutlineNode<'_>]) {
        for node in nodes {
            let key = self.function_id(&node.path, &node.qualified_name);
            let span = self.span(&node.kind, node.start_line, node.end_line);
            self.features.spans.insert(key, span);
            self.features.function(key)[nc!("outlined")] = 1.0;
            self.outline(&node.children);
        }
    }
}

/// `qualified_name.rsplit(".", 1)[-1]`.
pub(crate) fn last_part(qualified_name: &str) -> &str {
    qualified_name
        .rsplit_once('.')
        .map_or(qualified_name, |(_, name)| name)
}

/// What a grep searched for, for people: `pattern`, or its `patterns` joined, cut to 47
/// characters when longer than 50.
fn grep_text(args: &Map<String, Value>) -> String {
    let text = match args.get("pattern") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => match args.get("patterns") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; "),
            _ => String::new(),
        },
    };
    if text.chars().count() <= 50 {
        text
    } else {
        text.chars().take(47).collect()
    }
}
