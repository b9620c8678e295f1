//! `grep`: many patterns in one pass over a snapshot, each match attributed to its pattern.
//!
//! Several requests (say the eight greps of a plan that became ready together) fuse into one
//! pass: a single alternation of every pattern finds candidate lines with ripgrep's searcher,
//! then each pattern's own matcher, compiled with that pattern's flags, confirms and
//! attributes the line. Per pattern the result is exactly what `rg` would report.
//!
//! Bounds (see [`crate::limits`]): at most [`MAX_GREP_PATTERNS`] patterns per request, of
//! which [`MAX_GREP_REGEXES`] regexes, and [`MAX_CONTEXT_LINES`] lines of context; a result
//! stops growing at half of [`MAX_TASK_RESULT_BYTES`] (marked `truncated`), and the results
//! of one fused pass together at [`MAX_PLAN_RESULT_BYTES`]. A [`Cancel`] is checked for
//! every file.
//!
//! Memory: the matches of a step's files are held until they are attributed, so a step
//! takes as many files as fit [`HIT_BUDGET`] at the most matches each file may still yield
//! (a file's scan keeps at most `max_results` lines per pattern). Before, a step was always
//! 512 files with every matching line of every pattern: 256 fused greps of `a` held 600 MB. A UTF-8 byte-order mark is not part of the first line: it is
//! skipped before searching, so columns, text and context are those of the text after it.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::glob::PathFilter;
use crate::index::repo::Repo;
use crate::index::symbols::Definition;
use crate::limits::{
    MAX_CONTEXT_LINES, MAX_GREP_PATTERNS, MAX_GREP_REGEXES, MAX_PLAN_RESULT_BYTES,
    MAX_TASK_RESULT_BYTES,
};
use crate::text::{clip_line, context_lines, strip_bom};
use aho_corasick::{AhoCorasick, MatchKind};
use grep_matcher::Matcher;
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkMatch};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// How letter case is matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseMode {
    /// Letters match only in their own case (the default).
    #[default]
    Sensitive,
    /// Letters match in either case.
    Insensitive,
    /// Insensitive unless the pattern has an upper-case letter (ripgrep's `-S`).
    Smart,
}

/// A grep request. `pattern` is shorthand for a one-element `patterns`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrepRequest {
    /// The patterns; a file's line matches when any does.
    pub patterns: Vec<String>,
    /// One more pattern (shorthand for a one-element `patterns`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Treat patterns as literal strings.
    pub fixed_strings: bool,
    /// How letter case is matched.
    pub case: CaseMode,
    /// Only whole-word matches (ripgrep's `-w`).
    pub word: bool,
    /// Globs a file must match (any of); `!glob` excludes.
    pub include: Vec<String>,
    /// Globs that exclude a file.
    pub exclude: Vec<String>,
    /// Restrict the search to these files or folders.
    pub paths: Vec<String>,
    /// Lines of context before and after each match.
    pub context: usize,
    /// At most this many matches per pattern; the result says when it was cut.
    pub max_results: usize,
    /// Longer lines are clipped around the match.
    pub max_line_chars: usize,
    /// Report the innermost definition around each match (uses the symbol index).
    pub enclosing: bool,
}

impl Default for GrepRequest {
    fn default() -> Self {
        Self {
            patterns: Vec::new(),
            pattern: None,
            fixed_strings: false,
            case: CaseMode::Sensitive,
            word: false,
            include: Vec::new(),
            exclude: Vec::new(),
            paths: Vec::new(),
            context: 0,
            max_results: 200,
            max_line_chars: 300,
            enclosing: false,
        }
    }
}

impl GrepRequest {
    /// A request for one pattern, every other field at its default.
    pub fn new(pattern: impl Into<String>) -> Self {
        Self {
            patterns: vec![pattern.into()],
            ..Self::default()
        }
    }

    /// `patterns` plus `pattern`, in that order.
    pub fn all_patterns(&self) -> Vec<String> {
        let mut all = self.patterns.clone();
        all.extend(self.pattern.clone());
        all
    }
}

/// One matching line.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct GrepMatch {
    /// Index into the request's patterns.
    pub pattern: usize,
    /// The file.
    pub path: Arc<str>,
    /// 1-based line number.
    pub line: u64,
    /// 1-based byte column of the first match on the line.
    pub column: usize,
    /// The line, cut at `max_line_chars`.
    pub text: String,
    /// With `context`: the lines before the match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<String>,
    /// With `context`: the lines after the match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// With `enclosing`: the innermost definition around the match, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enclosing: Option<Definition>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FileHits {
    pub path: Arc<str>,
    pub count: usize,
}

