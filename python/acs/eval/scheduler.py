"""The evaluation's scheduler: work items to worker slots, time limits, and rows.

The engine caches file contents and parsed symbol tables per process, keyed by git blob id,
so a worker slot is given the instances of one repository in base-commit order (consecutive
commits share most blobs), the largest repositories first; a slot with nothing left takes
the later half of the longest queue of another. `Scheduler` runs local worker processes
(`spawn`, so a stuck one can be killed; `worker.worker_main`); the Ray executor
(`ray_runner.RayRunner`) replaces only how a worker starts, stops and is heard from.

A run that passes `timeout_s` (counted from when the worker takes the instance, or from the
previous policy's result; the first policy's time includes opening, the index and the ground
truth) is recorded as `timeout`, and its worker is killed and replaced; a worker that dies is
an `error` row for its running policy, and the policies after it run again.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from ..task.dataset import Instance
from .results import ResultsFile, make_row
from .worker import worker_main

STARTUP_GRACE_S = 60.0  # a fresh worker imports acs before it takes its first instance

WorkItem = tuple[Instance, str, tuple[str, ...]]  # instance, git dir, policies left to run


@dataclass
class Slot:
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


class Scheduler:
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
        self.slots = [Slot() for _ in range(max(1, workers))]
        self.groups: deque[deque[WorkItem]] = deque()

    # rows

    def record(self, inst: Instance, policy: str, status: str, **kw: Any) -> None:
        row = make_row(inst, policy, status, top_k=self.top_k, **kw)
        self.results.write(row)
        self.on_row(row)

    # workers

    def start_worker(self, slot: Slot) -> None:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(
            target=worker_main,
            args=(child, self.top_k, self.all_policies, self.index_cache),
            name="acs-eval-worker",
            daemon=True,
        )
        proc.start()
        child.close()
        slot.process, slot.conn = proc, parent

    def stop_worker(self, slot: Slot, *, kill: bool) -> None:
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

    def next_item(self, slot: Slot) -> WorkItem | None:
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

    def dispatch(self, slot: Slot, item: WorkItem) -> None:
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

    def finish_item(self, slot: Slot, reason: str | None, status: str = "error") -> None:
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

    def handle(self, slot: Slot, message: tuple[Any, ...]) -> None:
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

    def wait_and_drain(self, busy: Sequence[Slot], timeout: float) -> None:
        """Wait up to `timeout` for any busy worker to say something (or die), then read
        what the ready ones said. (The executor-specific half of the loop.)"""
        waitables: list[Any] = [s.conn for s in busy] + [s.process.sentinel for s in busy]
        ready = set(wait(waitables, timeout=timeout))
        for slot in busy:
            if slot.conn in ready or slot.process.sentinel in ready:
                self.drain(slot)

    def drain(self, slot: Slot) -> None:
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
