//! Hostile input to the sources (issue 9): path races, names that escape or shadow, crafted
//! git trees, damaged git objects, UTF-16 files. Anything that could hang runs in a thread
//! with a generous deadline, so a regression fails instead of stalling CI; time bounds are in
//! CPU time (see `common`).
#![allow(unsafe_code)] // mkfifo, to make a file that is not a regular one

mod common;

use acs_core::{Error, Repo, SourceOptions};
use common::*;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Run `f` on a thread and fail the test if it has not finished within [`HANG_LIMIT`].
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG_LIMIT)
        .unwrap_or_else(|_| panic!("did not finish within {HANG_LIMIT:?} (a hang?)"))
}

fn hidden() -> SourceOptions {
    SourceOptions {
        hidden: true,
        ..Default::default()
    }
}

fn content(repo: &Repo, path: &str) -> String {
    let i = repo
        .index_of(path)
        .unwrap_or_else(|| panic!("{path} not loaded"));
    String::from_utf8(repo.files()[i].content.to_vec()).unwrap()
}

/// No loaded path may climb, name git's folder or hold a backslash.
fn assert_paths_are_safe(repo: &Repo) {
    for f in repo.files() {
        for part in f.path.split('/') {
            assert!(
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && !part.eq_ignore_ascii_case(".git")
                    && !part.contains('\\'),
                "unsafe path {:?}",
                f.path
            );
        }
    }
}

// ---- 1. reads outside the repository through a swapped link --------------------------