/// The matches of a [`grep()`] request.
#[derive(Clone, Debug, Serialize, Default)]
pub struct GrepResult {
    /// Matches in path order, then line order, then pattern order.
    pub matches: Vec<GrepMatch>,
    /// Files with at least one match, in path order, with their match counts.
    pub files: Vec<FileHits>,
    /// Matches returned per pattern.
    pub counts: Vec<usize>,
    /// True when some pattern had more than `max_results` matches, or when the result
    /// reached its size cap (half of [`MAX_TASK_RESULT_BYTES`]) and later matches were dropped.
    pub truncated: bool,
    /// Files the search read (after include, exclude and paths).
    pub files_searched: usize,
}

/// Run one request.
pub fn grep(repo: &Repo, request: &GrepRequest) -> Result<GrepResult> {
    grep_cancellable(repo, request, &Cancel::new())
}

/// Run one request; `cancel` stops it (with [`Error::Cancelled`]) between files.
pub fn grep_cancellable(repo: &Repo, request: &GrepRequest, cancel: &Cancel) -> Result<GrepResult> {
    grep_fused_cancellable(repo, &[request], cancel)
        .pop()
        .unwrap_or_else(|| Err(Error::Internal("no grep result".into())))
}

/// A pattern compiled with its own flags.
struct Compiled {
    request: usize,
    pattern: usize,
    matcher: RegexMatcher,
    /// For a pattern that is a plain literal: a regex matching a superset of its lines
    /// (case folded for smart case, no word boundaries), to share one literal scan.
    literal: Option<String>,
    /// For a case-sensitive literal: its text, which every line it matches contains.
    exact: Option<String>,
}

struct Prepared<'a> {
    request: &'a GrepRequest,
    filter: PathFilter,
    only: Option<HashSet<usize>>,
    n_patterns: usize,
}

/// Run several requests in one pass over the files. Results come back in request order;
/// a request with a bad pattern or path fails alone.
pub fn grep_fused(repo: &Repo, requests: &[&GrepRequest]) -> Vec<Result<GrepResult>> {
    grep_fused_cancellable(repo, requests, &Cancel::new())
}

/// [`grep_fused`] that stops between files once `cancel` is set: every request not
/// already failed then ends with [`Error::Cancelled`].
pub fn grep_fused_cancellable(
    repo: &Repo,
    requests: &[&GrepRequest],
    cancel: &Cancel,
) -> Vec<Result<GrepResult>> {
    let mut outcomes: Vec<Option<Result<GrepResult>>> = requests.iter().map(|_| None).collect();
    let mut prepared: Vec<Option<Prepared>> = Vec::with_capacity(requests.len());
    let mut compiled: Vec<Compiled> = Vec::new();
    for (ri, request) in requests.iter().enumerate() {
        match prepare(repo, request, ri, cancel) {
            Ok((p, mut c)) => {
                prepared.push(Some(p));
                compiled.append(&mut c);
            }
            Err(e) => {
                prepared.push(None);
                outcomes[ri] = Some(Err(e));
            }
        }
    }
    if !compiled.is_empty() {
        match search(repo, &prepared, &compiled, cancel) {
            Ok(mut results) => {
                for (ri, slot) in outcomes.iter_mut().enumerate() {
                    if slot.is_none() {
                        *slot = Some(Ok(std::mem::take(&mut results[ri])));
                    }
                }
            }
            Err(e) => {
                for slot in outcomes.iter_mut().filter(|s| s.is_none()) {
                    *slot = Some(Err(e.clone()));
                }
            }
        }
    }
    outcomes
        .into_iter()
        .zip(prepared)
        .zip(requests)
        .map(|((o, p), request)| {
            let mut outcome = o.unwrap_or_else(|| {
                // A request with no patterns matches nothing.
                let n = p.map(|p| p.n_patterns).unwrap_or(0);
                Ok(GrepResult {
                    counts: vec![0; n],
                    ..GrepResult::default()
                })
            });
            if let (Ok(result), true) = (&mut outcome, request.enclosing) {
                if let Err(e) = annotate_enclosing(repo, result, cancel) {
                    outcome = Err(e);
                }
            }
            outcome
        })
        .collect()
}

