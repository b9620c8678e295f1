"""Benchmark corpora.

* `stdlib`: the standard library of the running Python (site-packages left out), present
  on every machine.
* `ACS_BENCH_REPO=/path`: any larger repository, benchmarked the same way.
* `ACS_BENCH_SCALE_FILES` (default 100000): size of the generated tree of the scale bench.

Figures are wall times on whatever machine runs them; compare the ratios, which are
measured against baselines in the same run (the `rg` binary, Python `re`/`ast`, sequential
execution, `git worktree add`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

import pytest

import acs

# Index packs written by benchmarks go to a private folder, never the user's cache.
os.environ["ACS_CACHE_DIR"] = tempfile.mkdtemp(prefix="acs-bench-cache-")

EXCLUDE = ["site-packages"]


def corpora() -> list[Path]:
    found = [Path(sysconfig.get_paths()["stdlib"])]
    if extra := os.environ.get("ACS_BENCH_REPO"):
        found.append(Path(extra))
    return found


@pytest.fixture(scope="session", params=corpora(), ids=lambda p: p.name)
def corpus(request) -> Path:
    return request.param


@pytest.fixture(scope="session")
def loaded(corpus: Path) -> acs.Repo:
    repo = acs.Repo.open(corpus, exclude=EXCLUDE)
    repo.index_symbols()
    return repo


@pytest.fixture(scope="session")
def rg() -> str:
    path = shutil.which("rg")
    if path is None:
        pytest.skip("rg not installed (pip install ripgrep)")
    return path


def rg_args(rg: str) -> list[str]:
    # Same rules as acs: gitignore outside git, no config, skip site-packages.
    return [rg, "--no-config", "--no-require-git", "-g", "!site-packages", "--no-messages"]


def run_rg(args: list[str], cwd: Path) -> int:
    out = subprocess.run(args, cwd=cwd, capture_output=True, check=False)
    assert out.returncode in (0, 1), out.stderr[:500]
    return out.stdout.count(b"\n")
