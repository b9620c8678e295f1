"""Fixtures: file trees and real git repositories built in temporary folders."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

# Index packs written by tests (and the CLI they start) go to a private folder, never the
# user's cache, removed when the test process ends (each run wrote ~15 MB to /tmp and left it).
os.environ["ACS_CACHE_DIR"] = tempfile.mkdtemp(prefix="acs-test-cache-")
atexit.register(shutil.rmtree, os.environ["ACS_CACHE_DIR"], ignore_errors=True)

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


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[[Mapping[str, str | bytes]], Path]:
    counter = iter(range(1_000_000))

    def make(files: Mapping[str, str | bytes]) -> Path:
        return write_tree(tmp_path / f"tree{next(counter)}", files)

    return make


@pytest.fixture
def make_git(tmp_path: Path) -> Callable[..., tuple[Path, list[str]]]:
    """A git repository whose history is a list of commits, each a mapping of path to
    content (None deletes). Returns the folder and the commit ids."""

    def make(*commits: Mapping[str, str | None]) -> tuple[Path, list[str]]:
        root = tmp_path / "gitrepo"
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        ids = []
        for i, changes in enumerate(commits):
            for rel, content in changes.items():
                if content is None:
                    (root / rel).unlink()
                else:
                    write_tree(root, {rel: content})
            git(root, "add", "-A")
            git(root, "commit", "-q", "--allow-empty", "-m", f"commit {i}")
            ids.append(git(root, "rev-parse", "HEAD"))
        return root, ids

    return make


# -- SkyRL's own code (tests marked `skyrl`; scripts/test-skyrl runs them) ---------------------
# They need SkyRL 0.4 (Python >= 3.12). Elsewhere they skip, saying why; in scripts/test-skyrl's
# stage (ACS_SKYRL_STAGE=1) a skip is a failure, and only the files holding such tests are
# collected (the others import packages that stage does not install).
SKYRL_STAGE = os.environ.get("ACS_SKYRL_STAGE") == "1"


def pytest_configure(config: pytest.Config) -> None:
    # Registered here, not in pyproject.toml: the wheel stage runs these tests without it.
    config.addinivalue_line(
        "markers",
        "skyrl: runs SkyRL 0.4's own code (Python >= 3.12): scripts/test-skyrl runs these, "
        "elsewhere they skip",
    )


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if SKYRL_STAGE and collection_path.suffix == ".py" and collection_path.name != "conftest.py":
        return "mark.skyrl" not in collection_path.read_text(encoding="utf-8")
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if SKYRL_STAGE:
        return
    import sys

    from acs.train.planner.skyrl_version import installed_skyrl, skyrl_problem

    problem = skyrl_problem(sys.version_info[:3], installed_skyrl())
    if problem is None:
        return
    skip = pytest.mark.skip(reason=f"{problem} (scripts/test-skyrl runs it)")
    for item in items:
        if item.get_closest_marker("skyrl"):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if SKYRL_STAGE and report.skipped and item.get_closest_marker("skyrl"):
        report.outcome = "failed"
        report.longrepr = f"a skyrl test skipped in the SkyRL stage: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    # A whole file skipped (a module-level importorskip) in the SkyRL stage is a failure too.
    outcome = yield
    report = outcome.get_result()
    if SKYRL_STAGE and report.skipped:
        report.outcome = "failed"