#[cfg(unix)]
#[test]
fn files_and_folders_swapped_for_links_are_never_read_through_them() {
    use std::os::unix::fs::symlink;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    const SECRET: &str = "OUTSIDE-SECRET\n";
    let outside = tree(&[("secret.txt", SECRET)]);
    for i in 0..20 {
        write(outside.path(), &format!("osub/f{i}.txt"), SECRET);
    }
    let dir = tree(&[]);
    for i in 0..200 {
        write(dir.path(), &format!("pad/p{i}.txt"), "inside\n");
    }
    for i in 0..3 {
        write(dir.path(), &format!("f{i}.txt"), "inside\n");
    }
    for i in 0..20 {
        write(dir.path(), &format!("sub/f{i}.txt"), "inside\n");
    }
    let root = dir.path().to_path_buf();
    let secret = outside.path().join("secret.txt");
    let osub = outside.path().join("osub");
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Swap each file for a link to the secret and back, and the folder for a link to a
    // folder outside and back, as fast as possible.
    let swapper = {
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            let tmp = root.join("swap.tmp");
            while !stop.load(Ordering::Relaxed) {
                for i in 0..3 {
                    let target = root.join(format!("f{i}.txt"));
                    let _ = std::fs::remove_file(&tmp);
                    symlink(&secret, &tmp).unwrap();
                    std::fs::rename(&tmp, &target).unwrap();
                    std::fs::write(&tmp, "inside\n").unwrap();
                    std::fs::rename(&tmp, &target).unwrap();
                }
                std::fs::rename(root.join("sub"), root.join("sub.real")).unwrap();
                symlink(&osub, root.join("sub")).unwrap();
                std::thread::yield_now();
                std::fs::remove_file(root.join("sub")).unwrap();
                std::fs::rename(root.join("sub.real"), root.join("sub")).unwrap();
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let start = Instant::now();
    let (mut opens, mut loaded, mut leaks) = (0usize, 0usize, Vec::new());
    loop {
        // Race for 1.5 s, and on a loaded machine until both sides have had their turns.
        let raced = start.elapsed(); // wall-clock: allowed: how long to race; a hang guard
        let turns = opens.min(swaps.load(Ordering::Relaxed));
        if raced >= Duration::from_millis(1500) && turns >= 5 {
            break;
        }
        assert!(raced < HANG_LIMIT, "{opens} opens in {raced:?}");
        let repo = Repo::open_dir(dir.path(), &SourceOptions::default()).unwrap();
        opens += 1;
        for f in repo.files() {
            loaded += 1;
            if f.content.as_slice() == SECRET.as_bytes() {
                leaks.push(f.path.to_string());
            }
        }
        assert_paths_are_safe(&repo);
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let swaps = swaps.load(Ordering::Relaxed);
    assert!(opens >= 5 && swaps >= 5, "{opens} opens, {swaps} swaps");
    assert!(loaded > 0);
    assert!(
        leaks.is_empty(),
        "{} files read outside in {opens} opens, e.g. {:?}",
        leaks.len(),
        &leaks[..leaks.len().min(5)]
    );
}

// ---- 2. names that escape or shadow ---------------------------------------------------

#[cfg(unix)]
#[test]
fn backslashes_in_names_are_skipped_and_counted_never_rewritten() {
    let dir = tree(&[("sub/deep/b.py", "real = 1\n"), ("ok.py", "x = 1\n")]);
    write(dir.path(), "x\\..\\..\\secret.txt", "escape\n");
    write(dir.path(), "sub\\deep\\b.py", "shadow = 1\n");
    write(dir.path(), "odd\\dir/inner.py", "y = 1\n");
    let repo = Repo::open_dir(dir.path(), &SourceOptions::default()).unwrap();
    assert_eq!(paths(&repo), ["ok.py", "sub/deep/b.py"]);
    assert_eq!(content(&repo, "sub/deep/b.py"), "real = 1\n");
    assert_eq!(repo.stats().skipped_names, 3);
    assert_paths_are_safe(&repo);
}

#[cfg(unix)]
#[test]
fn a_folder_named_like_a_drive_is_listed_and_read() {
    let dir = tree(&[("C:/x.py", "def f():\n    pass\n")]);
    let repo = Repo::open_dir(dir.path(), &SourceOptions::default()).unwrap();
    assert_eq!(paths(&repo), ["C:/x.py"]);
    let read = acs_core::read(
        &repo,
        &acs_core::ReadRequest {
            path: "C:/x.py".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(read.lines, ["def f():", "    pass"]);
}

#[test]
fn a_git_folder_or_bare_repository_opened_as_a_directory_opens_its_head() {
    let (dir, ids) = git_repo(&[vec![("a.py", Some("x = 1\n")), ("pkg/b.py", Some("y\n"))]]);
    let (_keep, mirror) = bare_clone(dir.path());
    for git_dir in [dir.path().join(".git"), mirror] {
        let repo = Repo::open_dir(&git_dir, &hidden()).unwrap();
        assert_eq!(paths(&repo), ["a.py", "pkg/b.py"], "{}", git_dir.display());
        assert!(
            matches!(repo.origin(), acs_core::Origin::Git { commit, .. } if *commit == ids[0]),
            "{:?}",
            repo.origin()
        );
    }
    // The work tree itself is still a plain directory.
    let work = Repo::open_dir(dir.path(), &SourceOptions::default()).unwrap();
    assert!(matches!(work.origin(), acs_core::Origin::Directory { .. }));
}

#[test]
fn a_git_folder_with_no_commit_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let err = Repo::open_dir(dir.path().join(".git"), &SourceOptions::default())
        .err()
        .expect("no commit to open");
    assert!(
        matches!(&err, Error::Repository { message, .. } if message.contains("git directory")),
        "{err}"
    );
}

/// A tree object written byte for byte, bypassing every check git makes.
fn raw_tree(repo: &Path, entries: &[(&str, &[u8], &str)]) -> String {
    let mut body = Vec::new();
    for (mode, name, id) in entries {
        body.extend_from_slice(mode.as_bytes());
        body.push(b' ');
        body.extend_from_slice(name);
        body.push(0);
        body.extend_from_slice(&hex(id));
    }
    let file = repo.join("raw-tree.bin");
    std::fs::write(&file, body).unwrap();
    let id = git(
        repo,
        &[
            "hash-object",
            "-t",
            "tree",
            "--literally",
            "-w",
            file.to_str().unwrap(),
        ],
    );
    std::fs::remove_file(file).unwrap();
    id
}

fn hex(id: &str) -> Vec<u8> {
    (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).unwrap())
        .collect()
}

fn blob(repo: &Path, text: &str) -> String {
    let file = repo.join("blob.tmp");
    std::fs::write(&file, text).unwrap();
    let id = git(repo, &["hash-object", "-w", file.to_str().unwrap()]);
    std::fs::remove_file(file).unwrap();
    id
}

#[test]
fn crafted_git_trees_cannot_escape_or_shadow() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    let passwd = blob(repo, "root:x:0:0\n");
    let first = blob(repo, "first = 1\n");
    let second = blob(repo, "second = 2\n");
    let inner = raw_tree(repo, &[("100644", b"passwd", &passwd)]);
    let sub = raw_tree(
        repo,
        &[
            ("100644", b"ok.py", &first),
            ("40000", b"..", &inner),
            ("100644", b"a\\b.py", &passwd),
        ],
    );
    let top = raw_tree(
        repo,
        &[
            ("40000", b"..", &inner),
            ("40000", b".", &inner),
            ("40000", b".git", &inner),
            ("40000", b".GIT", &inner),
            ("40000", b".Git", &inner),
            ("100644", b"x\\..\\..\\etc\\passwd", &passwd),
            ("100644", b"evil/../../passwd", &passwd),
            ("100644", b"", &passwd),
            ("100644", b"a.py", &first),
            ("100644", b"a.py", &second),
            ("40000", b"sub", &sub),
            ("40000", b"sub", &inner),
        ],
    );
    let commit = git(repo, &["commit-tree", &top, "-m", "crafted"]);
    for opts in [hidden(), SourceOptions::default()] {
        let snap = within({
            let (repo, commit, opts) = (repo.to_path_buf(), commit.clone(), opts.clone());
            move || Repo::open_git(repo, &commit, &opts).unwrap()
        });
        assert_paths_are_safe(&snap);
        assert_eq!(paths(&snap), ["a.py", "sub/ok.py"]);
        assert_eq!(content(&snap, "a.py"), "first = 1\n");
        // 10 in the top tree (the second `a.py` and `sub` included), 2 in `sub`; the
        // subtrees skipped are not read, so their entries are not counted.
        assert_eq!(snap.stats().skipped_names, 12, "hidden: {}", opts.hidden);
    }
}

// ---- 3. damaged git objects -----------------------------------------------------------

fn object_path(repo: &Path, id: &str) -> std::path::PathBuf {
    repo.join(".git/objects").join(&id[..2]).join(&id[2..])
}

/// Cut a loose object to its first 10 bytes, as in the issue (`head -c10`).
fn truncate_object(repo: &Path, id: &str) {
    let path = object_path(repo, id);
    let head = std::fs::read(&path).unwrap()[..10].to_vec();
    std::fs::remove_file(&path).unwrap(); // objects are read-only; the folder is not
    std::fs::write(&path, head).unwrap();
}

fn damaged_fixture() -> (tempfile::TempDir, String) {
    let (dir, ids) = git_repo(&[vec![
        ("a.py", Some("def a():\n    return 1\n")),
        ("sub/b.py", Some("def b():\n    return 2\n")),
    ]]);
    (dir, ids[0].clone())
}

fn open_within(dir: &Path, rev: &str) -> acs_core::Result<Repo> {
    let (dir, rev) = (dir.to_path_buf(), rev.to_string());
    within(move || Repo::open_git(dir, &rev, &SourceOptions::default()))
}

#[test]
fn a_damaged_loose_blob_is_skipped_and_counted_not_a_hang() {
    if ran_alone() {
        return;
    }
    let (dir, commit) = damaged_fixture();
    let blob = git(dir.path(), &["rev-parse", "HEAD:a.py"]);
    truncate_object(dir.path(), &blob);
    let (repo, cpu) = cpu_of(process_cpu, || open_within(dir.path(), "HEAD").unwrap());
    assert!(cpu < Duration::from_secs(2), "CPU {cpu:?}");
    assert_eq!(paths(&repo), ["sub/b.py"]);
    assert_eq!(repo.stats().skipped_unreadable, 1);
    assert!(matches!(repo.origin(), acs_core::Origin::Git { commit: c, .. } if *c == commit));
}

#[test]
fn a_damaged_loose_tree_or_commit_is_a_clear_error_not_a_hang() {
    if ran_alone() {
        return;
    }
    for (what, rev) in [
        ("tree", "HEAD:sub"),
        ("tree", "HEAD^{tree}"),
        ("commit", "HEAD"),
    ] {
        let (dir, commit) = damaged_fixture();
        let id = git(dir.path(), &["rev-parse", rev]);
        truncate_object(dir.path(), &id);
        // By ref name, full id and abbreviated id: each path to the object is guarded.
        for open_as in [
            "HEAD",
            "main",
            &commit[..],
            &commit[..12],
            "HEAD~0",
            "HEAD^{commit}",
        ] {
            let (err, cpu) = cpu_of(process_cpu, || open_within(dir.path(), open_as).err());
            let err = err.unwrap_or_else(|| panic!("damaged {what} {rev} opened as {open_as}"));
            assert!(cpu < Duration::from_secs(2), "CPU {cpu:?}");
            assert!(
                matches!(&err, Error::Repository { message, .. } if message.contains(&id)),
                "{what} {rev} as {open_as}: {err}"
            );
        }
    }
}

#[test]
fn a_damaged_pack_is_an_error_or_skipped_not_a_hang() {
    if ran_alone() {
        return;
    }
    let (dir, _) = damaged_fixture();
    git(dir.path(), &["gc", "-q", "--aggressive"]);
    let packs: Vec<_> = std::fs::read_dir(dir.path().join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    assert_eq!(packs.len(), 1);
    let pristine = std::fs::read(&packs[0]).unwrap();
    let damage: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", pristine[..pristine.len() / 2].to_vec()),
        ("zeroed middle", {
            let mut p = pristine.clone();
            let n = p.len();
            p[n / 4..n * 3 / 4].fill(0);
            p
        }),
        ("flipped bytes", {
            let mut p = pristine.clone();
            for i in (12..p.len() - 20).step_by(7) {
                p[i] ^= 0x5a;
            }
            p
        }),
    ];
    for (what, bytes) in damage {
        std::fs::remove_file(&packs[0]).unwrap();
        std::fs::write(&packs[0], &bytes).unwrap();
        // An error or a snapshot with files skipped are both fine; a hang is not.
        let (opened, cpu) = cpu_of(process_cpu, || open_within(dir.path(), "HEAD"));
        match opened {
            Ok(repo) => assert!(repo.stats().skipped_unreadable > 0, "{what}: nothing lost?"),
            Err(e) => assert!(
                matches!(e, Error::Repository { .. } | Error::UnknownCommit { .. }),
                "{what}: {e}"
            ),
        }
        assert!(cpu < Duration::from_secs(5), "{what}: CPU {cpu:?}");
    }
}

// ---- 11. UTF-16 files -----------------------------------------------------------------

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for unit in text.encode_utf16() {
        out.extend(if little {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        });
    }
    out
}

fn assert_utf16_is_searchable(repo: &Repo) {
    assert_eq!(paths(repo), ["be.py", "le.py"]);
    assert_eq!(repo.stats().skipped_binary, 0);
    let hits = acs_core::grep(repo, &acs_core::GrepRequest::new("needle")).unwrap();
    let found: Vec<(String, u64, String)> = hits
        .matches
        .iter()
        .map(|m| (m.path.to_string(), m.line, m.text.to_string()))
        .collect();
    assert_eq!(
        found,
        [
            ("be.py".into(), 2, "needle = 'caf\u{e9}'".into()),
            ("le.py".into(), 2, "needle = 'caf\u{e9}'".into()),
        ]
    );
}

#[test]
fn utf16_files_are_decoded_from_a_directory_and_from_git() {
    let text = "# first\r\nneedle = 'caf\u{e9}'\r\nlast = 3\r\n";
    let (dir, _) = git_repo(&[vec![]]);
    write(dir.path(), "le.py", utf16(text, true));
    write(dir.path(), "be.py", utf16(text, false));
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "utf16"]);
    assert_utf16_is_searchable(&Repo::open_dir(dir.path(), &SourceOptions::default()).unwrap());
    assert_utf16_is_searchable(
        &Repo::open_git(dir.path(), "HEAD", &SourceOptions::default()).unwrap(),
    );
    // A BOM followed by binary (NUL code units) is still binary.
    write(
        dir.path(),
        "blob.bin",
        [&[0xFF, 0xFE][..], &[0, 0, 1, 2]].concat(),
    );
    let repo = Repo::open_dir(dir.path(), &SourceOptions::default()).unwrap();
    assert_eq!(repo.stats().skipped_binary, 1);
}

