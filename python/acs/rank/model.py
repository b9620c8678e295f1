"""The learned ranker at inference: features of the search's candidates, the shipped tree
ensembles (files, then functions), probabilities calibrated on held-out training folds, and
the confident set (the threshold that maximised F0.5 there).

The model file (`models/ranker.json`) holds both ensembles in the engine's tree format, the
feature names and version they were trained with, and the calibration. Each ensemble reads
its columns by name, so a model keeps working when this code computes more features than it
was trained on; a model that reads a feature this code does not compute, or was trained on
another version of their meaning, is refused when loaded, never silently misread.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from .. import _core
from ..errors import InvalidArgumentError
from ..evidence import read_search
from ..issue import IssueSignals
from ..types import Turn
from . import gbdt
from .features import FEATURES_VERSION, FILE_FEATURES, FUNCTION_FEATURES

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
        # A model reads its columns by name: this acs may compute more than it was trained on.
        for model, names in ((self.files, FILE_FEATURES), (self.functions, FUNCTION_FEATURES)):
            try:
                model.columns(names)
            except InvalidArgumentError as e:
                raise InvalidArgumentError(f"ranker model: {e}") from None
        self._native = _core.LearnedRanker(
            self.files.native,
            self.functions.native,
            self.calibration["files"],
            self.thresholds["files"],
            self.calibration["functions"],
            self.thresholds["functions"],
        )
        self.info = meta.get("info", {})
        # Which model this is (an eval row made with another model is not reused).
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]

    def file_scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Raw scores of rows of `FILE_FEATURES` (`acs.rank.features.file_features`)."""
        return self.files.predict_table(rows, FILE_FEATURES)

    def function_scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Raw scores of rows of `FUNCTION_FEATURES`."""
        return self.functions.predict_table(rows, FUNCTION_FEATURES)

    def rank(
        self,
        signals: IssueSignals,
        turns: Sequence[Turn],
        issue: str,
        top_k: int,
        top_k_functions: int | None = None,
    ) -> dict[str, Any]:
        """The best `top_k` files and `top_k_functions` (default `2 * top_k`) functions,
        each with its calibrated probability of being edited and `confident`; the line
        ranges of the confident ones; `why` per item."""
        top_k_functions = top_k_functions or 2 * top_k
        search = read_search(signals, turns, issue)
        ranked: dict[str, Any] = orjson.loads(
            search.learned_ranking(self._native, top_k, top_k_functions)
        )
        return ranked


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
