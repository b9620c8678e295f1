"""Blocking engine calls off the event loop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

THREAD_NAME = "acs-mcp-call"


async def in_thread(fn: Callable[[], T]) -> T:
    """`fn()` on a daemon thread of its own (the engine releases the GIL, so calls run in
    parallel). A daemon thread, not a pool's: when the client goes away mid-call, the call is
    abandoned and the process may exit without waiting for a search to finish."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if done.cancelled():
            return
        if error is None:
            done.set_result(value)  # type: ignore[arg-type]
        else:
            done.set_exception(error)

    def work() -> None:
        try:
            value, error = fn(), None
        except BaseException as e:  # handed to the awaiting task, which reports it
            value, error = None, e
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop closed: nobody is waiting any more
            pass

    threading.Thread(target=work, name=THREAD_NAME, daemon=True).start()
    return await done


def exit_leaving_calls(status: int) -> None:
    """Exit now if engine calls are still running (their client went away): a daemon thread
    inside the engine when the interpreter shuts down aborts the process, so skip the
    shutdown. Safe for the on-disk index: its records are checksummed, a torn one ignored."""
    if any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
