"""The learned ranker's model: a gradient-boosted tree ensemble evaluated by the engine.

A model file (`acs.rank.export.export_lightgbm` writes one from a LightGBM booster) is
loaded once and scores rows of features, one row per candidate, with LightGBM's own
decisions and sums: the raw scores equal `booster.predict(X, raw_score=True)` bit for bit,
missing values (None or NaN) included. No LightGBM is needed here.

    model = acs.rank.gbdt.load("ranker.json")
    model.check_features(names)             # the columns the caller computes, in order
    scores = model.predict(rows)            # rows: [[float | None, ...], ...]
    scores = model.predict_table(rows, names)  # rows of more columns: the model's, by name
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from acs import _core
from acs.errors import InvalidArgumentError

__all__ = ["TreeModel", "load", "loads"]

Row = Sequence[float | None]


class TreeModel:
    """A loaded, validated tree ensemble. Immutable and safe to share between threads;
    `predict` releases the GIL while it evaluates."""

    __slots__ = ("_index", "_native", "feature_names", "meta", "num_trees", "objective")

    def __init__(self, native: _core.TreeEnsemble) -> None:
        self._native = native
        self.feature_names: tuple[str, ...] = tuple(native.feature_names)
        self.num_trees: int = native.num_trees
        self.objective: str | None = native.objective
        meta = native.meta
        self.meta: dict[str, Any] = orjson.loads(meta) if meta is not None else {}
        self._index = {name: i for i, name in enumerate(self.feature_names)}

    def __repr__(self) -> str:
        return (
            f"TreeModel({self.num_trees} trees, {len(self.feature_names)} features, "
            f"objective={self.objective!r})"
        )

    @property
    def native(self) -> _core.TreeEnsemble:
        """The engine's ensemble (what `acs._core.LearnedRanker` predicts with)."""
        return self._native

    def check_features(self, names: Sequence[str]) -> None:
        """Raise `InvalidArgumentError` unless `names` are the model's features, in order."""
        names = tuple(names)
        if names == self.feature_names:
            return
        missing = [n for n in self.feature_names if n not in set(names)]
        extra = [n for n in names if n not in self._index]
        if missing or extra or len(names) != len(self.feature_names):
            raise InvalidArgumentError(
                f"{len(names)} feature names for the model's {len(self.feature_names)}: "
                f"missing {missing}, unknown {extra}"
            )
        pairs = zip(names, self.feature_names, strict=True)
        wrong = next(i for i, (a, b) in enumerate(pairs) if a != b)
        raise InvalidArgumentError(
            f"feature {wrong} is {names[wrong]!r}, the model's is {self.feature_names[wrong]!r}"
        )

    def columns(self, names: Sequence[str]) -> list[int]:
        """Where each of the model's features is among `names` (the columns a caller
        computes, in its order: a superset of the model's, as an engine that added features
        after the model was trained computes). Raises `InvalidArgumentError` naming the
        first feature `names` lacks."""
        where = {name: i for i, name in enumerate(names)}
        missing = [n for n in self.feature_names if n not in where]
        if missing:
            raise InvalidArgumentError(
                f"the model reads {len(missing)} features the caller does not compute, "
                f"first {missing[0]!r:.60}"
            )
        return [where[n] for n in self.feature_names]

    def predict_table(self, rows: Sequence[Row], names: Sequence[str]) -> list[float]:
        """Raw scores of rows whose columns are `names` (a superset of the model's features,
        in any order; see `columns`)."""
        columns = self.columns(names)
        if tuple(names) == self.feature_names:
            return self._native.predict(rows)
        return self._native.predict([[row[c] for c in columns] for row in rows])

    def predict(self, rows: Sequence[Row], *, features: Sequence[str] | None = None) -> list[float]:
        """Raw scores of `rows`, one list of values per candidate in the model's column
        order (None or NaN: missing). With `features`, first check that they are the
        model's. Higher is better; one score per row."""
        if features is not None:
            self.check_features(features)
        return self._native.predict(rows)

    def predict_flat(self, values: Any, n_rows: int) -> list[float]:
        """Raw scores of `n_rows` rows given row-major in one flat float64 buffer (numpy
        array, `array.array("d")`) or sequence of numbers (None: missing)."""
        return self._native.predict_flat(values, n_rows)

    def predict_mappings(self, rows: Sequence[Mapping[str, float | None]]) -> list[float]:
        """Raw scores of rows given as {feature name: value}; an absent feature is missing.
        A name the model does not know raises `InvalidArgumentError` (a typo otherwise
        silently scores as missing)."""
        names = self.feature_names
        index = self._index
        table: list[list[float | None]] = []
        for r, row in enumerate(rows):
            unknown = [k for k in row if k not in index]
            if unknown:
                raise InvalidArgumentError(f"row {r}: unknown features {unknown}")
            table.append([row.get(n, math.nan) for n in names])
        return self._native.predict(table)


def loads(text: str | bytes) -> TreeModel:
    """A model from its JSON text."""
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode()
    return TreeModel(_core.TreeEnsemble(text))


def load(source: str | os.PathLike[str] | bytes) -> TreeModel:
    """A model from a file path or from JSON text (a string that starts with `{`)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return loads(source)
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return loads(source)
    return loads(Path(source).read_text(encoding="utf-8"))
