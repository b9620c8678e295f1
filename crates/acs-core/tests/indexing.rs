//! Indexes assembled from the process's per-file caches: a new commit in the same process
//! parses and tokenises only its changed files, and answers like a snapshot built alone.

mod common;

use acs_core::{bm25, Bm25Request, Repo, SourceOptions};
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
    assert_eq!(report.source, "built");

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
