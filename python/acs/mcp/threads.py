"""Blocking engine calls off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


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

    threading.Thread(target=work, name="acs-mcp-call", daemon=True).start()
    return await done
