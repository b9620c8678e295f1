//! The history index (`index/history/`): built from git objects, seen as of a commit (never
//! the commit itself or anything after it), extended incrementally, stored with the per-file
//! store's guarantees, and safe on partial and hostile histories.

mod common;

use acs_core::{Cancel, Error, History, HistoryReport, IndexCache};
use common::{git, write};
use std::collections::BTreeMap;
use std::path::Path;

/// Commit everything in `dir` with `message`; returns the commit id.
fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

fn init() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

/// A small project: five commits, the fourth a fix of "frobnicate".
fn project() -> (tempfile::TempDir, Vec<String>) {
    let dir = init();
    let d = dir.path();
    let mut ids = Vec::new();
    write(d, "app/core.py", "def run(): pass\n");
    write(d, "app/util.py", "def helper(): pass\n");
    write(d, "README.md", "hello\n");
    ids.push(commit(d, "Initial import of the application"));
    write(d, "app/core.py", "def run(): return 1\n");
    write(d, "tests/test_core.py", "def test_run(): pass\n");
    ids.push(commit(d, "Make run return a value, with a test"));
    write(d, "app/util.py", "def helper(): return 2\n");
    write(d, "app/core.py", "def run(): return 2\n");
    ids.push(commit(d, "Parser: handle empty input in helper"));
    write(d, "app/frob.py", "def frobnicate(): pass\n");
    write(d, "app/core.py", "def run(): return 3\n");
    ids.push(commit(d, "Fix frobnicate crash on unicode input"));
    std::fs::remove_file(d.join("README.md")).unwrap();
    write(d, "docs/index.md", "docs\n");
    ids.push(commit(d, "Move the readme into docs"));
    (dir, ids)
}

fn open(dir: &Path, rev: &str) -> (History, HistoryReport) {
    History::open(dir, rev, None, &Cancel::new()).unwrap()
}

fn open_cached(dir: &Path, rev: &str, cache: &IndexCache) -> (History, HistoryReport) {
    History::open(dir, rev, Some(cache), &Cancel::new()).unwrap()
}

/// `git log --name-only --no-renames` of `rev`'s proper ancestors: commit -> paths.
fn git_log(dir: &Path, rev: &str) -> BTreeMap<String, Vec<String>> {
    let out = git(
        dir,
        &[
            "log",
            "--no-merges",
            "--name-only",
            "--no-renames",
            "--format=@%H",
            &format!("{rev}^"),
        ],
    );
    let mut commits = BTreeMap::new();
    let mut current = String::new();
    for line in out.lines().filter(|l| !l.is_empty()) {
        if let Some(id) = line.strip_prefix('@') {
            current = id.to_string();
            commits.insert(current.clone(), Vec::new());
        } else {
            commits.get_mut(&current).unwrap().push(line.to_string());
        }
    }
    for paths in commits.values_mut() {
        paths.sort();
    }
    commits
}

fn our_log(history: &History, ids: &[String]) -> BTreeMap<String, Vec<String>> {
    ids.iter()
        .filter_map(|id| Some((id.clone(), history.commit(id)?.paths?)))
        .collect()
}

#[test]
fn touched_paths_are_what_git_log_lists() {
    let (dir, ids) = project();
    let (history, report) = open(dir.path(), "HEAD");
    assert_eq!(report.source, "built");
    assert_eq!(report.commits, 5);
    assert_eq!(report.visible, 4, "HEAD itself is not visible");
    assert_eq!(our_log(&history, &ids), git_log(dir.path(), "HEAD"));
    let first = history.commit(&ids[0]).unwrap();
    assert_eq!(
        first.paths.unwrap(),
        ["README.md", "app/core.py", "app/util.py"]
    );
}

#[test]
fn as_of_a_commit_nothing_of_it_or_after_it_is_visible() {
    let (dir, ids) = project();
    let fix = &ids[3];
    // The index is built from HEAD, so the fix and the commit after it are in it.
    let (head, _) = open(dir.path(), "HEAD");
    assert!(head.commit(fix).is_some());
    let (history, report) = open(dir.path(), fix);
    assert_eq!(report.source, "memory");
    assert_eq!(report.visible, 3);
    assert!(history.commit(fix).is_none() && history.commit(&ids[4]).is_none());

    let similar = history
        .similar_fixes("frobnicate crash unicode", 10, 10)
        .unwrap();
    assert!(similar.commits.is_empty(), "{similar:?}");
    let frob = history.activity(&["app/frob.py", "app/core.py"]).unwrap();
    assert_eq!(frob[0].commits, 0);
    assert_eq!(frob[0].last_commit, None);
    assert_eq!(frob[1].commits, 3);
    assert_eq!(frob[1].last_commit.as_deref(), Some(ids[2].as_str()));
    assert_eq!(frob[1].commits_since, Some(0));
    let together = history.co_change(&["app/core.py"], 10).unwrap();
    assert!(together.files.iter().all(|f| f.path != "app/frob.py"));
    assert_eq!(together.commits, 3);

    // Seen from the commit after the fix, the fix is there.
    let (after, _) = open(dir.path(), &ids[4]);
    let similar = after
        .similar_fixes("frobnicate crash unicode", 10, 10)
        .unwrap();
    assert_eq!(similar.commits[0].commit, *fix);
    assert_eq!(similar.files[0].path, "app/core.py");
    let paths: Vec<&str> = similar.files.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"app/frob.py"));
}

