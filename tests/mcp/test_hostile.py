"""`acs mcp` against a hostile or careless client: who may connect over HTTP, oversized and
malformed messages, and a client that floods the server or stops reading its answers.
Each test speaks the wire protocol itself (raw JSON-RPC lines, raw HTTP), as such a client
would, rather than through the SDK's well-behaved client."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pytest

import acs

pytest.importorskip("mcp")

from acs.mcp.limits import (
    MAX_CALLS_PER_SESSION,
    MAX_HTTP_SESSIONS,
    MAX_ISSUE_CHARS,
    MAX_MESSAGE_BYTES,
    MAX_PATTERN_CHARS,
    MAX_PLAN_TASKS,
    MAX_QUEUED_CALLS,
    WORKERS,
)
from acs.mcp.threads import ServerBusyError, WorkerPool

FILES = {
    "pkg/__init__.py": "",
    "pkg/decoder.py": "def decode(text):\n    return text.strip()\n",
}

# The child must import this acs (the worktree's), whatever the environment says.
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        [str(Path(acs.__file__).parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    ),
}


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "acs", "mcp", *args]


INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "hostile", "version": "0"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(request_id: int, tool: str, **arguments: Any) -> dict[str, Any]:
    params = {"name": tool, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


class Wire:
    """`acs mcp` over stdio, spoken line by line."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            server_command(*args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=ENV,
        )
        assert self.proc.stdin and self.proc.stdout
        self.stdin: BinaryIO = self.proc.stdin
        self.stdout: BinaryIO = self.proc.stdout

    def send(self, message: dict[str, Any] | bytes) -> None:
        line = message if isinstance(message, bytes) else json.dumps(message).encode()
        self.stdin.write(line.rstrip(b"\n") + b"\n")
        self.stdin.flush()

    def receive(self) -> dict[str, Any]:
        line = self.stdout.readline()
        assert line, self.proc.stderr.read().decode() if self.proc.stderr else "server gone"
        reply: dict[str, Any] = json.loads(line)
        return reply

    def initialize(self) -> None:
        self.send(INIT)
        assert self.receive()["id"] == 0
        self.send(INITIALIZED)

    def status(self, field: str) -> int:
        """A field of /proc/PID/status in kB (VmHWM: peak memory) or as a count (Threads)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def cpu_ticks(self) -> int:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def wait_idle(self, quiet_s: float = 1.0, at_most_s: float = 120.0) -> None:
        """Until the server has used no CPU for `quiet_s` (its work is done, whatever the
        machine's load), or `at_most_s` passed."""
        last, since, end = self.cpu_ticks(), time.monotonic(), time.monotonic() + at_most_s
        while time.monotonic() < end:
            time.sleep(0.2)
            now = self.cpu_ticks()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return

    def close(self) -> None:
        self.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def wire(*args: str) -> Iterator[Wire]:
    w = Wire(*args)
    try:
        w.initialize()
        yield w
    finally:
        w.close()


@pytest.fixture
def repo(make_tree: Callable[..., Path]) -> Path:
    return make_tree(FILES)


# -- HTTP: who may connect --------------------------------------------------------------------


@contextmanager
def http_server(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[int, str]]:
    """`acs mcp --http 0 ARGS`: its port and the token it printed."""
    proc = subprocess.Popen(
        server_command("--http", "0", *args),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env or ENV,
        text=True,
    )
    try:
        assert proc.stderr
        url = proc.stderr.readline().split()[-1]
        hint = proc.stderr.readline()
        token = hint.split("Bearer ")[1].rstrip("'\n")
        yield int(url.split(":")[-1].split("/")[0]), token
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def post(
    port: int, body: bytes, token: str | None, session: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if session is not None:
        headers["Mcp-Session-Id"] = session
    try:
        conn.request("POST", "/mcp", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_http_needs_the_token_printed_at_start(repo: Path) -> None:
    body = json.dumps(INIT).encode()
    with http_server("--repo", str(repo)) as (port, token):
        assert len(token) >= 32
        status, headers, _ = post(port, body, None)
        assert status == 401 and headers["www-authenticate"].startswith("Bearer")
        assert post(port, body, "x" * len(token))[0] == 401
        assert post(port, body, token[:-1])[0] == 401
        assert post(port, body, token)[0] == 200


def test_http_tokens_differ_per_start_unless_set(repo: Path) -> None:
    with (
        http_server("--repo", str(repo)) as (_, first),
        http_server("--repo", str(repo)) as (
            _,
            second,
        ),
    ):
        assert first != second
    chosen = "a-token-the-user-chose-1234"
    with http_server("--repo", str(repo), env={**ENV, "ACS_MCP_TOKEN": chosen}) as (port, hint):
        assert chosen not in hint  # not printed back: the user has it
        assert post(port, json.dumps(INIT).encode(), chosen)[0] == 200


def test_http_never_trusts_client_roots(tmp_path: Path) -> None:
    out = subprocess.run(
        server_command("--http", "0"), env=ENV, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert "--http needs --repo" in out.stderr


def test_a_short_chosen_token_is_refused(repo: Path) -> None:
    out = subprocess.run(
        server_command("--repo", str(repo), "--http", "0"),
        env={**ENV, "ACS_MCP_TOKEN": "short"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "ACS_MCP_TOKEN must be at least 16" in out.stderr


def test_http_bodies_over_the_cap_are_refused_unread(repo: Path) -> None:
    with http_server("--repo", str(repo)) as (port, token):
        status, _, _ = post(port, b" " * (MAX_MESSAGE_BYTES + 1), token)
        assert status == 413


def test_http_sessions_are_capped(repo: Path) -> None:
    with http_server("--repo", str(repo)) as (port, token):
        body = json.dumps(INIT).encode()
        opened = [post(port, body, token) for _ in range(MAX_HTTP_SESSIONS)]
        assert all(status == 200 for status, _, _ in opened)
        assert post(port, body, token)[0] == 503
        # Ending one session makes room for the next.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "DELETE",
            "/mcp",
            headers={
                "Authorization": f"Bearer {token}",
                "Mcp-Session-Id": opened[0][1]["mcp-session-id"],
                "MCP-Protocol-Version": "2025-06-18",
            },
        )
        assert conn.getresponse().status == 200
        conn.close()
        assert post(port, body, token)[0] == 200


# -- messages: oversized, malformed --------------------------------------------------------------


def test_an_oversized_message_is_answered_without_being_held(repo: Path) -> None:
    with wire("--repo", str(repo), "--no-cache") as w:
        w.send(call(1, "grep", pattern="decode"))
        assert not w.receive()["result"]["isError"]
        before = w.status("VmHWM")
        huge = 50 << 20
        w.send(
            b'{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": '
            b'"grep", "arguments": {"pattern": "' + b"a" * huge + b'"}}}'
        )
        reply = w.receive()
        assert reply["id"] == 7 and reply["error"]["code"] == -32600
        assert "over the server's cap" in reply["error"]["message"]
        assert len(reply["error"]["message"]) < 200
        # Read through in pieces, never held: far less than the line's 50 MB.
        assert w.status("VmHWM") - before < 20_000
        w.send(call(2, "grep", pattern="decode"))  # and the server goes on
        assert w.receive()["id"] == 2


@pytest.mark.parametrize(
    ("line", "code", "request_id"),
    [
        (b"{", -32700, None),
        (b"null", -32600, None),
        (b'{"jsonrpc": "2.0", "id": 5}', -32600, 5),
        (b'{"jsonrpc": "2.0", "id": 6, "method": "ping", "params": {"x": "\\ud800"}}', -32700, 6),
        (b"[1, 2]", -32600, None),
    ],
)
def test_unparseable_requests_get_a_json_rpc_error(
    repo: Path, line: bytes, code: int, request_id: int | None
) -> None:
    with wire("--repo", str(repo), "--no-cache") as w:
        w.send(line)
        reply = w.receive()
        assert reply["error"]["code"] == code and reply["id"] == request_id
        w.send({"jsonrpc": "2.0", "id": 9, "method": "ping"})
        assert w.receive()["id"] == 9


# -- arguments: every string and list capped, nothing echoed whole -----------------------------


def refusal(w: Wire, request_id: int, tool: str, **arguments: Any) -> str:
    w.send(call(request_id, tool, **arguments))
    result = w.receive()["result"]
    assert result["isError"], result
    text: str = result["content"][0]["text"]
    return text


def test_arguments_over_their_caps_are_refused_with_their_size(repo: Path) -> None:
    with wire("--repo", str(repo), "--no-cache") as w:
        text = refusal(w, 1, "grep", pattern="a" * (MAX_PATTERN_CHARS + 1))
        assert f"{MAX_PATTERN_CHARS + 1:,} characters, over the cap" in text
        assert len(text) < 300
        text = refusal(w, 2, "localize", issue="word " * (MAX_ISSUE_CHARS // 5 + 1))
        assert "over the cap" in text
        text = refusal(w, 3, "grep", pattern=["a"] * 1001)
        assert "1,001 items, over the cap of 1,000" in text
        tasks = [{"id": i, "tool": "grep", "args": {"pattern": "a"}} for i in range(1, 400)]
        assert "over the cap" in refusal(w, 4, "run_plan", tasks=tasks[: MAX_PLAN_TASKS + 1])
        # run_plan's task arguments have no schema here: all arguments are measured.
        big = [{"id": 1, "tool": "grep", "args": {"pattern": "a" * 2_000_000}}]
        assert "the cap of one call" in refusal(w, 5, "run_plan", tasks=big)
        w.send(call(6, "grep", pattern="decode"))
        assert not w.receive()["result"]["isError"]


def test_errors_quote_inputs_only_in_part(repo: Path) -> None:
    with wire("--repo", str(repo), "--no-cache") as w:
        assert len(refusal(w, 1, "x" * 100_000)) < 500
        assert len(refusal(w, 2, "grep", pattern="(" + "a" * 9_000)) < 2_100
        assert len(refusal(w, 3, "read", path="p" * 4_000)) < 2_100
        assert len(refusal(w, 4, "grep", pattern="a", case="c" * 500)) < 600
        assert len(refusal(w, 5, "grep", pattern="a", **{"y" * 900: 1})) < 500


# -- back-pressure -----------------------------------------------------------------------------


def test_the_worker_pool_is_bounded_and_says_busy() -> None:
    async def main() -> None:
        pool = WorkerPool(workers=2, max_queued=3)
        release = threading.Event()
        running = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(3)]
        await asyncio.sleep(0)
        with pytest.raises(ServerBusyError, match="the cap is 3"):
            await pool.run(lambda: None)
        release.set()
        assert await asyncio.gather(*running) == [True, True, True]
        assert sum(t.name == "acs-mcp-call" for t in threading.enumerate()) <= 2
        assert await pool.run(lambda: 42) == 42  # room again once calls answered

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_flood_of_calls_is_bounded_per_session(make_tree: Callable[..., Path]) -> None:
    # Big enough that the first call (opening and indexing) is still running while the
    # rest arrive.
    root = make_tree(
        {
            f"m{i}/f{j}.py": f"def f_{i}_{j}(x):\n    return x\n"
            for i in range(40)
            for j in range(50)
        }
    )
    with wire("--repo", str(root), "--no-cache") as w:
        threads_before = w.status("Threads")
        count = 3 * MAX_CALLS_PER_SESSION
        for i in range(count):
            w.send(call(100 + i, "localize", issue=f"f_{i}_1 returns x"))
        replies = [w.receive() for _ in range(count)]
        assert sorted(r["id"] for r in replies) == list(range(100, 100 + count))
        refused = [r for r in replies if r["result"]["isError"]]
        assert refused, "no call was refused: the per-session cap did not hold"
        assert all("too many calls in flight" in r["result"]["content"][0]["text"] for r in refused)
        assert len(refused) <= count - MAX_CALLS_PER_SESSION
        assert w.status("Threads") <= threads_before + WORKERS + 4
    assert MAX_CALLS_PER_SESSION < MAX_QUEUED_CALLS


def test_a_client_that_stops_reading_stops_being_read(make_tree: Callable[..., Path]) -> None:
    # Each answer is about 1 MB: 2,000 lines of 500 characters.
    root = make_tree({"big.txt": ("x" * 499 + "\n") * 2000, "a.py": "x = 1\n"})
    with wire("--repo", str(root), "--no-cache") as w:
        w.send(call(1, "read", path="a.py"))
        assert w.receive()["id"] == 1
        before = w.status("VmHWM")
        count = 200  # unbounded, they would hold 200 MB of answers (several copies each)
        reads = [
            call(10 + i, "read", path="big.txt", max_lines=2000, max_line_chars=1000)
            for i in range(count)
        ]
        writer = threading.Thread(target=lambda: [w.send(r) for r in reads], daemon=True)
        writer.start()
        w.wait_idle()  # the server did all it would do while nobody reads
        grown_mb = (w.status("VmHWM") - before) / 1024
        answered = [w.receive() for _ in range(count)]
        writer.join(timeout=60)
        assert sorted(r["id"] for r in answered) == [10 + i for i in range(count)]
        assert grown_mb < 150, f"the server grew by {grown_mb:.0f} MB while nobody read"


def test_limits_are_far_above_what_agents_send() -> None:
    assert MAX_MESSAGE_BYTES > 2 * MAX_ISSUE_CHARS
    assert os.cpu_count() is None or WORKERS >= min(4, os.cpu_count() or 4)


def test_the_imports_tool_refuses_what_it_cannot_take(repo: Path) -> None:
    """The tool added this round: too many paths, a path outside, a bad direction or limit
    are one short refusal each; the server goes on answering."""
    with wire("--repo", str(repo), "--no-cache") as w:
        assert "257 items, over the cap of 256" in refusal(w, 1, "imports", paths=["a"] * 257)
        assert len(refusal(w, 2, "imports", paths=["../../etc/passwd"])) < 300
        assert len(refusal(w, 3, "imports", paths=["p" * 100_000])) < 2_100
        assert len(refusal(w, 4, "imports", paths=["x.py"], direction="d" * 500)) < 600
        assert len(refusal(w, 5, "imports", paths=["x.py"], limit=10**9)) < 300
        w.send(call(6, "grep", pattern="decode"))
        assert not w.receive()["result"]["isError"]
