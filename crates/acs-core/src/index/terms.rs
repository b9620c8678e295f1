//! Per-file BM25 term statistics: the term counts of a file's text and of each of its
//! function and class chunks, computed once per distinct content and reused by every
//! snapshot (and, through [`crate::index::filestore`], every process) that holds that content.
//!
//! Guarantees:
//! - **Content only.** An entry depends on the file's bytes and its definitions (which depend
//!   only on its bytes and language), never on its path: the path's terms are added when a
//!   snapshot's index is assembled ([`crate::bm25`]). So it is keyed by (content key,
//!   language) and shared by every path and commit holding those bytes.
//! - **Exact.** Counts and lengths are those a from-scratch count of the same texts gives, so
//!   an assembled index scores exactly as one built whole.

use crate::index::symbols::definition::{SymbolDef, SymbolKind};
use crate::index::tokenize::{tokenize, word_tokens, words};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// One document's terms: (term index, count) and its length in terms. Indexes point into
/// the owning entry's term list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocTerms {
    pub pairs: Vec<(u32, u32)>,
    pub len: u32,
}

/// A file's term statistics as plain data (computed, or read from disk): its distinct
/// terms, the text's counts, and each chunk's counts with the chunk's definition index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermCounts {
    pub terms: Vec<Box<str>>,
    pub text: DocTerms,
    pub chunks: Vec<(u32, DocTerms)>,
}

/// Whether a definition has a chunk of its own in the function-level index.
pub(crate) fn is_chunk(d: &SymbolDef) -> bool {
    matches!(
        d.kind,
        SymbolKind::Function | SymbolKind::Method | SymbolKind::Class
    )
}

/// Last line of the chunk of `defs[di]`: a class's text stops where its first member
/// starts, so its methods are chunks of their own and not counted twice.
pub(crate) fn chunk_end(defs: &[SymbolDef], di: usize) -> u32 {
    let d = &defs[di];
    match d.kind {
        SymbolKind::Class => defs
            .iter()
            .filter(|c| c.parent == Some(di as u32))
            .map(|c| c.start_line.saturating_sub(1))
            .min()
            .unwrap_or(d.end_line)
            .max(d.start_line),
        _ => d.end_line,
    }
}

impl TermCounts {
    /// Count the terms of `content` and of the chunks of `defs` (its definitions). A
    /// chunk's text is its qualified name and its lines; a class's lines stop where its
    /// first method starts, so a method and its class do not share one text.
    ///
    /// The text is tokenised once: a chunk's line terms are the file's terms on its lines
    /// (words never span a newline, and lossy UTF-8 decoding restarts at every newline, so
    /// this equals tokenising the lines alone), counted from the file's term sequence.
    pub fn count(content: &[u8], defs: &[SymbolDef]) -> TermCounts {
        let mut terms = FileVocabulary::default();
        // The file's terms in order, and per line the position of its first term there.
        let text = String::from_utf8_lossy(content);
        let mut sequence: Vec<u32> = Vec::new();
        let mut line_first: Vec<u32> = vec![0];
        let mut scanned = 0;
        // Words repeat: each distinct word is split and lower-cased once, its terms kept as a
        // range of `word_terms`.
        let mut seen: HashMap<&str, (u32, u32)> = HashMap::default();
        let mut word_terms: Vec<u32> = Vec::new();
        let mut lower = String::new();
        words(&text, |at, w| {
            if at > scanned {
                for _ in memchr::memchr_iter(b'\n', &text.as_bytes()[scanned..at]) {
                    line_first.push(sequence.len() as u32);
                }
                scanned = at;
            }
            let (from, to) = *seen.entry(w).or_insert_with(|| {
                let from = word_terms.len() as u32;
                word_tokens(w, &mut lower, &mut |t| word_terms.push(terms.intern(t)));
                (from, word_terms.len() as u32)
            });
            sequence.extend_from_slice(&word_terms[from as usize..to as usize]);
        });
        let lines = 1 + memchr::memchr_iter(b'\n', text.as_bytes()).count();
        line_first.resize(lines + 1, sequence.len() as u32);
        let mut counter = Counter::default();
        for &t in &sequence {
            counter.add(t);
        }
        let text_doc = counter.finish(sequence.len() as u32);
        let mut chunks = Vec::new();
        for (di, d) in defs.iter().enumerate().filter(|(_, d)| is_chunk(d)) {
            let end = chunk_end(defs, di);
            // Lines start..=end (1-based), clamped to the file.
            let first = (d.start_line.max(1) as usize - 1).min(lines);
            let last = (end as usize).min(lines);
            let body = if first < last {
                &sequence[line_first[first] as usize..line_first[last] as usize]
            } else {
                &[]
            };
            let mut len = body.len() as u32;
            tokenize(&d.qualified_name, |t| {
                len += 1;
                counter.add(terms.intern(t));
            });
            for &t in body {
                counter.add(t);
            }
            chunks.push((di as u32, counter.finish(len)));
        }
        TermCounts {
            terms: terms.into_terms(),
            text: text_doc,
            chunks,
        }
    }