#[test]
fn later_commits_change_no_score_as_of_an_earlier_one() {
    // BM25's statistics are counted over visible commits only: an index that holds the
    // commits after the fix scores exactly as one built before they existed.
    let (dir, ids) = project();
    let (full, _) = open(dir.path(), "HEAD");
    drop(full);
    let clone = tempfile::tempdir().unwrap();
    git(
        clone.path(),
        &["clone", "-q", dir.path().to_str().unwrap(), "."],
    );
    git(clone.path(), &["reset", "-q", "--hard", &ids[3]]);
    git(clone.path(), &["reflog", "expire", "--expire=now", "--all"]);
    let (alone, report) = open(clone.path(), &ids[3]);
    assert_eq!(
        report.commits, 4,
        "the clone's index never saw the later commit"
    );
    let (seen, _) = open(dir.path(), &ids[3]);
    for text in [
        "run value test",
        "empty input helper parser",
        "import application",
    ] {
        assert_eq!(
            seen.similar_fixes(text, 10, 10).unwrap(),
            alone.similar_fixes(text, 10, 10).unwrap(),
            "{text}"
        );
    }
    assert_eq!(
        seen.activity(&["app/core.py", "app/util.py"]).unwrap(),
        alone.activity(&["app/core.py", "app/util.py"]).unwrap()
    );
}

#[test]
fn a_later_commit_walks_only_the_new_commits() {
    let (dir, ids) = project();
    let cache = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache.path());
    let (_, report) = open_cached(dir.path(), &ids[1], &cache);
    assert_eq!((report.source, report.walked), ("built", 2));
    let (_, report) = open_cached(dir.path(), &ids[4], &cache);
    assert_eq!((report.source, report.walked), ("extended", 3));
    let (_, report) = open_cached(dir.path(), &ids[2], &cache);
    assert_eq!((report.source, report.walked), ("memory", 0));
    // A new process: the stored index, nothing walked; then one more commit.
    History::forget(dir.path());
    let (history, report) = open_cached(dir.path(), &ids[4], &cache);
    assert_eq!((report.source, report.walked), ("disk", 0));
    assert!(report.bytes_read > 0);
    assert_eq!(our_log(&history, &ids), git_log(dir.path(), &ids[4]));
    write(dir.path(), "app/new.py", "x = 1\n");
    let newest = commit(dir.path(), "Add new module");
    History::forget(dir.path());
    let (history, report) = open_cached(dir.path(), "HEAD", &cache);
    assert_eq!((report.source, report.walked), ("extended", 1));
    assert_eq!(history.as_of(), newest);
}

#[test]
fn a_torn_or_foreign_store_file_is_rebuilt_not_trusted() {
    let (dir, ids) = project();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let (_, report) = open_cached(dir.path(), "HEAD", &cache);
    let file = report.path.unwrap();
    let good = std::fs::read(&file).unwrap();
    let damaged = [good[..good.len() / 2].to_vec(), {
        let mut flipped = good.clone();
        let at = good.len() - 5;
        flipped[at] ^= 0x10;
        flipped
    }];
    for bytes in damaged {
        std::fs::write(&file, &bytes).unwrap();
        History::forget(dir.path());
        let (history, report) = open_cached(dir.path(), "HEAD", &cache);
        assert_eq!((report.source, report.walked), ("built", 5));
        assert_eq!(our_log(&history, &ids), git_log(dir.path(), "HEAD"));
        assert_eq!(
            std::fs::read(&file).unwrap().len(),
            good.len(),
            "rewritten whole"
        );
    }
    // Another program's file under the index's name: read as nothing, never replaced.
    std::fs::write(&file, b"someone else's notes").unwrap();
    History::forget(dir.path());
    let (history, report) = open_cached(dir.path(), "HEAD", &cache);
    assert_eq!(report.source, "built");
    assert!(report.warning.unwrap().contains("not acs's file"));
    assert_eq!(std::fs::read(&file).unwrap(), b"someone else's notes");
    assert_eq!(our_log(&history, &ids), git_log(dir.path(), "HEAD"));
}

