"""`acs mcp`, the Model Context Protocol server, through the official SDK's client: the server
runs as a child process (`python -m acs mcp`), as a coding agent would start it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import acs

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, types  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

TOOLS = {
    "localize", "grep", "find_files", "symbols", "outline", "read", "references", "imports",
    "run_plan",
}  # fmt: skip

FILES = {
    "pkg/__init__.py": "",
    "pkg/decoder.py": (
        "class DecodeError(ValueError):\n"
        "    pass\n"
        "\n"
        "\n"
        "def decode(text):\n"
        "    if not text:\n"
        '        raise DecodeError("Expecting value: line 1 column 1")\n'
        "    return parse_value(text)\n"
        "\n"
        "\n"
        "def parse_value(text):\n"
        "    return text.strip()\n"
    ),
    "pkg/cli.py": (
        "from pkg.decoder import decode\n\n\ndef main(argv):\n    return decode(argv[0])\n"
    ),
    "tests/test_decoder.py": "from pkg.decoder import decode\n\n\ndef test_decode():\n"
    '    assert decode("1") == "1"\n',
}
ISSUE = 'decode("") raises DecodeError "Expecting value: line 1 column 1" for an empty string'

# The child must import this acs (the worktree's), whatever the environment says.
PYTHONPATH = os.pathsep.join(
    [str(Path(acs.__file__).parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
)
ENV = {**os.environ, "PYTHONPATH": PYTHONPATH}


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "acs", "mcp", *args]


@asynccontextmanager
async def session(*args: str, **client: Any) -> AsyncIterator[ClientSession]:
    """An initialized client session with `acs mcp ARGS` over stdio."""
    cmd = server_command(*args)
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=ENV)
    async with stdio_client(params) as (read, write), ClientSession(read, write, **client) as s:
        await s.initialize()
        yield s


def dump(result: types.CallToolResult) -> dict[str, Any]:
    """The result as on the wire (camelCase under SDK 1.x and 2.x alike)."""
    return result.model_dump(by_alias=True)


async def ok(s: ClientSession, tool: str, **args: Any) -> dict[str, Any]:
    """A tool's structured answer; its text block says the same."""
    wire = dump(await s.call_tool(tool, args))
    assert not wire["isError"], wire["content"][0]["text"]
    assert json.loads(wire["content"][0]["text"]) == wire["structuredContent"]
    return wire["structuredContent"]


async def refused(s: ClientSession, tool: str, **args: Any) -> str:
    """The message of a tool error result."""
    wire = dump(await s.call_tool(tool, args))
    assert wire["isError"], wire["structuredContent"]
    return wire["content"][0]["text"]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout=60))


@pytest.fixture
def repo(make_tree: Callable[[Mapping[str, str]], Path]) -> Path:
    return make_tree(FILES)


def test_lists_nine_read_only_tools_with_schemas(repo: Path) -> None:
    async def main() -> None:
        async with session("--repo", str(repo)) as s:
            listed = [t.model_dump(by_alias=True) for t in (await s.list_tools()).tools]
        assert {t["name"] for t in listed} == TOOLS
        for tool in listed:
            assert len(tool["description"]) > 60, tool["name"]
            schema = tool["inputSchema"]
            assert schema["type"] == "object" and schema["additionalProperties"] is False
            assert "repo" in schema["properties"]
            assert all(p.get("description") for p in schema["properties"].values())
            assert tool["annotations"]["readOnlyHint"] is True

    run(main())


