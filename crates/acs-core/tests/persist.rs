//! The on-disk per-file store: a snapshot's indexes assembled from stored entries answer
//! exactly like ones built whole; a new commit processes only its changed files; damaged
//! records, concurrent writers, a small budget and cancellation never change an answer.
//!
//! Every test here turns the process's symbol and term caches off, so each `Repo::index`
//! behaves as in a new process: what is not on disk is processed.

mod common;

use acs_core::{
    bm25, symbols, Bm25Request, IndexCache, IndexSource, Repo, SourceOptions, Store, SymbolRequest,
};
use common::*;
use std::path::{Path, PathBuf};

fn as_a_new_process() {
    Store::global().set_budgets(1 << 30, 0);
    Store::global().set_term_budget(0);
}

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

/// Everything the indexes answer (definitions, BM25 hits with their scores), as JSON.
fn answers(repo: &Repo) -> String {
    let mut out = Vec::new();
    for name in [
        "Config",
        "load",
        "parse_yaml",
        "parse_toml",
        "Config.load",
        "helper",
    ] {
        let found = symbols(repo, &SymbolRequest::exact(name)).unwrap();
        out.push(serde_json::to_string(&found).unwrap());
    }
    for level in ["file", "function"] {
        let req: Bm25Request = serde_json::from_value(serde_json::json!({
            "query": "config yaml toml parse load helper path", "level": level, "limit": 50
        }))
        .unwrap();
        out.push(serde_json::to_string(&bm25(repo, &req).unwrap()).unwrap());
    }
    out.join("\n")
}

/// The answers of a snapshot indexed from nothing: no cache folder, no process cache.
fn from_scratch(repo: &Repo) -> String {
    assert_eq!(repo.index(None).files_processed, repo.files().len());
    answers(repo)
}

/// Bytes of the store's logs and their key indexes (what its budget bounds).
fn store_bytes(cache: &Path) -> u64 {
    std::fs::read_dir(cache.join("files-v1"))
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "acsfiles" || x == "acskeys")
        })
        .filter_map(|p| std::fs::symlink_metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

fn logs(cache: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(cache.join("files-v1"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|x| x == "acsfiles"));
    found.sort();
    found
}

#[test]
fn a_new_commit_processes_only_its_changed_files_and_answers_like_a_fresh_build() {
    as_a_new_process();
    let mut first: Vec<(&str, Option<&str>)> = FILES.iter().map(|(p, c)| (*p, Some(*c))).collect();
    first.push(("app/util.py", Some("def helper():\n    return 1\n")));
    let (dir, commits) = git_repo(&[
        first,
        vec![(
            "app/parse.py",
            Some(
                "def parse_toml(path):\n    \"\"\"Parse a TOML config file.\"\"\"\n    return {}\n",
            ),
        )],
    ]);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let opts = SourceOptions::default();
    let at = |c: &str| Repo::open_git(dir.path(), c, &opts).unwrap();

    let built = at(&commits[0]).index(Some(&cache));
    assert_eq!(
        (built.source, built.files_processed),
        (IndexSource::Built, 4)
    );
    assert!(built.bytes_written > 0 && built.warning.is_none());

    let again = at(&commits[0]);
    let report = again.index(Some(&cache));
    assert_eq!(report.source, IndexSource::Disk);
    assert_eq!((report.files_disk, report.files_processed), (4, 0));
    assert_eq!(answers(&again), from_scratch(&at(&commits[0])));

    let next = at(&commits[1]);
    let report = next.index(Some(&cache));
    assert_eq!(report.source, IndexSource::Built);
    assert_eq!((report.files_disk, report.files_processed), (3, 1));
    let expected = from_scratch(&at(&commits[1]));
    assert_eq!(answers(&next), expected);
    assert!(expected.contains("parse_toml") && !expected.contains("parse_yaml\""));
    assert_eq!(next.index(Some(&cache)).source, IndexSource::Memory);
}

#[test]
fn a_damaged_record_is_ignored_and_the_file_processed_anew() {
    as_a_new_process();
    let tree = tree(FILES);
    let expected = from_scratch(&open(tree.path()));
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    open(tree.path()).index(Some(&cache));
    let log = logs(cache_dir.path()).remove(0);
    let good = std::fs::read(&log).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x5a;
    let damages: [(&str, Vec<u8>, usize); 4] = [
        ("flipped byte", flipped, 1),
        ("truncated", good[..good.len() - 5].to_vec(), 1),
        ("empty", Vec::new(), 3),
        ("not a log", b"hello".to_vec(), 3),
    ];
    for (what, bytes, at_least) in damages {
        std::fs::write(&log, bytes).unwrap();
        let repo = open(tree.path());
        let report = repo.index(Some(&cache));
        assert!(report.files_processed >= at_least, "{what}: {report:?}");
        assert_eq!(report.files_disk + report.files_processed, 3, "{what}");
        assert_eq!(answers(&repo), expected, "{what}");
        // The processed files were appended again, after the damage: all on disk now.
        let report = open(tree.path()).index(Some(&cache));
        assert_eq!(
            (report.source, report.files_disk),
            (IndexSource::Disk, 3),
            "{what}"
        );
    }
}

#[test]
fn an_unwritable_cache_still_gives_a_complete_index() {
    as_a_new_process();
    let tree = tree(FILES);
    let blocker = tempfile::NamedTempFile::new().unwrap();
    // A file where the cache folder should be: nothing can be written under it.
    let cache = IndexCache::new(blocker.path().join("acs"));
    let repo = open(tree.path());
    let report = repo.index(Some(&cache));
    assert_eq!(report.source, IndexSource::Built);
    assert!(report.warning.unwrap().contains("cannot write"));
    assert_eq!(answers(&repo), from_scratch(&open(tree.path())));
}

#[cfg(unix)]
#[test]
fn a_store_folder_planted_as_a_link_is_not_used() {
    as_a_new_process();
    let tree = tree(FILES);
    let cache_dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), cache_dir.path().join("files-v1")).unwrap();
    let repo = open(tree.path());
    let report = repo.index(Some(&IndexCache::new(cache_dir.path())));
    assert_eq!(
        (report.source, report.bytes_written),
        (IndexSource::Built, 0)
    );
    assert!(report.warning.unwrap().contains("not used"));
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    assert_eq!(answers(&repo), from_scratch(&open(tree.path())));
}

