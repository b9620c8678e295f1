"""Typed shapes of the engine's results. They are plain dicts at run time (parsed from the
engine's JSON by orjson), typed here for editors and type checkers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

CaseMode = Literal["sensitive", "insensitive", "smart"]
MatchMode = Literal["exact", "prefix", "regex", "fuzzy"]
# Pinned to the engine's tables by tests/test_cross_language_tables.py.
SymbolKind = Literal[
    "class", "interface", "struct", "enum", "trait", "impl", "function", "method", "module"
]
ToolName = Literal[
    "grep", "find_files", "symbols", "outline", "read", "references", "bm25", "imports"
]


class Definition(TypedDict):
    """A definition, as every tool result names one: flattened into a result that is one
    (`Symbol`, `OutlineNode`, `Bm25FunctionHit`), as `enclosing` in a result inside one
    (`GrepMatch`, `ReferenceGroup`). Readers key definitions by (`path`, `qualified_name`)."""

    name: str  # bare: `get`
    qualified_name: str  # dotted container path: `Class.get`; top level: `name`
    kind: SymbolKind
    path: str
    start_line: int
    end_line: int


class GrepMatch(TypedDict):
    pattern: int
    path: str
    line: int
    column: int
    text: str
    before: NotRequired[list[str]]
    after: NotRequired[list[str]]
    enclosing: NotRequired[Definition]  # with `enclosing=True`, inside a definition


class FileHits(TypedDict):
    path: str
    count: int


class GrepResult(TypedDict):
    matches: list[GrepMatch]
    files: list[FileHits]
    counts: list[int]
    truncated: bool
    files_searched: int


class FoundFile(TypedDict):
    path: str
    score: float


class FindFilesResult(TypedDict):
    files: list[FoundFile]
    total: int


class Symbol(Definition):
    language: str


class SymbolResult(TypedDict):
    symbols: list[Symbol]
    total: int


class OutlineNode(Definition):
    children: NotRequired[list[OutlineNode]]


class OutlineResult(TypedDict):
    path: str
    language: str | None
    line_count: int
    symbols: list[OutlineNode]


class ReadResult(TypedDict):
    path: str
    start_line: int
    end_line: int
    total_lines: int
    lines: list[str]
    truncated: bool
    symbol: NotRequired[str]


class ReferenceLine(TypedDict):
    line: int
    text: str


class ReferenceGroup(TypedDict):
    enclosing: NotRequired[Definition]  # absent at module level
    lines: list[ReferenceLine]


class ReferenceFile(TypedDict):
    path: str
    count: int
    groups: list[ReferenceGroup]


class ReferencesResult(TypedDict):
    name: str
    total: int
    truncated: bool
    files: list[ReferenceFile]


class Bm25FileHit(TypedDict):
    path: str
    score: float


class Bm25FunctionHit(Definition):
    score: float


# `level="function"` ranks definitions, `level="file"` files; both hits have `path`.
Bm25Hit = Bm25FileHit | Bm25FunctionHit


class Bm25Result(TypedDict):
    hits: list[Bm25Hit]
    documents: int


class ImportedFile(TypedDict):
    """`path` is imported by (`direction` "imports") or imports ("imported_by") `via`."""

    path: str
    via: str
    direction: Literal["imports", "imported_by"]
    module: NotRequired[str]  # the module name `via` wrote, for "imports"


class ImportsResult(TypedDict):
    files: list[ImportedFile]
    truncated: bool


class Task(TypedDict):
    """One step of a plan. String arguments may reference earlier results: `$1`,
    `$1.files[0].path`, `$2.symbols[*].path` (see ARCHITECTURE.md)."""

    id: int
    tool: ToolName
    args: dict[str, Any]


class TaskError(TypedDict):
    kind: str
    message: str


class TaskOutcome(TypedDict):
    id: int
    tool: ToolName
    status: Literal["ok", "error", "skipped"]
    result: NotRequired[Any]
    error: NotRequired[TaskError]
    deps: list[int]
    submitted_ms: float
    started_ms: float
    elapsed_ms: float
    fused: int


class RunReport(TypedDict):
    tasks: list[TaskOutcome]
    complete: bool
    elapsed_ms: float


class UnreadableFile(TypedDict):
    """A file the snapshot left out because it could not be read, and why (briefly)."""

    path: str
    reason: str


class OpenStats(TypedDict):
    files: int
    bytes: int
    skipped_binary: int
    skipped_large: int
    skipped_links: int
    skipped_unreadable: int
    # The first 100 of the files counted in skipped_unreadable, by path.
    unreadable: list[UnreadableFile]
    skipped_names: int
    elapsed_ms: float


class ParseCounts(TypedDict):
    """What found the definitions of the files an index build processed: the linear Python
    scanner, tree-sitter (other languages, and Python the scanner cannot read soundly), or
    the scanner for damaged Python over tree-sitter's byte budget."""

    scanner: int
    tree_sitter: int
    over_budget: int


class IndexReport(TypedDict):
    """How `Repo.index()` made the indexes. `source`: "memory" (every file's entry was in
    this process), "disk" (some came from the on-disk store, none was processed) or "built"
    (some files were parsed and tokenised now); the `files_*` counts say how many each."""

    source: Literal["memory", "disk", "built"]
    digest: str
    path: str | None  # the on-disk store's folder
    bytes: int  # bytes_read + bytes_written
    bytes_read: int
    bytes_written: int
    files_memory: int
    files_disk: int
    files_processed: int
    parsed: ParseCounts
    symbols: int
    elapsed_ms: float
    warning: str | None


@dataclass
class Turn:
    """One round of the loop: the tasks a policy proposed and what became of them."""

    tasks: list[Task]
    outcomes: list[TaskOutcome] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "outcomes": self.outcomes, "elapsed_ms": self.elapsed_ms}
