//! `bm25`: lexical ranking of files, or of function-level chunks, against free text such as
//! an issue. Identifiers are split on case and underscores (`parseHTTPHeader_v2` gives
//! `parse`, `http`, `header`, `v2`, and the whole `parsehttpheader_v2`), so an issue that
//! says "HTTP header parsing" meets code that says `parse_http_header`.
//!
//! Indexes are built from a [`Snapshot`]'s files through a [`Store`] (per-file term
//! statistics, cached by content), in parallel; a [`crate::Repo`] builds its own on first use
//! and keeps them. The `bm25` tool that searches them is [`crate::bm25_tool`].

use crate::cache::Store;
use crate::cancel::Cancel;
use crate::error::Result;
use crate::snapshot::{FileEntry, Snapshot};
use crate::symbols::{SymbolDef, SymbolIndex};
use crate::terms::{DocTerms, FileTerms, TermCounts, Vocabulary};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;
use std::sync::{Arc, OnceLock};

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Words too common in code and prose to say anything about a location.
const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "def", "do", "else", "for", "from", "if",
    "in", "is", "it", "not", "of", "on", "or", "self", "that", "the", "this", "to", "with",
    "return", "import", "none", "true", "false", "we", "i", "you", "but", "can", "when", "so",
    "was",
];

/// Lower-cased search terms of `text`: every identifier-like word, its parts split on case
/// changes and underscores, and the whole word when it had parts.
pub fn tokenize(text: &str, mut emit: impl FnMut(&str)) {
    tokenize_at(text, |_, t| emit(t));
}

/// [`tokenize`], giving with each term the byte offset in `text` of the word it came from.
pub(crate) fn tokenize_at(text: &str, mut emit: impl FnMut(usize, &str)) {
    let mut lower = String::new();
    words(text, |at, w| {
        word_tokens(w, &mut lower, &mut |t| emit(at, t))
    });
}

/// The identifier-like words of `text` (letters, digits, `_`) with their byte offsets.
/// ASCII is classified per byte; other characters are decoded.
pub(crate) fn words<'t>(text: &'t str, mut emit: impl FnMut(usize, &'t str)) {
    let bytes = text.as_bytes();
    let mut start = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (in_word, width) = if b.is_ascii() {
            (b.is_ascii_alphanumeric() || b == b'_', 1)
        } else {
            let c = text[i..].chars().next().expect("a character starts here");
            (c.is_alphanumeric(), c.len_utf8())
        };
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                emit(s, &text[s..i]);
                start = None;
            }
            _ => {}
        }
        i += width;
    }
    if let Some(s) = start {
        emit(s, &text[s..]);
    }
}

/// The terms of one word (see [`tokenize`]), lower-cased in `lower`.
pub(crate) fn word_tokens(word: &str, lower: &mut String, emit: &mut dyn FnMut(&str)) {
    word_terms(word, &mut |part| {
        lower.clear();
        if part.is_ascii() {
            lower.extend(part.bytes().map(|b| b.to_ascii_lowercase() as char));
        } else {
            lower.extend(part.chars().flat_map(char::to_lowercase));
        }
        if keep(lower) {
            emit(lower);
        }
    });
}

/// The parts of one word, then the word itself when it has several parts.
fn word_terms(word: &str, emit: &mut dyn FnMut(&str)) {
    let mut parts = 0;
    split_identifier(word, &mut |p| {
        parts += 1;
        emit(p);
    });
    if parts > 1 {
        emit(word);
    }
}

fn keep(term: &str) -> bool {
    static STOP_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    // Hashed once per token: a fast hash matters (FxHash, as for every map here).
    let stop = STOP_SET.get_or_init(|| STOP.iter().copied().collect());
    term.len() >= 2
        && term.len() <= 64
        && !stop.contains(term)
        && !term.bytes().all(|b| b.is_ascii_digit())
}

