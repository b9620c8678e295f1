//! Definitions: found per file ([`definitions`]: the linear scanner [`scan`] for Python,
//! tree-sitter [`extract`] for the other languages and for Python the scanner cannot read
//! soundly), and a per-snapshot index for lookups by exact name, prefix, regex or fuzzy
//! match.

pub(crate) mod definition;
pub(crate) mod extract;
pub(crate) mod scan;

pub use definition::{Definition, SymbolDef, SymbolKind};
pub use extract::extract_symbols;

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::glob::PathFilter;
use crate::index::cache::{Store, Symbols};
use crate::lang::Lang;
use crate::snapshot::{FileEntry, Snapshot};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

/// Python files larger than this never go to tree-sitter: on damaged or generated code it
/// parses 2-3 MB/s, so the scanner's answer is kept instead.
const MAX_TREE_SITTER_FALLBACK_BYTES: usize = 1 << 20;

/// What found a file's definitions (counted in [`crate::IndexReport::parsed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reader {
    /// The linear Python scanner, on well-formed code.
    Scanner,
    /// tree-sitter: the other languages, and Python the scanner could not read soundly.
    TreeSitter,
    /// The scanner's answer for damaged Python over the tree-sitter budget
    /// ([`MAX_TREE_SITTER_FALLBACK_BYTES`]): no file costs more than its share of bytes.
    OverBudget,
}

/// Files by what found their definitions, for one index build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ParseCounts {
    pub scanner: usize,
    pub tree_sitter: usize,
    pub over_budget: usize,
}

impl ParseCounts {
    pub(crate) fn add(&mut self, reader: Reader) {
        match reader {
            Reader::Scanner => self.scanner += 1,
            Reader::TreeSitter => self.tree_sitter += 1,
            Reader::OverBudget => self.over_budget += 1,
        }
    }
}

/// The definitions of one file. Python is read by the linear scanner ([`crate::scan_python`]): the same
/// definitions as tree-sitter on well-formed code (one file in 1,790 of the standard library
/// differs, where tree-sitter misreads it), 40-50 times faster, and linear on generated code
/// that tree-sitter parses slowly. A Python file with unbalanced brackets or an unterminated
/// string goes to tree-sitter, whose error recovery reads the rest of it better, unless it is
/// over 1 MiB.
pub fn definitions(lang: Lang, source: &[u8]) -> Vec<SymbolDef> {
    read_definitions(lang, source).0
}

/// [`definitions`], and what found them.
pub(crate) fn read_definitions(lang: Lang, source: &[u8]) -> (Vec<SymbolDef>, Reader) {
    let (defs, reader, _) = read_definitions_complete(lang, source);
    (defs, reader)
}

/// [`read_definitions`], and whether the answer is complete: `false` when tree-sitter gave
/// up for reasons outside the input (time limit, no helper thread). An incomplete answer is
/// used for the snapshot at hand but never cached, in memory or on disk, so a later build
/// tries again. Damaged Python whose parse gave up keeps the scanner's answer.
pub(crate) fn read_definitions_complete(
    lang: Lang,
    source: &[u8],
) -> (Vec<SymbolDef>, Reader, bool) {
    if lang != Lang::Python {
        return match extract::extract_symbols_complete(lang, source) {
            Some(defs) => (defs, Reader::TreeSitter, true),
            None => (Vec::new(), Reader::TreeSitter, false),
        };
    }
    match scan::scan_python_checked(source) {
        Some(defs) => (defs, Reader::Scanner, true),
        None if source.len() <= MAX_TREE_SITTER_FALLBACK_BYTES => {
            match extract::extract_symbols_complete(lang, source) {
                Some(defs) => (defs, Reader::TreeSitter, true),
                None => (scan::scan_python(source), Reader::TreeSitter, false),
            }
        }
        None => (scan::scan_python(source), Reader::OverBudget, true),
    }
}

/// The definitions of a file, from `store` or found and cached there; `None` for a file in
/// no supported language.
pub(crate) fn cached_definitions(f: &FileEntry, store: &Store) -> Option<Symbols> {
    cached_definitions_read(f, store).defs
}

/// What [`cached_definitions_read`] found for one file.
pub(crate) struct Read {
    pub defs: Option<Symbols>,
    /// What found them when they were found now (not cached).
    pub reader: Option<Reader>,
    /// `false` for an incomplete answer (see [`read_definitions_complete`]): it is not in
    /// `store`, and must not be stored on disk either.
    pub complete: bool,
}

/// [`cached_definitions`], and how they were found. Incomplete answers are not cached.
pub(crate) fn cached_definitions_read(f: &FileEntry, store: &Store) -> Read {
    let Some(lang) = f.lang else {
        return Read {
            defs: None,
            reader: None,
            complete: true,
        };
    };
    let key = (f.key, lang);
    if let Some(hit) = store.symbols(&key) {
        return Read {
            defs: Some(hit),
            reader: None,
            complete: true,
        };
    }
    let (defs, reader, complete) = read_definitions_complete(lang, &f.content);
    let parsed: Symbols = defs.into();
    if complete {
        store.insert_symbols(key, parsed.clone());
    }
    Read {
        defs: Some(parsed),
        reader: Some(reader),
        complete,
    }
}

