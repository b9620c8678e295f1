"""The MCP protocol: acs's tools served over stdio or streamable HTTP (127.0.0.1 only) with
the official `mcp` SDK, 1.x or 2.x (their low-level servers register handlers differently;
everything else here is common to both).

A call is checked against its tool's schema, names one of the session's repositories (the
`--repo` folders, else the roots the client shares), gets that repository's warm snapshot
and runs on a worker thread. Any failure is a tool error result (`isError`) carrying acs's
message; the server keeps serving."""

# The server speaks the SDK's 1.x and 2.x APIs (`build_server` picks one); mypy sees the one
# installed, so the other's names and the 1.x untyped decorators are not errors here.
# mypy: disable-error-code="call-arg,attr-defined,untyped-decorator"

from __future__ import annotations

import logging
import socket
import sys
import traceback
import warnings
import weakref
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlparse

import anyio
import mcp.types as types
import orjson
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from .. import __version__
from ..cli_common import one_line
from ..errors import AcsError
from .schemas import with_defaults
from .threads import in_thread
from .tools import BY_NAME, TOOLS
from .workspace import Root, Workspace, resolve, root_at

log = logging.getLogger("acs.mcp")

INSTRUCTIONS = (
    "acs searches code repositories fast (an index kept warm between calls). For a bug "
    "report or task, call `localize` with the issue text first: it returns the files, "
    "functions and lines a fix most likely edits. Then `read` (line ranges or a "
    "definition), `outline`, `symbols`, `references`, `grep` and `find_files` go further; "
    "`run_plan` runs several of them in one round trip. Paths are relative to the "
    "repository root; results say when they are cut and how to get the rest."
)

ROOTS_TIMEOUT_S = 10.0


class AcsMcp:
    """The tools over a workspace, for any number of sessions."""

    def __init__(self, workspace: Workspace, roots: Sequence[Root] | None) -> None:
        self.workspace = workspace
        self.fixed_roots = list(roots) if roots else None
        # Without --repo, each session searches the roots its client shares (asked once,
        # asked again when a call names a repository not among them).
        self._client_roots: weakref.WeakKeyDictionary[Any, list[Root]] = weakref.WeakKeyDictionary()

    def tool_list(self) -> list[types.Tool]:
        hints = types.ToolAnnotations(readOnlyHint=True, openWorldHint=False)
        return [
            types.Tool(
                name=t.name, description=t.description, inputSchema=t.schema, annotations=hints
            )
            for t in TOOLS
        ]

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None, session: Any
    ) -> types.CallToolResult:
        tool = BY_NAME.get(name)
        if tool is None:
            return error_result(f"unknown tool {name!r} (tools: {', '.join(BY_NAME)})")
        try:
            args = with_defaults(tool.schema, arguments)
            asked = args.pop("repo", None)
            root = resolve(await self.roots(session, asked), asked)
            repo, freshness = await self.workspace.checkout(root)
            payload = await in_thread(lambda: tool.run(repo, args))
        except AcsError as e:
            return error_result(one_line(str(e)))
        except Exception as e:  # a bug: the model is told, the server keeps serving
            traceback.print_exc(file=sys.stderr)
            return error_result(f"internal error ({type(e).__name__}: {e}); please report it")
        if name == "localize":  # how warm the answer was: the latency an agent sees
            payload["stats"]["server"] = {"repo": root.name, **freshness}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=orjson.dumps(payload).decode())],
            structuredContent=payload,
            isError=False,
        )

    async def roots(self, session: Any, asked: str | None) -> list[Root]:
        if self.fixed_roots is not None:
            return self.fixed_roots
        known = self._client_roots.get(session)
        if known is None or (asked is not None and not _names(known, asked)):
            known = self._client_roots[session] = await client_roots(session)
        return known


def _names(roots: Sequence[Root], asked: str) -> bool:
    try:
        resolve(roots, asked)
    except AcsError:
        return False
    return True


async def client_roots(session: Any) -> list[Root]:
    """The folders the client shares (MCP roots/list); none when it shares none."""
    try:
        with anyio.fail_after(ROOTS_TIMEOUT_S), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # roots are deprecated from protocol 2026-07-28
            listed = await session.list_roots()
    except Exception as e:  # no roots capability, a timeout: as if it shared none
        log.info("roots/list failed: %s", e)
        return []
    roots = []
    for root in listed.roots:
        url = urlparse(str(root.uri))
        try:
            roots.append(root_at(unquote(url.path), root.name))
        except AcsError:
            continue  # gone since, or not a folder
    return roots


def error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], isError=True
    )


def build_server(app: AcsMcp) -> Server:
    if hasattr(Server, "call_tool"):  # SDK 1.x: handlers registered by decorators
        server = Server("acs", version=__version__, instructions=INSTRUCTIONS)

        @server.list_tools()
        async def list_tools() -> list[types.Tool]:
            return app.tool_list()

        @server.call_tool(validate_input=False)  # checked by acs, the same under 2.x
        async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
            return await app.call_tool(name, arguments, server.request_context.session)

        return server

    async def on_list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=app.tool_list())

    async def on_call_tool(ctx: Any, params: Any) -> types.CallToolResult:
        return await app.call_tool(params.name, params.arguments, ctx.session)

    return Server(  # SDK 2.x: handlers passed to the constructor
        "acs",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )


async def serve_stdio(server: Server) -> None:
    """Until the client closes stdin (calls still running are abandoned)."""
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def serve_http(server: Server, port: int) -> None:
    """Streamable HTTP at http://127.0.0.1:PORT/mcp (port 0: any free port), with the SDK's
    DNS-rebinding protection: only local Host and Origin headers are served."""
    import uvicorn
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.applications import Starlette
    from starlette.routing import Route

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    port = sock.getsockname()[1]
    hosts = [f"127.0.0.1:{port}", f"localhost:{port}"]
    manager = StreamableHTTPSessionManager(
        app=server,
        security_settings=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=hosts,
            allowed_origins=[f"http://{h}" for h in hosts],
        ),
    )

    class Endpoint:  # an ASGI app, so Starlette hands it the raw request
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await manager.handle_request(scope, receive, send)

    app = Starlette(routes=[Route("/mcp", Endpoint())], lifespan=lambda _: manager.run())
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    print(f"acs mcp: serving http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve(sockets=[sock])


def run(workspace: Workspace, roots: Sequence[Root] | None, http_port: int | None) -> None:
    server = build_server(AcsMcp(workspace, roots))
    if http_port is None:
        anyio.run(serve_stdio, server)
    else:
        anyio.run(serve_http, server, http_port)
