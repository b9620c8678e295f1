"""Native engine (Rust, pyo3). Use the typed wrappers in `acs` rather than this module."""

from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any, final

__all__ = [
    "CUT",
    "FEATURES_VERSION",
    "FILE_FEATURES",
    "FN_CUT",
    "FUNCTION_FEATURES",
    "FUNCTION_FILES",
    "History",
    "LearnedRanker",
    "PlanRun",
    "Repo",
    "Search",
    "TreeEnsemble",
    "__version__",
    "_register_errors",
    "build_info",
    "cache_usage",
    "calibrated",
    "error_kinds",
    "set_cache_budgets",
    "symbol_kinds",
    "term_cache_usage",
    "tool_arguments",
    "tool_specs",
]
__version__: str
# The learned ranker's features (`acs_core::evidence`): names in column order, and the
# version of their meaning; the joiner's confident cuts.
FILE_FEATURES: tuple[str, ...]
FUNCTION_FEATURES: tuple[str, ...]
FEATURES_VERSION: int
FUNCTION_FILES: int
CUT: float
FN_CUT: float

# The classes are final at runtime (pyo3): stubtest checks it (scripts/test).

@final
class Repo:
    @staticmethod
    def open_dir(
        path: str | PathLike[str],
        *,
        max_file_size: int | None = None,
        hidden: bool = False,
        exclude: list[str] = ...,
    ) -> Repo: ...
    @staticmethod
    def open_git(
        git_dir: str | PathLike[str],
        rev: str,
        *,
        max_file_size: int | None = None,
        hidden: bool = False,
        exclude: list[str] = ...,
    ) -> Repo: ...
    @staticmethod
    def from_files(files: list[tuple[str, bytes]]) -> Repo: ...
    def call(self, tool: str, args: bytes) -> bytes: ...
    # `call_objects(tool, args) -> object` exists only in builds with the `bench-objects`
    # cargo feature (benches/bench_boundary.py); the shipped extension has no such method.
    def grep_many(self, requests: bytes) -> bytes: ...
    def run_plan(self, plan: bytes) -> bytes: ...
    def start(self, timeout_s: float | None = None) -> PlanRun: ...
    def info(self) -> bytes: ...
    def paths(self) -> list[str]: ...
    def index_symbols(self) -> int: ...
    def index(self, cache_dir: str | None = None, max_bytes: int | None = None) -> bytes: ...
    def __len__(self) -> int: ...

@final
class PlanRun:
    def submit(self, tasks: bytes) -> None: ...
    def wait(self, id: int, timeout_s: float | None = None) -> bytes | None: ...
    def wait_all(self, timeout_s: float | None = None) -> bytes: ...
    def snapshot(self) -> bytes: ...
    def cancel(self) -> None: ...
    def cancelled(self) -> bool: ...

@final
class TreeEnsemble:
    """A gradient-boosted tree ensemble (the learned ranker), validated on load."""

    def __new__(cls, model_json: str) -> TreeEnsemble: ...
    def predict(self, rows: Iterable[Sequence[float | None]]) -> list[float]: ...
    def predict_flat(self, values: object, n_rows: int) -> list[float]: ...
    @property
    def feature_names(self) -> list[str]: ...
    @property
    def num_trees(self) -> int: ...
    @property
    def objective(self) -> str | None: ...
    @property
    def meta(self) -> str | None: ...

@final
class Search:
    """One search's candidates and evidence, read once by the engine (`acs.evidence`)."""

    def __new__(cls, search_json: bytes) -> Search: ...
    def hand_ranking(self, top_k: int, top_k_functions: int) -> bytes: ...
    def learned_ranking(self, ranker: LearnedRanker, top_k: int, top_k_functions: int) -> bytes: ...
    def file_table(self) -> tuple[list[str], list[list[float]]]: ...
    def function_table(
        self, file_scores: Sequence[tuple[str, float]]
    ) -> tuple[list[tuple[str, str]], list[list[float]]]: ...
    @property
    def candidates(self) -> tuple[int, int]: ...

@final
class LearnedRanker:
    """The file and function ensembles of a ranker model, with their calibrations."""

    def __new__(
        cls,
        files: TreeEnsemble,
        functions: TreeEnsemble,
        file_calibration: Sequence[float],
        file_threshold: float,
        function_calibration: Sequence[float],
        function_threshold: float,
    ) -> LearnedRanker: ...

@final
class History:
    """A repository's history index seen as of a commit (`acs.history`)."""

    @staticmethod
    def open(
        git_dir: str | PathLike[str],
        as_of: str,
        cache_dir: str | None = None,
        max_bytes: int | None = None,
    ) -> tuple[History, bytes]: ...
    @staticmethod
    def forget(git_dir: str | PathLike[str]) -> None: ...
    @property
    def as_of(self) -> str: ...
    @property
    def visible_commits(self) -> int: ...
    def similar_fixes(self, text: str, commits: int, files: int) -> bytes: ...
    def co_change(self, paths: list[str], limit: int) -> bytes: ...
    def activity(self, paths: list[str]) -> bytes: ...
    def commit(self, id: str) -> bytes | None: ...

def calibrated(scores: Sequence[float], coefficients: tuple[float, float, float]) -> list[float]:
    """P(edited) of each raw score: sigmoid(a * s + b * (s - best) + c)."""

def set_cache_budgets(
    content_bytes: int, symbol_bytes: int, term_bytes: int | None = None
) -> None: ...
def cache_usage() -> tuple[tuple[int, int], tuple[int, int]]: ...
def term_cache_usage() -> tuple[int, int]: ...
def tool_arguments() -> list[tuple[str, list[str]]]: ...
def tool_specs() -> list[dict[str, Any]]:
    """Each tool and its arguments (name, type, values, default, help, minimum, maximum,
    max_items), in the engine's order: the single description of the tools' arguments."""

def build_info() -> bytes:
    """The engine's build facts as JSON (see `acs.version.BuildInfo`)."""

def symbol_kinds() -> list[str]: ...
def error_kinds() -> list[tuple[str, str]]:
    """The engine's error kinds as (name, description), in declaration order."""

def _register_errors(classes: Mapping[str, type[Exception]]) -> None:
    """Map every error kind to its exception class (done once by `acs.errors` at import);
    ValueError if a kind is missing or unknown."""
