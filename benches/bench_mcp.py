"""`acs mcp` as a coding agent sees it: one server process, many tool calls.

* the second `localize` through MCP (the snapshot and its indexes warm in the server) against
  a fresh `acs localize` process on the same repository with its index on disk, the best a
  one-shot command can do; `extra_info` records the ratio;
* the round trip of a small tool call (`read`, `find_files`) through MCP against the same
  call on an `acs.Repo` in this process: the protocol's overhead in ms (JSON-RPC over
  stdio, argument checks, a worker thread), with the server's default change checks (one
  stat walk of the tree serves 250 ms of calls) and with `--recheck-ms 0` (a walk before
  every call).

The client is the official SDK's `ClientSession` over `stdio_client`, kept open on an event
loop in a thread of its own so that pytest-benchmark can time plain calls.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

import acs
from corpora import EXCLUDE

pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ISSUE = """json.loads raises JSONDecodeError "Expecting value" for an empty document, but
JSONDecoder.raw_decode should report the position of the first bad character.
See json/decoder.py."""

# The child imports the acs this process imports.
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        [str(Path(acs.__file__).parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    ),
}


class McpClient:
    """A client session with `acs mcp`, open on a background event loop."""

    def __init__(self, *server_args: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stop = asyncio.Event()
        self.ready: asyncio.Future[ClientSession] = self.loop.create_future()
        self.task = asyncio.run_coroutine_threadsafe(self._serve(server_args), self.loop)
        self.session = asyncio.run_coroutine_threadsafe(self._ready(), self.loop).result(60)

    async def _ready(self) -> ClientSession:
        return await self.ready

    async def _serve(self, server_args: tuple[str, ...]) -> None:
        cmd = [sys.executable, "-m", "acs", "mcp", *server_args]
        params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=ENV)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            self.ready.set_result(s)
            await self.stop.wait()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    def call(self, tool: str, **args: Any) -> dict[str, Any]:
        wire = self.run(self.session.call_tool(tool, args)).model_dump(by_alias=True)
        assert not wire["isError"], wire["content"][0]["text"]
        return wire["structuredContent"]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.task.result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def packs(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus's index on disk (`acs index`), for the server and the fresh command."""
    folder = tmp_path_factory.mktemp("mcp-packs")
    acs.Repo.open(corpus, exclude=EXCLUDE, index_cache=folder).index()
    return folder


def serve(corpus: Path, packs: Path, *args: str) -> Iterator[McpClient]:
    excludes = [f"--exclude={g}" for g in EXCLUDE]
    mcp = McpClient("--repo", str(corpus), *excludes, "--cache-dir", str(packs), *args)
    yield mcp
    mcp.close()


@pytest.fixture(scope="module")
def client(corpus: Path, packs: Path) -> Iterator[McpClient]:
    """The server as started by default: a check of the tree serves 250 ms of calls."""
    yield from serve(corpus, packs)


@pytest.fixture(scope="module")
def strict_client(corpus: Path, packs: Path) -> Iterator[McpClient]:
    """`--recheck-ms 0`: the tree is checked before every call."""
    yield from serve(corpus, packs, "--recheck-ms", "0")


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def test_mcp_second_localize_vs_fresh_command(benchmark, client, corpus, packs):
    first = client.call("localize", issue=ISSUE)
    assert first["files"][0]["path"] == "json/decoder.py"

    def second() -> dict[str, Any]:
        return client.call("localize", issue=ISSUE)

    result = benchmark(second)
    assert result["stats"]["server"]["warm"] is True
    assert result["files"][0]["path"] == "json/decoder.py"

    command = [sys.executable, "-m", "acs", "localize", "--repo", str(corpus)]
    command += [f"--exclude={g}" for g in EXCLUDE] + ["--cache-dir", str(packs), ISSUE]

    def fresh() -> None:
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        assert '"json/decoder.py"' in out.stdout

    fresh_ms = median_ms(fresh, rounds=3)
    warm_ms = median_ms(second, rounds=5)
    benchmark.extra_info.update(
        mcp_second_ms=round(warm_ms, 1),
        fresh_command_ms=round(fresh_ms, 1),
        ratio=round(fresh_ms / warm_ms, 1),
    )
    print(
        f"\nlocalize: MCP (second call) {warm_ms:.1f} ms, fresh `acs localize` "
        f"{fresh_ms:.0f} ms: {fresh_ms / warm_ms:.0f}x"
    )


@pytest.mark.parametrize(
    ("tool", "args", "direct"),
    [
        (
            "read",
            {"path": "json/decoder.py", "start": 1, "end": 40},
            lambda repo: repo.read("json/decoder.py", 1, 40),
        ),
        (
            "find_files",
            {"query": "json/decoder"},
            lambda repo: repo.find_files("json/decoder", limit=50),
        ),
    ],
    ids=["read", "find_files"],
)
@pytest.mark.parametrize("server", ["client", "strict_client"], ids=["default", "recheck0"])
def test_mcp_round_trip_overhead(benchmark, request, loaded, server, tool, args, direct):
    client = request.getfixturevalue(server)
    client.call(tool, **args)  # the snapshot is open and checked
    benchmark(client.call, tool, **args)
    through_mcp = median_ms(lambda: client.call(tool, **args), rounds=30)
    in_process = median_ms(lambda: direct(loaded), rounds=30)
    overhead = through_mcp - in_process
    benchmark.extra_info.update(
        mcp_ms=round(through_mcp, 3),
        direct_ms=round(in_process, 3),
        overhead_ms=round(overhead, 3),
    )
    print(
        f"\n{tool} ({server}): MCP {through_mcp:.2f} ms, direct {in_process:.3f} ms, "
        f"overhead {overhead:.2f} ms"
    )
