"""The learned ranker against the hand joiner on the same searches: warm `localize` with the
default policy (the default planner's search, ranked by the shipped model) and with `hand`
(the same search, ranked by the hand-weighted joiner), over a set of issues; and the ranking
step alone, on one recorded search. Target (issue 22): the learned call at most 1.2x the
hand call at the median.

    python -m pytest benches/bench_evidence.py -s
    ACS_BENCH_REPO=/path/to/git ACS_BENCH_ISSUES=data.jsonl ACS_BENCH_ISSUES_REPO=owner/name \\
        python -m pytest benches/bench_evidence.py -s

`ACS_BENCH_ISSUES` (a SWE-bench-style .jsonl: `problem_statement`, `repo`) gives the issues
for the `ACS_BENCH_REPO` corpus (those of `ACS_BENCH_ISSUES_REPO`); the standard library uses
the issues below. Each issue runs `ACS_BENCH_ROUNDS` (default 5) times with each policy,
alternating, after one warm-up call each. `extra_info` holds p50, p95 and max (ms) of every
call per policy, the ratio of the medians, and the median over issues of the ratio of each
issue's fastest calls (the figure least disturbed by other work on a shared machine).
"""

from __future__ import annotations

import os
import statistics
import sysconfig
import time
from pathlib import Path
from typing import Any

import orjson

import acs
from acs.issue import parse_issue
from acs.joiner import rank as hand_rank
from acs.policies.base import Turn
from acs.rank.model import shipped

STDLIB_ISSUES = [
    'json.loads raises JSONDecodeError "Expecting value" for an empty document, but\n'
    "JSONDecoder.raw_decode should report the position of the first bad character.\n"
    "See json/decoder.py.",
    "`shutil.copytree` ignores `dirs_exist_ok` when the destination is a symlink",
    "argparse: add_mutually_exclusive_group(required=True) error message lists suppressed "
    "arguments",
    "http.cookies.SimpleCookie fails to parse a cookie value with a comma\n"
    "CookieError: Illegal key",
    'Traceback (most recent call last):\n  File "/usr/lib/python3.11/csv.py", line 180, in '
    'sniff\n    raise Error("Could not determine delimiter")\n_csv.Error: Could not '
    "determine delimiter",
    "datetime.fromisoformat rejects a trailing Z although isoformat docs mention UTC",
    "pathlib.Path.glob with a pattern ending in ** returns files, not only directories",
    "logging.handlers.RotatingFileHandler does not rotate when maxBytes is reached on Windows",
    "textwrap.dedent removes whitespace-only lines inconsistently",
    "The tarfile module's extractall filter='data' rejects absolute symlinks inside the archive",
    "zipfile.ZipFile.writestr loses the compression level given to the constructor",
    "email.utils.parseaddr returns ('', '') for an address with a quoted comma",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "max_ms": round(max(values), 2),
    }


def issues_for(corpus: Path) -> list[str]:
    dataset = os.environ.get("ACS_BENCH_ISSUES")
    if not dataset or corpus == Path(sysconfig.get_paths()["stdlib"]):
        return STDLIB_ISSUES
    repo = os.environ.get("ACS_BENCH_ISSUES_REPO")
    rows = [orjson.loads(line) for line in Path(dataset).read_bytes().splitlines() if line]
    return [r["problem_statement"] for r in rows if not repo or r.get("repo") == repo]


def timed_ms(repo: acs.Repo, issue: str, policy: str) -> float:
    start = time.perf_counter()
    acs.localize(repo, issue, policy=policy)
    return (time.perf_counter() - start) * 1000


def learned_and_hand(repo: acs.Repo, issues: list[str], rounds: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {"default": [], "hand": []}
    ratios, fastest = [], []
    for issue in issues:
        for policy in times:  # warm: the indexes, the model, the issue's caches
            timed_ms(repo, issue, policy)
        mine: dict[str, list[float]] = {"default": [], "hand": []}
        for _ in range(rounds):
            for policy in mine:
                mine[policy].append(timed_ms(repo, issue, policy))
        for policy, values in mine.items():
            times[policy].extend(values)
        ratios.append(statistics.median(mine["default"]) / statistics.median(mine["hand"]))
        fastest.append(min(mine["default"]) / min(mine["hand"]))
    learned, hand = summary(times["default"]), summary(times["hand"])
    return {
        "issues": len(issues),
        "calls_per_policy": len(times["default"]),
        "learned": learned,
        "hand": hand,
        "p50_ratio": round(learned["p50_ms"] / hand["p50_ms"], 3),
        "p95_ratio": round(learned["p95_ms"] / hand["p95_ms"], 3),
        "per_issue_ratio_p50": round(statistics.median(ratios), 3),
        "per_issue_ratio_max": round(max(ratios), 3),
        # Each issue's fastest calls: the least disturbed by other work on a shared machine.
        "per_issue_fastest_ratio_p50": round(statistics.median(fastest), 3),
    }


def test_localize_learned_vs_hand(benchmark, loaded, corpus):
    issues = issues_for(corpus)
    rounds = int(os.environ.get("ACS_BENCH_ROUNDS", "5"))
    loaded.index()
    result = benchmark.pedantic(learned_and_hand, (loaded, issues, rounds), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(f"\n{corpus.name}: {orjson.dumps(result).decode()}")


def recorded(repo: acs.Repo, issue: str) -> tuple[Any, list[Turn]]:
    result = acs.localize(repo, issue, trajectory=True)
    turns = [Turn(t["tasks"], t["outcomes"]) for t in result["trajectory"]["turns"]]
    return parse_issue(issue), turns


def test_rank_learned(benchmark, loaded, corpus):
    """The learned ranker alone on one recorded search: the engine reads the turns, computes
    the features, predicts and calibrates."""
    issue = issues_for(corpus)[0]
    signals, turns = recorded(loaded, issue)
    model = shipped()
    assert model is not None
    result = benchmark(model.rank, signals, turns, issue, 10, 20)
    assert result["files"]


def test_rank_hand(benchmark, loaded, corpus):
    """The hand joiner alone on the same recorded search."""
    issue = issues_for(corpus)[0]
    signals, turns = recorded(loaded, issue)
    result = benchmark(hand_rank, signals, turns, issue, 10, 20)
    assert result["files"]
