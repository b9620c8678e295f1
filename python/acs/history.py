"""`acs.history`: a repository's history index, seen as of a commit.

The engine reads every commit reachable from the commit asked about straight from git's
objects (no `git log` process): its message terms and, for a non-merge commit, the paths it
touched. The index is built once per repository, kept in this process and in the index
cache folder (`index_cache`, as `Repo.open` takes it), and extended with only the commits
it lacks when a later commit is asked about.

A `History` sees only the proper ancestors of its commit: that commit and anything after it
are never visible, so features computed for a past fix never see the fix. Its queries are
lookups (the three below together: about 1 ms on moto's 10.8k commits):

- `similar_fixes(text)`: past commits whose messages are like `text` (BM25) and the files
  they touched, each scored by the sum of their scores;
- `co_change(paths)`: the files most often changed in the same commits as `paths`;
- `activity(paths)`: churn (commits touching each file) and recency (commits and seconds
  since its last change).

A commit touching more than 500 files (vendoring, a mass rename) is recorded as bulk, its
files not listed; renames are not followed. A shallow clone or a missing object ends the
walk there (see `HistoryReport.missing`), never an error.

>>> import acs
>>> history = acs.history.History.open(".", "HEAD")  # doctest: +SKIP
>>> history.similar_fixes("crash when the config file is empty")["files"][:3]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Literal, TypedDict, cast

import orjson

from . import _core, arguments
from .cachedir import default_index_cache, max_cache_bytes

__all__ = [
    "CoChange",
    "CoChanged",
    "CommitInfo",
    "FileActivity",
    "FileScore",
    "History",
    "HistoryReport",
    "PastFix",
    "SimilarFixes",
    "forget",
]

StrPath = str | os.PathLike[str]

# The most items one request may ask for or give (`MAX_ITEMS` in the engine's query.rs).
MAX_ITEMS = 10_000


class PastFix(TypedDict):
    commit: str
    score: float
    time: int
    """Committer time, seconds since the epoch."""
    files: int
    """Files it touched (over 500: a bulk change, not scored onto files)."""


class FileScore(TypedDict):
    path: str
    score: float
    """The sum of the scores of the similar commits that touched the file."""
    commits: int


class SimilarFixes(TypedDict):
    commits: list[PastFix]
    files: list[FileScore]
    documents: int
    """The visible non-merge commits scored."""


class CoChanged(TypedDict):
    path: str
    count: int


class CoChange(TypedDict):
    commits: int
    """Visible commits that changed at least one of the files asked about."""
    files: list[CoChanged]


class FileActivity(TypedDict):
    path: str
    commits: int
    last_commit: str | None
    commits_since: int | None
    seconds_since: int | None


class CommitInfo(TypedDict):
    commit: str
    time: int
    merge: bool
    files: int
    paths: list[str] | None


class HistoryReport(TypedDict):
    source: Literal["memory", "disk", "built", "extended"]
    as_of: str
    commits: int
    visible: int
    walked: int
    merges: int
    bulk: int
    partial: int
    missing_count: int
    missing: list[str]
    skipped_names: int
    path: str | None
    bytes_read: int
    bytes_written: int
    elapsed_ms: float
    warning: str | None


def _paths(value: Any) -> list[str]:
    """A list of repository paths: one string stands for itself."""
    paths = []
    for item in arguments.strings(value, "paths", none=False):
        paths.append(arguments.text(item, "paths"))
        if len(paths) > MAX_ITEMS:
            raise arguments.invalid("paths", f"more than {MAX_ITEMS} given")
    return paths


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ITEMS:
        raise arguments.invalid(
            what, f"expected a whole number from 0 to {MAX_ITEMS}, got {value!r:.40}"
        )
    return value


class History:
    """A repository's history as seen from one commit: only its proper ancestors."""

    def __init__(self, native: _core.History, report: HistoryReport) -> None:
        self._native = native
        self._report = report

    @classmethod
    def open(
        cls, path: StrPath, as_of: str = "HEAD", *, index_cache: StrPath | bool = True
    ) -> History:
        """The history of the git repository at `path` (a work tree, a `.git` folder or a
        bare mirror) as of commit `as_of` (an id, a branch, `HEAD~3`). `index_cache` is the
        index folder whose history store is read and fed: True for the user's (see
        `acs.cachedir`), False for memory only, or a folder.

        Raises `UnknownCommitError` when `as_of` does not resolve (an empty repository, a
        missing commit object) and `RepositoryError` when `path` is no git repository."""
        git_dir = arguments.os_path(path, "path", utf8=True)
        as_of = arguments.text(as_of, "as_of")
        cache: str | None
        if index_cache is True:
            default = default_index_cache()
            cache = None if default is None else os.fspath(default)
        elif index_cache is False or index_cache is None:
            cache = None
        else:
            cache = arguments.os_path(index_cache, "index_cache", utf8=True)
        budget = None if cache is None else max_cache_bytes()
        native, report = _core.History.open(git_dir, as_of, cache, budget)
        return cls(native, cast(HistoryReport, orjson.loads(report)))

    @property
    def as_of(self) -> str:
        """The full id of the commit the history is seen from (itself not visible)."""
        return self._native.as_of

    @property
    def visible_commits(self) -> int:
        """Commits visible: the proper ancestors of `as_of`, merges included."""
        return self._native.visible_commits

    @property
    def report(self) -> HistoryReport:
        """What opening did: where the index came from, commits walked, what was missing."""
        return self._report

    def similar_fixes(self, text: str, *, commits: int = 50, files: int = 50) -> SimilarFixes:
        """The `commits` past commits whose messages are most like `text` (BM25; only the
        first 256 KiB of `text` is read), and the `files` files they touched, each scored
        by the sum of the scores of those that touched it."""
        text = arguments.text(text, "text")
        found = self._native.similar_fixes(text, _count(commits, "commits"), _count(files, "files"))
        return cast(SimilarFixes, orjson.loads(found))

    def co_change(self, paths: Iterable[str], *, limit: int = 20) -> CoChange:
        """The `limit` files most often changed in the same commits as `paths` (which are
        left out of the answer)."""
        found = self._native.co_change(_paths(paths), _count(limit, "limit"))
        return cast(CoChange, orjson.loads(found))

    def activity(self, paths: Iterable[str]) -> list[FileActivity]:
        """Churn and recency of each path, in order (0 commits: never changed before)."""
        return cast(list[FileActivity], orjson.loads(self._native.activity(_paths(paths))))

    def commit(self, commit: str) -> CommitInfo | None:
        """The visible commit with this full id, or None (not visible, or unknown)."""
        found = self._native.commit(arguments.text(commit, "commit"))
        return None if found is None else cast(CommitInfo, orjson.loads(found))

    def __repr__(self) -> str:
        return f"<acs.history.History as_of={self.as_of[:12]} visible={self.visible_commits}>"


def forget(path: StrPath) -> None:
    """Drop the history index of the repository at `path` from this process's memory (the
    next `History.open` reads the store or walks again)."""
    _core.History.forget(arguments.os_path(path, "path", utf8=True))
