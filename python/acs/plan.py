"""Running plans: all at once (`Repo.run_plan`) or streamed task by task (`PlanRun`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from . import _core
from .types import RunReport, Task, TaskOutcome

PlanLike = Mapping[str, Any] | Sequence[Task] | Sequence[Mapping[str, Any]]


def plan_bytes(plan: PlanLike) -> bytes:
    """Serialise a plan given as `{"tasks": [...]}` or a list of tasks."""
    return orjson.dumps(plan if isinstance(plan, Mapping) else list(plan))


class PlanRun:
    """A plan being executed. Submit tasks while earlier ones run; each starts as soon as
    the tasks it references are done. Waiting releases the GIL; the `*_async` forms wait on
    a worker thread so an asyncio (or uvloop) event loop keeps running.

    `cancel()` stops the run within a fraction of a second: running tools stop between
    files, and every unfinished task ends with a `cancelled` error (`CancelledError`), its
    dependents skipped. Ctrl-C while waiting cancels the run, then raises
    `KeyboardInterrupt`."""

    def __init__(self, native: _core.PlanRun) -> None:
        self._native = native

    def submit(self, tasks: Task | Mapping[str, Any] | Iterable[Task | Mapping[str, Any]]) -> None:
        """Submit one task or several. Tasks submitted together may reference each other;
        greps among them that are ready together share one pass over the files."""
        payload = tasks if isinstance(tasks, Mapping) else list(tasks)
        self._native.submit(orjson.dumps(payload))

    def wait(self, task_id: int, timeout: float | None = None) -> TaskOutcome | None:
        """The outcome of `task_id`, or None if `timeout` seconds pass first."""
        raw = self._native.wait(task_id, timeout)
        return None if raw is None else orjson.loads(raw)

    def wait_all(self, timeout: float | None = None) -> RunReport:
        """Every outcome, in submission order; `complete` is False after a timeout."""
        return orjson.loads(self._native.wait_all(timeout))

    def snapshot(self) -> RunReport:
        """The outcomes so far, without waiting."""
        return orjson.loads(self._native.snapshot())

    def cancel(self) -> None:
        """Stop the run: what runs stops promptly, what has not started never will (tasks
        submitted afterwards included); each ends with a `cancelled` error."""
        self._native.cancel()

    @property
    def cancelled(self) -> bool:
        """Whether the run was cancelled, by `cancel()` or by its timeout."""
        return self._native.cancelled()

    async def wait_async(self, task_id: int, timeout: float | None = None) -> TaskOutcome | None:
        return await asyncio.to_thread(self.wait, task_id, timeout)

    async def wait_all_async(self, timeout: float | None = None) -> RunReport:
        return await asyncio.to_thread(self.wait_all, timeout)
