//! A snapshot's three indexes (symbols, BM25 of files, BM25 of functions) assembled from
//! per-file entries: each file's definitions and term statistics, taken from the process's
//! [`Store`] when it has them, else from the on-disk [`FileStore`], else computed (in
//! parallel) and appended there. Only files whose content was never seen are processed.
//!
//! Guarantees: the indexes equal those built whole from the same files (same definitions,
//! same BM25 scores); a cancelled build returns [`crate::Error::Cancelled`] before anything
//! is written to disk, so the store never holds partial work.

use crate::cancel::Cancel;
use crate::error::Result;
use crate::index::bm25::{Assembly, Bm25Index, Level};
use crate::index::cache::{Store, Symbols, TermKey};
use crate::index::filestore::FileStore;
use crate::index::persist::Indexes;
use crate::index::symbols::SymbolIndex;
use crate::index::terms::{FileTerms, TermCounts};
use crate::snapshot::Snapshot;
use std::sync::Arc;

/// Where each file's entry came from, and the disk traffic.
#[derive(Clone, Debug, Default)]
pub(crate) struct Provenance {
    pub memory: usize,
    pub disk: usize,
    pub processed: usize,
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// What found the definitions of the processed files.
    pub parsed: crate::index::symbols::ParseCounts,
    /// Why the disk store could not be written (the indexes are complete regardless).
    pub warning: Option<String>,
}

/// One file's entry: definitions (`None`: no supported language) and term statistics.
type Entry = (Option<Symbols>, Arc<FileTerms>);

/// Build `snapshot`'s indexes from per-file entries, using and feeding `disk` when given.
pub(crate) fn build(
    snapshot: &Snapshot,
    store: &Store,
    disk: Option<&FileStore>,
    cancel: &Cancel,
) -> Result<(Indexes, Provenance)> {
    let files = snapshot.files();
    let mut how = Provenance::default();
    let key = |i: usize| -> TermKey { (files[i].key, files[i].lang) };
    // A store folder that is not acs's own (a link, another user's) is not used at all.
    let disk = match disk.map(|d| (d, d.check())) {
        Some((_, Err(warning))) => {
            how.warning = Some(warning);
            None
        }
        Some((d, Ok(()))) => Some(d),
        None => None,
    };
    // 1. The process's caches.
    let mut entries: Vec<Option<Entry>> = crate::pool::build_map(files, |_, f| {
        let terms = store.file_terms(&(f.key, f.lang))?;
        match f.lang {
            Some(lang) => Some((Some(store.symbols(&(f.key, lang))?), terms)),
            None => Some((None, terms)),
        }
    });
    how.memory = entries.iter().flatten().count();
    // 2. The disk store.
    let missing: Vec<usize> = (0..files.len()).filter(|&i| entries[i].is_none()).collect();
    let mut lookup = None;
    if let (Some(disk), false) = (disk, missing.is_empty()) {
        cancel.check()?;
        let keys: Vec<TermKey> = missing.iter().map(|&i| key(i)).collect();
        let mut found = disk.lookup(&keys, &store.vocabulary());
        how.bytes_read = found.bytes;
        for (&i, hit) in missing.iter().zip(std::mem::take(&mut found.found)) {
            let Some(hit) = hit else { continue };
            let (defs, terms) = (hit.defs, hit.terms);
            if let (Some(lang), Some(d)) = (files[i].lang, &defs) {
                store.insert_symbols((files[i].key, lang), d.clone());
            }
            store.insert_file_terms(key(i), terms.clone());
            entries[i] = Some((defs, terms));
            how.disk += 1;
        }
        lookup = Some(found);
    }
    // 3. Compute the rest, in parallel.
    let todo: Vec<usize> = (0..files.len()).filter(|&i| entries[i].is_none()).collect();
    let readers = std::sync::Mutex::new(crate::index::symbols::ParseCounts::default());
    // Each computed entry is encoded as a record on its worker (only with a store).
    let computed: Vec<Option<(Entry, Vec<u8>)>> = crate::pool::build_map(&todo, |_, &i| {
        if cancel.is_cancelled() {
            return None;
        }
        let f = &files[i];
        let crate::index::symbols::Read {
            defs,
            reader,
            complete,
        } = crate::index::symbols::cached_definitions_read(f, store);
        if let Some(reader) = reader {
            readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(reader);
        }
        let counts = TermCounts::count(&f.content, defs.as_deref().unwrap_or(&[]));
        // An incomplete entry (a parse that gave up) serves this snapshot only: neither
        // cached nor written, so a later build tries again. An empty record is not written.
        let record = match disk {
            Some(_) if complete => FileStore::record(&key(i), defs.as_deref(), &counts),
            _ => Vec::new(),
        };
        let terms = Arc::new(counts.intern(&store.vocabulary()));
        if complete {
            store.insert_file_terms(key(i), terms.clone());
        }
        Some(((defs, terms), record))
    });
    cancel.check()?;
    how.processed = todo.len();
    how.parsed = readers.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(disk) = disk {
        let mut seen = rustc_hash::FxHashSet::default();
        let records: Vec<&[u8]> = todo
            .iter()
            .zip(&computed)
            .map(|(&i, c)| (i, c.as_ref().expect("not cancelled").1.as_slice()))
            .filter(|&(i, r)| !r.is_empty() && seen.insert(key(i)))
            .map(|(_, r)| r)
            .collect();
        match disk.append(&records, lookup) {
            Ok(n) => how.bytes_written = n,
            Err(e) => {
                how.warning = Some(format!(
                    "cannot write the index store {}: {e}",
                    disk.dir().display()
                ))
            }
        }
    }
    for (&i, c) in todo.iter().zip(computed) {
        entries[i] = c.map(|(entry, _)| entry);
    }
    // 4. Assemble.
    let (per_file, terms): (Vec<Option<Symbols>>, Vec<Arc<FileTerms>>) = entries
        .into_iter()
        .map(|e| e.expect("every file has an entry"))
        .unzip();
    let defs_in: Vec<usize> = per_file
        .iter()
        .map(|d| d.as_ref().map_or(0, |d| d.len()))
        .collect();
    let parts = Assembly::new(snapshot, &terms, &store.vocabulary());
    // The three indexes at once: they only read what they share.
    let mut built = crate::pool::build_map(&[0, 1, 2], |_, &which| match which {
        0 => Built::Bm25(parts.index(Level::File, |_| 0)),
        1 => Built::Bm25(parts.index(Level::Function, |i| defs_in[i])),
        _ => Built::Symbols(SymbolIndex::from_per_file(per_file.clone())),
    })
    .into_iter();
    let (Some(Built::Bm25(files)), Some(Built::Bm25(functions)), Some(Built::Symbols(symbols))) =
        (built.next(), built.next(), built.next())
    else {
        unreachable!("three builds, in order");
    };
    if how.processed > 0 {
        // Parse trees and tokeniser tables were freed: give their pages back.
        crate::index::symbols::release_freed_memory();
    }
    let indexes = Indexes {
        symbols: Arc::new(symbols),
        bm25_files: Arc::new(files),
        bm25_functions: Arc::new(functions),
    };
    Ok((indexes, how))
}

