"""The MCP protocol: acs's tools served over stdio or streamable HTTP (127.0.0.1 only) with
the official `mcp` SDK, 1.x or 2.x (their low-level servers register handlers differently;
everything else here is common to both).

A call is checked against its tool's schema, names one of the session's repositories (the
`--repo` folders, else, over stdio only, the roots the client shares), gets that repository's
warm snapshot and runs on the worker pool. Any failure is a tool error result (`isError`)
carrying acs's message, never more than `MAX_ERROR_CHARS`; the server keeps serving.

Over HTTP any local process can connect, so nothing it says is trusted: the repositories are
the `--repo` folders only (never a client's roots), and every request must carry the bearer
token the server printed at start (or was given in `ACS_MCP_TOKEN`). The caps of
`limits.py` bound what one client can make the server hold."""

# The server speaks the SDK's 1.x and 2.x APIs (`build_server` picks one); mypy sees the one
# installed, so the other's names and the 1.x untyped decorators are not errors here.
# mypy: disable-error-code="call-arg,attr-defined,untyped-decorator"

from __future__ import annotations

import hmac
import logging
import secrets
import socket
import sys
import traceback
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlparse

import anyio
import mcp.types as types
import orjson
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from .. import __version__
from ..cli_common import one_line
from ..echo import echo, quoted
from ..errors import AcsError, InvalidArgumentError
from .limits import (
    HTTP_SESSION_IDLE_S,
    MAX_CALLS_PER_SESSION,
    MAX_HTTP_CONNECTIONS,
    MAX_HTTP_SESSIONS,
    MAX_MESSAGE_BYTES,
    MAX_RESULT_CHARS,
)
from .schemas import with_defaults
from .stdio import Wire
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

# Characters of an error message sent to a client: the message names what went wrong and
# quotes inputs only in part (`acs.echo`); this bounds whatever a message might still hold.
MAX_ERROR_CHARS = 2_000

# The HTTP server's bearer token, when the user picks it (a client's configuration can then
# name it); otherwise one is made at each start.
TOKEN_VARIABLE = "ACS_MCP_TOKEN"
MIN_TOKEN_CHARS = 16


class AcsMcp:
    """The tools over a workspace, for any number of sessions."""

    def __init__(self, workspace: Workspace, roots: Sequence[Root] | None) -> None:
        self.workspace = workspace
        self.fixed_roots = list(roots) if roots else None
        # Without --repo, each session searches the roots its client shares: asked at its first
        # call, again after it says they changed, and when a call names a repository not
        # among them (for clients that never say).
        self._client_roots: weakref.WeakKeyDictionary[Any, list[Root]] = weakref.WeakKeyDictionary()
        self._in_flight: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

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
            return error_result(f"unknown tool {quoted(name, 60)} (tools: {', '.join(BY_NAME)})")
        client = client_of(session)
        running = self._in_flight.get(client, 0)
        if running >= MAX_CALLS_PER_SESSION:
            return error_result(
                f"too many calls in flight: this session has {running} unanswered (the cap "
                f"is {MAX_CALLS_PER_SESSION}); wait for answers before sending more"
            )
        self._in_flight[client] = running + 1
        try:
            args = with_defaults(tool.schema, arguments)
            asked = args.pop("repo", None)
            root = resolve(await self.roots(session, asked), asked)
            repo, freshness = await self.workspace.checkout(root)
            payload = await in_thread(lambda: tool.run(repo, args))
            if name == "localize":  # how warm the answer was: the latency an agent sees
                payload["stats"]["server"] = {"repo": root.name, **freshness}
            text = orjson.dumps(payload).decode()
        except AcsError as e:
            return error_result(one_line(str(e)))
        except Exception as e:  # a bug: the model is told, the server keeps serving
            traceback.print_exc(file=sys.stderr)
            return error_result(f"internal error ({type(e).__name__}: {e}); please report it")
        finally:
            self._in_flight[client] -= 1
        if len(text) > MAX_RESULT_CHARS:
            return error_result(
                f"the result has {len(text):,} characters, over the cap of {MAX_RESULT_CHARS:,}: "
                "ask for less (a smaller limit, max_lines or max_line_chars, narrower paths)"
            )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structuredContent=payload,
            isError=False,
        )

    async def roots(self, session: Any, asked: str | None) -> list[Root]:
        if self.fixed_roots is not None:
            return self.fixed_roots
        client = client_of(session)
        known = self._client_roots.get(client)
        if known is None or (asked is not None and not _names(known, asked)):
            known = self._client_roots[client] = await client_roots(session)
        return known

    def roots_changed(self, session: Any | None) -> None:
        """The client says its roots changed (notifications/roots/list_changed): its next
        call reads them again, so a folder it added is served and one it removed is refused.
        Without the session (SDK 1.x tells no handler of a notification which session sent it),
        every client's roots are read again: only stdio serves a client's roots, one client."""
        if session is None:
            self._client_roots.clear()
        else:
            self._client_roots.pop(client_of(session), None)