// ---- 12. objects that are not what their id says ------------------------------------

/// Text no other test (sharing this process's content cache) loads.
fn unique_text(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag} = '{nanos}-{}'\n", std::process::id())
}

/// Replace the loose object `id` by a well-formed loose object with other content.
fn plant_loose(repo: &Path, id: &str, kind: &str, body: &[u8]) {
    let raw = [format!("{kind} {}\0", body.len()).as_bytes(), body].concat();
    let path = object_path(repo, id);
    let _ = std::fs::remove_file(&path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6)).unwrap();
}

#[test]
fn a_planted_loose_object_is_not_read_as_the_blob_it_claims_to_be() {
    let real = unique_text("real");
    let (poisoned, _) = git_repo(&[vec![("a.py", Some(&real)), ("b.py", Some("b = 1\n"))]]);
    let (clean, _) = git_repo(&[vec![("a.py", Some(&real))]]);
    let id = git(poisoned.path(), &["rev-parse", "HEAD:a.py"]);
    plant_loose(poisoned.path(), &id, "blob", b"FAKE = 'planted'\n");

    let p = open_within(poisoned.path(), "HEAD").unwrap();
    assert_eq!(paths(&p), ["b.py"]);
    assert_eq!(p.stats().skipped_unreadable, 1);
    // The clean repository, same blob id, same process (same content cache): its own text.
    let c = open_within(clean.path(), "HEAD").unwrap();
    assert_eq!(content(&c, "a.py"), real);

    // A planted tree or commit is a clear error naming the id.
    for rev in ["HEAD^{tree}", "HEAD"] {
        let (dir, _) = git_repo(&[vec![("a.py", Some("x = 1\n"))]]);
        let id = git(dir.path(), &["rev-parse", rev]);
        let kind = if rev == "HEAD" { "commit" } else { "tree" };
        let body = std::fs::read(object_path(dir.path(), &id)).unwrap();
        let mut inflated = miniz_oxide::inflate::decompress_to_vec_zlib(&body).unwrap();
        let nul = inflated.iter().position(|&b| b == 0).unwrap();
        inflated.drain(..=nul);
        inflated.extend_from_slice(b"\n"); // same kind, other content
        plant_loose(dir.path(), &id, kind, &inflated);
        let err = open_within(dir.path(), "HEAD").err().expect(rev);
        assert!(
            matches!(&err, Error::Repository { message, .. }
                if message.contains(&id) && message.contains("hashes to")),
            "{rev}: {err}"
        );
    }
}

