"""Running plans: all at once (`Repo.run_plan`) or streamed task by task (`PlanRun`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import orjson

from . import _core
from .errors import AcsError, InvalidArgumentError, PlanError
from .types import RunReport, Task, TaskOutcome

PlanLike = Mapping[str, Any] | Sequence[Task] | Sequence[Mapping[str, Any]]

# Values the engine's JSON cannot carry raise these in Python (orjson's JSONEncodeError is a
# TypeError; pyo3 raises OverflowError for an out-of-range integer argument): they become the
# caller's `AcsError`, like any other bad argument.
CONVERSION_ERRORS = (TypeError, OverflowError, UnicodeEncodeError)


def describe_conversion_error(error: Exception) -> str:
    text = str(error)
    if "surrogate" in text:
        return "a string holds a lone surrogate (an undecodable byte?), which is not text"
    if "64-bit" in text or isinstance(error, OverflowError):
        return "an integer is out of range (0 to 2**64 - 1)"
    return text


def engine_json(value: Any, error: type[AcsError], what: str) -> bytes:
    """`value` as the engine's JSON, or `error` (an `AcsError`) saying why it cannot be."""
    try:
        return orjson.dumps(value)
    except CONVERSION_ERRORS as e:
        raise error(f"{what}: {describe_conversion_error(e)}") from None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def plan_bytes(plan: PlanLike) -> bytes:
    """Serialise a plan given as `{"tasks": [...]}` or a list of tasks."""
    given: object = plan  # callers may pass anything; the types say what is accepted
    if isinstance(given, str | bytes | bytearray) or not isinstance(given, Mapping | Iterable):
        # Not iterated: a string would be read as a list of one-character tasks.
        raise PlanError(
            f'invalid plan: expected {{"tasks": [...]}} or a list of tasks, got {_kind(plan)}'
        )
    return engine_json(plan if isinstance(plan, Mapping) else list(plan), PlanError, "invalid plan")


def valid_task_id(value: Any) -> int:
    """A task id as the engine takes it (a u64), or `InvalidArgumentError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise InvalidArgumentError(
            f"invalid argument: a task id is an integer from 1 to 2**64 - 1, got {value!r:.40}"
        )
    return value


def valid_timeout(value: Any) -> float | None:
    """A wait's timeout in seconds (None: no limit), or `InvalidArgumentError`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise InvalidArgumentError(
            f"invalid argument: a timeout is a finite number of seconds >= 0, got {value!r:.40}"
        )
    return float(value)


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
        if isinstance(tasks, str | bytes | bytearray) or not isinstance(tasks, Mapping | Iterable):
            raise PlanError(f"invalid plan: expected a task or a list of tasks, got {_kind(tasks)}")
        payload = tasks if isinstance(tasks, Mapping) else list(tasks)
        self._native.submit(engine_json(payload, PlanError, "invalid plan"))

    def wait(self, task_id: int, timeout: float | None = None) -> TaskOutcome | None:
        """The outcome of `task_id`, or None if `timeout` seconds pass first."""
        raw = self._native.wait(valid_task_id(task_id), valid_timeout(timeout))
        return None if raw is None else cast(TaskOutcome, orjson.loads(raw))

    def wait_all(self, timeout: float | None = None) -> RunReport:
        """Every outcome, in submission order; `complete` is False after a timeout."""
        return cast(RunReport, orjson.loads(self._native.wait_all(valid_timeout(timeout))))

    def snapshot(self) -> RunReport:
        """The outcomes so far, without waiting."""
        return cast(RunReport, orjson.loads(self._native.snapshot()))

    def cancel(self) -> None:
        """Stop the run: what runs stops promptly, what has not started never will (tasks
        submitted afterwards included); each ends with a `cancelled` error."""
        self._native.cancel()

    @property
    def cancelled(self) -> bool:
        """Whether the run was cancelled, by `cancel()` or by its timeout."""
        return self._native.cancelled()

    async def wait_async(self, task_id: int, timeout: float | None = None) -> TaskOutcome | None:
        import asyncio  # here: a cold `acs localize` need not pay for importing it

        return await asyncio.to_thread(self.wait, task_id, timeout)

    async def wait_all_async(self, timeout: float | None = None) -> RunReport:
        import asyncio

        return await asyncio.to_thread(self.wait_all, timeout)
