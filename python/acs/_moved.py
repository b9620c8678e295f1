"""Modules that moved keep their old import paths, deprecated: `import acs.execution` (or `python -m
acs.train.planner.rl_data`) still works, gives the module at its new path, and warns with a
DeprecationWarning that names it. One table instead of a stub file per old path, so the
folders show only today's layout. The moves are listed in the CHANGELOG."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import CodeType, FrameType, ModuleType

_TASK = ("dataset", "repos", "patch", "groundtruth", "metrics")
_PLANNER_TRAINING = (
    "env",
    "latency_model",
    "pg",
    "pg_smoke",
    "plan_stop",
    "reward",
    "rl_data",
    "sft",
    "skyrl_config",
    "skyrl_cpu_engine",
    "skyrl_exp",
    "skyrl_main",
    "skyrl_version",
)

# old path -> new path
MOVED: dict[str, str] = {
    "acs.plan": "acs.execution",
    "acs.planner": "acs.policies.default",
    "acs.policy": "acs.policies.base",
    "acs.baseline": "acs.policies.bm25",
    **{f"acs.eval.{n}": f"acs.task.{n}" for n in _TASK},
    "acs.train.collect": "acs.train.ranker.collect",
    **{f"acs.train.{n}": f"acs.train.planner.{n}" for n in _PLANNER_TRAINING},
}


def _warn(old: str, new: str) -> None:
    # Attribute the warning to the importer: the first frame outside the import machinery and
    # this file. `warnings` itself skips importlib's frames when it counts `stacklevel`.
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and (_internal(frame) or frame.f_code.co_filename == __file__):
        if not _internal(frame):
            level += 1
        frame = frame.f_back
    warnings.warn(f"{old} moved to {new}", DeprecationWarning, stacklevel=level + 1)


def _internal(frame: FrameType) -> bool:
    name = frame.f_code.co_filename
    return "importlib" in name and "_bootstrap" in name


class _Alias(importlib.abc.Loader):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a placeholder module; `exec_module` puts the real one in its place

    def exec_module(self, module: ModuleType) -> None:
        _warn(self.old, self.new)
        # The import system returns whatever sys.modules holds once this returns: the module
        # at its new path, untouched (its __name__ and __spec__ stay its own).
        sys.modules[self.old] = importlib.import_module(self.new)

    def is_package(self, fullname: str) -> bool:
        return False

    def get_code(self, fullname: str) -> CodeType:
        """What `python -m OLD` runs: the module at its new path, as `__main__`."""
        source = (
            f"import runpy, warnings\n"
            f"warnings.warn({f'{self.old} moved to {self.new}: run python -m {self.new}'!r},"
            f" DeprecationWarning, stacklevel=1)\n"
            f"runpy.run_module({self.new!r}, run_name='__main__', alter_sys=True)\n"
        )
        return compile(source, f"<{self.old}, moved to {self.new}>", "exec")


class MovedFinder(importlib.abc.MetaPathFinder):
    """Finds the old paths in `MOVED`; consulted after the real finders, so a module that
    exists is never shadowed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(fullname, new))


def install() -> None:
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(MovedFinder())