/// `parseHTTPHeader_v2` -> `parse`, `HTTP`, `Header`, `v2`.
fn split_identifier(word: &str, emit: &mut dyn FnMut(&str)) {
    for piece in word.split('_').filter(|p| !p.is_empty()) {
        let mut start = 0;
        let mut prev: Option<char> = None;
        let mut iter = piece.char_indices().peekable();
        while let Some((i, cur)) = iter.next() {
            if let Some(prev) = prev {
                let next_lower = iter.peek().is_some_and(|(_, n)| n.is_lowercase());
                let boundary = (prev.is_lowercase() && cur.is_uppercase())
                    || (prev.is_uppercase() && cur.is_uppercase() && next_lower);
                if boundary {
                    emit(&piece[start..i]);
                    start = i;
                }
            }
            prev = Some(cur);
        }
        emit(&piece[start..]);
    }
}

/// A BM25 index over documents of one kind (files, or function-level chunks).
pub struct Bm25Index {
    terms: HashMap<Box<str>, u32>,
    /// Per term: (document, term frequency).
    postings: Vec<Vec<(u32, u32)>>,
    doc_len: Vec<u32>,
    avg_len: f32,
    docs: Vec<Doc>,
}

/// What a document of the index stands for.
#[derive(Clone, Debug)]
pub struct Doc {
    pub file: u32,
    /// For a function-level chunk: index into the file's definitions.
    pub def: Option<u32>,
}

impl Bm25Index {
    /// Index every file: its path and its text, taking and caching per-file entries in `store`.
    pub fn files(snapshot: &Snapshot, store: &Store) -> Bm25Index {
        Self::files_cancellable(snapshot, store, &Cancel::new()).unwrap_or_else(|_| Self::empty())
    }

    /// [`Bm25Index::files`], checking `cancel` before each file; cancelled: `Err`, nothing kept.
    pub fn files_cancellable(
        snapshot: &Snapshot,
        store: &Store,
        cancel: &Cancel,
    ) -> Result<Bm25Index> {
        let parts = Self::assembly(snapshot, store, cancel, |_, f| {
            let defs = crate::symbols::cached_definitions(f, store);
            file_terms(f, defs.as_deref().unwrap_or(&[]), store)
        })?;
        Ok(parts.index(Level::File, |_| 0))
    }

    /// Index every function, method and class body (a class's own lines, without its
    /// methods, so that a method and its class do not share one text).
    pub fn functions(snapshot: &Snapshot, index: &SymbolIndex, store: &Store) -> Bm25Index {
        Self::functions_cancellable(snapshot, index, store, &Cancel::new())
            .unwrap_or_else(|_| Self::empty())
    }

    /// [`Bm25Index::functions`], checking `cancel` before each file; cancelled: `Err`.
    pub fn functions_cancellable(
        snapshot: &Snapshot,
        index: &SymbolIndex,
        store: &Store,
        cancel: &Cancel,
    ) -> Result<Bm25Index> {
        let parts = Self::assembly(snapshot, store, cancel, |i, f| {
            file_terms(f, index.file_symbols(i), store)
        })?;
        Ok(parts.index(Level::Function, |i| index.file_symbols(i).len()))
    }

    /// Every file's entry (from `entry`, in parallel, checking `cancel` before each file),
    /// ready to assemble; cancelled: `Err`.
    fn assembly(
        snapshot: &Snapshot,
        store: &Store,
        cancel: &Cancel,
        entry: impl Fn(usize, &FileEntry) -> Arc<FileTerms> + Sync,
    ) -> Result<Assembly> {
        let entries = crate::pool::build_map(snapshot.files(), |i, f| {
            (!cancel.is_cancelled()).then(|| entry(i, f))
        });
        cancel.check()?;
        let entries: Vec<_> = entries.into_iter().flatten().collect();
        Ok(Assembly::new(snapshot, &entries, &store.vocabulary()))
    }

    fn empty() -> Bm25Index {
        Bm25Index {
            terms: HashMap::default(),
            postings: Vec::new(),
            doc_len: Vec::new(),
            avg_len: 1.0,
            docs: Vec::new(),
        }
    }

