//! [`ByteLru`]: an LRU map whose capacity is a number of bytes rather than entries, the shape
//! of every process-wide cache (file contents, symbol tables, term statistics).

use lru::LruCache;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

/// An LRU map whose capacity is a number of bytes rather than entries.
pub(crate) struct ByteLru<K: Hash + Eq, V> {
    map: LruCache<K, (V, usize)>,
    bytes: usize,
    budget: usize,
}

impl<K: Hash + Eq, V: Clone> ByteLru<K, V> {
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            map: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    pub(crate) fn get(&mut self, key: &K) -> Option<V> {
        self.map.get(key).map(|(v, _)| v.clone())
    }

    pub(crate) fn insert(&mut self, key: K, value: V, size: usize) {
        if let Some((_, old)) = self.map.put(key, (value, size)) {
            self.bytes -= old;
        }
        self.bytes += size;
        self.shrink_to(self.budget);
    }

    pub(crate) fn budget(&self) -> usize {
        self.budget
    }

    pub(crate) fn set_budget(&mut self, budget: usize) {
        self.budget = budget;
        self.shrink_to(budget);
    }

    /// Drop every entry, keeping the budget.
    pub(crate) fn clear(&mut self) {
        self.shrink_to(0);
    }

    fn shrink_to(&mut self, budget: usize) {
        while self.bytes > budget {
            match self.map.pop_lru() {
                Some((_, (_, size))) => self.bytes -= size,
                None => break,
            }
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// A poisoned cache mutex only means another thread panicked mid-update of an LRU whose
/// invariants hold between statements; keep using it rather than cascading the panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_entries_leave_first_when_over_budget() {
        let mut lru = ByteLru::new(100);
        lru.insert("a", 1, 40);
        lru.insert("b", 2, 40);
        assert_eq!(lru.get(&"a"), Some(1)); // a is now the most recent
        lru.insert("c", 3, 40);
        assert_eq!(lru.get(&"b"), None);
        assert_eq!(lru.get(&"a"), Some(1));
        assert_eq!(lru.bytes(), 80);
    }
}