#[cfg(unix)]
#[test]
fn a_store_folder_that_is_a_link_is_not_used() {
    let (dir, _) = project();
    let cache_dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), cache_dir.path().join("history-v1")).unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let (history, report) = open_cached(dir.path(), "HEAD", &cache);
    assert!(report.warning.unwrap().contains("link"));
    assert_eq!(history.visible_commits(), 4);
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn the_store_stays_within_its_share_of_the_budget() {
    let cache_dir = tempfile::tempdir().unwrap();
    let mut cache = IndexCache::new(cache_dir.path());
    cache.max_bytes = 8 << 20; // a 1 MiB share
    let mut repos = Vec::new();
    for _ in 0..3 {
        let dir = init();
        // Incompressible names: ~400 KB of index per repository.
        for batch in 0..40 {
            for i in 0..100 {
                let name = format!(
                    "d{batch}/{:016x}{i}.txt",
                    ((batch * 1000 + i) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                );
                write(dir.path(), &name, "x");
            }
            commit(dir.path(), &format!("batch {batch}"));
        }
        let (_, report) = open_cached(dir.path(), "HEAD", &cache);
        assert!(report.warning.is_none(), "{:?}", report.warning);
        repos.push(dir);
    }
    let folder = cache_dir.path().join("history-v1");
    let total: u64 = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(total <= 1 << 20, "{total}");
    let (history, _) = open_cached(repos[2].path(), "HEAD", &cache);
    assert_eq!(history.visible_commits(), 39);
}

#[test]
fn an_empty_repository_or_unknown_commit_is_a_clear_error() {
    let dir = init();
    let err = History::open(dir.path(), "HEAD", None, &Cancel::new())
        .err()
        .unwrap();
    assert!(matches!(err, Error::UnknownCommit { .. }), "{err}");
    let (dir, _) = project();
    let err = History::open(dir.path(), "no-such-branch", None, &Cancel::new())
        .err()
        .unwrap();
    assert!(matches!(err, Error::UnknownCommit { .. }), "{err}");
    let err = History::open(dir.path().join("nowhere"), "HEAD", None, &Cancel::new())
        .err()
        .unwrap();
    assert!(matches!(err, Error::Repository { .. }), "{err}");
}

/// The loose object file of `id` in the repository at `dir`.
fn loose_object(dir: &Path, id: &str) -> std::path::PathBuf {
    dir.join(".git/objects").join(&id[..2]).join(&id[2..])
}

#[test]
fn a_missing_parent_or_tree_ends_the_walk_there_and_is_reported() {
    let (dir, ids) = project();
    // The first commit's object is gone: the second has a parent it cannot read.
    std::fs::remove_file(loose_object(dir.path(), &ids[0])).unwrap();
    let (history, report) = open(dir.path(), "HEAD");
    assert_eq!(report.commits, 4);
    assert_eq!(report.missing, [ids[0].clone()]);
    assert_eq!(report.partial, 1);
    assert_eq!(history.commit(&ids[1]).unwrap().paths, None);
    assert!(history.commit(&ids[2]).unwrap().paths.is_some());

    // A tree that is gone: the commits whose diff needs it have no paths.
    let (dir, ids) = project();
    let tree = git(dir.path(), &["rev-parse", &format!("{}:app", ids[2])]);
    std::fs::remove_file(loose_object(dir.path(), &tree)).unwrap();
    let (history, report) = open(dir.path(), "HEAD");
    assert_eq!(report.commits, 5);
    assert!(report.missing.contains(&tree));
    assert_eq!(report.partial, 2, "the commit with that tree and its child");
    assert!(history.commit(&ids[2]).unwrap().paths.is_none());
    assert!(history.commit(&ids[1]).unwrap().paths.is_some());

    // A damaged object is missing too, never a hang or an error.
    let (dir, ids) = project();
    let path = loose_object(dir.path(), &ids[1]);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let (_, report) = open(dir.path(), "HEAD");
    assert_eq!(report.missing, [ids[1].clone()]);
}

#[test]
fn a_shallow_clone_is_walked_to_its_boundary_and_rebuilt_once_deepened() {
    let (dir, ids) = project();
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    git(clone.path(), &["clone", "-q", "--depth", "2", &url, "."]);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let (history, report) = open_cached(clone.path(), "HEAD", &cache);
    assert_eq!(report.commits, 2);
    assert_eq!(report.missing, [ids[2].clone()]);
    assert_eq!(history.commit(&ids[3]).unwrap().paths, None);
    git(clone.path(), &["fetch", "-q", "--unshallow"]);
    History::forget(clone.path());
    let (history, report) = open_cached(clone.path(), "HEAD", &cache);
    assert_eq!(
        (report.source, report.commits, report.missing_count),
        ("built", 5, 0)
    );
    assert_eq!(our_log(&history, &ids), git_log(dir.path(), "HEAD"));
}

#[test]
fn merges_are_walked_through_and_not_indexed() {
    let (dir, ids) = project();
    let d = dir.path();
    git(d, &["checkout", "-q", "-b", "topic", &ids[1]]);
    write(d, "app/topic.py", "t = 1\n");
    let topic = commit(d, "Topic work on widgets");
    git(d, &["checkout", "-q", "main"]);
    git(
        d,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge widgets topic",
            "topic",
        ],
    );
    write(d, "app/after.py", "a = 1\n");
    commit(d, "After the merge");
    let (history, report) = open(d, "HEAD");
    assert_eq!((report.commits, report.merges), (8, 1));
    assert!(history.commit(&topic).is_some());
    let similar = history.similar_fixes("merge widgets", 10, 10).unwrap();
    assert_eq!(
        similar.commits.len(),
        1,
        "only the topic commit says widgets"
    );
    assert_eq!(similar.commits[0].commit, topic);
    let mut all = ids.clone();
    all.push(topic.clone());
    assert_eq!(our_log(&history, &all), git_log(d, "HEAD"));
    // Seen from the topic branch, main's later commits are not visible.
    let (from_topic, _) = open(d, "topic");
    assert!(from_topic.commit(&ids[2]).is_none() && from_topic.commit(&ids[1]).is_some());
}