def client_of(session: Any) -> Any:
    """What stands for one client across its calls: SDK 1.x hands every call the
    connection's session; 2.x makes a session per request, over the connection's
    `Connection`."""
    return getattr(session, "_connection", None) or session


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
        content=[types.TextContent(type="text", text=echo(message, MAX_ERROR_CHARS))],
        isError=True,
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

        async def roots_changed(_: Any) -> None:
            app.roots_changed(None)

        server.notification_handlers[types.RootsListChangedNotification] = roots_changed
        return server

    async def on_list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=app.tool_list())

    async def on_call_tool(ctx: Any, params: Any) -> types.CallToolResult:
        return await app.call_tool(params.name, params.arguments, ctx.session)

    async def on_roots_changed(ctx: Any, params: Any) -> None:
        app.roots_changed(ctx.session)

    server = Server(  # SDK 2.x: handlers passed to the constructor
        "acs",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )
    # Registered apart: the constructor's keyword for it warns that roots are deprecated
    # (protocol 2026-07-28), and clients of older protocols still send it.
    server.add_notification_handler(
        "notifications/roots/list_changed", types.NotificationParams, on_roots_changed
    )
    return server


async def serve_stdio(server: Server) -> None:
    """Until the client closes stdin (calls still running are abandoned)."""
    wire = cast(Any, Wire())
    async with stdio_server(stdin=wire, stdout=wire) as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def serve_http(server: Server, port: int, token: str, token_hint: str) -> None:
    """Streamable HTTP at http://127.0.0.1:PORT/mcp (port 0: any free port), with the SDK's
    DNS-rebinding protection (only local Host and Origin headers are served), for clients
    that send `Authorization: Bearer TOKEN`."""
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
        max_request_body_size=MAX_MESSAGE_BYTES,
        max_sessions=MAX_HTTP_SESSIONS,
        session_idle_timeout=HTTP_SESSION_IDLE_S,
    )
    expected = f"Bearer {token}".encode()

    class Endpoint:  # an ASGI app, so Starlette hands it the raw request
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if not authorized(scope, expected):
                await unauthorized(send)
                return
            await manager.handle_request(scope, receive, send)

    app = Starlette(routes=[Route("/mcp", Endpoint())], lifespan=lambda _: manager.run())
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", limit_concurrency=MAX_HTTP_CONNECTIONS
    )
    print(f"acs mcp: serving http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)
    print(f"acs mcp: {token_hint}", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve(sockets=[sock])


def authorized(scope: Any, expected: bytes) -> bool:
    """Whether the request carries the server's bearer token (compared in constant time)."""
    sent = dict(scope.get("headers") or ()).get(b"authorization", b"")
    return hmac.compare_digest(sent, expected)


async def unauthorized(send: Any) -> None:
    body = b'{"error": "unauthorized: send the header Authorization: Bearer <token>"}'
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="acs mcp"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def run(workspace: Workspace, roots: Sequence[Root] | None, http: HttpAccess | None) -> None:
    server = build_server(AcsMcp(workspace, roots))
    if http is None:
        anyio.run(serve_stdio, server)
    else:
        if not roots:  # the CLI refuses this first; a client's roots are never trusted here
            raise ValueError("serving HTTP takes the repositories to serve (--repo)")
        anyio.run(serve_http, server, http.port, http.token, http.hint)


@dataclass(frozen=True)
class HttpAccess:
    """Where HTTP is served and the token a client must send."""

    port: int
    token: str
    hint: str  # what the start-up message says of the token


def http_access(port: int, environ: Mapping[str, str]) -> HttpAccess:
    """`ACS_MCP_TOKEN` when set (at least `MIN_TOKEN_CHARS` characters), else a new random
    token, printed at start for the user to give the client."""
    given = environ.get(TOKEN_VARIABLE)
    if given is None:
        token = secrets.token_urlsafe(32)
        hint = f"clients must send the header 'Authorization: Bearer {token}'"
        return HttpAccess(port, token, hint)
    if len(given) < MIN_TOKEN_CHARS or given != given.strip() or not given.isprintable():
        raise InvalidArgumentError(
            f"{TOKEN_VARIABLE} must be at least {MIN_TOKEN_CHARS} printable characters "
            "without surrounding spaces"
        )
    return HttpAccess(port, given, f"clients must send 'Authorization: Bearer ${TOKEN_VARIABLE}'")
