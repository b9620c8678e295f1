"""Blocking engine calls off the event loop, on a bounded pool of worker threads.

A thread per call let a client start as many threads as it sent calls (300 concurrent calls
made 293 threads; 1,500 exhausted memory). Here `WORKERS` threads take calls in turn; at
most `MAX_QUEUED_CALLS` may run or wait, and one more is refused at once with
`ServerBusyError`, which the client sees as a tool error and can retry."""

from __future__ import annotations

import asyncio
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from ..errors import AcsError
from .limits import MAX_QUEUED_CALLS, WORKERS

T = TypeVar("T")

THREAD_NAME = "acs-mcp-call"


class ServerBusyError(AcsError, RuntimeError):
    """The MCP server holds as many calls as it takes at once; try again shortly."""


class WorkerPool:
    """`workers` daemon threads (started as calls need them) running calls in arrival order.
    Daemon threads, so that when the client goes away mid-call the process may exit without
    waiting for a search to finish (see `exit_leaving_calls`)."""

    def __init__(self, workers: int, max_queued: int) -> None:
        self.workers = workers
        self.max_queued = max_queued
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._queued = 0  # running or waiting
        self._running = 0

    @property
    def running(self) -> int:
        """Calls a worker is running now."""
        return self._running

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` on a worker; `ServerBusyError` when `max_queued` calls already run or wait.
        A waiting call whose caller was cancelled (its client left) is dropped unrun."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()

        def settle(value: T | None, error: BaseException | None) -> None:
            if done.cancelled():
                return
            if error is None:
                done.set_result(value)  # type: ignore[arg-type]
            else:
                done.set_exception(error)

        def job() -> None:
            if done.cancelled():
                return
            try:
                value, error = fn(), None
            except BaseException as e:  # handed to the awaiting task, which reports it
                value, error = None, e
            try:
                loop.call_soon_threadsafe(settle, value, error)
            except RuntimeError:  # the loop closed: nobody is waiting any more
                pass

        with self._lock:
            if self._queued >= self.max_queued:
                raise ServerBusyError(
                    f"server busy: {self._queued} calls are running or waiting (the cap is "
                    f"{self.max_queued}); try again when some have answered"
                )
            self._queued += 1
            start_worker = self._threads < self.workers and self._queued > self._threads
            if start_worker:
                self._threads += 1
        self._jobs.put(job)
        if start_worker:
            threading.Thread(target=self._work, name=THREAD_NAME, daemon=True).start()
        return await done

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            with self._lock:
                self._running += 1
            try:
                job()
            finally:
                with self._lock:
                    self._running -= 1
                    self._queued -= 1


POOL = WorkerPool(WORKERS, MAX_QUEUED_CALLS)


async def in_thread(fn: Callable[[], T]) -> T:
    """`fn()` on the server's worker pool (the engine releases the GIL, so calls run in
    parallel)."""
    return await POOL.run(fn)


def exit_leaving_calls(status: int) -> None:
    """Exit now if engine calls are still running (their client went away): a daemon thread
    inside the engine when the interpreter shuts down aborts the process, so skip the
    shutdown. Safe for the on-disk index: its records are checksummed, a torn one ignored."""
    if POOL.running:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
