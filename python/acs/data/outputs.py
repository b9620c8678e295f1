"""Where `acs data mine` may write its files (`--out`, `--rejects`, `--summary`).

A path is refused (`InvalidArgumentError`) when it is:

* inside the mined repository's git directory, or a file git tracks in its work tree: those
  are the repository itself, and `--force` does not change that. Other paths of the work tree
  are allowed: mining reads commits, never the work tree, so an untracked output there (an
  ignored `data/` folder, say) changes nothing that is mined;
* anything but a regular file (a folder, a FIFO);
* an existing file that is neither empty nor an earlier output of the same kind (recognised
  by its content), unless `force`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import orjson

from ..errors import InvalidArgumentError
from .git import Git, GitError

Kind = Literal["instances", "rejects", "summary"]
FIRST_LINE_BYTES = 64 << 20  # enough for any instance's line (patches of 1,000 lines)
SUMMARY_BYTES = 1 << 20

_KEYS: dict[Kind, frozenset[str]] = {
    "instances": frozenset({"instance_id", "repo", "base_commit", "problem_statement", "patch"}),
    "rejects": frozenset({"commit", "reason", "title"}),
    "summary": frozenset({"repo", "seen", "emitted", "filtered"}),
}


def check_output(path: Path, kind: Kind, *, git: Git, force: bool, flag: str) -> None:
    """Refuse `path` for an output of `kind` (see the module docstring); `flag` names the
    option in the message."""
    where = path.resolve()
    if _is_within(where, git.git_dir.resolve()):
        raise InvalidArgumentError(f"{flag} {path} is in the git directory of the mined repository")
    if _is_tracked(git, where):
        raise InvalidArgumentError(
            f"{flag} {path} is a file of the mined repository (git tracks it): write elsewhere"
        )
    if not path.exists() and not path.is_symlink():
        return
    if not path.is_file():
        raise InvalidArgumentError(f"{flag} {path} is not a regular file")
    if force or path.stat().st_size == 0 or _is_earlier_output(path, kind):
        return
    raise InvalidArgumentError(
        f"{flag} {path} exists and is not an earlier acs data mine {kind} file: "
        "give another path, or --force to replace it"
    )


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _is_tracked(git: Git, path: Path) -> bool:
    """Whether git tracks `path` in the work tree of `git` (a bare repository has none)."""
    try:
        top = git.text("rev-parse", "--show-toplevel").strip()
    except GitError:
        return False
    root = Path(top).resolve()
    if not top or path == root or root not in path.parents:
        return False
    relative = path.relative_to(root).as_posix()
    try:
        return bool(git.run("-C", top, "ls-files", "-z", "--", f":(top,literal){relative}"))
    except GitError:
        return False


def _is_earlier_output(path: Path, kind: Kind) -> bool:
    read: Callable[[Path], bytes] = _whole if kind == "summary" else _first_line
    try:
        value: Any = orjson.loads(read(path))
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(value, dict) and _KEYS[kind] <= value.keys()


def _first_line(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.readline(FIRST_LINE_BYTES)


def _whole(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(SUMMARY_BYTES)
