"""Scale: a generated tree of ACS_BENCH_SCALE_FILES files (default 100,000): open, grep,
symbol index, with the peak resident memory of a process that does all three."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import acs

N_FILES = int(os.environ.get("ACS_BENCH_SCALE_FILES", "100000"))

TEMPLATE = '''"""Module {i}."""
import os


class Widget{i}:
    def __init__(self, size):
        self.size = size

    def render_{i}(self, canvas):
        # {word} handling
        return canvas.draw(self.size * {i})


def helper_{i}(value):
    if value is None:
        raise ValueError("no value for widget {i}")
    return value + {i}
'''


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    rng = random.Random(7)
    words = ["cache", "retry", "token", "layout", "stream", "socket"]
    for i in range(N_FILES):
        d = root / f"pkg{i % 100:02d}" / f"sub{(i // 100) % 10}"
        if i < 1000:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"mod_{i}.py").write_text(TEMPLATE.format(i=i, word=rng.choice(words)))
    return root


@pytest.fixture(scope="module")
def big_repo(big_tree) -> acs.Repo:
    return acs.Repo.open(big_tree)


def test_scale_open(benchmark, big_tree):
    repo = benchmark.pedantic(lambda: acs.Repo.open(big_tree), rounds=2, iterations=1)
    assert len(repo) == N_FILES


def test_scale_grep(benchmark, big_repo):
    patterns = ["raise ValueError", "socket handling", r"def render_99\d\b", "NOPE_NOT_THERE"]
    result = benchmark(big_repo.grep, patterns, max_results=200)
    assert result["counts"][3] == 0


def test_scale_symbol_index(benchmark, big_tree):
    def fresh() -> tuple[tuple[acs.Repo], dict]:
        acs.set_cache_budgets(1 << 30, 0)
        return (acs.Repo.open(big_tree),), {}

    try:
        n = benchmark.pedantic(acs.Repo.index_symbols, setup=fresh, rounds=1, iterations=1)
    finally:
        acs.set_cache_budgets(1 << 30, 256 << 20)
    assert n == 4 * N_FILES


def test_scale_symbol_lookup(benchmark, big_repo):
    big_repo.index_symbols()
    result = benchmark(big_repo.symbols, "helper_4242")
    assert result["total"] == (1 if N_FILES > 4242 else 0)


PROBE = """
import json, os, sys, time, acs

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

base = rss()
t = time.perf_counter(); repo = acs.Repo.open(sys.argv[1]); t_open = time.perf_counter() - t
after_open = rss()
t = time.perf_counter(); repo.grep(["raise ValueError", "socket"], max_results=100)
t_grep = time.perf_counter() - t
t = time.perf_counter(); n = repo.index_symbols(); t_index = time.perf_counter() - t
after_all = rss()
# VmHWM, the peak of this address space: `ru_maxrss` would carry over the peak of the
# (large) pytest process this probe was forked from.
with open("/proc/self/status") as f:
    peak = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
source = repo.stats["bytes"]
print(json.dumps({"bytes": source, "files": len(repo), "open_s": t_open, "grep_s": t_grep,
                  "index_s": t_index, "defs": n,
                  "open_rss_over_source": (after_open - base) / source,
                  "final_rss_over_source": (after_all - base) / source,
                  "peak_rss_over_source": (peak - base) / source}))
"""


def test_scale_peak_memory(benchmark, big_tree):
    """Resident memory of a fresh process that opens, greps and indexes the tree, above
    what the interpreter with acs imported used before opening."""
    out = benchmark.pedantic(
        lambda: subprocess.run(
            [sys.executable, "-c", PROBE, str(big_tree)],
            capture_output=True,
            text=True,
            check=True,
        ),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(json.loads(out.stdout))
