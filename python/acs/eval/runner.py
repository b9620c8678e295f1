"""The evaluation runner: every policy (and the BM25 baseline) on every instance, in parallel
worker processes, resumable, with a hard time limit per run.

Scheduling. The engine caches file contents and parsed symbol tables per process, keyed by
git blob id, so a worker is given the instances of one repository in base-commit order
(consecutive commits share most blobs), the largest repositories first; a worker with nothing
left takes the later half of the longest queue of another. Workers are separate processes
(`spawn`), so a stuck one can be killed.

Per instance, a worker opens the repository at the base commit (`open_ms`: read from git,
with the worker's content cache as earlier instances left it), makes every index ready
(`index_ms`, and `index_source`: `memory` when every file's entry was in the worker, `disk`
when the rest came from the on-disk per-file store, `built` when some file was processed;
`index_cache` False keeps entries in the worker's memory only), computes the ground truth
from the gold patch, then runs each policy on that snapshot: `latency_ms` is `localize` with
the indexes ready, the search itself, and `latency_split_ms` how it splits (reading the
issue, the policy's planning, the wait for its tools, ranking, the rest).
`open_ms + index_ms + latency_ms` is the latency with index building, the same index cost for
every policy (`localize` makes every index ready whatever the policy).

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
import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from ..distributed import EXECUTORS, ray_session
from ..errors import InvalidArgumentError
from ..extras import install_hint
from ..policies import policy_factory, policy_spec
from ..policy import Policy
from .dataset import Instance
from .metrics import Prediction
from .repos import RepositoryMissing, commit_order, locate
from .results import (
    STATUSES,
    ResultsFile,
    check_results_file,
    fingerprint,
    make_row,
    read_rows,
    row_latency_split,
)

STARTUP_GRACE_S = 60.0  # a fresh worker imports acs before it takes its first instance

WorkItem = tuple[Instance, str, tuple[str, ...]]  # instance, git dir, policies left to run


# -- the worker process -----------------------------------------------------------------------


def _one_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class _Once:
    """A factory that builds on first call (so a failure is that instance's error row) and
    then returns the same object."""

    def __init__(self, factory: Callable[[], Policy]) -> None:
        self.factory = factory
        self.made: Policy | None = None

    def __call__(self) -> Policy:
        if self.made is None:
            self.made = self.factory()
        return self.made


def worker_factories(policy_names: Sequence[str]) -> dict[str, Callable[[], Policy]]:
    """Each policy's factory, as a worker holds them for its lifetime."""
    factories = {name: policy_factory(name) for name in policy_names}
    # A model planner is built once per worker (loading a model, or a client and its model
    # list, is slow); it starts afresh on each issue. Others are cheap: one per run.
    for name in policy_names:
        if policy_spec(name).once_per_worker:
            factories[name] = _Once(factories[name])
    return factories


def item_messages(
    inst_json: Mapping[str, Any],
    git_dir: str,
    policies: Sequence[str],
    factories: Mapping[str, Callable[[], Policy]],
    top_k: int,
    index_cache: str | bool,
) -> Iterator[tuple[Any, ...]]:
    """One work item, as the messages the parent's runner reads, each yielded as soon as it
    is known: `start`, `gold` (with open/index facts), then a `row` per policy (or one
    `fail`), then `done`. Every executor runs items through this (the local worker sends each
    message on its pipe, the Ray actor streams them back)."""
    inst = Instance(**inst_json)
    yield ("start", inst.instance_id)
    yield from instance_messages(inst, git_dir, policies, factories, top_k, index_cache)
    yield ("done", inst.instance_id)


def _worker_main(
    conn: Connection, top_k: int, policy_names: Sequence[str], index_cache: str | bool
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops us
    factories = worker_factories(policy_names)
    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        if item is None:
            return
        inst_json, git_dir, policies = item
        for message in item_messages(inst_json, git_dir, policies, factories, top_k, index_cache):
            conn.send(message)


def instance_messages(
    inst: Instance,
    git_dir: str,
    policies: Sequence[str],
    factories: Mapping[str, Callable[[], Policy]],
    top_k: int,
    index_cache: str | bool,
) -> Iterator[tuple[Any, ...]]:
    """The messages of one instance between `start` and `done` (see `item_messages`)."""
    from ..localize import localize
    from ..repo import Repo
    from .groundtruth import ground_truth

    iid = inst.instance_id
    t0 = time.perf_counter()
    try:
        repo = Repo.open(git_dir, commit=inst.base_commit, index_cache=index_cache)
    except Exception as e:
        yield ("gold", iid, None, {})
        where = f"cannot open {inst.repo} at {inst.base_commit[:12]}"
        yield ("fail", iid, f"{where}: {_one_line(e)}")
        return
    facts: dict[str, Any] = {"open_ms": round((time.perf_counter() - t0) * 1000, 3)}
    try:
        # Every index first, from the per-file entries (memory, disk, or processed): the
        # ground truth's outlines read the symbol index, which would otherwise be built lazily.
        t0 = time.perf_counter()
        report = repo.index()
        facts["index_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        facts["index_source"] = report["source"]
    except Exception as e:
        yield ("gold", iid, None, facts)
        yield ("fail", iid, f"index: {_one_line(e)}")
        return
    try:
        gold = ground_truth(repo, inst.patch).to_json()
    except Exception as e:
        yield ("gold", iid, None, facts)
        yield ("fail", iid, f"ground truth: {_one_line(e)}")
        return
    yield ("gold", iid, gold, facts)
    for name in policies:
        try:
            result = localize(
                repo,
                inst.problem_statement,
                policy=factories[name](),
                top_k=top_k,
                top_k_functions=2 * top_k,
            )
            stats = result["stats"]
            message = {
                "status": "ok",
                "prediction": Prediction.from_result(result).to_json(),
                # The indexes are in memory already: what is left is the search itself.
                "latency_ms": round(stats["latency_ms"] - stats.get("index_ms", 0.0), 3),
                "latency_split_ms": row_latency_split(stats["latency_split_ms"]),
                "turns": stats["turns"],
                "tool_calls": stats["tool_calls"],
                "calls_per_turn": stats["calls_per_turn"],
            }
        except Exception as e:
            message = {"status": "error", "error": _one_line(e)}
        yield ("row", iid, name, message)


# -- the parent: scheduling, time limits, results ---------------------------------------------


@dataclass
class _Slot:
    queue: deque[WorkItem] = field(default_factory=deque)
    process: Any = None
    conn: Connection | None = None
    item: WorkItem | None = None
    left: list[str] = field(default_factory=list)  # policies of `item` without a row yet
    gold: dict[str, Any] | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # open_ms, index_ms, index_source
    started: bool = False
    step_start: float = 0.0
    deadline: float = 0.0


class _Runner:
    def __init__(
        self,
        *,
        all_policies: Sequence[str],
        workers: int,
        timeout_s: float,
        top_k: int,
        index_cache: str | bool,
        results: ResultsFile,
        on_row: Callable[[dict[str, Any]], None],
    ) -> None:
        self.all_policies = tuple(all_policies)
        self.timeout_s = timeout_s
        self.top_k = top_k
        self.index_cache = index_cache
        self.results = results
        self.on_row = on_row
        self.ctx = mp.get_context("spawn")
        self.slots = [_Slot() for _ in range(max(1, workers))]
        self.groups: deque[deque[WorkItem]] = deque()

    # rows

    def record(self, inst: Instance, policy: str, status: str, **kw: Any) -> None:
        row = make_row(inst, policy, status, top_k=self.top_k, **kw)
        self.results.write(row)
        self.on_row(row)

    # workers

    def start_worker(self, slot: _Slot) -> None:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(
            target=_worker_main,
            args=(child, self.top_k, self.all_policies, self.index_cache),
            name="acs-eval-worker",
            daemon=True,
        )
        proc.start()
        child.close()
        slot.process, slot.conn = proc, parent

    def stop_worker(self, slot: _Slot, *, kill: bool) -> None:
        if slot.process is None:
            return
        if not kill and slot.conn is not None:
            try:
                slot.conn.send(None)
            except OSError:
                kill = True
        if kill:
            slot.process.kill()
        slot.process.join(timeout=None if kill else 10)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join()
        if slot.conn is not None:
            slot.conn.close()
        slot.process = slot.conn = None

    def next_item(self, slot: _Slot) -> WorkItem | None:
        if not slot.queue and self.groups:
            slot.queue = self.groups.popleft()
        if not slot.queue:
            victim = max(self.slots, key=lambda s: len(s.queue))
            n = len(victim.queue) // 2
            if n == 0:
                return None
            stolen = [victim.queue.pop() for _ in range(n)]
            slot.queue.extend(reversed(stolen))
        return slot.queue.popleft()

    def dispatch(self, slot: _Slot, item: WorkItem) -> None:
        if slot.process is not None and not slot.process.is_alive():
            self.stop_worker(slot, kill=True)  # died while idle
        if slot.process is None:
            self.start_worker(slot)
        assert slot.conn is not None
        inst, git_dir, policies = item
        slot.item, slot.left = item, list(policies)
        slot.gold, slot.facts, slot.started = None, {}, False
        slot.step_start = time.monotonic()
        slot.deadline = slot.step_start + STARTUP_GRACE_S + self.timeout_s
        try:
            slot.conn.send((inst.to_json(), git_dir, tuple(policies)))
        except OSError:
            code = slot.process.exitcode
            self.stop_worker(slot, kill=True)
            self.finish_item(slot, f"worker died (exit code {code})")

    def finish_item(self, slot: _Slot, reason: str | None, status: str = "error") -> None:
        """The item's worker is gone: `reason` for its running policy, the rest run again."""
        assert slot.item is not None
        inst, git_dir, _ = slot.item
        if slot.left and reason is not None:
            elapsed = (time.monotonic() - slot.step_start) * 1000
            self.record(
                inst,
                slot.left[0],
                status,
                error=reason,
                gold=slot.gold,
                timings={**slot.facts, "elapsed_ms": round(elapsed, 3)},
            )
            rest = slot.left[1:]
            if rest:
                slot.queue.appendleft((inst, git_dir, tuple(rest)))
        slot.item, slot.left = None, []

    def handle(self, slot: _Slot, message: tuple[Any, ...]) -> None:
        assert slot.item is not None
        inst = slot.item[0]
        now = time.monotonic()
        match message:
            case ("start", _):
                slot.started = True
                slot.step_start, slot.deadline = now, now + self.timeout_s
            case ("gold", _, gold, facts):
                slot.gold = gold
                slot.facts.update(facts)
            case ("fail", _, error):
                for policy in slot.left:
                    self.record(
                        inst, policy, "error", error=error, gold=slot.gold, timings=slot.facts
                    )
                slot.left = []
            case ("row", _, policy, data):
                data = dict(data)
                status, error = data.pop("status"), data.pop("error", None)
                prediction = data.pop("prediction", None)
                data["elapsed_ms"] = round((now - slot.step_start) * 1000, 3)
                data.update(slot.facts)
                self.record(
                    inst,
                    policy,
                    status,
                    error=error,
                    prediction=prediction,
                    gold=slot.gold,
                    timings=data,
                )
                if policy in slot.left:
                    slot.left.remove(policy)
                slot.step_start, slot.deadline = now, now + self.timeout_s
            case ("done", _):
                for policy in slot.left:  # cannot happen; never lose a row silently
                    self.record(inst, policy, "error", error="worker returned no result")
                slot.item, slot.left = None, []

    def run(self, groups: Iterable[deque[WorkItem]]) -> None:
        self.groups = deque(sorted(groups, key=len, reverse=True))
        try:
            self._loop()
        finally:
            for slot in self.slots:
                self.stop_worker(slot, kill=True)

    def _loop(self) -> None:
        while True:
            for slot in self.slots:
                if slot.item is None:
                    item = self.next_item(slot)
                    if item is None:
                        self.stop_worker(slot, kill=False)
                    else:
                        self.dispatch(slot, item)
            busy = [s for s in self.slots if s.item is not None]
            if not busy:
                return
            timeout = max(0.0, min(s.deadline for s in busy) - time.monotonic())
            self.wait_and_drain(busy, timeout)
            now = time.monotonic()
            for slot in busy:
                if slot.item is not None and now >= slot.deadline:
                    limit = self.timeout_s if slot.started else STARTUP_GRACE_S + self.timeout_s
                    what = "" if slot.started else " (the worker did not start)"
                    self.stop_worker(slot, kill=True)
                    self.finish_item(slot, f"no result after {limit:g} s{what}", "timeout")

    def wait_and_drain(self, busy: Sequence[_Slot], timeout: float) -> None:
        """Wait up to `timeout` for any busy worker to say something (or die), then read
        what the ready ones said. (The executor-specific half of the loop.)"""
        waitables: list[Any] = [s.conn for s in busy] + [s.process.sentinel for s in busy]
        ready = set(wait(waitables, timeout=timeout))
        for slot in busy:
            if slot.conn in ready or slot.process.sentinel in ready:
                self.drain(slot)

    def drain(self, slot: _Slot) -> None:
        assert slot.conn is not None
        try:
            while slot.item is not None and slot.conn.poll():
                self.handle(slot, slot.conn.recv())
        except (EOFError, OSError):
            pass
        if slot.item is not None and not slot.process.is_alive():
            code = slot.process.exitcode
            self.stop_worker(slot, kill=True)
            self.finish_item(slot, f"worker died (exit code {code})")


# -- entry point ------------------------------------------------------------------------------


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
    runner_class: Any = _Runner
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
