"""Unified diffs (`git diff`, `diff -u`) parsed into files and hunks.

Only what localization needs is kept: each file's old and new path and its hunks with their
line numbers. Git extended headers (`rename from/to`, `copy from/to`, `new file mode`,
`deleted file mode`, `index`, modes, similarity) are understood; binary changes (`Binary files
... differ`, `GIT binary patch`) become a file with no hunks and `binary=True`. Text before the
first file header (a commit message, `Index:` lines) and a `format-patch` signature after the
last hunk are ignored. Anything else that does not fit the format raises
`InvalidArgumentError` naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidArgumentError

__all__ = ["FilePatch", "Hunk", "parse_patch"]

# Line numbers of at most 18 digits: a longer one is a damaged header, not a number for
# `int()` to choke on (Python refuses to convert over 4,300 digits).
_HUNK_HEADER = re.compile(r"@@ -(\d{1,18})(?:,(\d{1,18}))? \+(\d{1,18})(?:,(\d{1,18}))? @@")
_NO_NEWLINE = "\\"  # "\ No newline at end of file" (the text is localised by some tools)
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass(frozen=True)
class Hunk:
    """One `@@ -old_start,old_count +new_start,new_count @@` block.

    `lines` are the body lines with their `' '`, `'-'` or `'+'` prefix; `\\ No newline at end
    of file` markers are dropped and a blank context line (some tools strip its space) is
    stored as `' '`. When `old_count` is 0, `old_start` is the old line the insertion follows
    (0 at the top of the file), as in the unified format."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class FilePatch:
    """The changes to one file. `old_path` is None for an added file (`/dev/null`) and
    `new_path` None for a deleted one; paths have their `a/` and `b/` prefixes removed. A
    rename with no edits, a mode change and a binary change have no hunks."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...]
    binary: bool = False

    @property
    def status(self) -> Literal["modified", "added", "deleted", "renamed"]:
        if self.old_path is None:
            return "added"
        if self.new_path is None:
            return "deleted"
        if self.old_path != self.new_path:
            return "renamed"
        return "modified"


def parse_patch(text: str) -> list[FilePatch]:
    """Parse a unified diff into one `FilePatch` per file, in order.

    >>> [p.old_path for p in parse_patch("--- a/x.py\\n+++ b/x.py\\n@@ -1 +1 @@\\n-a\\n+b\\n")]
    ['x.py']

    Raises `InvalidArgumentError` for a text with no file diff, a malformed hunk header, a
    hunk whose body is shorter or longer than its header says, or a `---` line without its
    `+++` line."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.lines = lines
        self.i = 0

    def error(self, message: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"malformed patch, line {self.i + 1}: {message}")

    def parse(self) -> list[FilePatch]:
        files: list[FilePatch] = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.startswith("diff --git "):
                files.append(self.git_file())
            elif line.startswith("--- ") and self.peek(1).startswith("+++ "):
                files.append(self.plain_file())
            elif _HUNK_HEADER.match(line):
                raise self.error("hunk header before any file header")
            else:
                self.i += 1  # preamble (commit message, "Index:" lines) or trailing signature
        if not files:
            raise InvalidArgumentError("malformed patch: no file diff found")
        return files

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.lines[j] if j < len(self.lines) else ""

    # -- file headers ---------------------------------------------------------------------

    def git_file(self) -> FilePatch:
        old_path: str | None
        new_path: str | None
        old_path, new_path = _split_git_header(self.lines[self.i][len("diff --git ") :])
        self.i += 1
        added = deleted = binary = False
        while self.i < len(self.lines):
            line = self.lines[self.i].rstrip("\r")
            if line.startswith("diff --git ") or line.startswith("@@"):
                break
            if line.startswith("--- "):
                if not self.peek(1).startswith("+++ "):
                    raise self.error("'---' line not followed by a '+++' line")
                old_path = _header_path(line[4:], "a/")
                new_path = _header_path(self.peek(1).rstrip("\r")[4:], "b/")
                self.i += 2
                break
            if line.startswith("rename from "):
                old_path = _unquote(line[len("rename from ") :])
            elif line.startswith("rename to "):
                new_path = _unquote(line[len("rename to ") :])
            elif line.startswith("copy to "):
                new_path = _unquote(line[len("copy to ") :])
                added = True  # a copy edits only its new file: for us, an added file
            elif line.startswith("new file mode "):
                added = True
            elif line.startswith("deleted file mode "):
                deleted = True
            elif line.startswith("Binary files ") and line.endswith(" differ"):
                binary = True
            elif line == "GIT binary patch":
                binary = True
                while self.i + 1 < len(self.lines) and not self.peek(1).startswith("diff --git "):
                    self.i += 1
            self.i += 1
        if added:
            old_path = None
        if deleted:
            new_path = None
        hunks = self.hunks()
        return FilePatch(old_path, new_path, hunks, binary)

    def plain_file(self) -> FilePatch:
        old_path = _header_path(self.lines[self.i].rstrip("\r")[4:], "a/")
        new_path = _header_path(self.peek(1).rstrip("\r")[4:], "b/")
        self.i += 2
        return FilePatch(old_path, new_path, self.hunks())

    # -- hunks ----------------------------------------------------------------------------

    def hunks(self) -> tuple[Hunk, ...]:
        hunks: list[Hunk] = []
        while self.i < len(self.lines) and self.lines[self.i].startswith("@@"):
            hunks.append(self.hunk())
        self.check_no_stray_body()
        return tuple(hunks)

    def hunk(self) -> Hunk:
        header_index = self.i
        m = _HUNK_HEADER.match(self.lines[self.i])
        if m is None:
            raise self.error(f"bad hunk header {self.lines[self.i][:80]!r}")
        old_start, new_start = int(m[1]), int(m[3])
        old_count = 1 if m[2] is None else int(m[2])
        new_count = 1 if m[4] is None else int(m[4])
        old_left, new_left = old_count, new_count
        body: list[str] = []
        self.i += 1
        while old_left > 0 or new_left > 0:
            if self.i >= len(self.lines):
                raise self.error(
                    f"hunk at line {header_index + 1} ends early: {old_left} old and "
                    f"{new_left} new lines missing"
                )
            line = self.lines[self.i]
            tag = line[:1]
            if tag == _NO_NEWLINE:
                self.i += 1
                continue
            if tag in (" ", "", "\r") and old_left > 0 and new_left > 0:
                old_left -= 1
                new_left -= 1
                line = line if tag == " " else " " + line
            elif tag == "-" and old_left > 0:
                old_left -= 1
            elif tag == "+" and new_left > 0:
                new_left -= 1
            else:
                raise self.error(
                    f"hunk at line {header_index + 1} ends early: {old_left} old and "
                    f"{new_left} new lines missing, found {line[:80]!r}"
                )
            body.append(line)
            self.i += 1
        while self.i < len(self.lines) and self.lines[self.i].startswith(_NO_NEWLINE):
            self.i += 1
        return Hunk(old_start, old_count, new_start, new_count, tuple(body))

    def check_no_stray_body(self) -> None:
        """After a file's last hunk comes another file, preamble-like text, or the end. A
        body line there means a hunk longer than its header says."""
        line = self.peek()
        if self.i >= len(self.lines) or line.rstrip("\r") == "-- ":  # format-patch signature
            return
        if line.startswith("--- ") and self.peek(1).startswith("+++ "):
            return
        if line[:1] in ("+", "-", " "):
            raise self.error("line after the last hunk of a file: a hunk longer than its header")


