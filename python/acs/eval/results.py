"""The results of an evaluation run: one row per (instance, policy), its schema and
fingerprint, the statuses a run ends in, and the append-only results file. The runner writes
rows, the report reads them; neither needs the other.

A row holds the prediction, the gold locations, the metrics of one against the other, the
timings and `fingerprint` (what the result depends on besides the policy's code). Rows are
appended as runs finish; the last row of an (instance, policy) pair is the one that counts.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .. import __version__ as acs_version
from ..errors import InvalidArgumentError
from ..localize import LATENCY_PARTS
from ..policies import policy_spec
from ..task.dataset import Instance
from ..task.groundtruth import GroundTruth
from ..task.metrics import Prediction, calibration_pairs, score

RESULTS = "results.jsonl"  # the rows, in a run's --out folder
ROW_START = b'{"instance_id":'  # how every row's line starts (make_row's first key)
ROW_KEYS = frozenset({"instance_id", "policy", "status", "metrics", "fingerprint"})
STATUSES = ("ok", "error", "timeout")
# The shape of a row's prediction: part of the fingerprint, so that rows written before ranked
# lists with confident sets and scores (v1: the cut list alone) run again on resume.
ROW_FORMAT = "rows-v2"
# A row's `latency_split_ms`: where its `latency_ms` (the search, indexes ready) went, the
# parts of `localize`'s split but `index` (the row's `index_ms` is measured apart).
ROW_LATENCY_PARTS = tuple(part for part in LATENCY_PARTS if part != "index")


def row_latency_split(split: Mapping[str, float]) -> dict[str, float]:
    """`localize`'s `stats.latency_split_ms` less its `index` part: it adds up to the row's
    `latency_ms`."""
    return {part: split[part] for part in ROW_LATENCY_PARTS}


def zero_metrics() -> dict[str, dict[str, float]]:
    """Every metric of every level at zero: a failure whose gold locations are unknown."""
    anything = GroundTruth(
        files=("a",), modules=("a:A",), functions=("a:A.f",), lines={"a": ((1, 1),)}
    )
    return {
        level: dict.fromkeys(metrics, 0.0)
        for level, metrics in score(Prediction.empty(), anything).items()
    }


def fingerprint(inst: Instance, policy: str, top_k: int) -> str:
    """What a row's result depends on besides the code of the policy's own module: the acs
    version, the policy and what its registry entry says identifies its runs (the shipped
    ranker; a model planner's model, server and prompt version), `top_k` and the instance's
    content. Resuming reuses a row only when this matches, so an edited dataset row, another
    model or another acs version runs again."""
    parts = [acs_version, ROW_FORMAT, policy, str(top_k), inst.base_commit]
    parts.append(inst.problem_statement)
    parts.append(inst.patch)
    parts += policy_spec(policy).identity()  # its model, prompt or shipped ranker
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()[:16]


def make_row(
    inst: Instance,
    policy: str,
    status: str,
    *,
    top_k: int,
    error: str | None = None,
    prediction: Mapping[str, Any] | None = None,
    gold: Mapping[str, Any] | None = None,
    timings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    pred = Prediction.from_json(prediction) if prediction is not None else Prediction.empty()
    truth = GroundTruth.from_json(gold) if gold is not None else None
    metrics = score(pred, truth) if truth is not None else zero_metrics()
    t = dict(timings or {})
    return {
        "instance_id": inst.instance_id,
        "repo": inst.repo,
        "base_commit": inst.base_commit,
        "policy": policy,
        "status": status,
        "error": error,
        "prediction": pred.to_json(),
        "gold": gold,
        "metrics": metrics,
        # Per level, each ranked item's [score, 1 if gold else 0]: the reliability diagram's
        # input (absent for a failure whose gold is unknown, or a level without scores).
        "calibration": calibration_pairs(pred, truth) if truth is not None else {},
        "latency_ms": t.get("latency_ms"),
        "latency_split_ms": t.get("latency_split_ms"),
        "index_ms": t.get("index_ms"),
        "index_source": t.get("index_source"),
        "open_ms": t.get("open_ms"),
        "elapsed_ms": t.get("elapsed_ms"),
        "turns": t.get("turns"),
        "tool_calls": t.get("tool_calls"),
        "calls_per_turn": t.get("calls_per_turn"),
        "top_k": top_k,
        "fingerprint": fingerprint(inst, policy, top_k),
    }


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a results file, the last one of each (instance, policy); a line that is
    not a JSON object (the tail of an interrupted write) is skipped."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    for line in data.splitlines():
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(row, dict) and "instance_id" in row and "policy" in row:
            key = (row["instance_id"], row["policy"])
            last.pop(key, None)
            last[key] = row
    return list(last.values())


def foreign_line(path: str | os.PathLike[str]) -> int | None:
    """The number of the first line of `path` that no run wrote: a JSON value that is not a
    row, or other text that is not the start of a row cut short by a killed run. None for a
    results file (an empty or missing one too)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            if line.startswith(ROW_START):
                continue  # the tail of an interrupted write
            return number
        if not (isinstance(row, dict) and ROW_KEYS <= row.keys()):
            return number
    return None


def check_results_file(path: Path) -> None:
    """Refuse (`InvalidArgumentError`) an existing `path` that holds anything but rows: it
    is not ours to append to or to overwrite."""
    if path.is_file() and (number := foreign_line(path)) is not None:
        raise InvalidArgumentError(
            f"{path} is not an acs eval results file (line {number} is not a result row): "
            "refusing to write over it"
        )


class ResultsFile:
    """Append-only jsonl of rows, flushed after each row."""

    def __init__(self, path: Path, *, resume: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume and path.exists() and path.stat().st_size:
            with path.open("rb") as f:
                f.seek(-1, os.SEEK_END)
                torn = f.read(1) != b"\n"
            self._f = path.open("ab")
            if torn:  # an interrupted write: end its line so the next row stands alone
                self._f.write(b"\n")
        else:
            self._f = path.open("wb")

    def write(self, row: Mapping[str, Any]) -> None:
        self._f.write(orjson.dumps(row) + b"\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()
