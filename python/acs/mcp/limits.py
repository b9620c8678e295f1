"""Caps on what one MCP client can make the server hold or do. Each sits far above what a
coding agent sends (an issue of a few KB, patterns of a few dozen characters, a handful of
calls at once) and far below what would exhaust the machine; each is named in the error a
client gets when it crosses it. The README's Errors section lists them."""

from __future__ import annotations

import os

from ..llm.planlang import MAX_PLAN_TASKS as MAX_PLAN_TASKS  # the engine's cap on a plan

# -- one message ---------------------------------------------------------------------------
# Bytes of one JSON-RPC message (a stdio line, an HTTP request body): checked before it is
# parsed, so a 400 MB argument is never held, parsed or quoted back.
MAX_MESSAGE_BYTES = 4 << 20

# -- one call's arguments (JSON Schema `maxLength` / `maxItems`, checked before any work) ---
MAX_ISSUE_CHARS = 1_000_000  # an issue with its logs and tracebacks
MAX_PATTERN_CHARS = 10_000  # one grep pattern
MAX_PATTERNS = 1_000  # grep patterns of one call
MAX_PATH_CHARS = 4_096  # a path, a repository name
MAX_NAME_CHARS = 1_000  # a symbol name, a query, a glob
MAX_GLOBS = 256  # include, exclude, paths: entries of each list
# Characters of all of a call's arguments together, strings and keys counted (run_plan's task
# arguments have no schema of their own here: the engine checks them, after this bound).
MAX_ARGUMENTS_CHARS = 1_100_000

# -- one call's result ------------------------------------------------------------------------
# Characters of one tool result: a result over it is an error that says how to narrow the
# call (a model could not use it whole, and a client that stops reading holds it in memory).
MAX_RESULT_CHARS = 2_000_000

# -- concurrency: back-pressure rather than a thread per call -------------------------------
# Engine calls run on this many worker threads (the engine parallelises each call itself).
WORKERS = max(4, min(16, os.cpu_count() or 4))
# Calls running or waiting for a worker, all sessions together; one more is refused at once
# ("server busy") instead of queueing without bound.
MAX_QUEUED_CALLS = 64
# Tool calls of one session in flight at once; one more is refused at once.
MAX_CALLS_PER_SESSION = 16
# stdio: requests read but not yet answered. At this many the server stops reading stdin
# until answers are written, so a client that stops reading stops being read.
MAX_PENDING_REQUESTS = 32

# -- HTTP sessions --------------------------------------------------------------------------
MAX_HTTP_SESSIONS = 64  # one more session is refused (503) until one ends
HTTP_SESSION_IDLE_S = 15 * 60.0  # a session with no request for this long is closed
MAX_HTTP_CONNECTIONS = 256  # concurrent connections; more get 503
