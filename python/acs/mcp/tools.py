"""The tools the MCP server offers: what a model reads about each, and what each runs.

Every result is sized for a model's context: lists are paged (`offset`/`limit`, or
`max_results`), `read` takes line ranges, and a cut is always said in the result
(`truncated`, with `next_offset`/`next_start` and a `note` on how to get the rest)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..localize import localize
from ..repo import Repo
from ..toolspec import TOOL_SPECS
from .limits import (
    MAX_ISSUE_CHARS,
    MAX_PATH_CHARS,
    MAX_PATTERN_CHARS,
    MAX_PATTERNS,
    MAX_PLAN_TASKS,
)
from .schemas import Schema, boolean, engine_arguments, integer, obj, string

Handler = Callable[[Repo, dict[str, Any]], dict[str, Any]]

# What one run_plan answer may hold; the largest task results are left out beyond it.
MAX_PLAN_CHARS = 60_000

REPO = string(
    "Repository to search: its name or path as the server lists them. Optional when the "
    "server searches one repository.",
    max_length=MAX_PATH_CHARS,
)
PATH = {"maxLength": MAX_PATH_CHARS}  # a path may be longer than a name
OFFSET = integer(
    "Skip this many results (paging: pass the previous answer's next_offset).",
    default=0,
    minimum=0,
    maximum=100_000,
)


def limit(what: str, *, default: int, maximum: int) -> Schema:
    return integer(f"Most {what} to return.", default=default, minimum=1, maximum=maximum)


def bounds(*, minimum: int, maximum: int, **default: int) -> dict[str, int]:
    """What the server lets a model ask of an engine integer (and its own `default`, sized
    for a model's context, where it differs from the engine's)."""
    return {"minimum": minimum, "maximum": maximum, **default}


def engine_call(tool: str, a: Mapping[str, Any], **replace: Any) -> dict[str, Any]:
    """The engine's arguments among a call's `a` (the server's own, `repo` and paging, left
    behind), `replace` on top: an argument the engine gains is passed on without an edit."""
    return {name: a[name] for name in TOOL_SPECS[tool] if name in a} | replace


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: Schema
    run: Handler


def page(
    items: list[Any], offset: int, count: int, more: bool, total: int | None = None
) -> dict[str, Any]:
    """The paging facts of a result: what was returned and, when cut, how to get the rest."""
    shown = items[offset : offset + count]
    info: dict[str, Any] = {"offset": offset, "returned": len(shown), "truncated": more}
    if total is not None:
        info["total"] = total
    if more:
        info["next_offset"] = offset + len(shown)
        info["note"] = f"more results: call again with offset={offset + len(shown)}"
    return {"items": shown, "page": info}


def run_localize(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    return dict(
        localize(
            repo,
            a["issue"],
            top_k=a["top_k"],
            top_k_functions=a["top_k_functions"],
            min_score=a["min_score"],
            budget_ms=a["budget_ms"],
            explain=a["explain"],
        )
    )


def run_grep(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    r = repo.grep(**engine_call("grep", a, max_results=a["offset"] + a["limit"]))
    shown = page(r["matches"], a["offset"], a["limit"], r["truncated"])
    return {
        "matches": shown["items"],
        "page": shown["page"],
        "files_searched": r["files_searched"],
    }


def run_find_files(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    r = repo.find_files(**engine_call("find_files", a, limit=a["offset"] + a["limit"]))
    more = a["offset"] + a["limit"] < r["total"]
    shown = page(r["files"], a["offset"], a["limit"], more, r["total"])
    return {"files": shown["items"], "page": shown["page"]}


def run_symbols(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    r = repo.symbols(**engine_call("symbols", a, limit=a["offset"] + a["limit"]))
    more = a["offset"] + a["limit"] < r["total"]
    shown = page(r["symbols"], a["offset"], a["limit"], more, r["total"])
    return {"symbols": shown["items"], "page": shown["page"]}


def run_outline(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    r: dict[str, Any] = dict(repo.outline(**engine_call("outline", a)))
    budget = [a["max_symbols"]]
    r["symbols"] = _prune(r["symbols"], budget)
    r["truncated"] = budget[0] < 0
    if r["truncated"]:
        r["note"] = "outline cut: read parts of the file, or raise max_symbols"
    return r


def _prune(nodes: list[dict[str, Any]], budget: list[int]) -> list[dict[str, Any]]:
    """`nodes` in document order until `budget[0]` nodes are kept (it goes below 0 when some
    are left out)."""
    kept = []
    for node in nodes:
        if budget[0] <= 0:
            budget[0] = -1
            break
        budget[0] -= 1
        node = dict(node)
        if "children" in node:
            node["children"] = _prune(node["children"], budget)
        kept.append(node)
    return kept


def run_read(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    r = repo.read(**engine_call("read", a))
    first = r["start_line"]
    # The engine marks a cut only inside an asked range; an open range that stops before the
    # end of the file is cut too.
    cut = r["truncated"] or (
        a["end"] is None and a["symbol"] is None and r["end_line"] < r["total_lines"]
    )
    out: dict[str, Any] = {
        "path": r["path"],
        "start_line": first,
        "end_line": r["end_line"],
        "total_lines": r["total_lines"],
        # Numbered like an editor's gutter, so a model can cite and edit exact lines.
        "content": "\n".join(f"{first + i}: {line}" for i, line in enumerate(r["lines"])),
        "truncated": cut,
    }
    if "symbol" in r:
        out["symbol"] = r["symbol"]
    if cut:
        out["next_start"] = r["end_line"] + 1
        out["note"] = f"cut at line {r['end_line']}: call again with start={r['end_line'] + 1}"
    return out


def run_references(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    r = dict(repo.references(**engine_call("references", a)))
    if r["truncated"]:
        r["note"] = "more uses exist: narrow with paths/include, or raise max_results"
    return r


def run_imports(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    r = dict(repo.imports(**engine_call("imports", a)))
    if r["truncated"]:
        r["note"] = "more files exist: ask about fewer paths, one direction, or raise limit"
    return r


def run_plan(repo: Repo, a: dict[str, Any]) -> dict[str, Any]:
    report = repo.run_plan({"tasks": a["tasks"]})
    tasks: list[dict[str, Any]] = [
        {k: t[k] for k in ("id", "tool", "status", "result", "error") if k in t}
        for t in report["tasks"]
    ]
    _fit(tasks, MAX_PLAN_CHARS)
    return {"tasks": tasks, "complete": report["complete"], "elapsed_ms": report["elapsed_ms"]}


def _fit(tasks: list[dict[str, Any]], budget: int) -> None:
    """Leave out the largest task results until the answer fits `budget` characters."""
    sizes = {i: len(orjson.dumps(t.get("result"))) for i, t in enumerate(tasks)}
    total = sum(sizes.values())
    for i in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if total <= budget:
            break
        total -= sizes[i]
        tasks[i]["result"] = None
        tasks[i]["truncated"] = True
        tasks[i]["note"] = (
            f"result of {sizes[i]:,} characters left out: run this task alone, or with a "
            "smaller limit/max_results"
        )


TOOLS: tuple[Tool, ...] = (
    Tool(
        "localize",
        "Find the code an issue or bug report is about: the files, functions and line ranges "
        "a fix most likely edits, ranked best first, each with a score in [0, 1], a "
        "`confident` flag (the precise head of each list) and, in `why`, its strongest "
        "evidence. Pass the whole issue text (title, description, stack traces, error "
        "messages). Start here on a new task, then read the top locations.",
        obj(
            {
                "issue": string(
                    "The issue text: title, description, tracebacks, logs.",
                    max_length=MAX_ISSUE_CHARS,
                ),
                "repo": REPO,
                "top_k": limit("files", default=10, maximum=50),
                "top_k_functions": limit("functions", default=20, maximum=100),
                "min_score": {
                    "type": "number",
                    "description": "Leave out locations scoring below this, in [0, 1].",
                    "default": 0.0,
                    "minimum": 0,
                    "maximum": 1,
                },
                "explain": boolean("Say why each location is ranked (`why`).", default=True),
                "budget_ms": integer(
                    "Time budget of the search in milliseconds (indexing excluded).",
                    default=30_000,
                    minimum=100,
                    maximum=120_000,
                ),
            },
            ["issue"],
        ),
        run_localize,
    ),
    Tool(
        "grep",
        "Search file contents with regular expressions (Rust regex syntax) or fixed strings, "
        "gitignore-aware, over the whole repository in one pass. Several patterns may be "
        "given at once; each match says which (`pattern`, by index). With `enclosing`, each "
        "match names the function or class around it.",
        obj(
            {
                **engine_arguments(
                    "grep",
                    left_out={
                        "patterns": "`pattern` takes a list",
                        "max_results": "paged by offset and limit",
                    },
                    pattern={
                        "type": ["string", "array"],
                        "maxLength": MAX_PATTERN_CHARS,
                        "items": {"type": "string", "maxLength": MAX_PATTERN_CHARS},
                        "maxItems": MAX_PATTERNS,
                        "description": "A regex (or several, as a list).",
                    },
                    context=bounds(minimum=0, maximum=10),
                    max_line_chars=bounds(minimum=20, maximum=1000, default=200),
                ),
                "repo": REPO,
                "offset": OFFSET,
                "limit": limit("matches", default=50, maximum=500),
            },
            ["pattern"],
        ),
        run_grep,
    ),
    Tool(
        "find_files",
        "Find files by path fragment or fuzzy name (`query`, ranked best first) and/or by "
        "glob (`glob`, e.g. '**/test_*.py').",
        obj(
            {
                **engine_arguments("find_files", left_out={}, limit=bounds(minimum=1, maximum=500)),
                "repo": REPO,
                "offset": OFFSET,
            },
            [],
        ),
        run_find_files,
    ),
    Tool(
        "symbols",
        "Find definitions (classes, functions, methods, ...) by name: exact bare or qualified "
        "name ('Class.method'), prefix, regex or fuzzy. Returns each definition's file and "
        "line range.",
        obj(
            {
                **engine_arguments(
                    "symbols", left_out={}, limit=bounds(minimum=1, maximum=500, default=50)
                ),
                "repo": REPO,
                "offset": OFFSET,
            },
            ["name"],
        ),
        run_symbols,
    ),
    Tool(
        "outline",
        "A file's definitions (classes, functions, methods), nested, with line ranges: its "
        "table of contents, to decide what to read.",
        obj(
            {
                **engine_arguments("outline", left_out={}, path=PATH),
                "repo": REPO,
                "max_symbols": limit("definitions", default=300, maximum=5000),
            },
            ["path"],
        ),
        run_outline,
    ),
    Tool(
        "read",
        "Read lines of a file (1-based, inclusive range), or the whole body of one definition "
        "(`symbol`, e.g. 'JSONDecoder.raw_decode'). Lines come numbered.",
        obj(
            {
                **engine_arguments(
                    "read",
                    left_out={},
                    path=PATH,
                    max_lines=bounds(minimum=1, maximum=2000, default=200),
                    max_line_chars=bounds(minimum=20, maximum=5000),
                ),
                "repo": REPO,
            },
            ["path"],
        ),
        run_read,
    ),
    Tool(
        "references",
        "Whole-word uses of an identifier across the repository, grouped by file and by the "
        "function or class each use sits in: who calls or mentions it.",
        obj(
            {
                **engine_arguments(
                    "references",
                    left_out={},
                    max_results=bounds(minimum=1, maximum=1000, default=100),
                ),
                "repo": REPO,
            },
            ["name"],
        ),
        run_references,
    ),
    Tool(
        "imports",
        "The repository files that Python files import, and the files that import them (the "
        "import graph, resolved to paths): where a fix one module away from the named file "
        "may land.",
        obj(
            {
                **engine_arguments("imports", left_out={}, limit=bounds(minimum=1, maximum=500)),
                "repo": REPO,
            },
            ["paths"],
        ),
        run_imports,
    ),
    Tool(
        "run_plan",
        "Run several searches in one round trip, concurrently: a list of tasks "
        "{id, tool, args}, where tool is grep, find_files, symbols, outline, read, "
        "references, bm25 or imports and args are that tool's arguments. A string argument may use "
        "an earlier task's result: '$1.files[0].path', '$2.symbols[*].path' (the task then "
        "waits for it). Returns each task's status and result or error.",
        obj(
            {
                "tasks": {
                    "type": "array",
                    "maxItems": MAX_PLAN_TASKS,
                    "description": "The tasks, e.g. [{'id': 1, 'tool': 'symbols', 'args': "
                    "{'name': 'Foo'}}, {'id': 2, 'tool': 'read', 'args': {'path': "
                    "'$1.symbols[0].path', 'symbol': 'Foo'}}].",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "tool": {"type": "string"},
                            "args": {"type": "object"},
                        },
                        "required": ["id", "tool", "args"],
                    },
                },
                "repo": REPO,
            },
            ["tasks"],
        ),
        run_plan,
    ),
)

BY_NAME: Mapping[str, Tool] = {t.name: t for t in TOOLS}
