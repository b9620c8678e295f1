//! Indexes assembled from the process's per-file caches: a new commit in the same process
//! parses and tokenises only its changed files, and answers like a snapshot built alone.

mod common;

use acs_core::{bm25, Bm25Request, IndexSource, Repo, SourceOptions};
use common::*;

#[test]
fn a_new_commit_in_the_same_process_processes_only_its_changed_files() {
    let (dir, commits) = git_repo(&[
        vec![
            (
                "pkg/a.py",
                Some("def alpha_unique_x1():\n    return 'first'\n"),
            ),
            (
                "pkg/b.py",
                Some("class BetaUniqueX1:\n    def run(self):\n        pass\n"),
            ),
            ("notes.md", Some("alpha beta notes\n")),
        ],
        vec![(
            "pkg/a.py",
            Some("def alpha_unique_x2():\n    return 'second'\n"),
        )],
    ]);
    let opts = SourceOptions::default();
    let at = |c: &str| Repo::open_git(dir.path(), c, &opts).unwrap();
    let first = at(&commits[0]).index(None);
    assert_eq!(first.files_processed, 3);
    let next = at(&commits[1]);
    let report = next.index(None);
    assert_eq!((report.files_memory, report.files_processed), (2, 1));
    assert_eq!(report.source, IndexSource::Built);

    // The same answers, scores included, as a snapshot whose BM25 index is built lazily.
    let lazy = at(&commits[1]);
    for level in ["file", "function"] {
        let req: Bm25Request = serde_json::from_value(serde_json::json!({
            "query": "alpha unique second beta run notes", "level": level
        }))
        .unwrap();
        let a = serde_json::to_string(&bm25(&next, &req).unwrap()).unwrap();
        let b = serde_json::to_string(&bm25(&lazy, &req).unwrap()).unwrap();
        assert_eq!(a, b, "{level}");
        assert!(
            a.contains("pkg/a.py") && !a.contains("alpha_unique_x1"),
            "{a}"
        );
    }
}

#[test]
fn repos_opened_with_different_stores_share_no_cached_entries() {
    use acs_core::Store;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("own_store.py"),
        "def own_store_unique_q7():\n    return 'q7'\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.md"), "own store notes q7\n").unwrap();
    let opts = SourceOptions::default();
    let open = |store: &Store| Repo::open_dir_in(dir.path(), &opts, store).unwrap();

    // A store with room keeps every file's entry: a second snapshot processes nothing.
    let roomy = Store::new(1 << 24, 1 << 24);
    assert_eq!(open(&roomy).index(None).files_processed, 2);
    let again = open(&roomy);
    assert!(again.store().same_as(&roomy));
    assert_eq!(again.index(None).files_memory, 2);

    // A store with zero budgets sees none of that: each snapshot processes every file,
    // and what its lazily built symbol index parses is not kept in it, nor in the other.
    let empty = Store::new(0, 0);
    empty.set_term_budget(0);
    let first = open(&empty);
    assert!(first.store().same_as(&empty) && !first.store().same_as(&roomy));
    assert_eq!(first.index(None).files_processed, 2);
    assert_eq!(open(&empty).index(None).files_processed, 2);
    let lazy = open(&empty);
    assert_eq!(lazy.symbol_index().len(), 1);
    assert_eq!(empty.usage(), ((0, 0), (0, 0)));
    assert_eq!(empty.term_usage().0, 0);
    assert_eq!(
        roomy.usage().1 .0,
        1,
        "one parsed file, from the first snapshot only"
    );

    // The default store is a third, shared one.
    let global = Repo::open_dir(dir.path(), &opts).unwrap();
    assert!(global.store().same_as(Store::global()));
}
