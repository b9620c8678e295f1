//! Opening repositories: what a snapshot contains, from a directory and from git.

mod common;

use acs_core::{Error, ReadRequest, Repo, SourceOptions};
use common::*;
use std::sync::Arc;

fn read_path(repo: &Repo, path: &str) -> acs_core::Result<acs_core::ReadResult> {
    acs_core::read(
        repo,
        &ReadRequest {
            path: path.into(),
            ..Default::default()
        },
    )
}

fn open(dir: &tempfile::TempDir) -> Repo {
    Repo::open_dir(dir.path(), &SourceOptions::default()).unwrap()
}

#[test]
fn gitignore_applies_outside_a_git_work_tree() {
    let dir = tree(&[
        (".gitignore", "build/\n*.log\n"),
        ("src/app.py", "x = 1\n"),
        ("build/out.py", "y = 2\n"),
        ("debug.log", "z\n"),
        ("notes/.ignore", "private.md\n"),
        ("notes/private.md", "secret\n"),
        ("notes/public.md", "hello\n"),
    ]);
    assert_eq!(paths(&open(&dir)), ["notes/public.md", "src/app.py"]);
}

#[test]
fn hidden_files_and_the_git_folder_are_skipped_unless_asked() {
    let dir = tree(&[
        (".env", "A=1\n"),
        (".github/ci.yml", "on: push\n"),
        ("a.py", ""),
    ]);
    assert_eq!(paths(&open(&dir)), ["a.py"]);
    let all = Repo::open_dir(
        dir.path(),
        &SourceOptions {
            hidden: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(paths(&all), [".env", ".github/ci.yml", "a.py"]);
}

#[test]
fn binary_and_oversized_files_are_skipped_and_counted() {
    let dir = tree(&[("a.py", "ok\n"), ("big.txt", &"x".repeat(5000))]);
    write(dir.path(), "img.png", b"\x89PNG\r\n\x1a\n\0\0\0");
    let repo = Repo::open_dir(
        dir.path(),
        &SourceOptions {
            max_file_size: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(paths(&repo), ["a.py"]);
    assert_eq!(repo.stats().skipped_binary, 1);
    assert_eq!(repo.stats().skipped_large, 1);
}

#[test]
fn non_utf8_text_is_kept_and_searchable() {
    let dir = tree(&[]);
    write(dir.path(), "latin1.txt", b"caf\xe9 au lait\n");
    let repo = open(&dir);
    let hits = acs_core::grep(&repo, &acs_core::GrepRequest::new("au lait")).unwrap();
    assert_eq!(hits.matches[0].text, "caf\u{FFFD} au lait");
}

#[test]
fn excluded_globs_are_not_loaded() {
    let dir = tree(&[
        ("lib/site-packages/x.py", ""),
        ("lib/os.py", ""),
        ("gen/a_pb2.py", ""),
    ]);
    let opts = SourceOptions {
        exclude: vec!["site-packages".into(), "*_pb2.py".into()],
        ..Default::default()
    };
    assert_eq!(
        paths(&Repo::open_dir(dir.path(), &opts).unwrap()),
        ["lib/os.py"]
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_never_followed_out_of_the_repository() {
    let outside = tree(&[("secret.txt", "password\n")]);
    let dir = tree(&[("a.py", "x\n")]);
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("leak.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("a.py"), dir.path().join("alias.py")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("loop"), dir.path().join("loop")).unwrap();
    let repo = open(&dir);
    assert_eq!(paths(&repo), ["a.py"]);
    let read = |p: &str| read_path(&repo, p);
    assert!(matches!(
        read("leak.txt"),
        Err(Error::PathOutsideRepo { .. })
    ));
    assert!(matches!(read("alias.py"), Err(Error::FileNotFound { .. })));
    assert!(matches!(
        read("../secret.txt"),
        Err(Error::PathOutsideRepo { .. })
    ));
    let abs = outside.path().join("secret.txt");
    assert!(matches!(
        read(abs.to_str().unwrap()),
        Err(Error::PathOutsideRepo { .. })
    ));
}

#[test]
fn an_empty_repository_opens_and_finds_nothing() {
    let dir = tree(&[]);
    let repo = open(&dir);
    assert!(repo.files().is_empty());
    assert!(acs_core::grep(&repo, &acs_core::GrepRequest::new("x"))
        .unwrap()
        .matches
        .is_empty());
}

#[test]
fn a_missing_directory_is_a_repository_error() {
    let err = Repo::open_dir("/definitely/not/here", &SourceOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, Error::Repository { .. }), "{err}");
}

fn history() -> (tempfile::TempDir, Vec<String>) {
    git_repo(&[
        vec![
            ("pkg/core.py", Some("def f():\n    return 1\n")),
            ("README.md", Some("v1\n")),
        ],
        vec![
            ("pkg/core.py", Some("def f():\n    return 2\n")),
            ("pkg/new.py", Some("def g():\n    pass\n")),
        ],
        vec![("README.md", None), (".gitignore", Some("*.tmp\n"))],
    ])
}

#[test]
fn each_commit_is_read_as_it_was_without_a_checkout() {
    let (dir, ids) = history();
    let at = |rev: &str| Repo::open_git(dir.path(), rev, &SourceOptions::default()).unwrap();
    assert_eq!(paths(&at(&ids[0])), ["README.md", "pkg/core.py"]);
    assert_eq!(
        paths(&at(&ids[1])),
        ["README.md", "pkg/core.py", "pkg/new.py"]
    );
    assert_eq!(paths(&at("main")), ["pkg/core.py", "pkg/new.py"]);
    let old = at(&ids[0]);
    let text = acs_core::read(
        &old,
        &ReadRequest {
            path: "pkg/core.py".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(text.lines, ["def f():", "    return 1"]);
    assert!(
        matches!(at("HEAD~1").origin(), acs_core::Origin::Git { commit, .. } if *commit == ids[1])
    );
    // The rev forms resolved without libgit2's rev-parse, and one left to it.
    for (rev, want) in [
        ("HEAD^", 1),
        ("HEAD^^", 0),
        ("HEAD~2", 0),
        ("main~1^0", 1),
        ("HEAD^{commit}~1", 1),
        ("HEAD^{}", 2),
        (&ids[0][..7], 0),
        (":/commit 1", 1),
    ] {
        let commit = ids[want].as_str();
        assert!(
            matches!(at(rev).origin(), acs_core::Origin::Git { commit: c, .. } if c == commit),
            "{rev}"
        );
    }
}

#[test]
fn a_bare_mirror_is_enough() {
    let (dir, ids) = history();
    let (_keep, mirror) = bare_clone(dir.path());
    let repo = Repo::open_git(&mirror, &ids[1][..10], &SourceOptions::default()).unwrap();
    assert_eq!(paths(&repo).len(), 3);
}

#[test]
fn unchanged_files_are_shared_between_commits() {
    let (dir, ids) = history();
    let a = Repo::open_git(dir.path(), &ids[1], &SourceOptions::default()).unwrap();
    let b = Repo::open_git(dir.path(), &ids[2], &SourceOptions::default()).unwrap();
    let file = |r: &Repo, p: &str| {
        r.files()
            .iter()
            .find(|f| &*f.path == p)
            .unwrap()
            .content
            .clone()
    };
    assert!(Arc::ptr_eq(
        &file(&a, "pkg/new.py"),
        &file(&b, "pkg/new.py")
    ));
}

#[test]
fn unknown_commits_and_non_repositories_are_precise_errors() {
    let (dir, _) = history();
    for rev in [
        "nope",
        "0123456789abcdef0123456789abcdef01234567",
        "",
        "HEAD~10",
        "HEAD^2",
        "HEAD~\u{e9}",
        "HEAD^{tree}",
        "HEAD~99999999999999999999",
        ":/no commit says this",
    ] {
        let err = Repo::open_git(dir.path(), rev, &SourceOptions::default())
            .err()
            .unwrap();
        assert!(matches!(err, Error::UnknownCommit { .. }), "{rev}: {err}");
        // Every failure says why; libgit2 leaves some messages empty ("no error").
        assert!(!err.to_string().ends_with("no error"), "{rev}: {err}");
    }
    let plain = tree(&[("a.py", "")]);
    let err = Repo::open_git(plain.path(), "HEAD", &SourceOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, Error::Repository { .. }), "{err}");
}

#[test]
fn an_empty_git_repository_has_no_commit_to_open() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let err = Repo::open_git(dir.path(), "HEAD", &SourceOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, Error::UnknownCommit { .. }), "{err}");
}

#[cfg(unix)]
#[test]
fn committed_symlinks_are_not_loaded() {
    let (dir, ids) = git_repo(&[vec![("a.py", Some("x\n"))]]);
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
    std::os::unix::fs::symlink("a.py", dir.path().join("b.py")).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "links"]);
    let repo = Repo::open_git(dir.path(), "HEAD", &SourceOptions::default()).unwrap();
    assert_eq!(paths(&repo), ["a.py"]);
    let read = |p: &str| read_path(&repo, p);
    assert!(matches!(read("passwd"), Err(Error::PathOutsideRepo { .. })));
    assert!(matches!(read("b.py"), Err(Error::FileNotFound { .. })));
    assert_eq!(ids.len(), 1);
}

#[test]
fn many_commits_fit_in_a_fixed_cache_budget() {
    // Each commit rewrites one 2 KiB file; 30 commits hold far more than the budget.
    let commits: Vec<Vec<(&str, Option<String>)>> = (0..30)
        .map(|i| vec![("big.py", Some(format!("# v{i}\n{}", "x = 1\n".repeat(350))))])
        .collect();
    let borrowed: Vec<Vec<(&str, Option<&str>)>> = commits
        .iter()
        .map(|c| c.iter().map(|(p, s)| (*p, s.as_deref())).collect())
        .collect();
    let (dir, ids) = git_repo(&borrowed);
    let budget = 10 * 1024;
    let store = acs_core::Store::new(budget, budget);
    for id in &ids {
        let repo = Repo::open_git_in(dir.path(), id, &SourceOptions::default(), &store).unwrap();
        acs_core::SymbolIndex::build(&repo, &store);
        let ((_, content_bytes), (_, symbol_bytes)) = store.usage();
        assert!(content_bytes <= budget && symbol_bytes <= budget);
    }
    // Recent contents are still shared: a second open of the newest commit reuses its bytes.
    let open = || {
        Repo::open_git_in(
            dir.path(),
            ids.last().unwrap(),
            &SourceOptions::default(),
            &store,
        )
        .unwrap()
    };
    let (a, b) = (open(), open());
    assert!(Arc::ptr_eq(&a.files()[0].content, &b.files()[0].content));
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_are_skipped_and_counted_not_merged() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tree(&[("ok.py", "def ok():\n    pass\n")]);
    for (name, body) in [
        (&b"\xff.py"[..], "def aaa():\n    pass\n"),
        (b"\xfe.py", "def bbb():\n    pass\n"),
    ] {
        std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), body).unwrap();
    }
    let repo = Repo::open_dir(dir.path(), &SourceOptions::default()).unwrap();
    let paths: Vec<&str> = repo.files().iter().map(|f| &*f.path).collect();
    assert_eq!(paths, ["ok.py"]);
    assert_eq!(repo.stats().skipped_names, 2);
    assert_eq!(repo.stats().skipped_unreadable, 0);
}
