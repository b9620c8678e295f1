"""The repositories an MCP session may search, each kept open and indexed across calls.

One `acs.Repo` per root stays in the server process with its indexes. Before a call uses it,
a cheap stat walk tells whether the tree changed on disk: the snapshot remembers the
(mtime, size) of every file it holds and the mtime of every folder above them, the root
included. Editing, replacing or deleting a file changes the first; creating or removing a
file changes its folder's mtime. A changed tree is re-opened (the engine's walk applies the
ignore rules again) and re-indexed; index entries are keyed by file content, so only the
changed files are processed again. Not seen: a new file in a folder that holds no file of the
snapshot and sits above none (an empty folder, a folder of binary files), and an edit that
keeps a file's size and nanosecond mtime.

The walk costs about 4 µs a file (10 ms for the standard library's 2,300 files), so a check
serves every call that arrives within `recheck_ms` of its start (default 250 ms: an agent's
edit and its next search are a model's turn apart, and a burst of parallel calls shares one
walk). With `recheck_ms=0` a check counts for a call only if it started after the call
arrived: no call is answered from a tree older than its request; calls that arrive while a
check runs then share the next one.
"""

from __future__ import annotations

import asyncio
import os
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from ..errors import InvalidArgumentError, RepositoryError
from ..repo import Repo, StrPath
from .threads import in_thread


@dataclass(frozen=True)
class Root:
    """A repository a session may search: `path` with symlinks resolved, `given` as it was
    named (absolute), `name` what a tool call may call it."""

    path: str
    given: str
    name: str


def root_at(path: str, name: str | None = None) -> Root:
    given = os.path.abspath(os.path.expanduser(path))
    real = os.path.realpath(given)
    if not os.path.isdir(real):
        raise RepositoryError(f"not a directory: {path}")
    return Root(real, given, name or os.path.basename(real) or real)


def resolve(roots: Sequence[Root], asked: str | None) -> Root:
    """The root a call's `repo` argument names: its name or its path. Only the session's
    roots can be named, so no call reaches a folder outside them (the paths are compared as
    text, never looked up on disk)."""
    if not roots:
        raise RepositoryError(
            "no repository to search: start the server with --repo PATH, or use a client "
            "that shares its workspace roots"
        )
    names = ", ".join(f"{r.name} ({r.path})" for r in roots)
    if asked is None:
        if len(roots) == 1:
            return roots[0]
        raise InvalidArgumentError(f"argument 'repo' is required: this server searches {names}")
    as_path = os.path.normpath(os.path.expanduser(asked)) if asked else asked
    found = [r for r in roots if asked == r.name or as_path in (r.path, r.given)]
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidArgumentError(f"repository {asked!r} is ambiguous: name it by path ({names})")
    raise InvalidArgumentError(f"unknown repository {asked!r}: this server searches {names}")


def tree_signature(root: str, paths: Iterable[str]) -> array[int]:
    """(mtime_ns, size) of each file in `paths` (relative to `root`; -1 when gone), then the
    mtime of each folder above them."""
    signature = array("q")
    folders = {root}
    for rel in paths:
        full = os.path.join(root, rel)
        try:
            st = os.stat(full)
            signature.extend((st.st_mtime_ns, st.st_size))
        except OSError:
            signature.extend((-1, -1))
        parent = os.path.dirname(full)
        while parent not in folders:
            folders.add(parent)
            parent = os.path.dirname(parent)
    for folder in sorted(folders):
        try:
            signature.append(os.stat(folder).st_mtime_ns)
        except OSError:
            signature.append(-1)
    return signature


class Freshness(TypedDict):
    """How a call got its snapshot: `warm` (open and indexed before the call, unchanged on
    disk), `reopened` (the tree changed, so it was opened and indexed again), the time the
    change check took and the time opening and indexing took (0 when warm)."""

    warm: bool
    reopened: bool
    check_ms: float
    open_ms: float
    files: int


@dataclass
class _Snapshot:
    repo: Repo
    signature: array[int]
    check_started: float  # time.monotonic() when the last check (or the open) began


class Workspace:
    """Warm snapshots of the roots, shared by every session of the server."""

    def __init__(
        self,
        *,
        index_cache: StrPath | bool = True,
        exclude: Sequence[str] = (),
        recheck_ms: float = 250.0,
    ) -> None:
        self.index_cache = index_cache
        self.exclude = list(exclude)
        self.recheck_s = recheck_ms / 1000
        self._snapshots: dict[str, _Snapshot] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def checkout(self, root: Root) -> tuple[Repo, Freshness]:
        """`root`'s snapshot, current as of this call's arrival."""
        arrived = time.monotonic()
        async with self._locks.setdefault(root.path, asyncio.Lock()):
            snapshot = self._snapshots.get(root.path)
            if snapshot is not None and snapshot.check_started >= arrived - self.recheck_s:
                return snapshot.repo, _fresh(snapshot.repo, warm=True)
            check_ms = 0.0
            if snapshot is not None:
                started = time.monotonic()
                paths = snapshot.repo.paths()
                signature = await in_thread(lambda: tree_signature(root.path, paths))
                check_ms = (time.monotonic() - started) * 1000
                if signature == snapshot.signature:
                    snapshot.check_started = started
                    return snapshot.repo, _fresh(snapshot.repo, warm=True, check_ms=check_ms)
            reopened = snapshot is not None
            started = time.monotonic()
            snapshot = await in_thread(lambda: self._open(root, started))
            self._snapshots[root.path] = snapshot
            open_ms = (time.monotonic() - started) * 1000
            return snapshot.repo, _fresh(
                snapshot.repo, warm=False, reopened=reopened, check_ms=check_ms, open_ms=open_ms
            )

    def _open(self, root: Root, started: float) -> _Snapshot:
        repo = Repo.open(root.path, exclude=self.exclude, index_cache=self.index_cache)
        repo.index()
        return _Snapshot(repo, tree_signature(root.path, repo.paths()), started)


def _fresh(repo: Repo, *, warm: bool, **times: Any) -> Freshness:
    info: dict[str, Any] = {"warm": warm, "reopened": False, "check_ms": 0.0, "open_ms": 0.0}
    info.update({k: round(v, 3) if isinstance(v, float) else v for k, v in times.items()})
    info["files"] = len(repo)
    return info  # type: ignore[return-value]
