//! Fixture builders shared by the integration tests: files in temporary folders and real
//! git repositories made with the `git` command.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, content) in files {
        write(dir.path(), rel, content);
    }
    dir
}

/// Run git in `dir` with a clean, fixed identity and no user or system config.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A git repository whose history is `commits`: each a list of (path, Some(content)) to
/// write or (path, None) to delete. Returns the folder and the commit ids in order.
pub fn git_repo(commits: &[Vec<(&str, Option<&str>)>]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let mut ids = Vec::new();
    for (i, changes) in commits.iter().enumerate() {
        for (rel, content) in changes {
            match content {
                Some(c) => write(dir.path(), rel, c),
                None => std::fs::remove_file(dir.path().join(rel)).unwrap(),
            }
        }
        git(dir.path(), &["add", "-A"]);
        git(
            dir.path(),
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("commit {i}"),
            ],
        );
        ids.push(git(dir.path(), &["rev-parse", "HEAD"]));
    }
    (dir, ids)
}

pub fn paths(repo: &acs_core::Repo) -> Vec<String> {
    repo.files().iter().map(|f| f.path.to_string()).collect()
}

pub fn bare_clone(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mirror.git");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--mirror",
            src.to_str().unwrap(),
            target.to_str().unwrap(),
        ],
    );
    (dir, target)
}

// ---- timing: CPU time, never wall time ---------------------------------------------------
//
// The rule: no test asserts on wall time. CI machines are shared and the sibling tests of a
// binary run at once, so wall time measures the machine (a 0.03 s plan took 6 s beside them).
// Bound the CPU time of the work instead, which only the code under test spends:
// - work that stays on the calling thread: `cpu_of(thread_cpu, ..)`;
// - work that fans out to pools (grep, index builds, plans): `cpu_of(process_cpu, ..)` in a
//   test that starts with `if ran_alone() { return; }`, so no sibling test's threads count;
// - cancellation: the CPU spent after the cancel (or deadline), not the delay.
// Waits that only keep a hung test from stalling CI may use wall time, at `HANG_LIMIT`.
// tests/test_timing_lint.py refuses new `elapsed() <`-style asserts in these tests.

/// A wait that only a hang reaches: generous, because a loaded machine can hold back the
/// shared thread pool for many seconds.
pub const HANG_LIMIT: Duration = Duration::from_secs(120);

#[allow(unsafe_code)] // clock_gettime
fn clock(id: libc::clockid_t) -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; the clock ids used are always supported.
    let rc = unsafe { libc::clock_gettime(id, &mut t) };
    assert_eq!(rc, 0, "clock_gettime({id})");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// CPU time of the calling thread so far.
pub fn thread_cpu() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process so far, every thread (pools included).
pub fn process_cpu() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// `f`'s result and the CPU time it took on `clock` ([`thread_cpu`] or [`process_cpu`]).
pub fn cpu_of<T>(clock: fn() -> Duration, f: impl FnOnce() -> T) -> (T, Duration) {
    let start = clock();
    let value = f();
    (value, clock() - start)
}

/// The process CPU time at `when` (or a little later), read on a helper thread: to bound the
/// work done after a deadline.
pub fn process_cpu_at(when: Instant) -> std::thread::JoinHandle<Duration> {
    std::thread::spawn(move || {
        std::thread::sleep(when.saturating_duration_since(Instant::now()));
        process_cpu()
    })
}

const ALONE_VAR: &str = "ACS_TEST_ALONE";

/// Runs the calling test again, alone, in a child process, so that [`process_cpu`] there
/// counts its own work only. In the parent it waits for the child, fails if the child
/// failed, and returns true (the caller returns); in the child it returns false (the
/// caller goes on with the test).
pub fn ran_alone() -> bool {
    // libtest runs each test on a thread named after it.
    let name = std::thread::current()
        .name()
        .unwrap_or_default()
        .to_string();
    assert!(
        !name.is_empty() && name != "main",
        "ran_alone needs libtest's test thread"
    );
    if std::env::var(ALONE_VAR).as_deref() == Ok(name.as_str()) {
        return false;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            &name,
            "--exact",
            "--include-ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(ALONE_VAR, &name)
        .output()
        .expect("the test binary runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    eprint!("{stderr}");
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name}, run alone:\n{stdout}\n{stderr}"
    );
    true
}