#[test]
fn a_bulk_commit_is_recorded_not_expanded() {
    let dir = init();
    write(dir.path(), "a.py", "x\n");
    commit(dir.path(), "start");
    for i in 0..600 {
        write(dir.path(), &format!("vendor/lib{}/m{i}.py", i % 7), "v\n");
    }
    let bulk = commit(dir.path(), "Vendor the library");
    write(dir.path(), "a.py", "y\n");
    commit(dir.path(), "end");
    let (history, report) = open(dir.path(), "HEAD");
    assert_eq!(report.bulk, 1);
    let info = history.commit(&bulk).unwrap();
    assert!(info.paths.is_none() && info.files > 500);
}

#[cfg(unix)]
#[test]
fn hostile_messages_and_names_are_read_within_bounds() {
    use std::os::unix::ffi::OsStrExt;
    let dir = init();
    let d = dir.path();
    write(d, "a.py", "x\n");
    // A 4 MB message whose only mention of `tailword` is past the part that is read.
    let message = format!("{} tailword", "head words ".repeat(400_000));
    let outside = tempfile::tempdir().unwrap();
    let msg = outside.path().join("msg");
    let msg_arg = msg.to_str().unwrap();
    std::fs::write(&msg, &message).unwrap();
    git(d, &["add", "a.py"]);
    git(d, &["commit", "-q", "-F", msg_arg]);
    // A message in Latin-1 and a file name that is not UTF-8.
    std::fs::write(&msg, b"caf\xe9 cr\xe8me latin\n").unwrap();
    std::fs::write(
        d.join(std::ffi::OsStr::from_bytes(b"bad\xffname.py")),
        "z\n",
    )
    .unwrap();
    write(d, "good.py", "g\n");
    git(d, &["add", "-A", "."]);
    git(d, &["commit", "-q", "-F", msg_arg]);
    commit(d, "tip");
    let (history, report) = open(d, "HEAD");
    assert_eq!(report.skipped_names, 1);
    assert!(history
        .similar_fixes("tailword", 5, 5)
        .unwrap()
        .commits
        .is_empty());
    let head = history.similar_fixes("head", 5, 5).unwrap();
    assert_eq!(head.commits.len(), 1, "{head:?}");
    let latin = history.similar_fixes("latin", 5, 5).unwrap();
    assert_eq!(latin.files.len(), 1);
    assert_eq!(latin.files[0].path, "good.py");
    // A huge query and too many paths: cut, or a clear error.
    let huge = "word ".repeat(2_000_000);
    assert!(history.similar_fixes(&huge, 5, 5).is_ok());
    let many: Vec<&str> = vec!["a.py"; 20_000];
    let err = history.activity(&many).unwrap_err();
    assert!(err.to_string().len() < 200, "{err}");
}

