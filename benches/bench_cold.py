"""Cold start: the first `acs localize` of a snapshot, in a new process, with nothing on disk
(an empty index-cache folder each round), on three corpora:

* the standard library;
* a generated corpus with pathological files (1 MB modules of deeply nested calls, 100 kB
  lines, 10,000-deep brackets) beside ordinary modules;
* where `ACS_BENCH_REPO` points at a git repository, two commits of it
  (`ACS_BENCH_COMMITS`, default `HEAD~1,HEAD`): the first with nothing on disk, then the
  second with the first's index on disk, as a CI job sees a new commit.

The baseline is the floor of any such command, measured in the same run: a new interpreter
that imports acs and prints its version. `extra_info` records the ratio to it.

The walk over consecutive commits (time per commit and resident memory in one process) is
`test_commit_walk`: 100 commits of `ACS_BENCH_REPO` when set, else of a generated git
repository made here, under cache budgets of `ACS_BENCH_WALK_BUDGETS_MB` (content,
definitions, term statistics; default 64,16,16) so that the walk reaches them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from corpora import EXCLUDE

ISSUE = "json.loads raises JSONDecodeError for an empty string; see json/decoder.py"


def acs_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "acs", *args]


def run(command: list[str]) -> str:
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def floor_seconds(rounds: int = 3) -> float:
    """Best time of a new interpreter that imports acs: the floor of every command here."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run([sys.executable, "-c", "import acs, acs.cli; print(acs.__version__)"])
        best = min(best, time.perf_counter() - start)
    return best


@pytest.fixture(scope="module")
def floor() -> float:
    return floor_seconds()


# Every cache folder of this module lives under one scratch folder, removed at exit.
SCRATCH = tempfile.TemporaryDirectory(prefix="acs-cold-")


def fresh_cache() -> str:
    return tempfile.mkdtemp(dir=SCRATCH.name)


class Timed:
    """`run`, remembering each call's wall time (also when benchmarking is disabled)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, command: list[str]) -> str:
        start = time.perf_counter()
        try:
            return run(command)
        finally:
            self.seconds.append(time.perf_counter() - start)

    def record(self, benchmark, floor: float) -> None:
        best = min(self.seconds)
        benchmark.extra_info.update(
            best_s=round(best, 3), floor_s=round(floor, 3), ratio_to_floor=round(best / floor, 2)
        )


def cold_localize(benchmark, floor: float, repo_args: list[str], issue: str, rounds: int) -> str:
    """Bench a whole `acs localize` process against an empty cache folder per round."""

    def setup():
        return (acs_command("localize", *repo_args, "--cache-dir", fresh_cache(), issue),), {}

    timed = Timed()
    stdout = benchmark.pedantic(timed, setup=setup, rounds=rounds, iterations=1)
    timed.record(benchmark, floor)
    return stdout


def test_cold_stdlib(benchmark, floor, corpus):
    args = ["--repo", str(corpus), *(f"--exclude={g}" for g in EXCLUDE)]
    stdout = cold_localize(benchmark, floor, args, ISSUE, rounds=3)
    assert '"index":"built"' in stdout


# -- generated pathological corpus ------------------------------------------------------


ORDINARY = '''"""Module {i}."""


class Parser{i}:
    def parse(self, text):
        if not text:
            raise ValueError("empty input for parser {i}")
        return [token for token in text.split()]


def helper_{i}(value):
    return value * {i}
'''


def nested_calls(size: int, depth: int = 40) -> str:
    """Lines of calls nested `depth` deep, about `size` bytes: generated-code style."""
    line = "x = " + "f(" * depth + "1" + ")" * depth + "\n"
    return "def generated():\n" + "    " + "    ".join([line] * (size // (len(line) + 4)))


@pytest.fixture(scope="module")
def pathological(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pathological")
    for i in range(300):
        (root / f"mod_{i}.py").write_text(ORDINARY.format(i=i))
    (root / "gen_calls_a.py").write_text(nested_calls(1 << 20))
    (root / "gen_calls_b.py").write_text(nested_calls(1 << 20, depth=200))
    (root / "long_lines.py").write_text(
        "".join(f"v{i} = [{', '.join(['1'] * 33_000)}]\n" for i in range(3))
    )
    (root / "deep_brackets.py").write_text("x = " + "[" * 10_000 + "]" * 10_000 + "\n")
    (root / "decoder.py").write_text(
        "class JSONDecodeError(ValueError):\n    pass\n\n\n"
        "def loads(s):\n    if not s:\n        raise JSONDecodeError('Expecting value')\n"
    )
    return root


def test_cold_pathological(benchmark, floor, pathological):
    args = ["--repo", str(pathological)]
    stdout = cold_localize(benchmark, floor, args, ISSUE, rounds=3)
    assert "decoder.py" in stdout


# -- two commits of a real repository --------------------------------------------------


def bench_repo() -> tuple[str, list[str]]:
    repo = os.environ.get("ACS_BENCH_REPO")
    if not repo:
        pytest.skip("set ACS_BENCH_REPO to a git repository to bench its commits")
    commits = os.environ.get("ACS_BENCH_COMMITS", "HEAD~1,HEAD").split(",")
    return repo, commits


def test_cold_first_commit(benchmark, floor):
    repo, commits = bench_repo()
    args = ["--repo", repo, "--commit", commits[0]]
    cold_localize(benchmark, floor, args, ISSUE, rounds=3)


def test_next_commit_with_the_previous_on_disk(benchmark, floor):
    repo, commits = bench_repo()

    def setup():
        cache = fresh_cache()
        run(acs_command("index", repo, "--commit", commits[0], "--cache-dir", cache))
        return (
            acs_command(
                "localize", "--repo", repo, "--commit", commits[1], "--cache-dir", cache, ISSUE
            ),
        ), {}

    timed = Timed()
    benchmark.pedantic(timed, setup=setup, rounds=3, iterations=1)
    timed.record(benchmark, floor)


# -- consecutive commits in one process ---------------------------------------------------

WALK = """
import json, sys, time
import acs