    /// Whether every pair points into the term list: what a record read from disk must
    /// satisfy before it is used.
    pub fn is_sound(&self) -> bool {
        let n = self.terms.len() as u32;
        std::iter::once(&self.text)
            .chain(self.chunks.iter().map(|(_, d)| d))
            .all(|d| d.pairs.iter().all(|&(t, c)| t < n && c > 0))
    }

    /// These statistics with their terms interned in `vocab`.
    pub fn intern(self, vocab: &Arc<Vocabulary>) -> FileTerms {
        let ids = vocab.intern_all(&self.terms);
        FileTerms {
            vocab: vocab.clone(),
            ids,
            text: self.text,
            chunks: self.chunks,
        }
    }
}

/// The distinct terms of one file, numbered by first appearance.
#[derive(Default)]
struct FileVocabulary {
    index: HashMap<Box<str>, u32>,
}

impl FileVocabulary {
    fn intern(&mut self, t: &str) -> u32 {
        if let Some(&i) = self.index.get(t) {
            return i;
        }
        let i = self.index.len() as u32;
        self.index.insert(t.into(), i);
        i
    }

    /// The terms by number.
    fn into_terms(self) -> Vec<Box<str>> {
        let mut terms = vec![Box::<str>::default(); self.index.len()];
        for (t, i) in self.index {
            terms[i as usize] = t;
        }
        terms
    }
}

/// Dense per-document counts over a file's term list, with the indexes touched.
#[derive(Default)]
struct Counter {
    counts: Vec<u32>,
    touched: Vec<u32>,
}

impl Counter {
    fn add(&mut self, t: u32) {
        let i = t as usize;
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        if self.counts[i] == 0 {
            self.touched.push(t);
        }
        self.counts[i] += 1;
    }

    fn finish(&mut self, len: u32) -> DocTerms {
        let counts = &mut self.counts;
        let pairs = self
            .touched
            .drain(..)
            .map(|i| (i, std::mem::take(&mut counts[i as usize])))
            .collect();
        DocTerms { pairs, len }
    }
}

/// A file's term statistics in memory: terms as ids of a shared [`Vocabulary`], so a
/// snapshot's index is assembled without hashing a string per (document, term).
#[derive(Debug)]
pub struct FileTerms {
    pub(crate) vocab: Arc<Vocabulary>,
    /// The file's distinct terms as ids of `vocab`; the documents' pairs index this list.
    pub(crate) ids: Vec<u32>,
    pub(crate) text: DocTerms,
    pub(crate) chunks: Vec<(u32, DocTerms)>,
}