    /// Documents in the index.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the index has no document.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The best `limit` documents for `query` among those `keep` accepts, best first.
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        keep: impl Fn(&Doc) -> bool,
    ) -> Vec<(f32, &Doc)> {
        // Query terms in a fixed order, so that scores (float sums) are reproducible.
        let mut weights: std::collections::BTreeMap<&str, (u32, f32)> = Default::default();
        tokenize(query, |t| {
            if let Some((key, &id)) = self.terms.get_key_value(t) {
                weights.entry(&**key).or_insert((id, 0.0)).1 += 1.0;
            }
        });
        let n = self.docs.len() as f32;
        let mut scores: HashMap<u32, f32> = HashMap::default();
        for &(term, qtf) in weights.values() {
            let list = &self.postings[term as usize];
            let df = list.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            // Repeating a word in the query counts, but less than linearly.
            let qweight = 1.0 + qtf.ln();
            for &(doc, tf) in list {
                let tf = tf as f32;
                let len = self.doc_len[doc as usize] as f32;
                let s = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / self.avg_len));
                *scores.entry(doc).or_default() += qweight * s;
            }
        }
        let mut heap: BinaryHeap<std::cmp::Reverse<(Score, u32)>> = BinaryHeap::new();
        for (doc, score) in scores {
            if !keep(&self.docs[doc as usize]) {
                continue;
            }
            heap.push(std::cmp::Reverse((Score(score), doc)));
            if heap.len() > limit {
                heap.pop();
            }
        }
        let mut out: Vec<(f32, &Doc)> = heap
            .into_iter()
            .map(|std::cmp::Reverse((s, d))| (s.0, &self.docs[d as usize]))
            .collect();
        out.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(a.1.file.cmp(&b.1.file))
                .then(a.1.def.cmp(&b.1.def))
        });
        out
    }
}

/// The term statistics of `f`, from the store or counted (with `defs`, its definitions) and
/// cached there.
pub(crate) fn file_terms(f: &FileEntry, defs: &[SymbolDef], store: &Store) -> Arc<FileTerms> {
    let key = (f.key, f.lang);
    if let Some(hit) = store.file_terms(&key) {
        return hit;
    }
    let entry = Arc::new(TermCounts::count(&f.content, defs).intern(&store.vocabulary()));
    // Chunks follow the definitions: cache them only beside cached definitions, which are
    // always complete (an incomplete parse, given up at its time limit, is never cached).
    let complete = f
        .lang
        .is_none_or(|lang| store.symbols(&(f.key, lang)).is_some());
    if complete {
        store.insert_file_terms(key, entry.clone());
    }
    entry
}

/// What a snapshot's BM25 indexes are assembled from: one term-statistics entry per file
/// (in file order), all in one interner, and each file's path terms. Each document's counts
/// are its entry's plus its path's, so scores equal those of counting its texts whole.
pub(crate) struct Assembly {
    entries: Vec<Arc<FileTerms>>,
    /// Per file: its path's terms as (interner id, count), and its length in terms.
    paths: Vec<(Vec<(u32, u32)>, u32)>,
    vocab: Arc<Vocabulary>,
}