def test_every_tool_answers_from_the_repository(repo: Path) -> None:
    async def main() -> None:
        async with session("--repo", str(repo), "--no-cache") as s:
            found = await ok(s, "localize", issue=ISSUE)
            assert found["files"][0]["path"] == "pkg/decoder.py"
            assert found["functions"][0]["name"] == "decode"
            assert found["why"] and found["lines"]
            grep = await ok(s, "grep", pattern="Expecting value", enclosing=True)
            assert [(m["path"], m["line"]) for m in grep["matches"]] == [("pkg/decoder.py", 7)]
            assert grep["matches"][0]["enclosing"]["name"] == "decode"
            files = await ok(s, "find_files", query="decoder")
            assert files["files"][0]["path"] == "pkg/decoder.py"
            assert [f["path"] for f in (await ok(s, "find_files", glob="tests/*"))["files"]] == [
                "tests/test_decoder.py"
            ]
            symbols = await ok(s, "symbols", name="DecodeError")
            assert symbols["symbols"][0]["kind"] == "class"
            outline = await ok(s, "outline", path="pkg/decoder.py")
            assert [n["name"] for n in outline["symbols"]] == [
                "DecodeError",
                "decode",
                "parse_value",
            ]
            body = await ok(s, "read", path="pkg/decoder.py", symbol="parse_value")
            assert body["content"] == "11: def parse_value(text):\n12:     return text.strip()"
            lines = await ok(s, "read", path="pkg/decoder.py", start=5, end=6)
            assert lines["content"] == "5: def decode(text):\n6:     if not text:"
            refs = await ok(s, "references", name="decode")
            assert {f["path"] for f in refs["files"]} == {
                "pkg/decoder.py",
                "pkg/cli.py",
                "tests/test_decoder.py",
            }
            plan = await ok(
                s,
                "run_plan",
                tasks=[
                    {"id": 1, "tool": "symbols", "args": {"name": "decode"}},
                    {"id": 2, "tool": "read", "args": {"path": "$1.symbols[0].path"}},
                    {"id": 3, "tool": "grep", "args": {"pattern": "("}},
                ],
            )
            status = {t["id"]: t["status"] for t in plan["tasks"]}
            assert status == {1: "ok", 2: "ok", 3: "error"}
            assert plan["tasks"][1]["result"]["lines"][0] == "class DecodeError(ValueError):"

    run(main())


def test_the_second_localize_is_warm(repo: Path) -> None:
    async def main() -> None:
        async with session("--repo", str(repo), "--no-cache") as s:
            first = (await ok(s, "localize", issue=ISSUE))["stats"]
            second = (await ok(s, "localize", issue=ISSUE))["stats"]
        assert first["server"]["warm"] is False and first["server"]["open_ms"] > 0
        assert second["server"] == {**second["server"], "warm": True, "open_ms": 0.0}
        assert second["server"]["files"] == len(FILES)

    run(main())


def test_a_repository_changed_on_disk_is_seen(repo: Path) -> None:
    async def main() -> None:
        async with session("--repo", str(repo), "--no-cache", "--recheck-ms", "0") as s:
            assert (await ok(s, "grep", pattern="fresh_name"))["matches"] == []
            (repo / "pkg" / "new.py").write_text("def fresh_name():\n    pass\n")
            assert (await ok(s, "symbols", name="fresh_name"))["symbols"][0]["path"] == "pkg/new.py"
            # An edit in place that keeps the file's size: only its mtime says it changed.
            decoder = repo / "pkg" / "decoder.py"
            text = decoder.read_text()
            time.sleep(0.01)
            decoder.write_text(text.replace("parse_value", "parse_VALUE"))
            assert (await ok(s, "grep", pattern="parse_VALUE"))["page"]["returned"] == 2
            (repo / "pkg" / "cli.py").unlink()
            assert "no such file" in await refused(s, "outline", path="pkg/cli.py")
            stats = (await ok(s, "localize", issue=ISSUE))["stats"]["server"]
            assert stats["warm"] is True  # unchanged since the last call
            (repo / "pkg" / "more.py").write_text("x = 1\n")
            stats = (await ok(s, "localize", issue=ISSUE))["stats"]["server"]
            assert stats["warm"] is False and stats["reopened"] is True

    run(main())


def test_a_change_is_seen_once_the_recheck_window_has_passed(repo: Path) -> None:
    async def main() -> None:
        async with session("--repo", str(repo), "--no-cache", "--recheck-ms", "100") as s:
            assert (await ok(s, "grep", pattern="late_name"))["matches"] == []
            (repo / "late.py").write_text("late_name = 1\n")
            time.sleep(0.15)
            assert (await ok(s, "grep", pattern="late_name"))["page"]["returned"] == 1

    run(main())


def test_concurrent_calls_all_answer(repo: Path) -> None:
    async def main() -> None:
        async with session("--repo", str(repo), "--no-cache") as s:
            calls = [
                s.call_tool("localize", {"issue": ISSUE}),
                s.call_tool("grep", {"pattern": "decode"}),
                s.call_tool("grep", {"pattern": "("}),
                s.call_tool("symbols", {"name": "decode"}),
                s.call_tool("read", {"path": "pkg/cli.py"}),
                s.call_tool("references", {"name": "parse_value"}),
            ] * 4
            results = [dump(r) for r in await asyncio.gather(*calls)]
        assert [r["isError"] for r in results] == [False, False, True, False, False, False] * 4
        assert all(
            r["structuredContent"] == results[i % 6]["structuredContent"]
            for i, r in enumerate(results)
            if i % 6 != 0
        )

    run(main())


