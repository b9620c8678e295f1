"""Cold `acs localize` processes over a dataset's instances: one new process per instance,
the repository at the instance's commit, as a CI job or a coding agent sees a new commit.

    python benches/devset_cold.py ../shared/data/swe_gym_dev.jsonl --repos /work/.mirror
    python benches/devset_cold.py DATA --repos DIR --shared-cache   # per-repository cache

Without `--shared-cache` every process starts with an empty index-cache folder (nothing on
disk). With it, the instances of one repository run in commit order and share one folder,
so each process may reuse what earlier ones wrote for other commits. Prints p50, p95 and max
of the whole process's wall time, overall and per repository, and the floor: a process that
only imports acs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

from acs.task.dataset import load_instances
from acs.task.repos import commit_order, locate


def timed(command: list[str], stdin: str) -> float:
    start = time.perf_counter()
    out = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])} ...: exit {out.returncode}: {out.stderr[-500:]}")
    return seconds


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):.2f} s, p95 {percentile(values, 0.95):.2f} s, "
        f"max {max(values):.2f} s (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--repos", required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--shared-cache", action="store_true")
    args = parser.parse_args()

    instances = load_instances(args.dataset)[: args.limit]
    by_repo: dict[str, list] = defaultdict(list)
    for inst in instances:
        by_repo[inst.repo].append(inst)

    floor = min(timed([sys.executable, "-c", "import acs, acs.cli"], "") for _ in range(3))
    times: dict[str, list[float]] = defaultdict(list)
    for repo, group in sorted(by_repo.items()):
        git_dir = locate(args.repos, repo)
        if args.shared_cache:  # oldest commit first, as history unfolds
            history = commit_order(git_dir, (i.base_commit for i in group))
            rank = {c: n for n, c in enumerate(history)}
            group = sorted(group, key=lambda i: rank.get(i.base_commit, len(rank)))
        with tempfile.TemporaryDirectory(prefix="acs-devset-") as scratch:
            for n, inst in enumerate(group):
                cache = f"{scratch}/shared" if args.shared_cache else f"{scratch}/{n}"
                command = [sys.executable, "-m", "acs", "localize", "--repo", str(git_dir)]
                command += ["--commit", inst.base_commit, "--cache-dir", cache, "-"]
                times[repo].append(timed(command, inst.problem_statement))
        print(f"{repo}: {summary(times[repo])}", flush=True)
    every = [t for ts in times.values() for t in ts]
    mode = "shared cache per repository" if args.shared_cache else "nothing on disk"
    print(f"all ({mode}): {summary(every)}; floor (import acs) {floor:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
