"""acs: agentic code search.

>>> import acs
>>> repo = acs.Repo.from_files({"a.py": "def f():\\n    return 1\\n"})
>>> repo.grep("return")["matches"][0]["line"]
2
"""

from __future__ import annotations

from . import _moved
from ._core import (
    __version__,
    cache_usage,
    term_cache_usage,
    tool_arguments,
)
from .errors import (
    AcsError,
    CancelledError,
    InternalError,
    InvalidArgumentError,
    InvalidPatternError,
    PathNotFoundError,
    PathOutsideRepoError,
    PlanError,
    RepositoryError,
    SkippedError,
    SymbolNotFoundError,
    UnknownCommitError,
)
from .execution import PlanRun
from .localize import LocalizeResult, localize, localize_async
from .repo import Repo, set_cache_budgets

_moved.install()  # old module paths: importable, deprecated (see acs._moved)

__all__ = [
    "AcsError",
    "CancelledError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidPatternError",
    "LocalizeResult",
    "PathNotFoundError",
    "PathOutsideRepoError",
    "PlanError",
    "PlanRun",
    "Repo",
    "RepositoryError",
    "SkippedError",
    "SymbolNotFoundError",
    "UnknownCommitError",
    "__version__",
    "cache_usage",
    "localize",
    "localize_async",
    "set_cache_budgets",
    "term_cache_usage",
    "tool_arguments",
]
