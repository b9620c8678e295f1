"""An evaluation worker's side: what one work item (an instance and the policies left to run
on it) produces, as the messages the parent's scheduler reads (`item_messages`), the loop of
a local worker process (`worker_main`), and the policies a worker holds for its lifetime.

Per instance, a worker opens the repository at the base commit (`open_ms`: read from git,
with the worker's content cache as earlier instances left it), makes every index ready
(`index_ms`, and `index_source`: `memory` when every file's entry was in the worker, `disk`
when the rest came from the on-disk per-file store, `built` when some file was processed;
`index_cache` False keeps entries in the worker's memory only), computes the ground truth
from the gold patch, then runs each policy on that snapshot: `latency_ms` is `localize` with
the indexes ready, the search itself, and `latency_split_ms` how it splits (reading the
issue, the policy's planning, the wait for its tools, ranking, the rest). A run that raises
is a message with the error, never a dead worker.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any

from ..policies import policy_factory, policy_spec
from ..policies.base import Policy
from ..task.dataset import Instance
from ..task.metrics import Prediction
from .results import row_latency_split


def one_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class Once:
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
            factories[name] = Once(factories[name])
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


def worker_main(
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
    from ..task.groundtruth import ground_truth

    iid = inst.instance_id
    t0 = time.perf_counter()
    try:
        repo = Repo.open(git_dir, commit=inst.base_commit, index_cache=index_cache)
    except Exception as e:
        yield ("gold", iid, None, {})
        where = f"cannot open {inst.repo} at {inst.base_commit[:12]}"
        yield ("fail", iid, f"{where}: {one_line(e)}")
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
        yield ("fail", iid, f"index: {one_line(e)}")
        return
    try:
        gold = ground_truth(repo, inst.patch).to_json()
    except Exception as e:
        yield ("gold", iid, None, facts)
        yield ("fail", iid, f"ground truth: {one_line(e)}")
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
            message = {"status": "error", "error": one_line(e)}
        yield ("row", iid, name, message)