impl Assembly {
    pub(crate) fn new(
        snapshot: &Snapshot,
        entries: &[Arc<FileTerms>],
        vocab: &Arc<Vocabulary>,
    ) -> Self {
        assert_eq!(entries.len(), snapshot.files().len(), "one entry per file");
        // Entries from an older interner generation are re-interned in the current one.
        let entries = entries
            .iter()
            .map(|e| {
                if Arc::ptr_eq(&e.vocab, vocab) {
                    e.clone()
                } else {
                    Arc::new(e.reinterned(vocab))
                }
            })
            .collect();
        let mut v = vocab.lock();
        let paths = snapshot
            .files()
            .iter()
            .map(|f| {
                let mut counts: Vec<(u32, u32)> = Vec::new();
                let mut len = 0;
                tokenize(&f.path, |t| {
                    len += 1;
                    let id = v.intern(t);
                    match counts.iter_mut().find(|(i, _)| *i == id) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((id, 1)),
                    }
                });
                (counts, len)
            })
            .collect();
        drop(v);
        Assembly {
            entries,
            paths,
            vocab: vocab.clone(),
        }
    }

    /// The index of `level`, leaving out chunks whose definition index is not below
    /// `defs_in(file)`. Levels can be assembled at once, on different threads.
    pub(crate) fn index<'e>(&'e self, level: Level, defs_in: impl Fn(usize) -> usize) -> Bm25Index {
        let mut asm = Assembler::new(&self.vocab);
        let docs_of = |fi: usize, entry: &'e FileTerms| -> Vec<(Option<u32>, &'e DocTerms)> {
            match level {
                Level::File => vec![(None, &entry.text)],
                Level::Function => entry
                    .chunks
                    .iter()
                    .filter(|(di, _)| (*di as usize) < defs_in(fi))
                    .map(|(di, doc)| (Some(*di), doc))
                    .collect(),
            }
        };
        // First pass: index term ids, and each posting list's length (at most), so that the
        // lists are allocated once.
        let mut files = Vec::with_capacity(self.entries.len());
        let mut lengths: Vec<u32> = Vec::new();
        for (fi, (entry, (path, path_len))) in self.entries.iter().zip(&self.paths).enumerate() {
            let local: Vec<u32> = entry.ids.iter().map(|&v| asm.term(v)).collect();
            let path: Vec<(u32, u32)> = path.iter().map(|&(v, n)| (asm.term(v), n)).collect();
            lengths.resize(asm.postings.len(), 0);
            let docs = docs_of(fi, entry);
            for (_, doc) in &docs {
                for &(l, _) in &doc.pairs {
                    lengths[local[l as usize] as usize] += 1;
                }
                for &(t, _) in &path {
                    lengths[t as usize] += 1;
                }
            }
            files.push((local, (path, *path_len), docs));
        }
        for (list, &n) in asm.postings.iter_mut().zip(&lengths) {
            list.reserve_exact(n as usize);
        }
        for (fi, (local, path, docs)) in files.into_iter().enumerate() {
            for (def, doc) in docs {
                asm.doc(fi as u32, def, doc, &local, &path);
            }
        }
        asm.finish()
    }
}

/// Builds one index: maps the interner's term ids to the index's own, dense ids, and adds
/// each document's path terms to its counts.
struct Assembler<'v> {
    vocab: &'v Vocabulary,
    /// Interner id -> index term id (`u32::MAX`: not in the index yet).
    index_id: Vec<u32>,
    /// Index term id -> interner id.
    vocab_id: Vec<u32>,
    /// Per index term id: the current path's count of it, not yet added to a document.
    pending: Vec<u32>,
    postings: Vec<Vec<(u32, u32)>>,
    doc_len: Vec<u32>,
    docs: Vec<Doc>,
}

impl<'v> Assembler<'v> {
    fn new(vocab: &'v Vocabulary) -> Self {
        let n = vocab.lock().len();
        Assembler {
            vocab,
            index_id: vec![u32::MAX; n],
            vocab_id: Vec::new(),
            pending: Vec::new(),
            postings: Vec::new(),
            doc_len: Vec::new(),
            docs: Vec::new(),
        }
    }

    fn term(&mut self, vocab_id: u32) -> u32 {
        let v = vocab_id as usize;
        if v >= self.index_id.len() {
            self.index_id.resize(v + 1, u32::MAX);
        }
        if self.index_id[v] == u32::MAX {
            self.index_id[v] = self.postings.len() as u32;
            self.vocab_id.push(vocab_id);
            self.postings.push(Vec::new());
            self.pending.push(0);
        }
        self.index_id[v]
    }

