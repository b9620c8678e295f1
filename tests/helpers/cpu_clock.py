"""Timing in tests: CPU time, never wall time.

The rule: no test asserts on wall time. The machines that run the tests are shared (CI, other
builds), and there wall time measures the machine, not the code. Bound CPU time instead,
which only the code under test spends:

- `cpu_of(fn)`: the CPU time of a call in this process, every thread counted (the engine's
  pools too). pytest runs one test at a time, so only this test's work is counted.
- `child_cpu()`: the CPU time of the subprocesses that end inside a `with` block.
- `cpu_at(delay)`: the CPU time at a moment, to bound the work done after a cancel or a
  deadline rather than the delay.
- `cpu_limited(seconds)`: a CPU bound for each example of a Hypothesis test (its own
  `deadline` is wall time: use `deadline=None`).

A wait that only keeps a hung test from stalling CI may be wall time, at `HANG_S` or another
limit that only a hang reaches. tests/test_timing_lint.py refuses new wall-clock reads here.
"""

from __future__ import annotations

import functools
import os
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

# A wait that only a hang reaches: generous, as a loaded machine can stall a process for long.
HANG_S = 60.0


def cpu_of(fn: Callable[[], T]) -> tuple[T, float]:
    """`fn()`'s result and the CPU seconds this process spent on it."""
    start = time.process_time()
    result = fn()
    return result, time.process_time() - start


@contextmanager
def child_cpu() -> Iterator[Callable[[], float]]:
    """Yields a function that gives the CPU seconds (user and system) of the subprocesses
    that ended, and were waited for, inside the block."""

    def used() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    start = used()
    end: list[float] = []
    yield lambda: end[0]
    end.append(used() - start)


def cpu_at(delay: float) -> Callable[[], float]:
    """This process's CPU seconds `delay` seconds from now (or a little later, on a busy
    machine), read on a helper thread; the function returned waits for the reading."""
    reading: list[float] = []
    timer = threading.Timer(delay, lambda: reading.append(time.process_time()))
    timer.start()

    def read() -> float:
        timer.join()
        return reading[0]

    return read


def cpu_limited(seconds: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Fail a call (a Hypothesis example) that spends more than `seconds` of CPU."""

    def wrap(test: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(test)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            result, spent = cpu_of(lambda: test(*args, **kwargs))
            assert spent < seconds, f"{spent:.2f} s of CPU (limit {seconds} s)"
            return result

        return bounded

    return wrap


def pid_cpu(pid: int) -> float:
    """The CPU seconds (user and system, every thread) a running process has spent so far,
    from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")
