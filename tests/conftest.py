"""Fixtures and hooks shared by the whole suite: file trees and real git repositories built in
temporary folders, the evaluation's small world, and the SkyRL stage's collection rules.
Helpers that tests call directly live in tests/helpers/, never here."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

# Index packs written by tests (and the CLI they start) go to a private folder, never the
# user's cache, removed when the test process ends (each run wrote ~15 MB to /tmp and left it).
# Set before the helpers are imported: their GIT_ENV copies the environment.
os.environ["ACS_CACHE_DIR"] = tempfile.mkdtemp(prefix="acs-test-cache-")
atexit.register(shutil.rmtree, os.environ["ACS_CACHE_DIR"], ignore_errors=True)

# tests/ on sys.path, so that `from helpers... import ...` works under every import mode and in
# every stage (pytest runs with --import-mode=importlib, which adds no test folder to sys.path;
# tests/ has no __init__.py, so its folders named like packages, tests/mcp/ say, never shadow
# the real ones: a regular package anywhere on sys.path wins over a namespace folder).
TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from helpers.eval_world import make_world  # noqa: E402
from helpers.repos import git, write_tree  # noqa: E402


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


@pytest.fixture
def world(tmp_path: Path, make_git: Callable[..., tuple[Path, list[str]]]) -> dict[str, Any]:
    """A repository `acme/widgets` (a bare mirror under repos/), two real instances, one of a
    repository that is not there and one at a commit that does not exist (helpers/eval_world.py
    says what each key holds)."""
    return make_world(tmp_path, make_git)


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