#[test]
fn concurrent_writers_lose_nothing_and_corrupt_nothing() {
    as_a_new_process();
    let trees: Vec<_> = (0..6)
        .map(|t| {
            let files: Vec<(String, String)> = (0..40)
                .map(|i| {
                    (
                        format!("m{i}.py"),
                        format!("def f_{t}_{i}():\n    return {i}\n"),
                    )
                })
                .collect();
            let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (&**p, &**c)).collect();
            tree(&refs)
        })
        .collect();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    std::thread::scope(|s| {
        for t in &trees {
            let cache = &cache;
            s.spawn(move || {
                let r = open(t.path()).index(Some(cache));
                assert_eq!((r.files_processed, r.warning.as_deref()), (40, None));
            });
        }
    });
    for t in &trees {
        let r = open(t.path()).index(Some(&cache));
        assert_eq!((r.source, r.files_disk), (IndexSource::Disk, 40));
    }
}

#[test]
fn pruning_keeps_the_store_within_budget_and_deletes_only_its_own_files() {
    as_a_new_process();
    let cache_dir = tempfile::tempdir().unwrap();
    let theirs = [
        cache_dir.path().join("notes.txt"),
        cache_dir.path().join("files-v1").join("7.log"),
        cache_dir.path().join("files-v1").join("0001.acsfiles.bak"),
    ];
    for p in &theirs {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"someone else's").unwrap();
    }
    let cache = IndexCache {
        dir: cache_dir.path().to_path_buf(),
        // Four generations of the 1 MiB floor each (smaller budgets rotate at the floor).
        max_bytes: 4 << 20,
    };
    let mut last = 0;
    for t in 0..30 {
        let words: Vec<String> = (0..12000).map(|i| format!("w{t}x{i}")).collect();
        let body = format!("def g{t}():\n    return '{}'\n", words.join(" "));
        let tree = tree(&[("m.py", body.as_str())]);
        last = open(tree.path()).index(Some(&cache)).bytes_written;
        assert!(last > 0);
        let logs = logs(cache_dir.path());
        assert!(
            store_bytes(cache_dir.path()) <= cache.max_bytes || logs.len() == 1,
            "{} bytes in {logs:?}",
            store_bytes(cache_dir.path())
        );
    }
    assert!(logs(cache_dir.path()).len() > 1, "generations rotated");
    assert!(
        !cache_dir.path().join("files-v1/00000001.acsfiles").exists(),
        "the oldest generation was pruned"
    );
    for entry in std::fs::read_dir(cache_dir.path().join("files-v1")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "acskeys") {
            assert!(
                path.with_extension("acsfiles").exists(),
                "{path:?} outlived its log"
            );
        }
    }
    for p in &theirs {
        assert!(p.exists(), "{p:?} was deleted");
    }
    assert!(
        last < cache.max_bytes / 4,
        "the test's records fit a generation"
    );
}

