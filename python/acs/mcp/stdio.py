"""The stdio transport's two ends, bounded, handed to the SDK's `stdio_server`.

The SDK reads stdin a whole line at a time, whatever its size (a 400 MB argument was held,
parsed and quoted back), answers nothing to a line it cannot parse (the client then waits
forever), and keeps reading while answers pile up unread. `Wire` is what it reads from and
writes to instead:

- a line over `MAX_MESSAGE_BYTES` is skipped unparsed and answered with an error (the
  request's id found near its start or end);
- a line that is not JSON is answered with JSON-RPC's parse error (-32700), and JSON that is
  not a JSON-RPC message with invalid request (-32600), neither reaching the SDK;
- once `MAX_PENDING_REQUESTS` requests are unanswered, stdin is not read until answers have
  been written: a client that stops reading stops being read.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio
import orjson

from .limits import MAX_MESSAGE_BYTES, MAX_PENDING_REQUESTS

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

# Bytes kept of each end of an oversized line, to find its id.
_ENDS = 4096
_ID = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"[^"\\]{0,200}")')


@dataclass(frozen=True)
class Oversized:
    """A line over the cap, skipped: its size and its two ends."""

    size: int
    head: bytes
    tail: bytes

    def request_id(self) -> Any:
        return request_id_near_ends(self.head, self.tail)


def request_id_near_ends(head: bytes, tail: bytes) -> Any:
    """The id of a request that cannot be parsed, if one stands near either end of its line
    (JSON-RPC's `id` is a top-level member, usually written first or last), so the client
    waiting on it gets its answer; else None, as JSON-RPC says for a parse error."""
    first = _ID.search(head)
    last = list(_ID.finditer(tail))
    found = first or (last[-1] if last else None)
    return orjson.loads(found[1]) if found else None


def read_line(stream: BinaryIO, cap: int) -> bytes | Oversized | None:
    """The next line of `stream` (None at its end), or `Oversized` for a line over `cap`
    bytes, read through and dropped a megabyte at a time."""
    line = stream.readline(cap + 1)
    if not line:
        return None
    if len(line) <= cap or line.endswith(b"\n"):
        return line
    size, head, tail = len(line), line[:_ENDS], line[-_ENDS:]
    while not line.endswith(b"\n"):
        line = stream.readline(1 << 20)
        if not line:
            break
        size += len(line)
        tail = (tail + line)[-_ENDS:]
    return Oversized(size, head, tail)


def _key(request_id: Any) -> str:
    return orjson.dumps(request_id).decode()


class Wire:
    """stdin and stdout for `stdio_server(stdin=wire, stdout=wire)`: iterating gives the
    lines to parse, `write` sends one message."""

    def __init__(
        self,
        stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_pending: int = MAX_PENDING_REQUESTS,
    ) -> None:
        self._in = stdin or sys.stdin.buffer
        self._out = stdout or sys.stdout.buffer
        self._cap = max_message_bytes
        self._max_pending = max_pending
        self._pending: set[str] = set()  # ids of requests read and not yet answered
        self._drained = anyio.Event()
        self._lock = anyio.Lock()

    # -- what the SDK reads ------------------------------------------------------------------
    def __aiter__(self) -> Wire:
        return self

    async def __anext__(self) -> str:
        while True:
            while len(self._pending) >= self._max_pending:
                self._drained = anyio.Event()
                await self._drained.wait()
            line = await anyio.to_thread.run_sync(read_line, self._in, self._cap)
            if line is None:
                raise StopAsyncIteration
            if isinstance(line, Oversized):
                await self._refuse(
                    line.request_id(),
                    INVALID_REQUEST,
                    f"message of {line.size:,} bytes is over the server's cap of "
                    f"{self._cap:,} bytes",
                )
                continue
            text = line.decode("utf-8", errors="replace")
            if text.strip() and await self._admit(text):
                return text

    async def _admit(self, text: str) -> bool:
        """Whether the SDK gets `text`: a JSON-RPC message; anything else is answered here."""
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            data = text.encode()
            request_id = request_id_near_ends(data[:_ENDS], data[-_ENDS:])
            await self._refuse(request_id, PARSE_ERROR, f"parse error: not JSON ({e})")
            return False
        if not is_message(message):
            request_id = message.get("id") if isinstance(message, dict) else None
            if not isinstance(request_id, str | int) or isinstance(request_id, bool):
                request_id = None
            await self._refuse(request_id, INVALID_REQUEST, "invalid request: not JSON-RPC 2.0")
            return False
        if "method" in message and "id" in message:
            self._pending.add(_key(message["id"]))
        elif message.get("method") == "notifications/cancelled":  # no answer will come
            self._answered((message.get("params") or {}).get("requestId"))
        return True

    # -- what the SDK writes ----------------------------------------------------------------
    async def write(self, text: str) -> None:
        """One message, written whole (the SDK's writer and `_refuse` share the wire)."""
        data = text.encode() if text.endswith("\n") else (text + "\n").encode()
        async with self._lock:
            await anyio.to_thread.run_sync(self._send, data)
        message = orjson.loads(data)
        if isinstance(message, dict) and "id" in message and "method" not in message:
            self._answered(message["id"])

    async def flush(self) -> None:
        """Each `write` is flushed already."""

    def _send(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()

    def _answered(self, request_id: Any) -> None:
        self._pending.discard(_key(request_id))
        if len(self._pending) < self._max_pending:
            self._drained.set()

    async def _refuse(self, request_id: Any, code: int, message: str) -> None:
        reply = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
        await self.write(orjson.dumps(reply).decode())


def is_message(value: Any) -> bool:
    """Whether `value` is a JSON-RPC message the SDK accepts (its own model decides)."""
    import mcp.types as types

    try:
        adapter = getattr(types, "jsonrpc_message_adapter", None)  # SDK 2.x
        if adapter is not None:
            adapter.validate_python(value, by_name=False)
        else:  # SDK 1.x
            types.JSONRPCMessage.model_validate(value)  # type: ignore[attr-defined,unused-ignore]
    except Exception:
        return False
    return True
