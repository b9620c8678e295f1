"""The exceptions acs raises. Every one is an `AcsError`; catch that to catch them all.

The engine's error kinds are one table in Rust (`ErrorKind`, `crates/acs-core/src/error.rs`),
exported as `_core.error_kinds()`: one class here per kind, whose docstring opens with the
kind's description. At import this module registers `{kind: class}` with the extension
(`_core._register_errors`), which refuses a table that misses or invents a kind; the engine
then raises these classes directly, so the same class reaches you whether a call failed in
Python or in Rust. `tests/test_error_kinds.py` pins the two sides together.
"""

from __future__ import annotations

from . import _core


class AcsError(Exception):
    """Base class of every acs error."""


class InvalidPatternError(AcsError, ValueError):
    """A regular expression or glob that does not compile."""


class PathOutsideRepoError(AcsError, ValueError):
    """A path that escapes the repository (`..`, absolute, or a symlink pointing out)."""


class PathNotFoundError(AcsError, LookupError):
    """A path inside the repository that is not one of its searchable files."""


class SymbolNotFoundError(AcsError, LookupError):
    """A definition that does not exist in the given file."""


class UnknownCommitError(AcsError, LookupError):
    """A revision that does not resolve to a commit."""


class RepositoryError(AcsError, OSError):
    """A repository that cannot be opened (missing directory, not a git repository)."""


class InvalidArgumentError(AcsError, ValueError):
    """Malformed tool arguments: a wrong type, a missing field, a bad line range."""


class PlanError(AcsError, ValueError):
    """A plan that fails validation; the message names the offending task."""


class SkippedError(AcsError):
    """A task not run because a task it depends on failed or was skipped."""


class CancelledError(AcsError):
    """Work stopped early: the run was cancelled or its timeout passed.

    By `PlanRun.cancel()`, a timeout, or Ctrl-C."""


class InternalError(AcsError, RuntimeError):
    """A bug in acs (a caught panic or a broken invariant).

    Please report it with the input that caused it."""


_BY_KIND: dict[str, type[AcsError]] = {
    "invalid_pattern": InvalidPatternError,
    "path_outside_repo": PathOutsideRepoError,
    "file_not_found": PathNotFoundError,
    "symbol_not_found": SymbolNotFoundError,
    "unknown_commit": UnknownCommitError,
    "repository": RepositoryError,
    "invalid_argument": InvalidArgumentError,
    "invalid_plan": PlanError,
    "skipped": SkippedError,
    "cancelled": CancelledError,
    "internal": InternalError,
}
_core._register_errors(_BY_KIND)


def error_for(kind: str, message: str) -> AcsError:
    """The exception for an error reported as data (a plan task's `error` field)."""
    return _BY_KIND.get(kind, AcsError)(message)


def kind_of(error: AcsError) -> str:
    """The data name of an error's class (the inverse of `error_for`)."""
    for kind, cls in _BY_KIND.items():
        if type(error) is cls:
            return kind
    return "error"
