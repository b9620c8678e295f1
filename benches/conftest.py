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
import sys
import tempfile
from pathlib import Path

import pytest

import acs

# benches/ on sys.path: the benchmarks import their shared helpers from corpora.py, under
# pyproject's --import-mode=importlib (which puts no test folder on sys.path) too.
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from corpora import EXCLUDE, corpora  # noqa: E402

# Index packs written by benchmarks go to a private folder, never the user's cache.
os.environ["ACS_CACHE_DIR"] = tempfile.mkdtemp(prefix="acs-bench-cache-")


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