#[test]
fn a_packed_blob_over_the_size_limit_is_skipped_as_large() {
    let big = "x = 1\n".repeat(50_000); // 300 KB, a few KB packed
    let (dir, _) = git_repo(&[vec![("big.py", Some(&big)), ("small.py", Some("s = 1\n"))]]);
    git(dir.path(), &["gc", "-q"]);
    let id = git(dir.path(), &["rev-parse", "HEAD:big.py"]);
    assert!(!object_path(dir.path(), &id).exists(), "not packed");
    let opts = SourceOptions {
        max_file_size: 10_000,
        ..Default::default()
    };
    let repo = Repo::open_git(dir.path(), "HEAD", &opts).unwrap();
    assert_eq!(paths(&repo), ["small.py"]);
    assert_eq!(repo.stats().skipped_large, 1);
    assert_eq!(repo.stats().skipped_unreadable, 0);
}

#[test]
fn crafted_git_trees_with_overlong_paths_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    let text = blob(repo, "ok = 1\n");
    let (long_file, outer, inner) = ("f".repeat(5000), "d".repeat(3000), "e".repeat(2000));
    let leaf = raw_tree(repo, &[("100644", b"ok.py", &text)]);
    let middle = raw_tree(
        repo,
        &[
            ("40000", inner.as_bytes(), &leaf),
            ("100644", b"in.py", &text),
        ],
    );
    let top = raw_tree(
        repo,
        &[
            ("100644", long_file.as_bytes(), &text),
            ("40000", outer.as_bytes(), &middle),
            ("100644", b"ok.py", &text),
        ],
    );
    let commit = git(repo, &["commit-tree", &top, "-m", "long"]);
    let snap = within({
        let (repo, commit) = (repo.to_path_buf(), commit.clone());
        move || Repo::open_git(repo, &commit, &SourceOptions::default()).unwrap()
    });
    // The 5000-byte file and the 3000+2000-byte folder (its file unread) are skipped.
    assert_eq!(
        paths(&snap),
        [format!("{outer}/in.py"), "ok.py".to_string()]
    );
    assert_eq!(snap.stats().skipped_names, 2);
}