    /// Add one document: `doc`'s counts (its pairs index `local`) plus the path's.
    fn doc(
        &mut self,
        file: u32,
        def: Option<u32>,
        doc: &DocTerms,
        local: &[u32],
        (path, path_len): &(Vec<(u32, u32)>, u32),
    ) {
        let d = self.docs.len() as u32;
        for &(t, n) in path {
            self.pending[t as usize] = n;
        }
        for &(l, n) in &doc.pairs {
            let t = local[l as usize] as usize;
            let n = n + std::mem::take(&mut self.pending[t]);
            self.postings[t].push((d, n));
        }
        for &(t, _) in path {
            let n = std::mem::take(&mut self.pending[t as usize]);
            if n > 0 {
                self.postings[t as usize].push((d, n));
            }
        }
        self.doc_len.push(doc.len + path_len);
        self.docs.push(Doc { file, def });
    }

    fn finish(self) -> Bm25Index {
        let vocab = self.vocab.lock();
        let terms = self
            .vocab_id
            .iter()
            .enumerate()
            .map(|(i, &v)| (vocab.term(v).into(), i as u32))
            .collect();
        drop(vocab);
        let total: f32 = self.doc_len.iter().map(|&n| n as f32).sum();
        let avg_len = if self.doc_len.is_empty() {
            1.0
        } else {
            total / self.doc_len.len() as f32
        };
        Bm25Index {
            terms,
            postings: self.postings,
            doc_len: self.doc_len,
            avg_len: avg_len.max(1.0),
            docs: self.docs,
        }
    }
}

