"""File trees and real git repositories built in temporary folders (conftest.py's `make_tree`
and `make_git` fixtures are made of these)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

# git with no user or system configuration, and a fixed author: the same commits everywhere.
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def repo_with_fix(
    root: Path, before: Mapping[str, str | bytes], fix: Mapping[str, str | bytes]
) -> tuple[str, str]:
    """A git repository at `root` with two commits: `before`, then `fix` written over it.
    Returns the base commit and the fix's patch (as a dataset row holds it)."""
    write_tree(root, before)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    base = git(root, "rev-parse", "HEAD")
    write_tree(root, fix)
    git(root, "commit", "-q", "-am", "fix")
    return base, git(root, "diff", base, "HEAD") + "\n"