#[test]
fn a_build_cancelled_midway_writes_nothing() {
    as_a_new_process();
    let files: Vec<(String, String)> = (0..3000)
        .map(|i| {
            (
                format!("pkg/m{i}.py"),
                format!("def cancelled_{i}(x):\n    return x * {i}\n").repeat(20),
            )
        })
        .collect();
    let repo = Repo::from_files(files.iter().map(|(p, c)| (p.as_str(), c.as_str()))).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let cancel = acs_core::Cancel::with_deadline(
        std::time::Instant::now() + std::time::Duration::from_millis(2),
    );
    let err = repo.index_cancellable(Some(&cache), &cancel).unwrap_err();
    assert_eq!(err.kind(), "cancelled");
    assert!(
        logs(cache_dir.path()).is_empty(),
        "nothing partial is written"
    );
    // The next call builds it whole.
    let report = repo.index(Some(&cache));
    assert_eq!(
        report.files_disk + report.files_processed + report.files_memory,
        3000
    );
}

/// Run by `processes_sharing_the_store_lose_nothing` in child processes: index the tree
/// `ACS_TEST_TREE` into the cache folder `ACS_TEST_CACHE`.
#[test]
#[ignore = "a helper the multi-process test runs in child processes"]
fn child_process_indexes_a_tree() {
    let (Some(tree), Some(cache)) = (
        std::env::var_os("ACS_TEST_TREE"),
        std::env::var_os("ACS_TEST_CACHE"),
    ) else {
        return;
    };
    let report = open(Path::new(&tree)).index(Some(&IndexCache::new(cache)));
    assert_eq!(report.warning, None);
    assert!(report.bytes_written > 0);
}

#[test]
fn processes_sharing_the_store_lose_nothing() {
    as_a_new_process();
    let trees: Vec<_> = (0..3)
        .map(|t| {
            let files: Vec<(String, String)> = (0..300)
                .map(|i| {
                    let body = format!("def proc_{t}_{i}(arg):\n    return arg + {i}\n");
                    (format!("p{i}.py"), body.repeat(10))
                })
                .collect();
            let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (&**p, &**c)).collect();
            tree(&refs)
        })
        .collect();
    let cache_dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = trees
        .iter()
        .map(|t| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "child_process_indexes_a_tree",
                    "--ignored",
                    "--quiet",
                ])
                .env("ACS_TEST_TREE", t.path())
                .env("ACS_TEST_CACHE", cache_dir.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let cache = IndexCache::new(cache_dir.path());
    for t in &trees {
        let r = open(t.path()).index(Some(&cache));
        assert_eq!((r.source, r.files_disk), (IndexSource::Disk, 300));
    }
}

/// A tree of `n` Python files whose contents no other tree here has.
fn distinct_tree(tag: &str, n: usize) -> tempfile::TempDir {
    let files: Vec<(String, String)> = (0..n)
        .map(|i| {
            let body = format!("def {tag}_{i}(arg):\n    return arg + {i}\n");
            (format!("{tag}{i}.py"), body.repeat(5))
        })
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (&**p, &**c)).collect();
    tree(&refs)
}

fn key_index(cache: &Path) -> PathBuf {
    logs(cache).pop().unwrap().with_extension("acskeys")
}

