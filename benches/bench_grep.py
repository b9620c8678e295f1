"""Eight patterns: one fused grep vs eight sequential `rg` processes vs Python `re`.

Targets: fused grep on a loaded repository at least 10x faster than the eight `rg` runs;
opening the repository *and* grepping no slower than one `rg` run with the eight patterns.

Two pattern sets: `issue`, what an agent greps for from a bug report (identifiers, messages;
tens to hundreds of matches), and `heavy`, common code shapes with about 80,000 matches in
the standard library, where producing every match dominates the cost.
"""

from __future__ import annotations

import re

import pytest

import acs
from corpora import EXCLUDE, rg_args, run_rg

ISSUE = [
    "JSONDecodeError",
    "Expecting value",
    "raw_decode",
    r"def scanstring\(",
    "object_pairs_hook",
    r"class \w+Decoder\b",
    "parse_constant",
    "strict=False",
]

HEAVY = [
    "raise ValueError",
    r"def __\w+__\(self\)",
    "TODO",
    r"import (os|sys)$",
    r"class \w+Error\(",
    "deprecated",
    r"\bself\.assert\w+\(",
    "NotImplementedError",
]


@pytest.fixture(params=["issue", "heavy"])
def patterns(request) -> list[str]:
    return {"issue": ISSUE, "heavy": HEAVY}[request.param]


def test_fused_grep_loaded(benchmark, loaded, patterns):
    result = benchmark(loaded.grep, patterns, max_results=1_000_000)
    benchmark.extra_info["matches"] = len(result["matches"])


def test_rg_eight_sequential(benchmark, corpus, rg, patterns):
    def eight_runs() -> int:
        return sum(run_rg([*rg_args(rg), "-n", "-e", p, "."], corpus) for p in patterns)

    benchmark.extra_info["matches"] = benchmark.pedantic(eight_runs, rounds=3, iterations=1)


def test_python_re_loaded(benchmark, loaded, corpus, patterns):
    texts = [(corpus / p).read_text("utf-8", "replace") for p in loaded.paths()]
    compiled = [re.compile(p, re.MULTILINE) for p in patterns]

    def search() -> int:
        return sum(len(rx.findall(t)) for rx in compiled for t in texts)

    benchmark.extra_info["matches"] = benchmark.pedantic(search, rounds=2, iterations=1)


def test_open_and_fused_grep(benchmark, corpus, patterns):
    def open_and_grep() -> int:
        repo = acs.Repo.open(corpus, exclude=EXCLUDE)
        return len(repo.grep(patterns, max_results=1_000_000)["matches"])

    benchmark.extra_info["matches"] = benchmark.pedantic(open_and_grep, rounds=3, iterations=1)


def test_rg_single_run_eight_patterns(benchmark, corpus, rg, patterns):
    args = [*rg_args(rg), "-n"]
    for p in patterns:
        args += ["-e", p]
    benchmark.extra_info["matches"] = benchmark.pedantic(
        run_rg, args=([*args, "."], corpus), rounds=3, iterations=1
    )
