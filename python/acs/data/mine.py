"""Walk a repository's first-parent history and turn its commits into SWE-bench-format
instances: the commit message is the problem statement, the diff from the first parent is
the fix (`patch` for non-test files, `test_patch` for tests, and `changelog_patch` for
release notes: see `Miner`).

Newest first. A merge commit on the first-parent line is a merged pull request: its diff
from the first parent is the whole pull request, and its message (after the merge title)
GitHub's copy of the pull request's title and body. Every commit seen is either emitted or
counted under the first reason that rejected it (`filters.REASONS`).

A commit message is read up to `MAX_MESSAGE_CHARS` characters (64 Ki, what `localize` reads of
an issue, cut at a line or word end); the summary counts the instances whose message was cut
(`truncated`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgumentError
from ..issue import truncate_issue
from ..task.patch import parse_patch
from .closeness import COUNTED, POINTS, SIGNALS, closeness
from .defaults import MAX_MESSAGE_CHARS
from .filters import LABELS, REASONS, Limits, change_reason, is_bot, labels, message_reason
from .git import Commit, Git, GitError, remote_name, split_diff
from .heldout import Purpose, check_allowed
from .message import clean_message, is_merge_title
from .paths import path_kind

_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass
class Summary:
    """What a mining run saw: `seen` commits, `emitted` instances, and every other commit
    under the reason that rejected it (`seen == emitted + sum(filtered.values())`)."""

    repo: str
    purpose: str
    seen: int = 0
    emitted: int = 0
    filtered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    labels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    with_tests: int = 0  # emitted instances whose commit also changed tests
    truncated: int = 0  # emitted instances whose message was cut to MAX_MESSAGE_CHARS
    # emitted instances per closeness signal, and per number of points (0..6)
    signals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    points: dict[str, int] = field(default_factory=lambda: dict.fromkeys(POINTS, 0))
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "purpose": self.purpose,
            "seen": self.seen,
            "emitted": self.emitted,
            "filtered": dict(self.filtered),
            "labels": dict(self.labels),
            "with_tests": self.with_tests,
            "truncated": self.truncated,
            "closeness": dict(self.signals),
            "points": dict(self.points),
            "options": dict(self.options),
        }

    def count(self, close: Mapping[str, Any]) -> None:
        """Count an emitted instance's `closeness` fields."""
        for key in COUNTED:
            self.signals[key] += bool(close[key])
        self.points[str(sum(bool(close[s]) for s in SIGNALS))] += 1

    def summary_points(self) -> str:
        return " ".join(str(self.points[p]) for p in POINTS) if self.emitted else ""

    def format(self) -> str:
        """A few lines for people: the counts that are not zero."""
        out = [f"{self.repo}: {self.emitted} instances from {self.seen} commits"]
        out += [f"  {r}: {n}" for r, n in self.filtered.items() if n]
        out += [f"  label {lb}: {n}" for lb, n in self.labels.items() if n]
        if self.with_tests:
            out.append(f"  with a test_patch: {self.with_tests}")
        if self.summary_points():
            out.append(f"  closeness points 0..{len(SIGNALS)}: {self.summary_points()}")
        if self.truncated:
            out.append(
                f"  problem statements cut to {MAX_MESSAGE_CHARS:,} characters: {self.truncated}"
            )
        return "\n".join(out)