#[test]
fn a_torn_key_index_leaves_nothing_cold() {
    as_a_new_process();
    for damage in ["stray bytes", "cut mid-entry"] {
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = IndexCache::new(cache_dir.path());
        let (first, second) = (distinct_tree("first", 20), distinct_tree("second", 20));
        assert_eq!(open(first.path()).index(Some(&cache)).files_processed, 20);
        let keys = key_index(cache_dir.path());
        let len = std::fs::metadata(&keys).unwrap().len();
        let mut torn = std::fs::File::options().append(true).open(&keys).unwrap();
        match damage {
            // A disk-full or killed append: every later entry would be misaligned.
            "stray bytes" => std::io::Write::write_all(&mut torn, b"\x00\x01\x02\x03\x04").unwrap(),
            _ => torn.set_len(len - 13).unwrap(),
        }
        drop(torn);
        let report = open(second.path()).index(Some(&cache));
        assert_eq!(report.files_processed, 20, "{damage}");
        let log_size = std::fs::metadata(&logs(cache_dir.path())[0]).unwrap().len();
        // Every later run finds every entry: nothing processed, nothing appended.
        for _ in 0..2 {
            for t in [&first, &second] {
                let r = open(t.path()).index(Some(&cache));
                assert_eq!(
                    (r.source, r.files_disk, r.files_processed, r.bytes_written),
                    (IndexSource::Disk, 20, 0, 0),
                    "{damage}"
                );
            }
        }
        assert_eq!(logs(cache_dir.path()).len(), 1);
        assert_eq!(
            std::fs::metadata(&logs(cache_dir.path())[0]).unwrap().len(),
            log_size,
            "{damage}: the log did not grow"
        );
        // The key index lists every record again, whole.
        let keys_len = std::fs::metadata(&keys).unwrap().len();
        assert_eq!(keys_len, 8 + 40 * 32, "{damage}");
    }
}

/// Run by `a_write_that_fails_midway_is_cut_back` in a child process, under a file size
/// limit of `ACS_TEST_FSIZE` bytes: index the tree `ACS_TEST_TREE` into `ACS_TEST_CACHE`,
/// whose write must fail.
#[cfg(unix)]
#[test]
#[ignore = "a helper the disk-full test runs in a child process"]
#[allow(unsafe_code)] // setrlimit and signal, to make writes fail as on a full disk
fn child_process_indexes_under_a_file_size_limit() {
    let (Some(tree), Some(cache), Some(limit)) = (
        std::env::var_os("ACS_TEST_TREE"),
        std::env::var_os("ACS_TEST_CACHE"),
        std::env::var("ACS_TEST_FSIZE").ok(),
    ) else {
        return;
    };
    let limit: libc::rlim_t = limit.parse().unwrap();
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: plain libc calls; SIGXFSZ ignored so a write past the limit fails with EFBIG
    // instead of killing the process (as a full disk fails with ENOSPC).
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit), 0);
    }
    let report = open(Path::new(&tree)).index(Some(&IndexCache::new(cache)));
    assert_eq!(report.files_processed, 200);
    assert!(report.warning.unwrap().contains("cannot write"));
}

#[cfg(unix)]
#[test]
fn a_write_that_fails_midway_is_cut_back() {
    as_a_new_process();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let (first, second) = (distinct_tree("kept", 5), distinct_tree("refused", 200));
    open(first.path()).index(Some(&cache));
    let log = logs(cache_dir.path()).remove(0);
    let keys = log.with_extension("acskeys");
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let (log_len, keys_len) = (size(&log), size(&keys));
    // Room for a few KB more: the 200 files' batch is torn partway.
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_indexes_under_a_file_size_limit",
            "--ignored",
            "--quiet",
        ])
        .env("ACS_TEST_TREE", second.path())
        .env("ACS_TEST_CACHE", cache_dir.path())
        .env("ACS_TEST_FSIZE", (log_len + 4096).to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // The store ends at its last good record: the space of the torn batch is returned.
    assert_eq!((size(&log), size(&keys)), (log_len, keys_len));
    let r = open(first.path()).index(Some(&cache));
    assert_eq!((r.files_disk, r.files_processed), (5, 0));
    let r = open(second.path()).index(Some(&cache));
    assert_eq!((r.files_processed, r.warning), (200, None));
}
