"""The `git` command line, as the miner needs it: first-parent history as a stream of
commits, the files a commit changes with their line counts, and its diff.

Every call runs with lazy fetching off (`GIT_NO_LAZY_FETCH`: a partial clone's missing
objects are errors, never network traffic) and without prompts, pagers, external diff
drivers or text conversion, so the output is the same on every machine.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from ..errors import AcsError, RepositoryError

_ENV = {**os.environ, "GIT_NO_LAZY_FETCH": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}
_DIFF_OPTS = ("--no-ext-diff", "--no-textconv", "--no-color", "--find-renames")
_FIELD = "\x1f"


class GitError(AcsError):
    """A git command failed (missing objects, a bad revision)."""


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    date: str  # committer date, ISO 8601
    message: str


@dataclass(frozen=True)
class Change:
    """One changed file: `status` is git's letter (A, M, D, R, C, T); `old_path` is None
    for an added file and `new_path` None for a deleted one. Binary files count no lines."""

    status: str
    old_path: str | None
    new_path: str | None
    added: int = 0
    deleted: int = 0
    binary: bool = False

    @property
    def path(self) -> str:
        path = self.new_path if self.new_path is not None else self.old_path
        assert path is not None
        return path

    @property
    def lines(self) -> int:
        return self.added + self.deleted

    @property
    def is_edit(self) -> bool:
        """A text edit of a file that exists before the commit: something to localize."""
        return self.status in ("M", "R", "T") and not self.binary and self.lines > 0


class Git:
    """One repository: a work tree or a git directory (bare mirrors included)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise RepositoryError(f"no such directory: {self.path}")
        try:
            self.git_dir = Path(self.text("rev-parse", "--absolute-git-dir").strip())
        except GitError as e:
            raise RepositoryError(f"not a git repository: {self.path} ({e})") from e

    def run(self, *args: str) -> bytes:
        try:
            out = subprocess.run(
                ["git", "-C", str(self.path), *args], env=_ENV, capture_output=True, check=False
            )
        except OSError as e:
            raise RepositoryError(f"cannot run git: {e.strerror or e}") from e
        if out.returncode != 0:
            raise GitError(_first_line(out.stderr) or f"git {args[0]} failed")
        return out.stdout

    def text(self, *args: str) -> str:
        return self.run(*args).decode("utf-8", "replace")

    def config(self, key: str) -> str | None:
        try:
            return self.text("config", "--get", key).strip() or None
        except GitError:
            return None

    def shallow_commits(self) -> frozenset[str]:
        """The commits whose parents a shallow clone cut off."""
        path = self.git_dir / "shallow"
        try:
            return frozenset(path.read_text().split())
        except OSError:
            return frozenset()

    def has_commit(self, sha: str) -> bool:
        try:
            self.run("cat-file", "-e", f"{sha}^{{commit}}")
        except GitError:
            return False
        return True

    def has_commits(self) -> bool:
        """Whether any branch or tag points at a commit (a fresh `git init` has none)."""
        try:
            return bool(self.run("rev-list", "-n", "1", "--all").strip())
        except GitError:
            return False

    def first_parent_log(
        self, rev: str = "HEAD", since: str | None = None, until: str | None = None
    ) -> Generator[Commit, None, None]:
        """The first-parent history of `rev`, newest first, read as it streams (stopping
        early stops git). Raises `RepositoryError` when git cannot walk it at all."""
        fmt = _FIELD.join(("%H", "%P", "%an", "%ae", "%cI", "%B"))
        args = ["git", "-C", str(self.path), "log", "-z", "--first-parent", "--encoding=UTF-8"]
        args += [f"--format={fmt}"]
        args += [f"--since={since}"] if since else []
        args += [f"--until={until}"] if until else []
        args += [rev, "--"]
        proc = subprocess.Popen(
            args, env=_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
        )
        assert proc.stdout is not None and proc.stderr is not None
        pending = b""
        yielded = False
        try:
            while chunk := proc.stdout.read(1 << 16):
                pending += chunk
                *records, pending = pending.split(b"\0")
                for record in records:
                    yielded = True
                    yield _commit(record)
            if pending.strip():
                yield _commit(pending)
                yielded = True
            status = proc.wait()
            error = _first_line(proc.stderr.read())
            if status != 0 and not yielded:
                if not self.has_commits():
                    raise RepositoryError(f"{self.path} has no commits: there is nothing to mine")
                raise RepositoryError(f"cannot read the history of {self.path}: {error}")
            # A walk that fails part-way (a missing commit object) ends the history there.
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def changes(self, parent: str, commit: str) -> list[Change]:
        """The files `commit` changes relative to `parent`, with line counts."""
        out = self.run("diff", *_DIFF_OPTS, "--raw", "--numstat", "-z", parent, commit, "--")
        return parse_raw_numstat(out.decode("utf-8", "replace"))

    def diff(self, parent: str, commit: str) -> str:
        """The unified diff from `parent` to `commit` (`a/` and `b/` prefixes whatever the
        user's configuration says)."""
        return self.text(
            "diff", *_DIFF_OPTS, "--src-prefix=a/", "--dst-prefix=b/", parent, commit, "--"
        )