#[cfg(unix)]
#[test]
fn a_loose_object_that_is_a_link_or_a_fifo_is_unreadable_not_followed_or_waited_on() {
    let outside = tempfile::tempdir().unwrap();
    for special in ["link", "fifo"] {
        let (dir, _) = git_repo(&[vec![("a.py", Some("a = 1\n")), ("b.py", Some("b = 2\n"))]]);
        let id = git(dir.path(), &["rev-parse", "HEAD:a.py"]);
        let path = object_path(dir.path(), &id);
        if special == "link" {
            // The real object, moved outside and linked to: still not read through the link.
            let moved = outside.path().join(&id);
            std::fs::rename(&path, &moved).unwrap();
            std::os::unix::fs::symlink(&moved, &path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
            let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            // SAFETY: a valid C string.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        let repo = open_within(dir.path(), "HEAD").unwrap();
        assert_eq!(paths(&repo), ["b.py"], "{special}");
        assert_eq!(repo.stats().skipped_unreadable, 1, "{special}");
    }
}

#[test]
fn a_work_tree_shaped_like_a_git_folder_is_still_a_directory() {
    // Not a repository at all: HEAD, objects/ and refs/ as ordinary project files.
    let plain = tree(&[
        ("HEAD", "just a file\n"),
        ("objects/o.py", "o = 1\n"),
        ("refs/r.py", "r = 1\n"),
    ]);
    // A git work tree whose root holds a HEAD that reads as git's: it has a `.git`.
    let (work, _) = git_repo(&[vec![
        ("HEAD", Some("ref: refs/heads/main\n")),
        ("objects/o.py", Some("o = 1\n")),
        ("refs/r.py", Some("r = 1\n")),
    ]]);
    for dir in [plain.path(), work.path()] {
        let repo = Repo::open_dir(dir, &SourceOptions::default()).unwrap();
        assert!(
            matches!(repo.origin(), acs_core::Origin::Directory { .. }),
            "{}: {:?}",
            dir.display(),
            repo.origin()
        );
        assert_eq!(paths(&repo), ["HEAD", "objects/o.py", "refs/r.py"]);
    }
}

// ---- 13. ignore files ------------------------------------------------------------------

/// The files ripgrep's walker would list with the rules as the `ignore` crate applies them
/// itself (what this source did before reading ignore files on its own).
fn crate_walk(root: &Path, hidden: bool) -> Vec<String> {
    let mut out: Vec<String> = ignore::WalkBuilder::new(root)
        .hidden(!hidden)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .ignore(true)
        .parents(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap();
            rel.to_str().unwrap().to_string()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn ignore_rules_match_the_ignore_crates_on_ordinary_trees() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    let files = [
        (
            ".gitignore",
            "*.log\nbuild/\n!keep.log\n/anchored.txt\n!.hidden_keep\nsub/deep/*.tmp\nbad[\ncrlf.txt\r\nign_wl.txt\n",
        ),
        (".ignore", "!ign_wl.txt\n"),
        ("a.log", "x\n"),
        ("keep.log", "x\n"),
        ("anchored.txt", "x\n"),
        ("crlf.txt", "x\n"),
        ("ign_wl.txt", "x\n"),
        ("root_excluded.txt", "x\n"),
        (".hidden_keep", "x\n"),
        (".other", "x\n"),
        (".hdir/f.txt", "x\n"),
        ("build/x.txt", "x\n"),
        ("other/build", "x\n"),
        ("sub/.gitignore", "\u{feff}bom.txt\n!*.log\nlocal/\n!gi_override.txt\n"),
        ("sub/.ignore", "gi_override.txt\n"),
        ("sub/bom.txt", "x\n"),
        ("sub/b.log", "x\n"),
        ("sub/anchored.txt", "x\n"),
        ("sub/gi_override.txt", "x\n"),
        ("sub/local/l.txt", "x\n"),
        ("sub/build/y.txt", "x\n"),
        ("sub/deep/a.tmp", "x\n"),
        ("sub/deep/b.txt", "x\n"),
        ("sub/deep/c.log", "x\n"),
        ("nested/excluded.txt", "x\n"),
        ("nested/kept.txt", "x\n"),
        ("nested/n.log", "x\n"),
    ];
    for (rel, text) in files {
        write(root, rel, text);
    }
    write(root, ".git/info/exclude", "root_excluded.txt\n");
    git(&root.join("nested"), &["init", "-q"]);
    write(root, "nested/.git/info/exclude", "excluded.txt\n");
    for show in [false, true] {
        let opts = SourceOptions {
            hidden: show,
            ..Default::default()
        };
        let repo = Repo::open_dir(root, &opts).unwrap();
        let expected = crate_walk(root, show);
        assert_eq!(paths(&repo), expected, "hidden: {show}");
    }
    // Spot checks, so that both walks being wrong the same way shows.
    let repo = Repo::open_dir(root, &SourceOptions::default()).unwrap();
    let got = paths(&repo);
    for kept in [
        ".hidden_keep",
        "keep.log",
        "ign_wl.txt",
        "sub/b.log",
        "other/build",
    ] {
        assert!(got.iter().any(|p| p == kept), "{kept} missing: {got:?}");
    }
    for gone in [
        "a.log",
        "crlf.txt",
        "anchored.txt",
        "root_excluded.txt",
        "sub/bom.txt",
        "sub/gi_override.txt",
        "sub/deep/a.tmp",
        "nested/excluded.txt",
        ".other",
    ] {
        assert!(!got.iter().any(|p| p == gone), "{gone} listed: {got:?}");
    }
}

#[cfg(unix)]
#[test]
fn hostile_ignore_files_are_not_read_and_rules_above_the_root_do_not_apply() {
    let outer = tempfile::tempdir().unwrap();
    // Above the root: must not apply.
    write(outer.path(), ".gitignore", "*.py\n");
    let root = outer.path().join("root");
    write(&root, "a.py", "a = 1\n");
    write(&root, "sub/b.py", "b = 2\n");
    write(&root, "big/c.py", "c = 3\n");
    write(&root, "linked/d.py", "d = 4\n");
    write(&root, "rules.txt", "*.py\n");
    std::os::unix::fs::symlink("/dev/zero", root.join(".gitignore")).unwrap();
    let fifo = std::ffi::CString::new(root.join("sub/.gitignore").to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    // Over the size cap: not read at all, so its last line does not apply either.
    let mut huge = "# padding\n".repeat(120_000);
    huge.push_str("c.py\n");
    write(&root, "big/.ignore", huge);
    // A link to a file inside: not followed either.
    std::os::unix::fs::symlink("../rules.txt", root.join("linked/.gitignore")).unwrap();
    let repo = within(move || Repo::open_dir(&root, &SourceOptions::default()).unwrap());
    assert_eq!(
        paths(&repo),
        ["a.py", "big/c.py", "linked/d.py", "rules.txt", "sub/b.py"]
    );
}

// ---- issue 20: unreadable files are named, not only counted ---------------------------

#[test]
fn damaged_git_blobs_are_named_with_why_in_path_order() {
    // Contents no other test loads: none is in this process's content cache.
    let (a, b, c) = (unique_text("a"), unique_text("b"), unique_text("c"));
    let (dir, _) = git_repo(&[vec![
        ("a.py", Some(a.as_str())),
        ("sub/b.py", Some(b.as_str())),
        ("c.py", Some(c.as_str())),
    ]]);
    let blobs: Vec<String> = ["sub/b.py", "a.py"]
        .iter()
        .map(|p| git(dir.path(), &["rev-parse", &format!("HEAD:{p}")]))
        .collect();
    for blob in &blobs {
        truncate_object(dir.path(), blob);
    }
    let repo = open_within(dir.path(), "HEAD").unwrap();
    assert_eq!(paths(&repo), ["c.py"]);
    let stats = repo.stats();
    assert_eq!(stats.skipped_unreadable, 2);
    let named: Vec<&str> = stats.unreadable.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(named, ["a.py", "sub/b.py"], "in path order");
    for (u, blob) in stats.unreadable.iter().zip(blobs.iter().rev()) {
        assert!(
            u.reason.starts_with("damaged object") && u.reason.contains(blob.as_str()),
            "{u:?}"
        );
        assert!(u.reason.chars().count() <= 163, "{u:?}");
    }
    // Serialised with the other stats, as the Python side reads them.
    let json = serde_json::to_value(stats).unwrap();
    assert_eq!(json["unreadable"][0]["path"], "a.py");
}

#[test]
fn at_most_a_hundred_unreadable_files_are_named_and_all_are_counted() {
    let files: Vec<(String, String)> = (0..120)
        .map(|i| (format!("m{i:03}.py"), unique_text(&format!("x_{i}"))))
        .collect();
    let changes: Vec<(&str, Option<&str>)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), Some(c.as_str())))
        .collect();
    let (dir, _) = git_repo(&[changes]);
    for (p, _) in &files {
        let blob = git(dir.path(), &["rev-parse", &format!("HEAD:{p}")]);
        truncate_object(dir.path(), &blob);
    }
    let repo = open_within(dir.path(), "HEAD").unwrap();
    let stats = repo.stats();
    assert_eq!(stats.skipped_unreadable, 120);
    assert_eq!(stats.unreadable.len(), acs_core::MAX_UNREADABLE_LISTED);
    assert_eq!(stats.unreadable[0].path, "m000.py");
    assert_eq!(stats.unreadable[99].path, "m099.py");
}