fn annotate_enclosing(repo: &Repo, result: &mut GrepResult, cancel: &Cancel) -> Result<()> {
    if result.matches.is_empty() {
        return Ok(());
    }
    let index = repo.try_symbol_index(cancel)?;
    for m in &mut result.matches {
        if let Some(fi) = repo.index_of(&m.path) {
            m.enclosing = Definition::enclosing(index.file_symbols(fi), m.line as u32, &m.path);
        }
    }
    Ok(())
}

fn prepare<'a>(
    repo: &Repo,
    request: &'a GrepRequest,
    ri: usize,
    cancel: &Cancel,
) -> Result<(Prepared<'a>, Vec<Compiled>)> {
    let patterns = request.all_patterns();
    if patterns.len() > MAX_GREP_PATTERNS {
        return Err(Error::InvalidArgument(format!(
            "grep: {} patterns: at most {MAX_GREP_PATTERNS} per request are allowed",
            patterns.len()
        )));
    }
    if request.context > MAX_CONTEXT_LINES {
        return Err(Error::InvalidArgument(format!(
            "grep: context {}: at most {MAX_CONTEXT_LINES} lines are allowed",
            request.context
        )));
    }
    let is_literal = |p: &String| request.fixed_strings || regex::escape(p) == *p;
    let regexes = patterns.iter().filter(|p| !is_literal(p)).count();
    if regexes > MAX_GREP_REGEXES {
        return Err(Error::InvalidArgument(format!(
            "grep: {regexes} regex patterns: at most {MAX_GREP_REGEXES} per request are allowed \
             (literal patterns, up to {MAX_GREP_PATTERNS}, share one scan)"
        )));
    }
    let filter = PathFilter::new(&request.include, &request.exclude)?;
    let only = repo.restrict(&request.paths)?;
    let mut compiled = Vec::with_capacity(patterns.len());
    for (pi, pattern) in patterns.iter().enumerate() {
        cancel.check()?;
        let mut builder = RegexMatcherBuilder::new();
        builder
            .line_terminator(Some(b'\n'))
            .fixed_strings(request.fixed_strings)
            .word(request.word);
        match request.case {
            CaseMode::Sensitive => builder.case_insensitive(false),
            CaseMode::Insensitive => builder.case_insensitive(true),
            CaseMode::Smart => builder.case_smart(true),
        };
        let matcher = builder
            .build(pattern)
            .map_err(|e| Error::invalid_pattern(pattern, e))?;
        // Literals share one multi-literal scan (SIMD, Teddy); a regex keeps its own
        // matcher, whose literal prefilters an alternation with other regexes would lose.
        let literal = is_literal(pattern).then(|| {
            let body = regex::escape(pattern);
            match request.case {
                CaseMode::Sensitive => body,
                _ => format!("(?i:{body})"),
            }
        });
        let exact =
            (literal.is_some() && request.case == CaseMode::Sensitive).then(|| pattern.clone());
        compiled.push(Compiled {
            request: ri,
            pattern: pi,
            matcher,
            literal,
            exact,
        });
    }
    let prepared = Prepared {
        request,
        filter,
        only,
        n_patterns: patterns.len(),
    };
    Ok((prepared, compiled))
}

/// A candidate line confirmed for one pattern, located by byte offsets into the file.
struct Hit {
    compiled: usize,
    line: u64,
    column: usize,
    start: usize,
    end: usize,
}

/// Files per step, at most: big enough to keep two cores busy, small enough to stop soon
/// after every pattern has hit its cap.
const CHUNK: usize = 512;

/// Matches one step may hold before they are attributed (about 40 bytes each): the step's
/// file count is cut to fit it (see [`step_files`]).
const HIT_BUDGET: usize = 1 << 20;

/// One scan of a file: a matcher, and the patterns whose lines it finds.
struct Group {
    matcher: RegexMatcher,
    /// Patterns confirmed on every line the scan finds.
    members: Vec<usize>,
    /// Case-sensitive literals of the shared scan: an Aho-Corasick automaton names the ones
    /// that occur in a line, and only those are confirmed. Confirming every literal on every
    /// line cost lines x patterns (9 s for 1,000 patterns on a 3.5 MB tree).
    exact: Option<Exact>,
}

struct Exact {
    automaton: AhoCorasick,
    /// Automaton pattern i is compiled pattern `ids[i]`.
    ids: Vec<usize>,
}

