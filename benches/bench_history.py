"""The history index (`acs.history`) against `git log` over the same commits: the first build
of a long history (and commits/s), the incremental extension by about 1 and 100 later
commits (the store rewritten each time), a load from the store in a new process, and the
warm queries a `localize` would make (similar fixes for an issue, co-change of the 5 best
files, activity of 20), each as a ratio against a `git log` subprocess measured in the same
run.

    python -m pytest benches/bench_history.py -s
    ACS_BENCH_HISTORY_REPO=/path/to/repo python -m pytest benches/bench_history.py -s

The repository defaults to `ACS_BENCH_REPO` when it is a git repository, else the one acs is
checked out from. `ACS_BENCH_ROUNDS` (default 3) rounds; builds report their fastest round,
queries their median over 200 calls. Figures land in `extra_info` and are printed.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from acs.history import History, forget

ISSUE = (
    "S3 put_object with a checksum algorithm fails: botocore raises InvalidRequest when "
    "ChecksumSHA256 is given, the mocked backend ignores the x-amz-checksum header and "
    "get_object_attributes returns no checksum. Traceback in moto/s3/responses.py"
)


def history_repo() -> Path:
    for name in ("ACS_BENCH_HISTORY_REPO", "ACS_BENCH_REPO"):
        if (found := os.environ.get(name)) and git_ok(Path(found)):
            return Path(found)
    here = Path(__file__).resolve().parent
    if git_ok(here):  # acs's own repository: its top folder (History.open takes no subfolder)
        return Path(git(here, "rev-parse", "--show-toplevel"))
    pytest.skip("no git repository to benchmark (set ACS_BENCH_HISTORY_REPO)")


def git_ok(path: Path) -> bool:
    out = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--verify", "HEAD"], capture_output=True
    )
    return out.returncode == 0


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True)
    return out.stdout.decode("utf-8", "replace").strip()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    """CPU time of this process, all threads (the engine's pool included)."""
    return time.process_time()


def git_log_seconds(repo: Path, revisions: list[str]) -> tuple[float, float]:
    """Wall and CPU time of `git log --name-only` over `revisions` (what the index reads)."""
    start, cpu = time.perf_counter(), children_cpu()
    log = ["git", "-C", str(repo), "log", "--no-merges", "--name-only", "--format=%H %ct %B"]
    subprocess.run(
        [*log, *revisions],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start, children_cpu() - cpu


def commit_back(repo: Path, count: int) -> str:
    """The first-parent ancestor of HEAD with about `count` commits between it and HEAD."""
    for step in range(1, 10_000):
        rev = f"HEAD~{step}"
        if int(git(repo, "rev-list", "--count", f"{rev}..HEAD")) >= count:
            return git(repo, "rev-parse", rev)
    return git(repo, "rev-list", "--max-parents=0", "HEAD").splitlines()[0]


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def cpu_timed(fn: Any) -> tuple[Any, float, float]:
    """`fn`'s value, wall time and this process's CPU time (the machine may be shared: CPU
    time is the steadier figure)."""
    start, cpu = time.perf_counter(), own_cpu()
    value = fn()
    return value, time.perf_counter() - start, own_cpu() - cpu


def build_and_extend(repo: Path, far: str, near: str, rounds: int) -> dict[str, Any]:
    """Fastest of `rounds`: build at `far` from nothing, extend to `near`, then to HEAD, then
    load HEAD's index from the store as a new process would."""
    best: dict[str, float] = {}
    best_cpu: dict[str, float] = {}
    walked: dict[str, int] = {}

    def keep(name: str, seconds: float, cpu: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)
        best_cpu[name] = min(best_cpu.get(name, float("inf")), cpu)

    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            forget(repo)
            steps = [("build", far), ("extend_100", near), ("extend_1", "HEAD")]
            for name, rev in steps:
                history, seconds, cpu = cpu_timed(
                    lambda rev=rev: History.open(repo, rev, index_cache=cache)
                )
                assert history.report["source"] in {"built", "extended"}, history.report
                walked[name] = history.report["walked"]
                keep(name, seconds, cpu)
            forget(repo)
            history, seconds, cpu = cpu_timed(lambda: History.open(repo, "HEAD", index_cache=cache))
            assert history.report["source"] == "disk", history.report
            keep("load", seconds, cpu)
            walked["bytes"] = history.report["bytes_read"]
    ranges = {"build": [far], "extend_100": [f"{far}..{near}"], "extend_1": [f"{near}..HEAD"]}
    out: dict[str, Any] = {"store_bytes": walked.pop("bytes")}
    for name, seconds in best.items():
        out[f"{name}_ms"] = round(seconds * 1000, 2)
        out[f"{name}_cpu_ms"] = round(best_cpu[name] * 1000, 2)
        if name in ranges:
            logs = [git_log_seconds(repo, ranges[name]) for _ in range(rounds)]
            git_wall, git_cpu = min(w for w, _ in logs), min(c for _, c in logs)
            out[f"{name}_walked"] = walked[name]
            out[f"{name}_git_log_ms"] = round(git_wall * 1000, 2)
            out[f"{name}_git_log_cpu_ms"] = round(git_cpu * 1000, 2)
            out[f"{name}_vs_git_log"] = round(seconds / git_wall, 3)
            out[f"{name}_cpu_vs_git_log_cpu"] = round(best_cpu[name] / max(git_cpu, 1e-4), 3)
    out["build_commits_per_s"] = round(walked["build"] / best["build"])
    return out


def warm_queries(history: History) -> tuple[int, int]:
    """What a `localize` would ask: fixes like the issue, co-change of the 5 best files, the
    activity of 20."""
    similar = history.similar_fixes(ISSUE, commits=50, files=20)
    best = [f["path"] for f in similar["files"]]
    co = history.co_change(best[:5], limit=20)
    activity = history.activity(best[:20])
    return len(co["files"]), len(activity)


def test_history_build_extend_and_query(benchmark: Any) -> None:
    repo = history_repo()
    rounds = int(os.environ.get("ACS_BENCH_ROUNDS", "3"))
    total = int(git(repo, "rev-list", "--count", "HEAD"))
    near = commit_back(repo, 1)
    far = commit_back(repo, 101)
    info: dict[str, Any] = {"repository": str(repo), "commits": total}
    info.update(build_and_extend(repo, far, near, rounds))

    history = History.open(repo, "HEAD", index_cache=False)
    calls = []
    for _ in range(200):
        calls.append(timed(lambda: warm_queries(history))[1])
    query = statistics.median(calls)
    # Baseline: one file's `git log`, as a subprocess-based feature would run it.
    top = history.similar_fixes(ISSUE, commits=50, files=1)["files"]
    path = top[0]["path"] if top else "README.md"
    one_file = min(
        timed(
            lambda: subprocess.run(
                ["git", "-C", str(repo), "log", "--format=%H %ct", "--", path],
                capture_output=True,
                check=True,
            )
        )[1]
        for _ in range(rounds)
    )
    info.update(
        {
            "warm_queries_ms_p50": round(query * 1000, 3),
            "warm_queries_ms_max": round(max(calls) * 1000, 3),
            "git_log_one_file_ms": round(one_file * 1000, 2),
            "warm_queries_vs_git_log_one_file": round(query / one_file, 4),
        }
    )
    benchmark.pedantic(warm_queries, (history,), rounds=20, iterations=5)
    benchmark.extra_info.update(info)
    print()
    for key, value in info.items():
        print(f"  {key}: {value}")
