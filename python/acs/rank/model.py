"""The learned ranker at inference: features of the search's candidates, the shipped tree
ensembles (files, then functions), probabilities calibrated on held-out training folds, and
the confident set (the threshold that maximised F0.5 there).

The model file (`models/ranker.json`) holds both ensembles in the engine's tree format, the
feature names and version they were trained with, and the calibration. A model whose
features do not match this code's is refused when loaded, never silently misread.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from ..errors import InvalidArgumentError
from ..issue import IssueSignals
from ..joiner import collect, function_location, merge_lines
from ..policy import Turn
from . import gbdt
from .calibration import calibrated
from .features import (
    FEATURES_VERSION,
    FILE_FEATURES,
    FUNCTION_FEATURES,
    file_features,
    function_features,
    gather,
    hand_ranking,
)

MODEL_RESOURCE = "ranker.json"
MODEL_PATH = Path(__file__).parent / "models" / MODEL_RESOURCE


class LearnedRanker:
    """Ranks a search's candidates with the two ensembles of a model file."""

    def __init__(self, text: str) -> None:
        try:
            meta = orjson.loads(text)
            self.files = gbdt.loads(orjson.dumps(meta["files"]))
            self.functions = gbdt.loads(orjson.dumps(meta["functions"]))
            self.calibration = {k: _numbers(meta["calibration"][k], 3) for k in LEVELS}
            self.thresholds = {k: _numbers([meta["confident"][k]], 1)[0] for k in LEVELS}
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise InvalidArgumentError(f"ranker model: not a model file ({e!r:.100})") from None
        if meta.get("features_version") != FEATURES_VERSION:
            raise InvalidArgumentError(
                f"ranker model: trained on features version {meta.get('features_version')}, "
                f"this acs computes version {FEATURES_VERSION}"
            )
        for model, names in ((self.files, FILE_FEATURES), (self.functions, FUNCTION_FEATURES)):
            if tuple(model.feature_names) != tuple(names):
                raise InvalidArgumentError("ranker model: feature names differ from this acs")
        self.info = meta.get("info", {})
        # Which model this is (an eval row made with another model is not reused).
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]

    def rank(
        self,
        signals: IssueSignals,
        turns: Sequence[Turn],
        issue: str,
        top_k: int,
        top_k_functions: int | None = None,
    ) -> dict[str, Any]:
        top_k_functions = top_k_functions or 2 * top_k
        cands = gather(signals, turns)
        ev = collect(signals, turns)  # once: the joiner's ranking and the line ranges share it
        hand = hand_ranking(signals, turns, issue, cands, ev)
        table, _ = file_features(signals, turns, issue, cands, hand)
        raw = self.files.predict(table.rows)
        probs = calibrated(raw, self.calibration["files"])
        order = sorted(range(len(raw)), key=lambda i: (-raw[i], table.keys[i]))
        file_raw = {table.keys[i]: raw[i] for i in range(len(raw))}
        files = [{"path": table.keys[i], "score": round(probs[i], 4)} for i in order[:top_k]]
        _mark_confident(files, self.thresholds["files"])

        ftable = function_features(signals, turns, issue, cands, file_raw, hand)
        fraw = self.functions.predict(ftable.rows)
        fprobs = calibrated(fraw, self.calibration["functions"])
        forder = sorted(range(len(fraw)), key=lambda i: (-fraw[i], ftable.keys[i]))
        functions = []
        for i in forder[:top_k_functions]:
            path, name = ftable.keys[i]
            loc = function_location(path, name, cands.spans[(path, name)], round(fprobs[i], 4))
            functions.append(loc)
        _mark_confident(functions, self.thresholds["functions"])

        confident_files = {f["path"] for f in files if f["confident"]}
        lines = [
            {"path": f["path"], "start": f["start_line"], "end": f["end_line"]}
            for f in functions
            if f["confident"]
        ]
        for path, spans in ev.lines.items():
            if path in confident_files:
                lines.extend({"path": path, "start": a, "end": b} for a, b in spans[:5])
        reasons = hand["why"]
        why = {f["path"]: reasons[f["path"]] for f in files if f["path"] in reasons}
        for f in functions:
            if (key := f"{f['path']}:{f['name']}") in reasons:
                why[key] = reasons[key]
        return {"files": files, "functions": functions, "lines": merge_lines(lines), "why": why}


LEVELS = ("files", "functions")


def _numbers(values: object, n: int) -> list[float]:
    """`values` as `n` finite numbers, or ValueError (a model file is data, not trusted)."""
    if not isinstance(values, list) or len(values) != n:
        raise ValueError(f"expected a list of {n} numbers, got {values!r:.60}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"expected a finite number, got {v!r:.60}")
        out.append(float(v))
    return out


def _mark_confident(items: list[dict[str, Any]], threshold: float) -> None:
    """The set chosen for precision: scores at or above the threshold, and at least the
    first item (an empty answer has no precision at all)."""
    for i, item in enumerate(items):
        item["confident"] = i == 0 or item["score"] >= threshold


@lru_cache(maxsize=1)
def shipped() -> LearnedRanker | None:
    """The model shipped in the package, loaded once; None when the package has none.
    (A plain path, not `importlib.resources`: that import alone costs 9 ms of every cold
    start, and the package is always installed as files.)"""
    try:
        text = MODEL_PATH.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return LearnedRanker(text)