class Miner:
    """One repository to mine. Opening it checks that it may be mined: never a held-out
    repository, never one in `exclude`, and for `purpose="train"` never a development-set
    one (`InvalidArgumentError`); both `name` and the name of its `origin` remote are
    checked. `name` defaults to the `origin` remote's `owner/name`.

    Release notes (`CHANGES.rst`, news fragments: `paths.path_kind`) go to the instance's
    `changelog_patch`, not its `patch`: most merged pull requests add a line to them, which
    no issue is about, and a localizer is right to rank them low. `keep_changelog` keeps
    them in `patch`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        purpose: Purpose = "train",
        exclude: Iterable[str] = (),
        limits: Limits = Limits(),  # noqa: B008 (frozen)
        keep_changelog: bool = False,
    ) -> None:
        self.git = Git(path)
        origin = remote_name(self.git.config("remote.origin.url"))
        repo = name or origin
        if repo is None:
            raise InvalidArgumentError(
                f"cannot tell the name of {path} (it has no origin remote): give --name owner/name"
            )
        if not _NAME.match(repo):
            raise InvalidArgumentError(f"not a repository name (owner/name): {repo!r}")
        exclude = list(exclude)
        for candidate in {repo, origin} - {None}:
            assert candidate is not None
            check_allowed(candidate, purpose=purpose, exclude=exclude)
        self.repo = repo
        self.limits = limits
        self.keep_changelog = keep_changelog
        self.summary = Summary(repo=repo, purpose=purpose)
        self._statements: set[str] = set()
        self._patches: set[str] = set()

    def instances(
        self,
        *,
        rev: str = "HEAD",
        since: str | None = None,
        until: str | None = None,
        max_instances: int | None = None,
        on_reject: Callable[[Commit, str], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Instances from the first-parent history of `rev`, newest first, until
        `max_instances` are emitted or the history ends. `self.summary` counts as it goes;
        `on_reject(commit, reason)` hears of every commit that makes no instance."""
        self.summary.options = {
            "rev": rev,
            "since": since,
            "until": until,
            "max": max_instances,
            "min_words": self.limits.min_words,
            "max_files": self.limits.max_files,
            "max_lines": self.limits.max_lines,
            "min_closeness": self.limits.min_closeness,
            "keep_changelog": self.keep_changelog,
        }
        if max_instances is not None and max_instances <= 0:
            return
        shallow = self.git.shallow_commits()
        log = self.git.first_parent_log(rev, since=since, until=until)
        try:
            for commit in log:
                self.summary.seen += 1
                result = self._instance(commit, shallow)
                if isinstance(result, str):
                    self.summary.filtered[result] += 1
                    if on_reject is not None:
                        on_reject(commit, result)
                    continue
                self.summary.emitted += 1
                for label in result["labels"]:
                    self.summary.labels[label] += 1
                self.summary.with_tests += bool(result["test_patch"])
                self.summary.count(result["closeness"])
                self.summary.truncated += len(commit.message) > MAX_MESSAGE_CHARS
                yield result
                if max_instances is not None and self.summary.emitted >= max_instances:
                    return
        finally:
            log.close()

    def _instance(self, commit: Commit, shallow: frozenset[str]) -> dict[str, Any] | str:
        """The instance for `commit`, or the reason it makes none."""
        if not commit.parents:
            return "parent-missing" if commit.sha in shallow else "root"
        parent = commit.parents[0]
        message = truncate_issue(commit.message)[0]  # before any cleaning: bounded work
        statement = clean_message(message)
        if not statement and is_merge_title(message.strip().split("\n", 1)[0]):
            return "merge-no-text"
        if is_bot(commit.author_name, commit.author_email, message):
            return "bot"
        if reason := message_reason(statement, self.limits):
            return reason
        close = closeness(statement)
        if close.score < self.limits.min_closeness:
            return "far-from-issue"
        try:
            changes = self.git.changes(parent, commit.sha)
        except GitError:
            return "unreadable" if self.git.has_commit(parent) else "parent-missing"
        if reason := change_reason(statement, changes, self.limits):
            return reason
        try:
            patch, test_patch, notes_patch = self._split(self.git.diff(parent, commit.sha))
        except (GitError, InvalidArgumentError):
            return "unreadable"
        statement_key = " ".join(statement.lower().split())
        patch_key = _patch_key(patch)
        if statement_key in self._statements or patch_key in self._patches:
            return "duplicate"
        self._statements.add(statement_key)
        self._patches.add(patch_key)
        owner, name = self.repo.split("/")
        return {
            "instance_id": f"{owner}__{name}-{commit.sha[:12]}",
            "repo": self.repo,
            "base_commit": parent,
            "problem_statement": statement,
            "patch": patch,
            "test_patch": test_patch,
            "changelog_patch": notes_patch,
            "created_at": commit.date,
            "commit": commit.sha,
            "labels": labels(changes),
            "closeness": close.to_json(),
        }

    def _split(self, diff: str) -> tuple[str, str, str]:
        """The diff cut in three: the fix (`patch`), its tests, and its release notes (in the
        fix when `keep_changelog`)."""
        parts: dict[str, list[str]] = {"code": [], "test": [], "changelog": []}
        for part in split_diff(diff):
            (fp,) = parse_patch(part)
            path = fp.new_path if fp.new_path is not None else fp.old_path
            kind = path_kind(path) if path is not None else "source"
            if kind == "changelog" and self.keep_changelog:
                kind = "source"
            parts[kind if kind in parts else "code"].append(part)
        return "".join(parts["code"]), "".join(parts["test"]), "".join(parts["changelog"])


def _patch_key(patch: str) -> str:
    """The same change on another branch (a cherry-pick, a backport) has other blob ids and
    line numbers but the same `+`/`-` lines."""
    changed = (line for line in patch.split("\n") if line[:1] in ("+", "-"))
    return hashlib.sha256("\n".join(changed).encode("utf-8", "replace")).hexdigest()