/// All literal patterns share one scan; every other pattern scans with its own matcher.
fn groups(compiled: &[Compiled], cancel: &Cancel) -> Result<Vec<Group>> {
    let literals: Vec<usize> = (0..compiled.len())
        .filter(|&i| compiled[i].literal.is_some())
        .collect();
    let mut out = Vec::new();
    let shared = literals.len() >= 2;
    if shared {
        let alternatives: Vec<&str> = literals
            .iter()
            .filter_map(|&i| compiled[i].literal.as_deref())
            .collect();
        let mut builder = RegexMatcherBuilder::new();
        builder.line_terminator(Some(b'\n'));
        let matcher = builder
            .build_many(&alternatives)
            .map_err(|e| Error::invalid_pattern(&alternatives.join("|"), e))?;
        let (exact, members): (Vec<usize>, Vec<usize>) = literals
            .into_iter()
            .partition(|&i| compiled[i].exact.is_some());
        let exact = if exact.is_empty() {
            None
        } else {
            let needles = exact.iter().filter_map(|&i| compiled[i].exact.as_deref());
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(needles)
                .map_err(|e| Error::Internal(format!("literal automaton: {e}")))?;
            Some(Exact {
                automaton,
                ids: exact,
            })
        };
        out.push(Group {
            matcher,
            members,
            exact,
        });
    }
    for (i, c) in compiled.iter().enumerate() {
        cancel.check()?;
        if c.literal.is_none() || !shared {
            out.push(Group {
                matcher: c.matcher.clone(),
                members: vec![i],
                exact: None,
            });
        }
    }
    Ok(out)
}

/// A result stops growing at this estimate of its serialised size (see [`GrepResult::truncated`]).
const RESULT_BUDGET: usize = MAX_TASK_RESULT_BYTES / 2;

/// The results of one fused pass together stop growing here: a run keeps no more than this
/// of all its results anyway.
const FUSED_BUDGET: usize = MAX_PLAN_RESULT_BYTES;

/// The estimated serialised bytes of one match at least (its keys, numbers and quotes).
const MATCH_BYTES: usize = 96;

/// Lines each compiled pattern may still add to its result: `max_results` less what it has,
/// or 0 once its request's result is full.
fn still_wanted(
    compiled: &[Compiled],
    prepared: &[Option<Prepared>],
    results: &[GrepResult],
    sizes: &[usize],
) -> Vec<usize> {
    compiled
        .iter()
        .map(|c| {
            let request = prepared[c.request]
                .as_ref()
                .expect("compiled implies prepared")
                .request;
            if sizes[c.request] >= RESULT_BUDGET {
                0
            } else {
                request
                    .max_results
                    .saturating_sub(results[c.request].counts[c.pattern])
            }
        })
        .collect()
}

/// How many files the next step may take: as many as [`HIT_BUDGET`] holds when each yields
/// the most matches a file's scan keeps (`wanted` per pattern, a result's budget per request).
fn step_files(compiled: &[Compiled], wanted: &[usize], requests: usize) -> usize {
    let mut per_request = vec![0usize; requests];
    for (c, &w) in compiled.iter().zip(wanted) {
        per_request[c.request] = per_request[c.request].saturating_add(w);
    }
    let per_file: usize = per_request
        .iter()
        .map(|&n| n.min(RESULT_BUDGET / MATCH_BYTES))
        .fold(0, usize::saturating_add);
    (HIT_BUDGET / per_file.max(1)).clamp(1, CHUNK)
}