/// A total order on scores for the heap.
#[derive(Clone, Copy, PartialEq)]
struct Score(f32);
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// What a BM25 index ranks: whole files or function-level chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Whole files (path included).
    #[default]
    File,
    /// Functions and classes, each a document of its own.
    Function,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Repo;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        tokenize(text, |t| out.push(t.to_string()));
        out
    }

    #[test]
    fn identifiers_split_on_case_and_underscores() {
        assert_eq!(
            tokens("parseHTTPHeader_v2"),
            ["parse", "http", "header", "v2", "parsehttpheader_v2"]
        );
        assert_eq!(
            tokens("load_settings(path)"),
            ["load", "settings", "load_settings", "path"]
        );
        assert_eq!(tokens("XMLParser"), ["xml", "parser", "xmlparser"]);
    }

    #[test]
    fn words_are_classified_per_character_as_unicode_says() {
        let text = "naïve_café(Ünï) x²y ٣٤ 中文字 _a__b\u{fffd}c é\u{301}t ÀB";
        let mut reference = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
            match (c.is_alphanumeric() || c == '_', start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    reference.push((s, &text[s..i]));
                    start = None;
                }
                _ => {}
            }
        }
        let mut found = Vec::new();
        words(text, |at, w| found.push((at, w)));
        assert_eq!(found, reference);
        assert_eq!(tokens("ÀBc_dÉf"), ["à", "bc", "éf", "àbc_déf"]);
    }

    #[test]
    fn stop_words_numbers_and_single_letters_are_dropped() {
        assert_eq!(tokens("if the x is 42 then return self"), ["then"]);
    }

    /// Per document: (definition, file, length, sorted (term, count)).
    type DocView = (Option<u32>, u32, u32, Vec<(String, u32)>);

    /// The index as a from-scratch count would make it: every document's texts counted
    /// whole (the implementation before per-file entries), as comparable data.
    fn reference(repo: &Repo, level: Level) -> Vec<DocView> {
        let symbols = repo.symbol_index();
        let mut out = Vec::new();
        for (i, f) in repo.files().iter().enumerate() {
            let text = String::from_utf8_lossy(&f.content);
            let mut docs: Vec<(Option<u32>, Vec<String>)> = Vec::new();
            match level {
                Level::File => docs.push((None, vec![f.path.to_string(), text.to_string()])),
                Level::Function => {
                    let defs = symbols.file_symbols(i);
                    let starts = crate::text::line_starts(&f.content);
                    let range = |a: u32, b: u32| {
                        let lo = starts.get(a.saturating_sub(1) as usize).copied();
                        let lo = lo.unwrap_or(f.content.len());
                        let hi = starts.get(b as usize).copied().unwrap_or(f.content.len());
                        String::from_utf8_lossy(&f.content[lo.min(hi)..hi]).to_string()
                    };
                    for (di, d) in defs.iter().enumerate() {
                        if !crate::terms::is_chunk(d) {
                            continue;
                        }
                        let end = crate::terms::chunk_end(defs, di);
                        let texts = vec![
                            f.path.to_string(),
                            d.qualified_name.clone(),
                            range(d.start_line, end),
                        ];
                        docs.push((Some(di as u32), texts));
                    }
                }
            }
            for (def, texts) in docs {
                let mut counts: std::collections::BTreeMap<String, u32> = Default::default();
                let mut len = 0;
                for t in &texts {
                    tokenize(t, |w| {
                        len += 1;
                        *counts.entry(w.to_string()).or_default() += 1;
                    });
                }
                out.push((def, i as u32, len, counts.into_iter().collect()));
            }
        }
        out
    }

    /// The same view of an index.
    fn view(index: &Bm25Index) -> Vec<DocView> {
        let mut per_doc: Vec<Vec<(String, u32)>> = vec![Vec::new(); index.docs.len()];
        for (term, &id) in &index.terms {
            for &(d, n) in &index.postings[id as usize] {
                per_doc[d as usize].push((term.to_string(), n));
            }
        }
        index
            .docs
            .iter()
            .zip(per_doc)
            .enumerate()
            .map(|(d, (doc, mut terms))| {
                terms.sort();
                (doc.def, doc.file, index.doc_len[d], terms)
            })
            .collect()
    }

    #[test]
    fn assembled_indexes_equal_whole_counts_and_postings_stay_in_document_order() {
        let repo = Repo::from_files([
            ("pkg/box_lid.py", "class Box:\n    size = 1\n    def open_lid(self):\n        return lid_box\n\ndef lid():\n    pass\n".as_bytes()),
            ("pkg/lid/open.py", "def open(box):\n    return box.lid  # open the box lid\n".as_bytes()),
            ("docs/Lid Guide.md", "How to open a Box: lift the lid. Lid lid lid.\n".as_bytes()),
            ("bad_utf8.py", b"def caf\xe9():\n    x = 'caf\xe9 \xff'\n".as_slice()),
            ("empty.py", b"".as_slice()),
            (
                "nested.py",
                b"@decorate(\"x\")\nclass Outer(Base):\r\n    '''Doc \xe2\x80\x94 text'''\r\n    class Inner:\n        def deep(self): return inner_value\n    def method(self, arg):\n        def local_helper():\n            return arg\n        return local_helper()\n\xc3\nx = Outer()".as_slice(),
            ),
            (
                "web/app.js",
                b"export class Widget {\n  render() { return this.htmlNode; }\n}\nfunction mountWidget(el) {\n  return new Widget(el);\n}".as_slice(),
            ),
        ])
        .unwrap();
        for level in [Level::File, Level::Function] {
            let assembled = repo.bm25_index(level);
            assert_eq!(view(assembled), reference(&repo, level), "{level:?}");
            assert!(assembled.len() >= if level == Level::File { 7 } else { 12 });
            for list in &assembled.postings {
                assert!(list.windows(2).all(|w| w[0].0 < w[1].0));
            }
        }
    }

    #[test]
    fn entries_of_older_interner_generations_assemble_alike() {
        let repo = Repo::from_files([
            (
                "a/parse_header.py",
                "def parse_header(h):\n    return h.strip()\n",
            ),
            (
                "b.py",
                "class Header:\n    def parse(self):\n        return header_value\n",
            ),
        ])
        .unwrap();
        let symbols = repo.symbol_index();
        // Each file interned in its own vocabulary, none of them the one assembling.
        let entries: Vec<Arc<FileTerms>> = repo
            .files()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let counts = TermCounts::count(&f.content, symbols.file_symbols(i));
                Arc::new(counts.intern(&Arc::default()))
            })
            .collect();
        let parts = Assembly::new(&repo, &entries, &Arc::default());
        for level in [Level::File, Level::Function] {
            let index = parts.index(level, |i| symbols.file_symbols(i).len());
            assert_eq!(view(&index), reference(&repo, level), "{level:?}");
        }
    }
}