#[test]
fn a_cancelled_walk_keeps_nothing() {
    let (dir, _) = project();
    let cancel = Cancel::new();
    cancel.cancel();
    let err = History::open(dir.path(), "HEAD", None, &cancel)
        .err()
        .unwrap();
    assert!(matches!(err, Error::Cancelled(_)), "{err}");
    let (_, report) = open(dir.path(), "HEAD");
    assert_eq!((report.source, report.walked), ("built", 5));
}

/// A linear history of `commits` commits made with `git fast-import` (seconds, not minutes):
/// each changes two of 400 files in 20 folders, with a message from a small vocabulary.
fn long_history(commits: usize) -> tempfile::TempDir {
    use std::io::Write as _;
    let dir = init();
    let words = [
        "parser", "config", "crash", "unicode", "cache", "timeout", "s3", "bucket", "policy",
        "retry", "encoding", "header", "token", "region", "lambda", "queue", "stream", "index",
    ];
    let mut stream = Vec::new();
    for i in 0..commits {
        let message = format!(
            "Fix {} {} when {} {}\n",
            words[i % words.len()],
            words[(i * 7 + 3) % words.len()],
            words[(i * 11 + 5) % words.len()],
            i
        );
        write!(
            stream,
            "commit refs/heads/main\nmark :{}\ncommitter t <t@example.com> {} +0000\ndata {}\n{}",
            i + 1,
            1_600_000_000 + i * 60,
            message.len(),
            message
        )
        .unwrap();
        if i > 0 {
            writeln!(stream, "from :{i}").unwrap();
        }
        for file in [i % 400, (i * 13 + 7) % 400] {
            let content = format!("v{i}\n");
            write!(
                stream,
                "M 100644 inline pkg{}/mod{file}.py\ndata {}\n{content}",
                file % 20,
                content.len()
            )
            .unwrap();
        }
        stream.push(b'\n');
    }
    let mut child = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(child.wait().unwrap().success());
    dir
}

#[test]
fn warm_queries_cost_a_small_fraction_of_one_walk() {
    if common::ran_alone() {
        return;
    }
    let dir = long_history(3000);
    let ((history, report), build) =
        common::cpu_of(common::process_cpu, || open(dir.path(), "main"));
    assert_eq!(report.commits, 3000);
    let issue = "S3 bucket policy crash: a unicode header in the region config makes the \
                 parser time out; see pkg3/mod123.py";
    let (_, queries) = common::cpu_of(common::thread_cpu, || {
        for _ in 0..20 {
            let similar = history.similar_fixes(issue, 50, 20).unwrap();
            let best: Vec<&str> = similar.files.iter().map(|f| f.path.as_str()).collect();
            assert!(!best.is_empty());
            history.co_change(&best[..5.min(best.len())], 20).unwrap();
            history.activity(&best).unwrap();
        }
    });
    // 20 rounds of the queries a `localize` would make cost less than walking once (about a
    // seventh in a debug build): each is a lookup in the index, never a read of git objects.
    assert!(
        queries < build,
        "20 query rounds {queries:?}, one walk {build:?}"
    );
}

#[test]
fn an_index_built_without_a_cache_is_stored_when_a_cache_is_given() {
    let (dir, _) = project();
    let (_, report) = open(dir.path(), "HEAD");
    assert_eq!(report.source, "built");
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let (_, report) = open_cached(dir.path(), "HEAD", &cache);
    assert_eq!(report.source, "memory");
    assert!(report.bytes_written > 0 && report.path.unwrap().is_file());
    let (_, report) = open_cached(dir.path(), "HEAD", &cache);
    assert_eq!(report.bytes_written, 0, "written once");
}

#[test]
fn a_damaged_object_is_missing_for_good_and_the_store_is_still_used() {
    let (dir, ids) = project();
    let path = loose_object(dir.path(), &ids[1]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = IndexCache::new(cache_dir.path());
    let (_, report) = open_cached(dir.path(), "HEAD", &cache);
    assert_eq!((report.source, report.missing_count), ("built", 1));
    History::forget(dir.path());
    let (_, report) = open_cached(dir.path(), "HEAD", &cache);
    assert_eq!((report.source, report.walked), ("disk", 0), "not rebuilt");
    // Repaired (the object restored): the index is rebuilt, whole.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    History::forget(dir.path());
    let (history, report) = open_cached(dir.path(), "HEAD", &cache);
    assert_eq!((report.source, report.missing_count), ("built", 0));
    assert_eq!(our_log(&history, &ids), git_log(dir.path(), "HEAD"));
}