fn search(
    repo: &Repo,
    prepared: &[Option<Prepared>],
    compiled: &[Compiled],
    cancel: &Cancel,
) -> Result<Vec<GrepResult>> {
    let groups = groups(compiled, cancel)?;
    let files = repo.files();
    let mut results: Vec<GrepResult> = prepared
        .iter()
        .map(|p| GrepResult {
            counts: vec![0; p.as_ref().map_or(0, |p| p.n_patterns)],
            ..Default::default()
        })
        .collect();
    // Estimated serialised bytes of each result so far.
    let mut sizes = vec![0usize; prepared.len()];
    // Which requests may look at file i. Per request, not per pattern: all patterns of a
    // request share its filters, and a per-pattern list made each file cost
    // patterns x patterns to consult (10,000 patterns took 23 s).
    let applicable = |i: usize| -> Vec<bool> {
        let path = &*files[i].path;
        prepared
            .iter()
            .map(|p| {
                p.as_ref().is_some_and(|p| {
                    p.only.as_ref().is_none_or(|s| s.contains(&i)) && p.filter.matches(path)
                })
            })
            .collect()
    };

    // Estimated serialised bytes of all results together (see [`FUSED_BUDGET`]).
    let mut total = 0usize;
    let mut start = 0;
    while start < files.len() {
        cancel.check()?;
        let wanted = still_wanted(compiled, prepared, &results, &sizes);
        let end = (start + step_files(compiled, &wanted, prepared.len())).min(files.len());
        let per_file: Vec<(usize, Vec<bool>, FileScan)> = (start..end)
            .into_par_iter()
            .map_init(
                || {
                    SearcherBuilder::new()
                        .line_number(true)
                        .binary_detection(BinaryDetection::none())
                        // Transcoding a BOM file would make the searcher's offsets relative
                        // to its own buffer, not the file's; the BOM is skipped below.
                        .bom_sniffing(false)
                        .build()
                },
                |searcher, i| {
                    if cancel.is_cancelled() {
                        return (i, Vec::new(), FileScan::default());
                    }
                    let applies = applicable(i);
                    let scan = if !applies.iter().any(|&a| a) {
                        FileScan::default()
                    } else {
                        search_file(
                            searcher,
                            &groups,
                            compiled,
                            &wanted,
                            &applies,
                            strip_bom(&files[i].content),
                            cancel,
                        )
                    };
                    (i, applies, scan)
                },
            )
            .collect();
        // Some files may have been skipped: the result would be partial.
        cancel.check()?;
        for (i, applies, scan) in per_file {
            let entry = &files[i];
            for (r, _) in applies.iter().enumerate().filter(|(_, &a)| a) {
                results[r].files_searched += 1;
            }
            let content = strip_bom(&entry.content);
            if scan.hits.len() >= hits_per_file(applies.iter().filter(|&&a| a).count()) {
                // The file's scan stopped early: later lines were not seen.
                for (r, _) in applies.iter().enumerate().filter(|(_, &a)| a) {
                    results[r].truncated = true;
                }
            }
            for ci in scan.dropped {
                // Lines past a pattern's `max_results` were left out of the file's scan.
                results[compiled[ci].request].truncated = true;
            }
            for hit in scan.hits {
                let c = &compiled[hit.compiled];
                let result = &mut results[c.request];
                let request = prepared[c.request]
                    .as_ref()
                    .expect("compiled implies prepared")
                    .request;
                if result.counts[c.pattern] >= request.max_results
                    || sizes[c.request] >= RESULT_BUDGET
                    || total >= FUSED_BUDGET
                {
                    result.truncated = true;
                    continue;
                }
                result.counts[c.pattern] += 1;
                let (before, after) = context_lines(
                    content,
                    hit.start,
                    hit.end,
                    request.context,
                    request.max_line_chars,
                );
                let text = clip_line(
                    &content[hit.start..hit.end],
                    hit.column - 1,
                    request.max_line_chars,
                );
                // JSON keys, numbers and quotes of one match, plus its strings.
                let size = MATCH_BYTES
                    + 2 * entry.path.len()
                    + text.len()
                    + before
                        .iter()
                        .chain(&after)
                        .map(|l| l.len() + 3)
                        .sum::<usize>();
                sizes[c.request] += size;
                total += size;
                result.matches.push(GrepMatch {
                    pattern: c.pattern,
                    path: entry.path.clone(),
                    line: hit.line,
                    column: hit.column,
                    text,
                    before,
                    after,
                    enclosing: None,
                });
                match result.files.last_mut() {
                    Some(f) if f.path == entry.path => f.count += 1,
                    _ => result.files.push(FileHits {
                        path: entry.path.clone(),
                        count: 1,
                    }),
                }
            }
        }
        let all_full = total >= FUSED_BUDGET
            || results.iter().enumerate().all(|(ri, r)| {
                prepared[ri].as_ref().is_none_or(|p| {
                    sizes[ri] >= RESULT_BUDGET
                        || r.counts.iter().all(|&n| n >= p.request.max_results)
                })
            });
        if all_full {
            for r in results.iter_mut() {
                r.truncated |= end < files.len();
            }
            break;
        }
        start = end;
    }
    Ok(results)
}

struct Collect<'a> {
    compiled: &'a [Compiled],
    /// Patterns to confirm on each line the scan finds.
    check: &'a [usize],
    /// Literals to confirm where the automaton finds them, if their request applies.
    exact: Option<&'a Exact>,
    applies: &'a [bool],
    /// Lines each compiled pattern may still keep in this file (see [`still_wanted`]).
    wanted: &'a [usize],
    /// Lines kept per compiled pattern in this file.
    kept: &'a mut [usize],
    /// Per compiled pattern: it had more lines than `wanted` in this file.
    dropped: &'a mut [bool],
    hits: Vec<Hit>,
    candidates: Vec<usize>,
    /// Stop the file at this many hits (see [`hits_per_file`]).
    limit: usize,
}