def test_nothing_outside_the_roots_is_read(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password = hunter2\n")
    (repo / "link.txt").symlink_to(secret)

    async def main() -> None:
        async with session("--repo", str(repo)) as s:
            assert "outside the repository" in await refused(s, "read", path="../secret.txt")
            assert "outside the repository" in await refused(s, "read", path=str(secret))
            assert "unknown repository" in await refused(
                s, "grep", pattern="password", repo=str(tmp_path)
            )
            assert "unknown repository" in await refused(s, "outline", path="x", repo="/etc")
            # A symlink that leads out is not one of the snapshot's files.
            await refused(s, "read", path="link.txt")
            assert (await ok(s, "grep", pattern="hunter2"))["matches"] == []

    run(main())


def test_errors_are_tool_results_and_the_server_keeps_serving(repo: Path) -> None:
    async def main() -> None:
        async with session("--repo", str(repo)) as s:
            assert "unclosed group" in await refused(s, "grep", pattern="(")
            assert "unknown argument(s) patern" in await refused(s, "grep", patern="x")
            assert "'pattern' is required" in await refused(s, "grep")
            assert "expected integer, got string" in await refused(s, "read", path="a", start="1")
            assert "is not one of" in await refused(s, "grep", pattern="x", case="loud")
            assert "outside [1, 500]" in await refused(s, "grep", pattern="x", limit=0)
            assert "unknown tool" in await refused(s, "rm_rf")
            assert "the issue text is empty" in await refused(s, "localize", issue="  ")
            assert (await ok(s, "grep", pattern="decode"))["matches"]

    run(main())


def test_results_are_paged_and_cuts_are_said(make_tree: Callable[..., Path]) -> None:
    root = make_tree({"many.py": "".join(f"hit_{i} = {i}\n" for i in range(30))})
    direct = acs.Repo.open(root, index_cache=False).grep("hit_", max_results=100)["matches"]

    async def main() -> None:
        async with session("--repo", str(root)) as s:
            first = await ok(s, "grep", pattern="hit_", limit=12)
            assert first["page"] == {
                "offset": 0,
                "returned": 12,
                "truncated": True,
                "next_offset": 12,
                "note": "more results: call again with offset=12",
            }
            rest = await ok(s, "grep", pattern="hit_", offset=12, limit=100)
            assert rest["page"]["truncated"] is False
            assert first["matches"] + rest["matches"] == direct
            head = await ok(s, "read", path="many.py", max_lines=10)
            assert head["truncated"] and head["next_start"] == 11
            tail = await ok(s, "read", path="many.py", start=head["next_start"])
            assert tail["content"].splitlines()[-1] == "30: hit_29 = 29"
            files = await ok(s, "find_files", glob="*", limit=1)
            assert files["page"]["total"] == 1 and not files["page"]["truncated"]

    run(main())


def test_a_large_plan_answer_leaves_out_its_largest_results(make_tree: Callable) -> None:
    root = make_tree({"big.py": ("x = '" + "y" * 190 + "'\n") * 400, "small.py": "z = 1\n"})

    async def main() -> None:
        async with session("--repo", str(root)) as s:
            plan = await ok(
                s,
                "run_plan",
                tasks=[
                    {"id": 1, "tool": "read", "args": {"path": "big.py", "max_line_chars": 500}},
                    {"id": 2, "tool": "read", "args": {"path": "small.py"}},
                ],
            )
        big, small = plan["tasks"]
        assert big["result"] is None and big["truncated"] and "left out" in big["note"]
        assert small["result"]["lines"] == ["z = 1"]

    run(main())


def test_without_repo_the_clients_roots_are_searched(repo: Path, make_tree: Callable) -> None:
    other = make_tree({"other.py": "def decode():\n    pass\n"})

    async def roots(*_: Any) -> types.ListRootsResult:
        return types.ListRootsResult(
            roots=[
                types.Root(uri=repo.as_uri(), name="main"),
                types.Root(uri=other.as_uri(), name="other"),
            ]
        )

    async def main() -> None:
        async with session(list_roots_callback=roots) as s:
            assert "argument 'repo' is required" in await refused(s, "symbols", name="decode")
            hit = await ok(s, "symbols", name="decode", repo="other")
            assert hit["symbols"][0]["path"] == "other.py"
            hit = await ok(s, "symbols", name="decode", repo=str(repo))
            assert hit["symbols"][0]["path"] == "pkg/decoder.py"
            assert "unknown repository" in await refused(s, "symbols", name="x", repo="/")
        async with session() as s:  # a client that shares no roots
            assert "--repo PATH" in await refused(s, "symbols", name="decode")

    run(main())


def test_a_client_that_leaves_mid_call_ends_the_server(make_tree: Callable) -> None:
    # Large enough that opening and indexing it is still under way when the client leaves.
    root = make_tree(
        {
            f"m{i}/f{j}.py": f"def f_{i}_{j}(x):\n    return x\n"
            for i in range(40)
            for j in range(50)
        }
    )
    server = subprocess.Popen(
        server_command("--repo", str(root), "--no-cache"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    assert server.stdin and server.stdout
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "localize", "arguments": {"issue": "f_3_4 returns x"}},
        },
    ]
    server.stdin.write(json.dumps(messages[0]).encode() + b"\n")
    server.stdin.flush()
    assert json.loads(server.stdout.readline())["id"] == 1
    for message in messages[1:]:
        server.stdin.write(json.dumps(message).encode() + b"\n")
    server.stdin.flush()
    time.sleep(0.05)
    server.stdin.close()  # the client is gone, its call unanswered
    status = server.wait(timeout=15)
    errors = server.stderr.read()
    assert status == 0, errors.decode()
    assert b"Traceback" not in errors

    async def main() -> None:  # the next session is served as usual
        async with session("--repo", str(root)) as s:
            assert (await ok(s, "symbols", name="f_3_4"))["symbols"][0]["path"] == "m3/f4.py"

    run(main())


