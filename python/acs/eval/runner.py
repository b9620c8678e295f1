"""The evaluation runner: every policy (and the BM25 baseline) on every instance, in parallel
worker processes, resumable, with a hard time limit per run.

The run is in three modules: this one (`evaluate`: which runs are left, where each
repository is, the results file and the report's rows), `scheduler` (work items to worker
slots, time limits, rows as they arrive) and `worker` (what a worker does with one instance);
`ray_runner` swaps the scheduler's worker processes for Ray actors. Scheduling and what a
worker measures are described in those modules.

Failures. A run that raises (a missing repository or commit, an engine error) is recorded as
`error` with the message; a run that passes `timeout_s` (counted from when the worker takes
the instance, or from the previous policy's result; the first policy's time includes opening,
the index and the ground truth) is recorded as `timeout`, and its worker is killed and
replaced. Both get an empty prediction scored against the gold locations when they are known,
and zero at every level when they are not (no repository or commit to read them from), so
they count in every metric.

Resuming. Rows are appended to `results_path` (refused when it holds anything but rows) and
flushed as runs finish; a later run skips each (instance, policy) whose last row is `ok` with
the same fingerprint (`results.fingerprint`: acs version, row format, policy and its model,
`top_k`, the instance's content), and runs failures again (a repository may have been added,
a timeout may have been load); the last row of a pair is the one that counts.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..distributed import EXECUTORS, ray_session
from ..errors import InvalidArgumentError
from ..extras import install_hint
from ..policies import policy_factory
from ..task.dataset import Instance
from ..task.repos import RepositoryMissing, commit_order, locate
from .results import STATUSES, ResultsFile, check_results_file, fingerprint, read_rows
from .scheduler import Scheduler

# Their home before the split into worker and scheduler (scripts import them from here).
from .worker import instance_messages as instance_messages
from .worker import item_messages as item_messages
from .worker import worker_factories as worker_factories


def run_policies(policies: Sequence[str], baseline: str | None) -> tuple[str, ...]:
    names = list(dict.fromkeys(policies))
    if baseline and baseline not in names:
        names.append(baseline)
    return tuple(names)


def evaluate(
    instances: Sequence[Instance],
    *,
    repos_dir: str | os.PathLike[str],
    policies: Sequence[str] = ("default",),
    baseline: str | None = "bm25",
    workers: int = 2,
    timeout_s: float = 120.0,
    results_path: str | os.PathLike[str],
    resume: bool = True,
    progress: bool = True,
    top_k: int = 10,
    clone: bool = False,
    clone_dir: str | os.PathLike[str] | None = None,
    index_cache: str | os.PathLike[str] | bool = True,
    executor: str = "local",
    ray_address: str | None = None,
) -> list[dict[str, Any]]:
    """Run every policy and the baseline on every instance; returns one row per (instance,
    policy) in instance order, reused rows included (see the module docstring).

    `executor` is `local` (worker processes here) or `ray` (`workers` Ray actors, see
    `acs.eval.ray_runner`): on the cluster at `ray_address`, else on a local Ray instance of
    `workers` CPUs, started for the run and shut down after it (one already initialized in
    this process is used as it is)."""
    if workers < 1 or top_k < 1 or timeout_s <= 0:
        raise InvalidArgumentError("workers and top_k must be at least 1, timeout positive")
    if executor not in EXECUTORS:
        raise InvalidArgumentError(f"unknown executor {executor!r} (known: local, ray)")
    if ray_address is not None and executor != "ray":
        raise InvalidArgumentError("ray_address needs executor='ray'")
    names = run_policies(policies, baseline)
    index_cache = index_cache if isinstance(index_cache, bool) else os.fspath(index_cache)
    if not names:
        raise InvalidArgumentError("no policy to evaluate")
    for name in names:
        policy_factory(name)  # an unknown policy fails here, not in every worker
    ids = [inst.instance_id for inst in instances]
    if len(set(ids)) != len(ids):
        raise InvalidArgumentError("instance ids must be unique")

    path = Path(results_path)
    check_results_file(path)  # before anything starts: never append to someone else's file
    done: dict[tuple[str, str], dict[str, Any]] = {}
    if resume:
        expected = {
            (inst.instance_id, n): fingerprint(inst, n, top_k) for inst in instances for n in names
        }
        for row in read_rows(path):
            key = (row["instance_id"], row["policy"])
            if row.get("status") == "ok" and row.get("fingerprint") == expected.get(key):
                done[key] = row
    todo: dict[str, list[tuple[Instance, tuple[str, ...]]]] = {}
    n_todo = 0
    for inst in instances:
        left = tuple(n for n in names if (inst.instance_id, n) not in done)
        if left:
            todo.setdefault(inst.repo, []).append((inst, left))
            n_todo += len(left)

    fresh: dict[tuple[str, str], dict[str, Any]] = {}
    counts = dict.fromkeys(STATUSES, 0)
    bar = _progress_bar(n_todo, len(done), progress)

    def on_row(row: dict[str, Any]) -> None:
        fresh[(row["instance_id"], row["policy"])] = row
        counts[row["status"]] += 1
        if bar is not None:
            bar.set_postfix(counts, refresh=False)
            bar.update(1)

    session = contextlib.ExitStack()  # the Ray session, when this run started one
    runner_class: Any = Scheduler
    extra: dict[str, Any] = {}
    if executor == "ray":
        from .ray_runner import RayRunner

        ray = session.enter_context(ray_session(ray_address, num_cpus=workers))
        runner_class, extra = RayRunner, {"ray": ray}

    results = ResultsFile(path, resume=resume)
    runner = runner_class(
        all_policies=names,
        workers=workers,
        timeout_s=timeout_s,
        top_k=top_k,
        index_cache=index_cache,
        results=results,
        on_row=on_row,
        **extra,
    )
    try:
        groups = []
        for repo, items in todo.items():
            try:
                git_dir = locate(repos_dir, repo, clone=clone, cache_dir=clone_dir)
            except RepositoryMissing as e:
                for inst, left in items:
                    for name in left:
                        runner.record(inst, name, "error", error=str(e))
                continue
            order = {
                c: i for i, c in enumerate(commit_order(git_dir, (i.base_commit for i, _ in items)))
            }
            items.sort(key=lambda pair: order.get(pair[0].base_commit, len(order)))
            groups.append(deque((inst, str(git_dir), left) for inst, left in items))
        runner.run(groups)
    finally:
        results.close()
        session.close()
        if bar is not None:
            bar.close()
    rows = []
    for inst in instances:
        for name in names:
            key = (inst.instance_id, name)
            found = fresh.get(key) or done.get(key)
            if found is not None:
                rows.append(found)
    return rows


def _progress_bar(total: int, reused: int, enabled: bool) -> Any:
    if not enabled or total == 0:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        print(f"acs: no progress bar without tqdm ({install_hint('tqdm')})", file=sys.stderr)
        return None
    desc = f"eval ({reused} reused)" if reused else "eval"
    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, dynamic_ncols=True)