/// One definition as the `symbols` tool reports it: the [`Definition`], and its file's
/// language.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Symbol {
    /// The definition (its fields flattened into the symbol's).
    #[serde(flatten)]
    pub definition: Definition,
    /// The file's language.
    pub language: Lang,
}

/// Where a definition lives: (file index, index into that file's definitions).
type Loc = (u32, u32);

/// Every definition of a snapshot, with maps for fast lookup.
pub struct SymbolIndex {
    per_file: Vec<Option<Symbols>>,
    /// Exact bare names and exact qualified names.
    exact: HashMap<Box<str>, Vec<Loc>>,
    /// Lower-cased bare names, sorted, for prefix and case-insensitive lookups.
    folded: Vec<(Box<str>, Loc)>,
    count: usize,
}

impl SymbolIndex {
    /// Parse every file of a known language in parallel, reusing cached parses by content.
    pub fn build(snapshot: &Snapshot, store: &Store) -> SymbolIndex {
        match Self::build_cancellable(snapshot, store, &Cancel::new()) {
            Ok(index) => index,
            // Only a cancelled build fails, and nothing cancels this one.
            Err(_) => Self::from_per_file(Vec::new()),
        }
    }

    /// [`SymbolIndex::build`], checking `cancel` before each file: a cancelled build returns
    /// [`crate::Error::Cancelled`] and nothing of it is kept (parses already cached stay).
    pub fn build_cancellable(
        snapshot: &Snapshot,
        store: &Store,
        cancel: &Cancel,
    ) -> Result<SymbolIndex> {
        let per_file: Vec<Option<Symbols>> = crate::pool::build_map(snapshot.files(), |_, f| {
            if cancel.is_cancelled() {
                return None;
            }
            cached_definitions(f, store)
        });
        cancel.check()?;
        let index = Self::from_per_file(per_file);
        release_freed_memory();
        Ok(index)
    }

    /// Assemble the lookup maps over per-file definitions (index = file index).
    pub(crate) fn from_per_file(per_file: Vec<Option<Symbols>>) -> SymbolIndex {
        let mut exact: HashMap<Box<str>, Vec<Loc>> = HashMap::default();
        let mut folded = Vec::new();
        let mut count = 0;
        for (fi, defs) in per_file.iter().enumerate() {
            let Some(defs) = defs else { continue };
            for (di, d) in defs.iter().enumerate() {
                let loc = (fi as u32, di as u32);
                exact.entry(d.name.as_str().into()).or_default().push(loc);
                if d.qualified_name != d.name {
                    exact
                        .entry(d.qualified_name.as_str().into())
                        .or_default()
                        .push(loc);
                }
                folded.push((d.name.to_lowercase().into_boxed_str(), loc));
                count += 1;
            }
        }
        folded.sort_unstable();
        SymbolIndex {
            per_file,
            exact,
            folded,
            count,
        }
    }

    /// Definitions in the index.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the index has no definition.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The definitions of file `index` (empty for files in no supported language).
    pub fn file_symbols(&self, index: usize) -> &[SymbolDef] {
        self.per_file
            .get(index)
            .and_then(|s| s.as_deref())
            .unwrap_or(&[])
    }

    fn def(&self, (fi, di): Loc) -> &SymbolDef {
        &self.file_symbols(fi as usize)[di as usize]
    }