# -- paths ------------------------------------------------------------------------------------


def _header_path(raw: str, prefix: str) -> str | None:
    """The path of a `---`/`+++` line: a timestamp after a tab dropped, quotes decoded,
    `/dev/null` as None, the `a/` or `b/` prefix removed."""
    path = _unquote(raw) if raw.startswith('"') else raw.split("\t", 1)[0]
    if path == "/dev/null":
        return None
    return path[len(prefix) :] if path.startswith(prefix) else path


def _split_git_header(rest: str) -> tuple[str, str]:
    """The two paths of `diff --git a/X b/Y`. Unquoted paths may contain spaces, which makes
    the line ambiguous; the usual case X == Y is found exactly, otherwise the split is at
    ` b/`. `---`/`+++` and `rename` lines, when present, override these paths."""
    rest = rest.rstrip("\r")
    if rest.startswith('"'):
        old, end = _read_quoted(rest, 0)
        new_raw = rest[end:].lstrip(" ")
        new = _unquote(new_raw)
    else:
        half = (len(rest) - 1) // 2
        if len(rest) % 2 == 1 and rest[half] == " " and rest[2:half] == rest[half + 3 :]:
            old, new = rest[:half], rest[half + 1 :]
        elif ' "' in rest:
            cut = rest.index(' "')
            old, new = rest[:cut], _unquote(rest[cut + 1 :])
        elif " b/" in rest:
            cut = rest.index(" b/")
            old, new = rest[:cut], rest[cut + 1 :]
        else:
            old, _, new = rest.partition(" ")
    return _strip_prefix(old, "a/"), _strip_prefix(new, "b/")


def _strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix) :] if path.startswith(prefix) else path


def _unquote(raw: str) -> str:
    """Decode a path git wrote C-style quoted (`"a/caf\\303\\251.py"`); others pass through."""
    if not raw.startswith('"'):
        return raw
    value, _ = _read_quoted(raw, 0)
    return value


def _read_quoted(raw: str, start: int) -> tuple[str, int]:
    """Decode the quoted string that starts at `raw[start]`; return it and the index after
    its closing quote."""
    out = bytearray()
    i = start + 1
    while i < len(raw):
        ch = raw[i]
        if ch == '"':
            return out.decode("utf-8", errors="surrogateescape"), i + 1
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt in "01234567" and re.match(r"[0-7]{3}", raw[i + 1 : i + 4]):
                out.append(int(raw[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_C_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out.extend(ch.encode())
        i += 1
    raise InvalidArgumentError(f"malformed patch: unterminated quoted path {raw[:80]!r}")