impl FileTerms {
    /// Approximate heap bytes, for the cache's budget.
    pub fn bytes(&self) -> usize {
        let pairs = self.text.pairs.len()
            + self
                .chunks
                .iter()
                .map(|(_, d)| d.pairs.len())
                .sum::<usize>();
        64 + 4 * self.ids.len() + 8 * pairs + 40 * self.chunks.len()
    }

    /// The statistics as plain data again (terms resolved), for tests and comparisons.
    pub fn counts(&self) -> TermCounts {
        TermCounts {
            terms: self.vocab.resolve(&self.ids),
            text: self.text.clone(),
            chunks: self.chunks.clone(),
        }
    }

    /// The same statistics interned in `vocab` (when this entry came from an older one).
    pub(crate) fn reinterned(&self, vocab: &Arc<Vocabulary>) -> FileTerms {
        let terms = self.vocab.resolve(&self.ids);
        FileTerms {
            vocab: vocab.clone(),
            ids: vocab.intern_all(&terms),
            text: self.text.clone(),
            chunks: self.chunks.clone(),
        }
    }
}

/// A term interner shared by the entries of one generation of the cache. It only grows;
/// the [`crate::index::cache::Store`] replaces it with a fresh one (and drops the entries that
/// use it) when it passes its share of the budget.
#[derive(Debug, Default)]
pub struct Vocabulary {
    inner: Mutex<Interned>,
}

#[derive(Debug, Default)]
pub(crate) struct Interned {
    ids: HashMap<Arc<str>, u32>,
    terms: Vec<Arc<str>>,
    bytes: usize,
}

impl Interned {
    pub(crate) fn intern(&mut self, t: &str) -> u32 {
        if let Some(&id) = self.ids.get(t) {
            return id;
        }
        let id = self.terms.len() as u32;
        let shared: Arc<str> = t.into();
        self.bytes += t.len() + 48;
        self.ids.insert(shared.clone(), id);
        self.terms.push(shared);
        id
    }

    pub(crate) fn term(&self, id: u32) -> &str {
        &self.terms[id as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.terms.len()
    }
}

impl Vocabulary {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Interned> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn intern_all(&self, terms: &[Box<str>]) -> Vec<u32> {
        let mut v = self.lock();
        terms.iter().map(|t| v.intern(t)).collect()
    }

    pub(crate) fn intern_strs(&self, terms: &[&str]) -> Vec<u32> {
        let mut v = self.lock();
        terms.iter().map(|t| v.intern(t)).collect()
    }

    fn resolve(&self, ids: &[u32]) -> Vec<Box<str>> {
        let v = self.lock();
        ids.iter().map(|&id| v.term(id).into()).collect()
    }

    /// Approximate heap bytes of the interned terms.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_counts_cover_name_and_lines_and_classes_stop_at_their_first_method() {
        let src = b"class Box:\n    size = 1\n    def open_lid(self):\n        return lid\n";
        let defs = crate::index::symbols::definitions(crate::lang::Lang::Python, src);
        let counts = TermCounts::count(src, &defs);
        assert!(counts.is_sound());
        let words = |d: &DocTerms| {
            let mut w: Vec<(String, u32)> = d
                .pairs
                .iter()
                .map(|&(t, n)| (counts.terms[t as usize].to_string(), n))
                .collect();
            w.sort();
            w
        };
        assert_eq!(counts.chunks.len(), 2);
        // The class: its name twice (qualified name, `class Box`), `size`; no method lines.
        assert_eq!(
            words(&counts.chunks[0].1),
            [
                ("box".to_string(), 2),
                ("class".to_string(), 1),
                ("size".to_string(), 1)
            ]
        );
        assert_eq!(counts.chunks[0].1.len, 4);
        assert_eq!(counts.chunks[1].0, 1);
        assert_eq!(
            words(&counts.chunks[1].1),
            [
                ("box".to_string(), 1),
                ("lid".to_string(), 3),
                ("open".to_string(), 2),
                ("open_lid".to_string(), 2)
            ]
        );
        assert_eq!(counts.chunks[1].1.len, 8);
    }
}