    /// Run a lookup against this index of `snapshot`.
    pub fn lookup(&self, snapshot: &Snapshot, req: &SymbolRequest) -> Result<SymbolResult> {
        let filter = PathFilter::new(&req.include, &req.exclude)?;
        let only = snapshot.restrict(&req.paths)?;
        let query = req.name.as_str();
        // (rank, loc): lower rank is a better match (for a prefix, fewer extra characters).
        let mut hits: Vec<(u32, Loc)> = match req.mode {
            MatchMode::Exact if req.ignore_case => {
                let q = query.to_lowercase();
                let lo = self.folded.partition_point(|(n, _)| **n < *q);
                self.folded[lo..]
                    .iter()
                    .take_while(|(n, _)| **n == *q)
                    .map(|&(_, l)| (0, l))
                    .collect()
            }
            MatchMode::Exact => self
                .exact
                .get(query)
                .into_iter()
                .flatten()
                .map(|&l| (0, l))
                .collect(),
            MatchMode::Prefix => {
                let q = query.to_lowercase();
                let lo = self.folded.partition_point(|(n, _)| **n < *q);
                self.folded[lo..]
                    .iter()
                    .take_while(|(n, _)| n.starts_with(q.as_str()))
                    .filter(|&&(_, l)| req.ignore_case || self.def(l).name.starts_with(query))
                    .map(|(n, l)| ((n.len() - q.len()) as u32, *l))
                    .collect()
            }
            MatchMode::Fuzzy => {
                let q: Vec<char> = query.to_lowercase().chars().collect();
                let budget = if q.len() <= 4 { 1 } else { 2 };
                let mut out = Vec::new();
                let mut last: Option<(&str, Option<usize>)> = None;
                for (name, loc) in &self.folded {
                    // Names are sorted: compute each distinct name's distance once.
                    let d = match last {
                        Some((n, d)) if n == &**name => d,
                        _ => bounded_edit_distance(&q, name, budget),
                    };
                    last = Some((name, d));
                    if let Some(d) = d {
                        out.push((d as u32, *loc));
                    }
                }
                out
            }
            MatchMode::Regex => {
                let re = regex::RegexBuilder::new(query)
                    .case_insensitive(req.ignore_case)
                    .size_limit(1 << 22)
                    .build()
                    .map_err(|e| Error::invalid_pattern(query, e))?;
                let mut out = Vec::new();
                for (fi, defs) in self.per_file.iter().enumerate() {
                    for (di, d) in defs.iter().flat_map(|d| d.iter().enumerate()) {
                        if re.is_match(&d.name) || re.is_match(&d.qualified_name) {
                            out.push((0, (fi as u32, di as u32)));
                        }
                    }
                }
                out
            }
        };
        let files = snapshot.files();
        hits.retain(|&(_, (fi, di))| {
            let f = &files[fi as usize];
            let d = self.def((fi, di));
            req.kinds.as_ref().is_none_or(|k| k.contains(&d.kind))
                && only.as_ref().is_none_or(|s| s.contains(&(fi as usize)))
                && filter.matches(&f.path)
        });
        // Each definition appears once in a lookup's hits (bare and qualified names of one
        // definition never both equal the query), so only the best `limit` need ordering.
        let total = hits.len();
        if hits.len() > req.limit && req.limit > 0 {
            hits.select_nth_unstable(req.limit);
            hits.truncate(req.limit);
        }
        hits.sort_unstable();
        let symbols = hits
            .into_iter()
            .take(req.limit)
            .map(|(_, loc)| self.symbol(snapshot, loc))
            .collect();
        Ok(SymbolResult { symbols, total })
    }

    fn symbol(&self, snapshot: &Snapshot, loc: Loc) -> Symbol {
        let f = &snapshot.files()[loc.0 as usize];
        Symbol {
            definition: Definition::new(self.def(loc), &f.path),
            language: f.lang.unwrap_or(Lang::Python),
        }
    }
}

/// Levenshtein distance between `a` and `b` if it is at most `max`, computed on one row
/// and abandoned as soon as every entry of a row exceeds `max`.
fn bounded_edit_distance(a: &[char], b: &str, max: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev_diag = row[0];
        row[0] = i + 1;
        let mut row_min = row[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let value = (prev_diag + cost).min(row[j] + 1).min(row[j + 1] + 1);
            prev_diag = row[j + 1];
            row[j + 1] = value;
            row_min = row_min.min(value);
        }
        if row_min > max {
            return None;
        }
    }
    let d = row[b.len()];
    (d <= max).then_some(d)
}

/// Parse trees are large and short-lived; glibc keeps their freed pages resident. Hand them
/// back so an indexed repository does not keep paying for its parses.
pub(crate) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the allocator's discretion.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How a symbol request's name is matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// The bare name or the qualified name equals the query.
    #[default]
    Exact,
    /// The bare name starts with the query (case-insensitive; shortest first).
    Prefix,
    /// The bare or qualified name matches the regular expression.
    Regex,
    /// The bare name is within a small edit distance of the query, ignoring case (one edit
    /// for names up to 4 characters, two beyond): for misspelled identifiers. Closest first.
    Fuzzy,
}

/// A symbols request: definitions by name.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SymbolRequest {
    /// The name (or pattern) to look up.
    pub name: String,
    /// How `name` is matched (default exact).
    pub mode: MatchMode,
    /// Ignore letter case in exact and regex matching.
    pub ignore_case: bool,
    /// Only these kinds (None: all).
    pub kinds: Option<Vec<SymbolKind>>,
    /// Globs a file must match (any of); `!glob` excludes.
    pub include: Vec<String>,
    /// Globs that exclude a file.
    pub exclude: Vec<String>,
    /// Restrict the search to these files or folders.
    pub paths: Vec<String>,
    /// At most this many definitions (default 100).
    pub limit: usize,
}

impl Default for SymbolRequest {
    fn default() -> Self {
        Self {
            name: String::new(),
            mode: MatchMode::Exact,
            ignore_case: false,
            kinds: None,
            include: Vec::new(),
            exclude: Vec::new(),
            paths: Vec::new(),
            limit: 100,
        }
    }
}

impl SymbolRequest {
    /// An exact lookup of `name`.
    pub fn exact(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// The definitions of a [`symbols()`](crate::symbols()) request.
#[derive(Clone, Debug, Serialize, Default)]
pub struct SymbolResult {
    /// Best first, at most `limit`.
    pub symbols: Vec<Symbol>,
    /// Matches before `limit` was applied.
    pub total: usize,
}
