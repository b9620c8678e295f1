//! Process-wide caches with byte budgets: file contents, parsed symbol tables and BM25 term
//! statistics, keyed by content (git blob id or a content hash), so that many snapshots of
//! one repository share what they have in common and parse and tokenise each distinct file
//! once.

use crate::byte_lru::{lock, ByteLru};
use crate::index::symbols::definition::SymbolDef;
use crate::index::terms::{FileTerms, Vocabulary};
use crate::lang::Lang;
use crate::snapshot::content::{Content, ContentCache, ContentKey};
use std::sync::{Arc, Mutex, OnceLock};

pub(crate) type Symbols = Arc<[SymbolDef]>;

/// What a file's term statistics depend on: its bytes and its language (which decides its
/// definitions, hence its chunks). Files in no supported language have them too.
pub(crate) type TermKey = (ContentKey, Option<Lang>);

/// The shared caches. Snapshots hold `Arc`s to what they use, so eviction only stops
/// sharing with future snapshots; it never invalidates a live one.
///
/// A `Store` is a handle: clones share one set of caches, which is how a [`crate::Repo`]
/// carries the store it was opened with into every index it builds. Two stores made with
/// [`Store::new`] share nothing.
#[derive(Clone)]
pub struct Store {
    caches: Arc<Caches>,
}

/// What a [`Store`] handle points to.
struct Caches {
    contents: ContentCache,
    symbols: Mutex<ByteLru<(ContentKey, Lang), Symbols>>,
    terms: Mutex<ByteLru<TermKey, Arc<FileTerms>>>,
    /// The interner the cached term statistics use (see [`Store::vocabulary`]).
    vocab: Mutex<Arc<Vocabulary>>,
}

/// Default budgets: generous for one large repository at many commits, small next to 24 GiB.
pub(crate) const DEFAULT_CONTENT_BUDGET: usize = 1 << 30;
pub(crate) const DEFAULT_SYMBOL_BUDGET: usize = 256 << 20;
pub(crate) const DEFAULT_TERM_BUDGET: usize = 256 << 20;

/// The interner may grow to this share of the term budget (but at least
/// [`MIN_VOCABULARY_BYTES`]) before a fresh one replaces it.
const VOCABULARY_SHARE: usize = 4;
const MIN_VOCABULARY_BYTES: usize = 32 << 20;

impl Store {
    /// A store with these budgets (bytes) for contents and symbol tables; the term budget defaults to the symbol budget.
    pub fn new(content_budget: usize, symbol_budget: usize) -> Self {
        let caches = Caches {
            contents: ContentCache::new(content_budget),
            symbols: Mutex::new(ByteLru::new(symbol_budget)),
            terms: Mutex::new(ByteLru::new(DEFAULT_TERM_BUDGET)),
            vocab: Mutex::new(Arc::default()),
        };
        Self {
            caches: Arc::new(caches),
        }
    }

    /// Whether `self` and `other` are handles on the same caches.
    pub fn same_as(&self, other: &Store) -> bool {
        Arc::ptr_eq(&self.caches, &other.caches)
    }

    /// The process-wide store used by default.
    pub fn global() -> &'static Store {
        static STORE: OnceLock<Store> = OnceLock::new();
        STORE.get_or_init(|| Store::new(DEFAULT_CONTENT_BUDGET, DEFAULT_SYMBOL_BUDGET))
    }

    /// Budgets (bytes) of the content and symbol caches; entries over them are evicted.
    pub fn set_budgets(&self, content_bytes: usize, symbol_bytes: usize) {
        self.caches.contents.set_budget(content_bytes);
        lock(&self.caches.symbols).set_budget(symbol_bytes);
    }

    /// Budget of the term-statistics cache (its interner included).
    pub fn set_term_budget(&self, bytes: usize) {
        lock(&self.caches.terms).set_budget(bytes);
    }

    /// The content cache, which sources intern what they read into.
    pub(crate) fn contents(&self) -> &ContentCache {
        &self.caches.contents
    }

    /// Insert `bytes` unless an equal blob is cached; returns the shared copy.
    pub fn intern_content(&self, key: ContentKey, bytes: Vec<u8>) -> Content {
        self.caches.contents.intern(key, bytes)
    }

    pub(crate) fn symbols(&self, key: &(ContentKey, Lang)) -> Option<Symbols> {
        lock(&self.caches.symbols).get(key)
    }

    pub(crate) fn insert_symbols(&self, key: (ContentKey, Lang), symbols: Symbols) {
        let size = symbols
            .iter()
            .map(|s| std::mem::size_of::<SymbolDef>() + s.name.len() + s.qualified_name.len())
            .sum::<usize>()
            + 64;
        lock(&self.caches.symbols).insert(key, symbols, size);
    }

    /// The term interner of the current generation: entries computed now intern into it.
    pub fn vocabulary(&self) -> Arc<Vocabulary> {
        lock(&self.caches.vocab).clone()
    }

    pub(crate) fn file_terms(&self, key: &TermKey) -> Option<Arc<FileTerms>> {
        lock(&self.caches.terms).get(key)
    }

    /// Cache `terms`. When the interner has outgrown its share of the budget, a fresh one
    /// replaces it and the entries of the old one are dropped (snapshots holding them keep
    /// them): only that bounds the interner, which never forgets a term otherwise.
    pub fn insert_file_terms(&self, key: TermKey, terms: Arc<FileTerms>) {
        let mut cache = lock(&self.caches.terms);
        let limit = (cache.budget() / VOCABULARY_SHARE).max(MIN_VOCABULARY_BYTES);
        let mut vocab = lock(&self.caches.vocab);
        if vocab.bytes() > limit {
            *vocab = Arc::default();
            cache.clear();
        }
        if Arc::ptr_eq(&terms.vocab, &vocab) {
            let size = terms.bytes();
            cache.insert(key, terms, size);
        }
    }

    /// (entries, bytes) of the term-statistics cache, its interner's bytes included.
    pub fn term_usage(&self) -> (usize, usize) {
        let t = lock(&self.caches.terms);
        (t.len(), t.bytes() + lock(&self.caches.vocab).bytes())
    }

    /// (entries, bytes) of the content and symbol caches, for stats and tests.
    pub fn usage(&self) -> ((usize, usize), (usize, usize)) {
        let s = lock(&self.caches.symbols);
        (self.caches.contents.usage(), (s.len(), s.bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_term_cache_stays_within_its_budget() {
        let store = Store::new(1 << 20, 1 << 20);
        store.set_term_budget(20_000);
        for i in 0..200 {
            let text = format!("word_{i} other_{i} more_{i}").repeat(20);
            let counts = crate::index::terms::TermCounts::count(text.as_bytes(), &[]);
            let terms = Arc::new(counts.intern(&store.vocabulary()));
            store.insert_file_terms((ContentKey::of_bytes(text.as_bytes()), None), terms);
        }
        let (entries, _) = store.term_usage();
        assert!(entries > 0 && entries < 200, "{entries}");
        assert!(lock(&store.caches.terms).bytes() <= 20_000);
    }
}
