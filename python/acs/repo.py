"""`acs.Repo`: a repository snapshot and the search tools over it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import orjson

from . import _core, arguments
from .cachedir import default_index_cache, max_cache_bytes
from .errors import AcsError, InvalidArgumentError, error_for
from .execution import (
    PlanLike,
    PlanRun,
    engine_json,
    plan_bytes,
)
from .history import History
from .types import (
    Bm25Result,
    CaseMode,
    FindFilesResult,
    GrepResult,
    ImportsResult,
    IndexReport,
    MatchMode,
    OpenStats,
    OutlineResult,
    ReadResult,
    ReferencesResult,
    RunReport,
    SymbolKind,
    SymbolResult,
    ToolName,
)

StrPath = str | os.PathLike[str]


class Repo:
    """An immutable, in-memory snapshot of a repository's text files.

    Open a directory (gitignore-aware; no git needed) or a commit of a git repository (read
    from the object database, no checkout). Every method releases the GIL while it runs, so
    threads calling into one `Repo` run in parallel.
    """

    def __init__(self, native: _core.Repo, index_cache: StrPath | None = None) -> None:
        self._native = native
        self._index_cache = index_cache
        self._index_report: IndexReport | None = None
        self._history: History | None = None

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: StrPath,
        *,
        commit: str | None = None,
        max_file_size: int | None = None,
        hidden: bool = False,
        exclude: Sequence[str] = (),
        index_cache: StrPath | bool = True,
    ) -> Repo:
        """Open `path`: its files as they are on disk, or, with `commit`, that commit of the
        git repository at `path` (a work tree, a `.git` folder or a bare mirror).

        `.gitignore`/`.ignore` rules apply, hidden files, binary files and files over
        `max_file_size` bytes (default 4 MiB) are skipped, and so is whatever matches an
        `exclude` glob (ripgrep `-g` conventions, e.g. `site-packages`).

        `index_cache` is where `index()` keeps its per-file store: True for the user's
        cache folder (see `acs.cachedir`), False for memory only, or a folder."""
        path = arguments.os_path(path, "path")
        if max_file_size is not None and (
            isinstance(max_file_size, bool)
            or not isinstance(max_file_size, int)
            or not 0 <= max_file_size < 2**64
        ):
            raise arguments.invalid(
                "max_file_size", f"expected a number of bytes, got {max_file_size!r}"
            )
        opts: dict[str, Any] = {
            "max_file_size": max_file_size,
            "hidden": bool(hidden),
            "exclude": [
                arguments.text(g, "exclude") for g in arguments.strings(exclude, "exclude")
            ],
        }
        cache: StrPath | None
        if index_cache is True:
            cache = default_index_cache()
        elif index_cache is False or index_cache is None:
            cache = None
        else:
            cache = arguments.os_path(index_cache, "index_cache", "a folder or a bool", utf8=True)
        if commit is None:
            return cls(_core.Repo.open_dir(path, **opts), cache)
        commit = arguments.text(commit, "commit")
        return cls(_core.Repo.open_git(path, commit, **opts), cache)

    @classmethod
    def from_files(cls, files: Mapping[str, str | bytes]) -> Repo:
        """A snapshot of in-memory files (path -> content)."""
        if not isinstance(files, Mapping):
            raise arguments.invalid(
                "files", f"expected a mapping of path to content, got {arguments.kind(files)}"
            )
        items = []
        for p, c in files.items():
            if not isinstance(c, str | bytes | bytearray | memoryview):
                raise arguments.invalid(
                    f"files[{p!r:.80}]", f"expected str or bytes, got {arguments.kind(c)}"
                )
            content = (
                arguments.text(c, f"files[{p!r:.80}]").encode() if isinstance(c, str) else bytes(c)
            )
            items.append((arguments.text(p, "a path in files"), content))
        return cls(_core.Repo.from_files(items))

    # -- tools ---------------------------------------------------------------------------

    def call(self, tool: ToolName, args: Mapping[str, Any]) -> Any:
        """Run any tool by name with plan-style arguments."""
        tool = arguments.text(tool, "tool")  # type: ignore[assignment]
        if not isinstance(args, Mapping):
            raise arguments.invalid(
                tool, f"arguments are an object of names to values, not {arguments.kind(args)}"
            )
        return orjson.loads(
            self._native.call(
                tool, engine_json(args, InvalidArgumentError, f"invalid argument: {tool}")
            )
        )

    def grep(
        self,
        pattern: str | Sequence[str],
        *,
        fixed_strings: bool = False,
        case: CaseMode = "sensitive",
        word: bool = False,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        paths: Sequence[str] = (),
        context: int = 0,
        max_results: int = 200,
        max_line_chars: int = 300,
        enclosing: bool = False,
    ) -> GrepResult:
        """Search file contents. Several patterns run in one pass over the files; each match
        says which pattern (by index) it belongs to. Globs follow ripgrep's `-g`. With
        `enclosing`, each match also names the innermost definition around it."""
        return cast(
            GrepResult,
            self.call(
                "grep",
                {
                    "patterns": arguments.strings(pattern, "grep: pattern", none=False),
                    "fixed_strings": fixed_strings,
                    "case": case,
                    "word": word,
                    "include": arguments.strings(include, "grep: include"),
                    "exclude": arguments.strings(exclude, "grep: exclude"),
                    "paths": arguments.strings(paths, "grep: paths"),
                    "context": context,
                    "max_results": max_results,
                    "max_line_chars": max_line_chars,
                    "enclosing": enclosing,
                },
            ),
        )

    def grep_many(self, requests: Sequence[Mapping[str, Any]]) -> list[GrepResult | AcsError]:
        """Run several grep requests (grep's keyword arguments as dicts) in one fused pass.
        A request that fails (bad regex, say) yields its exception in place of a result."""
        payload = engine_json(
            arguments.strings(requests, "grep_many", none=False),
            InvalidArgumentError,
            "invalid argument: grep_many",
        )
        raw = orjson.loads(self._native.grep_many(payload))
        return [
            r["ok"] if "ok" in r else error_for(r["error"]["kind"], r["error"]["message"])
            for r in raw
        ]

    def find_files(
        self,
        query: str | None = None,
        *,
        glob: str | None = None,
        exclude: Sequence[str] = (),
        limit: int = 50,
    ) -> FindFilesResult:
        """Files by path fragment or fuzzy name (`query`, ranked) and/or by `glob`."""
        return cast(
            FindFilesResult,
            self.call(
                "find_files",
                {
                    "query": query,
                    "glob": glob,
                    "exclude": arguments.strings(exclude, "find_files: exclude"),
                    "limit": limit,
                },
            ),
        )

    def symbols(
        self,
        name: str,
        *,
        mode: MatchMode = "exact",
        ignore_case: bool = False,
        kinds: Sequence[SymbolKind] | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        paths: Sequence[str] = (),
        limit: int = 100,
    ) -> SymbolResult:
        """Definitions by exact bare or qualified name (`Class.method`), prefix or regex."""
        return cast(
            SymbolResult,
            self.call(
                "symbols",
                {
                    "name": name,
                    "mode": mode,
                    "ignore_case": ignore_case,
                    "kinds": None if kinds is None else arguments.strings(kinds, "symbols: kinds"),
                    "include": arguments.strings(include, "symbols: include"),
                    "exclude": arguments.strings(exclude, "symbols: exclude"),
                    "paths": arguments.strings(paths, "symbols: paths"),
                    "limit": limit,
                },
            ),
        )

    def outline(self, path: str) -> OutlineResult:
        """A file's definitions, nested, with line ranges."""
        return cast(OutlineResult, self.call("outline", {"path": path}))

    def read(
        self,
        path: str,
        start: int | None = None,
        end: int | None = None,
        *,
        symbol: str | None = None,
        max_lines: int = 400,
        max_line_chars: int = 500,
    ) -> ReadResult:
        """Lines `start..=end` (1-based) of a file, or the body of definition `symbol`."""
        return cast(
            ReadResult,
            self.call(
                "read",
                {
                    "path": path,
                    "start": start,
                    "end": end,
                    "symbol": symbol,
                    "max_lines": max_lines,
                    "max_line_chars": max_line_chars,
                },
            ),
        )

    def references(
        self,
        name: str,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        paths: Sequence[str] = (),
        max_results: int = 500,
    ) -> ReferencesResult:
        """Whole-word uses of an identifier, grouped by file and enclosing definition."""
        return cast(
            ReferencesResult,
            self.call(
                "references",
                {
                    "name": name,
                    "include": arguments.strings(include, "references: include"),
                    "exclude": arguments.strings(exclude, "references: exclude"),
                    "paths": arguments.strings(paths, "references: paths"),
                    "max_results": max_results,
                },
            ),
        )

    def bm25(
        self,
        query: str,
        *,
        level: Literal["file", "function"] = "file",
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        limit: int = 20,
    ) -> Bm25Result:
        """Rank files (or functions and classes) against free text such as an issue, with
        BM25 over identifiers split on case and underscores. The index is built on first
        use and kept with this snapshot."""
        return cast(
            Bm25Result,
            self.call(
                "bm25",
                {
                    "query": query,
                    "level": level,
                    "include": arguments.strings(include, "bm25: include"),
                    "exclude": arguments.strings(exclude, "bm25: exclude"),
                    "limit": limit,
                },
            ),
        )

    # -- plans ---------------------------------------------------------------------------

    def imports(
        self,
        paths: Sequence[str],
        *,
        direction: Literal["imports", "imported_by", "both"] = "both",
        limit: int = 100,
    ) -> ImportsResult:
        """The repository files that Python files `paths` import, and those that import
        them (the snapshot's import graph, built on first use and kept with it)."""
        return cast(
            ImportsResult,
            self.call(
                "imports",
                {
                    "paths": arguments.strings(paths, "imports: paths"),
                    "direction": direction,
                    "limit": limit,
                },
            ),
        )

    def run_plan(self, plan: PlanLike) -> RunReport:
        """Validate and run a whole plan (`{"tasks": [...]}` or a list of tasks)."""
        return cast(RunReport, orjson.loads(self._native.run_plan(plan_bytes(plan))))

    def start_plan(self, timeout: float | None = None) -> PlanRun:
        """An empty run to submit tasks to while it executes; with `timeout` (seconds), the
        run cancels itself that long from now (see `PlanRun.cancel`)."""
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float)
        ):
            raise arguments.invalid(
                "timeout", f"expected a number of seconds, got {arguments.kind(timeout)}"
            )
        return PlanRun(self._native.start(timeout))

    # -- facts ---------------------------------------------------------------------------

    @property
    def stats(self) -> OpenStats:
        return cast(OpenStats, orjson.loads(self._native.info())["stats"])

    @property
    def origin(self) -> dict[str, Any]:
        origin: dict[str, Any] = orjson.loads(self._native.info())["origin"]
        return origin

    def paths(self) -> list[str]:
        """Every loaded file, sorted."""
        return self._native.paths()

    @property
    def index_cache(self) -> StrPath | None:
        """The folder of the on-disk per-file store `index()` reads and feeds (None: memory
        only)."""
        return self._index_cache

    def index(self) -> IndexReport:
        """Make every index ready now (symbols, BM25 of files and of functions, and the import
        graph the default planner asks). The first three are assembled from per-file
        entries: each file's definitions and term statistics come from this process's
        caches, else from the per-file store in `index_cache`, else are computed (and
        appended there), so only files never seen are processed. A store that cannot be
        written is reported in `warning`; damaged records are ignored; the index is complete
        either way. Later calls return the first call's report."""
        if self._index_report is None:
            cache = None if self._index_cache is None else os.fspath(self._index_cache)
            budget = 0 if cache is None else max_cache_bytes()
            self._index_report = orjson.loads(self._native.index(cache, budget))
        return self._index_report

    def history(self) -> History:
        """The repository's history index as of this snapshot's commit (see `acs.history`):
        the commit's proper ancestors only, so the commit itself and anything after it are
        never visible. Built on the first call (per repository: a later commit walks only
        the commits the index lacks) and kept in `index_cache` like the per-file store;
        later calls return the same `History`. Nothing builds it implicitly: `localize`
        never walks a history.

        Only a snapshot of a git commit has one (`Repo.open(path, commit=...)`); for a work
        tree, use `acs.history.History.open(path)`."""
        if self._history is None:
            origin = self.origin
            if origin["kind"] != "git":
                raise arguments.invalid(
                    "history",
                    "this snapshot is of a folder, not of a git commit: open it with "
                    "Repo.open(path, commit=...), or use acs.history.History.open(path)",
                )
            cache: StrPath | bool = False if self._index_cache is None else self._index_cache
            self._history = History.open(origin["git_dir"], origin["commit"], index_cache=cache)
        return self._history

    def index_symbols(self) -> int:
        """Build the symbol index now; returns the number of definitions."""
        return self._native.index_symbols()

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        origin = self.origin
        if origin["kind"] == "git":
            where = f"{origin['git_dir']}@{origin['rev']}"
        else:
            where = origin["root"] or "(in memory)"
        return f"<acs.Repo {where} files={len(self)}>"


def set_cache_budgets(content_bytes: int, symbol_bytes: int, term_bytes: int | None = None) -> None:
    """Byte budgets of the process-wide caches: file contents, definitions, and BM25 term
    statistics (`term_bytes` defaults to `symbol_bytes`). Least recently used entries leave
    first; 0 turns a cache off. Values outside 0..2**64-1 are `InvalidArgumentError`."""
    budgets = {"content_bytes": content_bytes, "symbol_bytes": symbol_bytes}
    if term_bytes is not None:
        budgets["term_bytes"] = term_bytes
    for name, value in budgets.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise arguments.invalid(
                name, f"expected a number of bytes from 0 to 2**64 - 1, got {value!r:.40}"
            )
    _core.set_cache_budgets(content_bytes, symbol_bytes, term_bytes)