def parse_raw_numstat(out: str) -> list[Change]:
    """`git diff --raw --numstat -z` output: every raw entry (`:modes shas STATUS`, then one
    path, or two for a rename or copy), then every numstat entry in the same order
    (`added TAB deleted TAB path`, or an empty path followed by the two paths)."""
    tokens = out.split("\0")
    if tokens and tokens[-1] == "":
        tokens.pop()
    raw: list[tuple[str, str | None, str | None]] = []
    i = 0
    while i < len(tokens) and tokens[i].startswith(":"):
        status = tokens[i].split()[-1][:1]
        if status in ("R", "C"):
            raw.append((status, tokens[i + 1], tokens[i + 2]))
            i += 3
        else:
            path = tokens[i + 1]
            raw.append((status, None if status == "A" else path, None if status == "D" else path))
            i += 2
    counts: list[tuple[str, str]] = []
    while i < len(tokens):
        added, deleted, path = tokens[i].split("\t", 2)
        counts.append((added, deleted))
        i += 3 if path == "" else 1
    if len(counts) != len(raw):
        raise GitError(f"git diff listed {len(raw)} files but counted {len(counts)}")
    return [
        Change(
            status,
            old,
            new,
            added=int(a) if a.isdigit() else 0,
            deleted=int(d) if d.isdigit() else 0,
            binary=a == "-",
        )
        for (status, old, new), (a, d) in zip(raw, counts, strict=True)
    ]


def split_diff(diff: str) -> list[str]:
    """A multi-file diff cut into one diff per file (each starts with `diff --git`)."""
    return [p for p in re.split(r"(?m)^(?=diff --git )", diff) if p.startswith("diff --git ")]


def _commit(record: bytes) -> Commit:
    fields = record.decode("utf-8", "replace").lstrip("\n").split(_FIELD, 5)
    sha, parents, name, email, date, message = fields
    return Commit(sha, tuple(parents.split()), name, email, date, message)


def _first_line(stderr: bytes) -> str:
    lines = [s.strip() for s in stderr.decode("utf-8", "replace").splitlines() if s.strip()]
    return lines[0] if lines else ""


def remote_name(url: str | None) -> str | None:
    """`owner/name` from a remote URL (`https://github.com/o/n.git`, `git@github.com:o/n`,
    `ssh://git@host/o/n`, a local path ending in `o/n`), or None."""
    if not url:
        return None
    tail = url.rstrip("/").removesuffix(".git").replace(":", "/")
    parts = [p for p in tail.split("/") if p]
    if len(parts) < 2:
        return None
    return f"{parts[-2]}/{parts[-1]}"
