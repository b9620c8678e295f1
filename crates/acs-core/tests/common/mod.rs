//! Fixture builders shared by the integration tests: files in temporary folders and real
//! git repositories made with the `git` command.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

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
