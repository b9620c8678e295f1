//! The on-disk index cache: a second snapshot of the same content loads the pack instead of
//! building, and a pack that is stale, corrupt or unwritable never changes an answer.

mod common;

use acs_core::{bm25, symbols, Bm25Request, IndexCache, Repo, SourceOptions, SymbolRequest};
use common::*;
use std::path::{Path, PathBuf};

const FILES: &[(&str, &str)] = &[
    (
        "app/config.py",
        "class Config:\n    def load(self, path):\n        return parse_yaml(path)\n",
    ),
    (
        "app/parse.py",
        "def parse_yaml(path):\n    \"\"\"Parse a YAML config file.\"\"\"\n    return {}\n",
    ),
    ("README.md", "Configuration is read from YAML.\n"),
];

fn open(root: &Path) -> Repo {
    Repo::open_dir(root, &SourceOptions::default()).unwrap()
}

/// Everything the indexes answer, as JSON, to compare a loaded index with a built one.
fn answers(repo: &Repo) -> String {
    let mut out = Vec::new();
    for name in ["Config", "load", "parse_yaml", "Config.load"] {
        let found = symbols(repo, &SymbolRequest::exact(name)).unwrap();
        out.push(serde_json::to_string(&found).unwrap());
    }
    for level in ["file", "function"] {
        let req: Bm25Request = serde_json::from_value(serde_json::json!({
            "query": "config yaml parse load", "level": level
        }))
        .unwrap();
        out.push(serde_json::to_string(&bm25(repo, &req).unwrap()).unwrap());
    }
    out.join("\n")
}

fn packs(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|x| x == "acsidx"));
    found.sort();
    found
}

#[test]
fn a_second_snapshot_of_the_same_content_loads_the_pack_and_answers_alike() {
    let tree = tree(FILES);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());

    let first = open(tree.path());
    let built = first.index(Some(&cache));
    assert_eq!(built.source, "built");
    assert_eq!(built.warning, None);
    assert_eq!(packs(cache_dir.path()).len(), 1);

    let second = open(tree.path());
    let loaded = second.index(Some(&cache));
    assert_eq!(loaded.source, "disk");
    assert_eq!(loaded.digest, built.digest);
    assert_eq!(loaded.symbols, built.symbols);
    assert_eq!(answers(&second), answers(&first));

    assert_eq!(second.index(Some(&cache)).source, "memory");
}

#[test]
fn a_changed_file_gives_another_digest_and_a_fresh_build() {
    let tree = tree(FILES);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let before = open(tree.path()).index(Some(&cache));

    write(
        tree.path(),
        "app/parse.py",
        "def parse_toml(path):\n    return {}\n",
    );
    let repo = open(tree.path());
    let after = repo.index(Some(&cache));
    assert_ne!(after.digest, before.digest);
    assert_eq!(after.source, "built");
    let found = symbols(&repo, &SymbolRequest::exact("parse_yaml")).unwrap();
    assert_eq!(found.total, 0, "the stale pack's definitions must not leak");
    assert_eq!(packs(cache_dir.path()).len(), 2);
}

#[test]
fn a_corrupt_or_truncated_pack_is_ignored_and_rebuilt() {
    let tree = tree(FILES);
    let expected = {
        let repo = open(tree.path());
        repo.index(None);
        answers(&repo)
    };
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    open(tree.path()).index(Some(&cache));
    let pack = packs(cache_dir.path()).remove(0);
    let good = std::fs::read(&pack).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x5a;
    let damages: [(&str, Vec<u8>); 4] = [
        ("flipped byte", flipped),
        ("truncated", good[..good.len() / 3].to_vec()),
        ("empty", Vec::new()),
        ("not a pack", b"hello".to_vec()),
    ];
    for (what, bytes) in damages {
        std::fs::write(&pack, bytes).unwrap();
        let repo = open(tree.path());
        let report = repo.index(Some(&cache));
        assert_eq!(report.source, "built", "{what}");
        assert!(report.warning.is_some(), "{what}: the user is told");
        assert_eq!(answers(&repo), expected, "{what}");
        // The rebuilt pack replaced the damaged one.
        assert_eq!(
            open(tree.path()).index(Some(&cache)).source,
            "disk",
            "{what}"
        );
    }
}

#[test]
fn an_unwritable_cache_still_gives_a_complete_index() {
    let tree = tree(FILES);
    let blocker = tempfile::NamedTempFile::new().unwrap();
    // A file where the cache folder should be: nothing can be written under it.
    let cache = IndexCache::new(blocker.path().join("acs"));
    let repo = open(tree.path());
    let report = repo.index(Some(&cache));
    assert_eq!(report.source, "built");
    assert!(report.warning.unwrap().contains("cannot write"));
    assert_eq!(
        symbols(&repo, &SymbolRequest::exact("parse_yaml"))
            .unwrap()
            .total,
        1
    );
}

#[test]
fn the_least_recently_used_packs_go_when_the_folder_is_over_budget() {
    let cache_dir = tempfile::tempdir().unwrap();
    let mut cache = IndexCache::new(cache_dir.path());
    let mut sizes = Vec::new();
    for i in 0..3 {
        let body = format!("def f{i}():\n    return {i}\n");
        let tree = tree(&[("m.py", body.as_str())]);
        sizes.push(open(tree.path()).index(Some(&cache)).bytes);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(packs(cache_dir.path()).len(), 3);
    // Room for about two packs: the oldest goes on the next write.
    cache.max_bytes = sizes.iter().sum::<u64>() * 2 / 3 + 8;
    let tree = tree(&[("m.py", "def g():\n    return 0\n")]);
    let newest = open(tree.path()).index(Some(&cache));
    let left = packs(cache_dir.path());
    assert!(left.len() < 4, "{left:?}");
    assert!(left.contains(newest.path.as_ref().unwrap()));
}

#[test]
fn concurrent_processes_sharing_a_cache_see_whole_packs() {
    let tree = tree(FILES);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| open(tree.path()).index(Some(&cache))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &reports {
        assert_eq!(r.warning, None);
    }
    assert_eq!(packs(cache_dir.path()).len(), 1);
    let leftovers = std::fs::read_dir(cache_dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary files are left behind");
    assert_eq!(open(tree.path()).index(Some(&cache)).source, "disk");
}

#[test]
fn snapshots_of_one_git_commit_share_a_pack_and_other_commits_do_not() {
    let (dir, commits) = git_repo(&[
        vec![("a.py", Some("def one():\n    pass\n"))],
        vec![("a.py", Some("def two():\n    pass\n"))],
    ]);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let opts = SourceOptions::default();
    let at = |c: &str| Repo::open_git(dir.path(), c, &opts).unwrap();
    assert_eq!(at(&commits[0]).index(Some(&cache)).source, "built");
    assert_eq!(at(&commits[0]).index(Some(&cache)).source, "disk");
    let later = at(&commits[1]);
    assert_eq!(later.index(Some(&cache)).source, "built");
    assert_eq!(
        symbols(&later, &SymbolRequest::exact("one")).unwrap().total,
        0
    );
}
