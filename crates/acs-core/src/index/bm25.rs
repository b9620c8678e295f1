//! `bm25`: lexical ranking of files, or of function-level chunks, against free text such as
//! an issue, on the terms of [`crate::index::tokenize`].
//!
//! Indexes are built from a [`Snapshot`]'s files through a [`Store`] (per-file term
//! statistics, cached by content), in parallel; a [`crate::Repo`] builds its own on first use
//! and keeps them. The `bm25` tool that searches them is [`crate::tools::bm25`].

use crate::cancel::Cancel;
use crate::error::Result;
use crate::index::cache::Store;
use crate::index::symbols::{SymbolDef, SymbolIndex};
use crate::index::terms::{DocTerms, FileTerms, TermCounts, Vocabulary};
use crate::index::tokenize::tokenize;
use crate::snapshot::{FileEntry, Snapshot};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;
use std::sync::Arc;

const K1: f32 = 1.2;
const B: f32 = 0.75;

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
            let defs = crate::index::symbols::cached_definitions(f, store);
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
                        if !crate::index::terms::is_chunk(d) {
                            continue;
                        }
                        let end = crate::index::terms::chunk_end(defs, di);
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