impl Sink for Collect<'_> {
    type Error = std::io::Error;

    fn matched(&mut self, _s: &Searcher, mat: &SinkMatch<'_>) -> Result<bool, Self::Error> {
        // Offsets into the file, so context and clipping can look around the line later.
        let mut start = mat.absolute_byte_offset() as usize;
        for (line_no, line) in (mat.line_number().unwrap_or(0)..).zip(mat.lines()) {
            // Only the `\n` goes: like ripgrep without --crlf, a `\r` is part of the line.
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            self.candidates.clear();
            self.candidates.extend_from_slice(self.check);
            if let Some(exact) = self.exact {
                for m in exact.automaton.find_overlapping_iter(body) {
                    let ci = exact.ids[m.pattern().as_usize()];
                    if self.applies[self.compiled[ci].request] {
                        self.candidates.push(ci);
                    }
                }
                // Pattern order, each once.
                self.candidates.sort_unstable();
                self.candidates.dedup();
            }
            for &ci in &self.candidates {
                if self.kept[ci] >= self.wanted[ci] {
                    // Its result cannot take more lines: do not hold them (one more
                    // confirmation tells the result it was cut).
                    if !self.dropped[ci]
                        && matches!(self.compiled[ci].matcher.find(body), Ok(Some(_)))
                    {
                        self.dropped[ci] = true;
                    }
                    continue;
                }
                if let Ok(Some(m)) = self.compiled[ci].matcher.find(body) {
                    self.kept[ci] += 1;
                    self.hits.push(Hit {
                        compiled: ci,
                        line: line_no,
                        column: m.start() + 1,
                        start,
                        end: start + body.len(),
                    });
                }
            }
            start += line.len();
        }
        Ok(self.hits.len() < self.limit)
    }
}

/// Hits one file may yield for `requests` requests: more could not fit in their results
/// (each match costs at least ~100 bytes of [`RESULT_BUDGET`]), and collecting them first
/// would hold memory in proportion to lines x patterns.
fn hits_per_file(requests: usize) -> usize {
    requests.max(1) * (RESULT_BUDGET / 96)
}

/// What one file's scan found.
#[derive(Default)]
struct FileScan {
    /// Hits in line order, then pattern order.
    hits: Vec<Hit>,
    /// Patterns with lines past what they still wanted (their results are cut).
    dropped: Vec<usize>,
}

/// Scan one file with every group that has a pattern of an applicable request, keeping at
/// most `wanted[i]` lines of compiled pattern i.
fn search_file(
    searcher: &mut Searcher,
    groups: &[Group],
    compiled: &[Compiled],
    wanted: &[usize],
    applies: &[bool],
    content: &[u8],
    cancel: &Cancel,
) -> FileScan {
    let mut hits = Vec::new();
    let mut kept = vec![0usize; compiled.len()];
    let mut dropped = vec![false; compiled.len()];
    let mut scans = 0;
    let every = applies.iter().all(|&a| a);
    let limit = hits_per_file(applies.iter().filter(|&&a| a).count());
    for group in groups {
        if cancel.is_cancelled() {
            break;
        }
        let check: Vec<usize> = if every {
            group.members.clone()
        } else {
            group
                .members
                .iter()
                .copied()
                .filter(|&m| applies[compiled[m].request])
                .collect()
        };
        let exact = group
            .exact
            .as_ref()
            .filter(|e| every || e.ids.iter().any(|&ci| applies[compiled[ci].request]));
        if check.is_empty() && exact.is_none() {
            continue;
        }
        // Each line found is confirmed per pattern, which also locates the match's column.
        let mut sink = Collect {
            compiled,
            check: &check,
            exact,
            applies,
            wanted,
            kept: &mut kept,
            dropped: &mut dropped,
            hits,
            candidates: Vec::new(),
            limit,
        };
        // Searching an in-memory slice cannot fail with an I/O error.
        let _ = searcher.search_slice(&group.matcher, content, &mut sink);
        hits = sink.hits;
        scans += 1;
        if hits.len() >= limit {
            break;
        }
    }
    if scans > 1 {
        hits.sort_by_key(|h| (h.line, h.compiled));
    }
    let dropped = (0..compiled.len()).filter(|&ci| dropped[ci]).collect();
    FileScan { hits, dropped }
}