enum Built {
    Bm25(Bm25Index),
    Symbols(SymbolIndex),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Repo;

    #[test]
    fn a_timed_out_parse_is_used_but_neither_cached_nor_stored() {
        let marker =
            std::str::from_utf8(crate::index::symbols::extract::TEST_TIMEOUT_MARKER).unwrap();
        let body = "func F() { x := 1; _ = x }\n".repeat(400);
        let slow = format!("package p\n// {marker}\n{body}");
        let repo = Repo::from_files([
            ("slow.go", slow.as_str()),
            ("fine.go", "package p\nfunc Fine() {}\n"),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let disk = FileStore::new(dir.path(), 1 << 30);
        let store = Store::new(1 << 30, 1 << 30);
        for round in 0..2 {
            let (indexes, how) = build(&repo, &store, Some(&disk), &Cancel::new()).unwrap();
            // This snapshot has an answer for the slow file (none) and the others.
            assert_eq!(indexes.symbols.len(), 1);
            // The slow file is processed again every time: not in memory, not on disk.
            assert_eq!((how.processed, how.memory), (2 - round, round), "{how:?}");
            assert_eq!(how.parsed.tree_sitter, 2 - round, "{how:?}");
        }
        let slow_file = &repo.files()[repo.index_of("slow.go").unwrap()];
        let key = (slow_file.key, slow_file.lang);
        assert!(store.symbols(&(key.0, key.1.unwrap())).is_none());
        assert!(store.file_terms(&key).is_none());
        let found = disk.lookup(&[key], &store.vocabulary());
        assert!(found.found[0].is_none());
    }
}
