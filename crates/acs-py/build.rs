//! Build facts for `acs --version` (`acs._core.build_info`), embedded as compile-time
//! environment variables: the build profile and target, the rustc that compiled it, the git
//! commit of the source tree (when built from a checkout), and the version of every
//! tree-sitter crate in Cargo.lock (the grammars acs-core compiles in).
//!
//! Only this thin crate has a build script, so a new commit rebuilds it and not the engine.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    emit(
        "ACS_BUILD_PROFILE",
        &std::env::var("PROFILE").unwrap_or_default(),
    );
    emit(
        "ACS_BUILD_TARGET",
        &std::env::var("TARGET").unwrap_or_default(),
    );
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    emit(
        "ACS_BUILD_RUSTC",
        &output_of(Command::new(rustc).arg("--version")).unwrap_or_default(),
    );
    emit(
        "ACS_BUILD_COMMIT",
        &git_commit(&manifest_dir).unwrap_or_default(),
    );
    let lock = manifest_dir
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file());
    let crates = match &lock {
        Some(path) => {
            println!("cargo:rerun-if-changed={}", path.display());
            tree_sitter_versions(&std::fs::read_to_string(path).unwrap_or_default())
        }
        None => String::new(),
    };
    emit("ACS_BUILD_TREE_SITTER_CRATES", &crates);
    println!("cargo:rerun-if-changed=build.rs");
}

fn emit(name: &str, value: &str) {
    println!("cargo:rustc-env={name}={value}");
}

fn output_of(command: &mut Command) -> Option<String> {
    let out = command.output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

/// HEAD's commit id, and a rerun whenever HEAD moves. None outside a git checkout (an sdist).
fn git_commit(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| output_of(Command::new("git").arg("-C").arg(dir).args(args));
    let commit = git(&["rev-parse", "HEAD"])?;
    // HEAD names a branch whose ref file (or packed-refs) changes on commit. Only existing
    // files: cargo reruns a build script every time for a missing one.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", &name]) {
            if Path::new(&path).is_file() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    Some(commit)
}

/// `name=version` of each `tree-sitter*` package in a Cargo.lock, comma-separated, sorted.
fn tree_sitter_versions(lock: &str) -> String {
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if line == "[[package]]" {
            name = None;
        } else if let Some(n) = quoted_value(line, "name") {
            name = Some(n);
        } else if let (Some(n), Some(v)) = (name, quoted_value(line, "version")) {
            if n.starts_with("tree-sitter") {
                found.push(format!("{n}={v}"));
            }
        }
    }
    found.sort();
    found.join(",")
}

fn quoted_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    rest.strip_prefix('"')?.strip_suffix('"')
}
