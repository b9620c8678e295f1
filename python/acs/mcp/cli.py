"""`acs mcp`: serve acs's tools to coding agents over the Model Context Protocol.

acs mcp [--repo PATH]... [--http PORT] [--exclude GLOB]... [--recheck-ms MS]
        [--cache-dir DIR | --no-cache]

Over HTTP (`--http`), `--repo` is required and clients must send the bearer token printed
at start (or set beforehand in ACS_MCP_TOKEN).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..cli_common import UsageError, add_index_cache_args, index_cache
from ..errors import AcsError
from ..extras import install_hint

INSTALL_HINT = install_hint("mcp")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "mcp",
        help="serve the search tools to coding agents (Model Context Protocol)",
        description="A Model Context Protocol server: localize, grep, find_files, symbols, "
        "outline, read, references and run_plan over the given repositories (or, without "
        "--repo, the roots the client shares), indexes kept warm between calls. stdio by "
        "default; --http PORT serves streamable HTTP on 127.0.0.1 to clients that send the "
        "bearer token printed at start (or set in ACS_MCP_TOKEN), for the --repo folders "
        "only.",
    )
    p.add_argument(
        "--repo",
        action="append",
        metavar="PATH",
        help="a repository folder to serve (repeatable; default over stdio: the client's "
        "roots; required with --http)",
    )
    p.add_argument(
        "--http",
        type=int,
        metavar="PORT",
        help="serve streamable HTTP at http://127.0.0.1:PORT/mcp instead of stdio (0: any)",
    )
    p.add_argument(
        "--exclude", action="append", metavar="GLOB", help="leave these paths out (repeatable)"
    )
    p.add_argument(
        "--recheck-ms",
        type=float,
        default=250.0,
        metavar="MS",
        help="a check of the files on disk serves the calls that arrive within MS of it "
        "(default 250; 0: check before every call)",
    )
    add_index_cache_args(p)
    p.set_defaults(func=cmd_mcp)
    return p


def cmd_mcp(args: argparse.Namespace) -> int:
    if args.http is not None and not 0 <= args.http < 65536:
        raise UsageError(f"--http must be a port number in [0, 65535], got {args.http}")
    if not 0 <= args.recheck_ms < 86_400_000:  # also false for nan
        raise UsageError(
            f"--recheck-ms must be a number of milliseconds >= 0, got {args.recheck_ms}"
        )
    try:
        from . import server
    except ImportError as e:
        if e.name is None or not e.name.startswith(("mcp", "anyio", "starlette", "uvicorn")):
            raise
        print(
            f"acs: `acs mcp` needs the MCP SDK ({e.name} is missing): {INSTALL_HINT}",
            file=sys.stderr,
        )
        return 1
    from .threads import exit_leaving_calls
    from .workspace import Workspace, root_at

    try:
        roots = [root_at(path) for path in args.repo or ()]
    except AcsError as e:
        raise UsageError(f"--repo: {e}") from e
    http = None
    if args.http is not None:
        if not roots:
            raise UsageError(
                "--http needs --repo: over HTTP any local process can connect, so the "
                "repositories are the ones you name, never a client's roots"
            )
        try:
            http = server.http_access(args.http, os.environ)
        except AcsError as e:
            raise UsageError(str(e)) from e
    workspace = Workspace(
        index_cache=index_cache(args),
        exclude=args.exclude or (),
        recheck_ms=args.recheck_ms,
    )
    try:
        server.run(workspace, roots or None, http)
    except KeyboardInterrupt:
        pass
    exit_leaving_calls(0)
    return 0
