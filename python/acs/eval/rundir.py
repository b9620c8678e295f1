"""The folder of an `acs eval` run (`--out`): results.jsonl, summary.json, report.md, the
plots. A run writes them into a folder that is new, empty, or an earlier run's (to resume it),
never over files someone else put there.

An earlier run's folder is known by the marker file `.acs-eval-run`, which a run writes
before anything else (so a run killed before its first row is known too), or, for a run made
before the marker existed, by a results file of rows (`results.foreign_line`)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import AcsError
from .results import RESULTS, foreign_line

MARKER = ".acs-eval-run"
MARKER_TEXT = b"written by acs eval: results.jsonl, summary.json, report.md and plots\n"
SHOWN_NAMES = 3  # of the foreign files an error names


class RunDirError(AcsError):
    """An `--out` folder that holds files an `acs eval` run did not write."""


def claim_run_dir(out: Path) -> None:
    """Make `out` this run's folder: create it, or accept it when it is empty or an earlier
    run's; then mark it. Raises `RunDirError` for a folder of other files (or a file), and
    `OSError` when it cannot be created or marked."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out} is a file, not a folder")
    if not out.exists():
        out.mkdir(parents=True)
    elif not is_run_dir(out):
        names = sorted(os.listdir(out))
        shown = ", ".join(names[:SHOWN_NAMES]) + (", ..." if len(names) > SHOWN_NAMES else "")
        raise RunDirError(
            f"--out {out} holds files acs eval did not write ({shown}): give a new or empty "
            "folder, or an earlier run's folder to resume it"
        )
    marker = out / MARKER
    if not marker.is_file():
        marker.write_bytes(MARKER_TEXT)


def is_run_dir(out: Path) -> bool:
    """Whether `out` is empty or an earlier run's folder (see the module docstring)."""
    with os.scandir(out) as entries:
        if next(entries, None) is None:
            return True
    if _has_marker(out):
        return True
    results = out / RESULTS
    return results.is_file() and results.stat().st_size > 0 and foreign_line(results) is None


def _has_marker(out: Path) -> bool:
    marker = out / MARKER
    if not marker.is_file():  # not a FIFO or a folder someone named so
        return False
    with marker.open("rb") as f:
        return f.read(len(MARKER_TEXT) + 1) == MARKER_TEXT