def test_streamable_http_on_localhost(repo: Path) -> None:
    server = subprocess.Popen(
        server_command("--repo", str(repo), "--http", "0"),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
        text=True,
    )
    try:
        assert server.stderr
        line = server.stderr.readline()
        assert line.startswith("acs mcp: serving http://127.0.0.1:"), line
        url = line.split()[-1]
        token = server.stderr.readline().split("Bearer ")[1].rstrip("'\n")

        async def main() -> None:
            client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
            async with client, streamable_http_client(url, http_client=client) as streams:
                async with ClientSession(streams[0], streams[1]) as s:
                    await s.initialize()
                    assert {t.name for t in (await s.list_tools()).tools} == TOOLS
                    found = await ok(s, "localize", issue=ISSUE)
                    assert found["files"][0]["path"] == "pkg/decoder.py"
                    assert "unclosed group" in await refused(s, "grep", pattern="(")

        run(main())
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_without_the_sdk_acs_mcp_says_how_to_install(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from acs.cli import main

    monkeypatch.setitem(sys.modules, "mcp", None)  # `import mcp` now fails
    monkeypatch.delitem(sys.modules, "acs.mcp.server", raising=False)
    assert main(["mcp", "--repo", str(repo)]) == 1
    assert "pip install 'agentic-code-search[mcp]'" in capsys.readouterr().err


def test_a_repo_that_is_not_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    out = subprocess.run(
        server_command("--repo", str(tmp_path / "missing")),
        capture_output=True,
        text=True,
        env=ENV,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert out.returncode == 2 and "not a directory" in out.stderr


def test_a_client_that_changes_its_roots_is_served_the_new_ones(make_tree: Callable) -> None:
    first = make_tree({"a.py": "def alpha():\n    pass\n"})
    second = make_tree({"b.py": "def beta():\n    pass\n"})
    shared = [first]

    async def roots(*_: Any) -> types.ListRootsResult:
        return types.ListRootsResult(
            roots=[types.Root(uri=p.as_uri(), name=p.name) for p in shared]
        )

    async def changed(s: ClientSession, *now: Path) -> None:
        shared[:] = now
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # roots are deprecated from protocol 2026-07-28
            await s.send_roots_list_changed()

    async def main() -> None:
        async with session(list_roots_callback=roots) as s:
            assert (await ok(s, "symbols", name="alpha"))["symbols"]  # its one root: no repo
            assert "unknown repository" in await refused(
                s, "symbols", name="beta", repo=str(second)
            )
            await changed(s, first, second)
            # Two roots now: a call must say which, and the new one is served.
            assert "argument 'repo' is required" in await refused(s, "symbols", name="alpha")
            hit = await ok(s, "symbols", name="beta", repo=str(second))
            assert hit["symbols"][0]["path"] == "b.py"
            await changed(s, second)
            assert "unknown repository" in await refused(
                s, "symbols", name="alpha", repo=str(first)
            )
            assert (await ok(s, "symbols", name="beta"))["symbols"][0]["path"] == "b.py"

    run(main())
