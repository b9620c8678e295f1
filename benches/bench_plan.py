"""A plan of eight independent tasks vs the same tasks one by one; opening a repository at a
commit (no checkout) vs `git worktree add` of that commit."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import acs
from corpora import EXCLUDE

TASKS = [
    {"id": 1, "tool": "grep", "args": {"pattern": "raise ValueError", "max_results": 1000}},
    {"id": 2, "tool": "grep", "args": {"pattern": r"class \w+Error\(", "max_results": 1000}},
    {"id": 3, "tool": "grep", "args": {"pattern": "deprecated", "case": "insensitive"}},
    {"id": 4, "tool": "symbols", "args": {"name": "decode", "mode": "prefix"}},
    {"id": 5, "tool": "find_files", "args": {"query": "json/decoder"}},
    {"id": 6, "tool": "references", "args": {"name": "JSONDecodeError"}},
    {"id": 7, "tool": "outline", "args": {"path": "json/decoder.py"}},
    {"id": 8, "tool": "read", "args": {"path": "json/decoder.py", "start": 1, "end": 200}},
]


def test_plan_of_eight_concurrent(benchmark, loaded):
    report = benchmark(loaded.run_plan, TASKS)
    assert [t["status"] for t in report["tasks"]] == ["ok"] * 8


def test_eight_tasks_one_by_one(benchmark, loaded):
    def sequential() -> list:
        return [loaded.call(t["tool"], t["args"]) for t in TASKS]

    benchmark(sequential)


GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True)


@pytest.fixture(scope="module")
def git_corpus(loaded, corpus):
    """The corpus committed to a fresh git repository (built once, untimed)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        for rel in loaded.paths():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus / rel, target)
        git(root, "init", "-q")
        git(root, "add", "-A", "-f")
        git(root, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "corpus")
        git(root, "gc", "-q")  # packed, like a clone or a mirror
        yield root


def test_open_at_commit_cold(benchmark, git_corpus):
    def cold() -> tuple[tuple, dict]:
        acs.set_cache_budgets(0, 0)  # nothing shared with earlier opens
        return (), {}

    try:
        repo = benchmark.pedantic(
            lambda: acs.Repo.open(git_corpus, commit="HEAD"), setup=cold, rounds=3
        )
    finally:
        acs.set_cache_budgets(1 << 30, 256 << 20)
    benchmark.extra_info["files"] = len(repo)


def test_open_at_commit_warm(benchmark, git_corpus):
    acs.Repo.open(git_corpus, commit="HEAD")  # contents now in the shared cache
    benchmark.pedantic(lambda: acs.Repo.open(git_corpus, commit="HEAD"), rounds=5)


def test_git_worktree_add(benchmark, git_corpus):
    target = git_corpus.parent / "wt"

    def clean() -> tuple[tuple, dict]:
        if target.exists():
            git(git_corpus, "worktree", "remove", "--force", str(target))
        return (), {}

    benchmark.pedantic(
        lambda: git(git_corpus, "worktree", "add", "-q", "--detach", str(target), "HEAD"),
        setup=clean,
        rounds=3,
    )
    clean()


def test_open_directory(benchmark, corpus):
    benchmark.pedantic(lambda: acs.Repo.open(corpus, exclude=EXCLUDE), rounds=3)
