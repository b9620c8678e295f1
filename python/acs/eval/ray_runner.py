"""`acs eval --executor ray`: the runner's work items on a Ray cluster (an existing one, or a
local instance started for the run).

Each worker slot is a Ray actor (one CPU) that holds the policies and the engine's per-process
content cache for its lifetime, as a local worker process does; the parent gives it the
instances of one repository in base-commit order and takes over the later half of another
slot's queue when it runs dry (the local scheduling, `Scheduler.next_item`). An actor
runs an item through `worker.item_messages`, the same code as the local worker, and streams
its messages back (a Ray streaming generator), so the parent records rows, time limits and
failures exactly as for local workers: a run past `timeout_s` is a `timeout` row and its actor
is killed and replaced, an actor that dies is an `error` row, and the results file, resume
and report are the same.

On a cluster, every node must see the repositories at the paths the parent resolved (a shared
filesystem) and have acs installed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .scheduler import STARTUP_GRACE_S, Scheduler, Slot, WorkItem
from .worker import item_messages, one_line, worker_factories


class RayWorker:
    """The body of a worker actor: the local worker's loop, one item per call."""

    def __init__(self, top_k: int, policy_names: tuple[str, ...], index_cache: str | bool):
        self.top_k = top_k
        self.index_cache = index_cache
        self.factories = worker_factories(policy_names)

    def run(self, inst_json: dict[str, Any], git_dir: str, policies: tuple[str, ...]) -> Any:
        yield from item_messages(
            inst_json, git_dir, policies, self.factories, self.top_k, self.index_cache
        )


class RayRunner(Scheduler):
    """`Scheduler` with actors for worker processes and streamed messages for pipes."""

    def __init__(self, *, ray: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.ray = ray
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(RayWorker)

    def start_worker(self, slot: Slot) -> None:
        slot.process = self.actor_class.remote(self.top_k, self.all_policies, self.index_cache)

    def stop_worker(self, slot: Slot, *, kill: bool) -> None:
        if slot.process is not None:
            self.ray.kill(slot.process)
        slot.process = slot.conn = None

    def dispatch(self, slot: Slot, item: WorkItem) -> None:
        if slot.process is None:
            self.start_worker(slot)
        inst, git_dir, policies = item
        slot.item, slot.left = item, list(policies)
        slot.gold, slot.facts, slot.started = None, {}, False
        slot.step_start = time.monotonic()
        slot.deadline = slot.step_start + STARTUP_GRACE_S + self.timeout_s
        run = slot.process.run.options(num_returns="streaming")
        slot.conn = run.remote(inst.to_json(), git_dir, tuple(policies))

    def wait_and_drain(self, busy: Sequence[Slot], timeout: float) -> None:
        self.ray.wait([s.conn for s in busy], num_returns=1, timeout=timeout)
        for slot in busy:
            self.drain(slot)

    def drain(self, slot: Slot) -> None:
        """Every message the slot's actor has streamed so far."""
        ray = self.ray
        while slot.item is not None:
            ready, _ = ray.wait([slot.conn], num_returns=1, timeout=0)
            if not ready:
                return
            try:
                message = ray.get(next(slot.conn))  # type: ignore[call-overload]  # a Ray stream
            except StopIteration:
                reason = "worker returned no result"
            except Exception as e:  # the actor died (or the call failed in Ray)
                reason = f"worker died ({one_line(e)})"
            else:
                self.handle(slot, message)
                continue
            self.stop_worker(slot, kill=True)
            self.finish_item(slot, reason)
