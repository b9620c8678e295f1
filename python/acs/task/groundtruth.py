"""Ground truth for localization, derived from a gold patch and the pre-patch repository.

The conventions follow Agentless and LocAgent (see docs/eval-metrics.md):

* **lines**: each hunk's deleted or changed old lines; for a pure insertion (a run of `+`
  lines with no `-` line), the old line it follows (line 1 at the top of the file);
* **functions**: the innermost definition enclosing such a line in the pre-patch file, by the
  engine's outline, named by its qualified name (`Class.method`, `outer.inner`, `func`); a
  line in a class body outside any method counts as the class;
* **modules**: the top-level definition (class or function) enclosing such a line;
* **files**: the pre-patch path of every modified or renamed file.

Added files cannot be returned by a localizer that searches the pre-patch repository, and
deleted files are not edits to locate, so both are kept apart. Top-level code outside any
definition counts at the file and line levels only, and so does a file in a language other
than `languages` (Python by default, as the published benchmarks count) or one the repository
lacks (the patch does not match the commit, or the file is binary or too large).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import AcsError
from ..repo import Repo
from ..types import OutlineNode
from .patch import Hunk, parse_patch

__all__ = ["GroundTruth", "ground_truth", "hunk_old_lines", "merge_ranges"]

LineRanges = dict[str, tuple[tuple[int, int], ...]]


@dataclass(frozen=True)
class GroundTruth:
    """What a fix edits, at four levels. Entities are `"path:name"` strings; every tuple is
    sorted and free of duplicates; `lines` maps a pre-patch path to its merged, sorted,
    1-based inclusive line ranges."""

    files: tuple[str, ...]
    added_files: tuple[str, ...] = ()
    deleted_files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    lines: LineRanges = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "added_files": list(self.added_files),
            "deleted_files": list(self.deleted_files),
            "modules": list(self.modules),
            "functions": list(self.functions),
            "lines": {p: [list(r) for r in rs] for p, rs in self.lines.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GroundTruth:
        return cls(
            files=tuple(data.get("files", ())),
            added_files=tuple(data.get("added_files", ())),
            deleted_files=tuple(data.get("deleted_files", ())),
            modules=tuple(data.get("modules", ())),
            functions=tuple(data.get("functions", ())),
            lines={
                p: tuple((int(s), int(e)) for s, e in rs) for p, rs in data.get("lines", {}).items()
            },
        )


def ground_truth(
    repo: Repo, patch: str, *, languages: Collection[str] | None = ("python",)
) -> GroundTruth:
    """The locations `patch` edits in `repo` (the repository at the patch's base commit).

    `languages` are the outline languages whose definitions count at the module and function
    levels (None: every language the engine outlines). Raises `InvalidArgumentError` for a
    malformed patch; a file the repository lacks counts at the file level only."""
    files: set[str] = set()
    added: set[str] = set()
    deleted: set[str] = set()
    modules: set[str] = set()
    functions: set[str] = set()
    lines: dict[str, set[int]] = {}
    for fp in parse_patch(patch):
        status = fp.status
        if status == "added":
            assert fp.new_path is not None
            added.add(fp.new_path)
            continue
        assert fp.old_path is not None
        if status == "deleted":
            deleted.add(fp.old_path)
            continue
        if status == "modified" and not fp.hunks:
            continue  # a mode change or a binary file: nothing a localizer can point at
        path = fp.old_path
        files.add(path)
        touched = hunk_old_lines(fp.hunks)
        if not touched:
            continue  # a rename without edits
        try:
            outline = repo.outline(path)
        except AcsError:
            continue  # the repository lacks this file: file level only
        lines.setdefault(path, set()).update(touched)
        if languages is not None and outline["language"] not in languages:
            continue
        for line in touched:
            chain = _enclosing(outline["symbols"], line)
            if chain:
                modules.add(f"{path}:{chain[0]['qualified_name']}")
                functions.add(f"{path}:{chain[-1]['qualified_name']}")
    return GroundTruth(
        files=tuple(sorted(files)),
        added_files=tuple(sorted(added)),
        deleted_files=tuple(sorted(deleted)),
        modules=tuple(sorted(modules)),
        functions=tuple(sorted(functions)),
        lines={p: merge_ranges((n, n) for n in ls) for p, ls in sorted(lines.items())},
    )


def hunk_old_lines(hunks: Iterable[Hunk]) -> set[int]:
    """The old (pre-patch) line numbers the hunks edit: every deleted or changed line, and
    for a run of added lines with no deleted line, the old line it follows (1 at the top)."""
    out: set[int] = set()
    for hunk in hunks:
        # The old line number the next ' ' or '-' line has. With old_count 0, old_start is the
        # line the insertion follows.
        cursor = hunk.old_start if hunk.old_count > 0 else hunk.old_start + 1
        run_deletes = False
        run_inserts = False
        for line in (*hunk.lines, " "):  # a sentinel context line closes the last run
            tag = line[:1]
            if tag == "-":
                out.add(cursor)
                cursor += 1
                run_deletes = True
            elif tag == "+":
                run_inserts = True
            else:
                if run_inserts and not run_deletes:
                    out.add(max(cursor - 1, 1))
                run_deletes = run_inserts = False
                cursor += 1
    return out


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sort inclusive ranges and merge those that overlap or touch."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _enclosing(symbols: Sequence[OutlineNode], line: int) -> list[OutlineNode]:
    """The chain of definitions enclosing `line`, outermost first. Outline ranges include
    a definition's decorators, so a decorator line belongs to what it decorates."""
    chain: list[OutlineNode] = []
    nodes: Sequence[OutlineNode] = symbols
    while True:
        for node in nodes:
            if node["start_line"] <= line <= node["end_line"]:
                chain.append(node)
                nodes = node.get("children", [])
                break
        else:
            return chain