git_dir, revs = sys.argv[1], sys.argv[2].split(",")
if len(sys.argv) > 4:  # content, definitions and term statistics budgets, in MB
    content, symbols, terms = (int(mb) << 20 for mb in sys.argv[4].split(","))
    acs.set_cache_budgets(content, symbols, terms)

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

times, rss, cached = [], [], []
for rev in revs:
    start = time.perf_counter()
    repo = acs.Repo.open(git_dir, commit=rev, index_cache=False)
    acs.localize(repo, sys.argv[3])
    times.append(time.perf_counter() - start)
    rss.append(rss_mb())
    (_, content), (_, symbols) = acs.cache_usage()
    cached.append((content + symbols + acs.term_cache_usage()[1]) / 2**20)
print(json.dumps({"times": times, "rss_mb": rss, "cached_mb": cached}))
"""


def generated_history(root: Path, commits: int = 100, files: int = 400) -> Path:
    """A git repository whose every commit changes three files of `files`."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    git("init", "-q")
    for i in range(files):
        (root / f"mod_{i}.py").write_text(ORDINARY.format(i=i))
    git("add", "-A")
    git("commit", "-qm", "start")
    for c in range(commits):
        for k in range(3):
            i = (c * 7 + k * 131) % files
            path = root / f"mod_{i}.py"
            path.write_text(path.read_text() + f"\n\ndef added_{c}_{k}():\n    return {c}\n")
        git("commit", "-qam", f"change {c}")
    return root


def test_commit_walk(benchmark, tmp_path_factory):
    if repo := os.environ.get("ACS_BENCH_REPO"):
        git_dir = repo
    else:
        git_dir = str(generated_history(tmp_path_factory.mktemp("history")))
    n = int(os.environ.get("ACS_BENCH_WALK", "100"))
    # Cache budgets (MB of content, definitions, term statistics): small enough that a walk
    # fills them, to show resident memory level off there.
    budgets = os.environ.get("ACS_BENCH_WALK_BUDGETS_MB", "64,16,16")
    revs = run(["git", "-C", git_dir, "rev-list", "--reverse", f"--max-count={n}", "HEAD"])
    revs = ",".join(revs.split())

    def walk() -> dict:
        import json

        return json.loads(run([sys.executable, "-c", WALK, git_dir, revs, ISSUE, budgets]))

    result = benchmark.pedantic(walk, rounds=1, iterations=1)
    times = sorted(result["times"][1:])  # the first commit is a cold start
    rss = result["rss_mb"]
    benchmark.extra_info.update(
        commits=len(result["times"]),
        p50_s=round(times[len(times) // 2], 3),
        p95_s=round(times[int(len(times) * 0.95)], 3),
        rss_quartiles_mb=[round(rss[min(len(rss) - 1, q * len(rss) // 4)]) for q in range(5)],
        cached_last_mb=round(result["cached_mb"][-1]),
        budgets_mb=budgets,
    )
