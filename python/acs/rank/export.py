"""Export a trained LightGBM booster as an acs tree-ensemble model file (JSON).

LightGBM is a training-time dependency: it is imported only when a booster is exported,
never when a model is loaded or evaluated (`acs.rank.gbdt`, the engine's evaluator).

The file mirrors LightGBM's model text, tree by tree (see `crates/acs-core/src/gbdt.rs`)::

    {"format": "acs-gbdt", "version": 1,
     "features": ["bm25_file", ...],          # column order of the rows to predict
     "objective": "lambdarank",                # as LightGBM names it; scores are raw
     "trees": [{"num_leaves": 3, "split_feature": [0, 1], "threshold": [0.5, 2.0],
                "decision_type": [2, 10], "left_child": [1, -1], "right_child": [-2, -3],
                "leaf_value": [0.1, -0.2, 0.3]}, ...],   # thresholds may be "inf", "-inf"
     "meta": {...}}                            # the caller's, kept opaque

Numbers are written as the shortest text that reads back as the same double, so the
thresholds and leaf values the engine evaluates are LightGBM's, bit for bit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from acs.errors import InvalidArgumentError

FORMAT = "acs-gbdt"
VERSION = 1

TREE_FIELDS = (
    "num_leaves",
    "split_feature",
    "threshold",
    "decision_type",
    "left_child",
    "right_child",
    "leaf_value",
)
_INT_FIELDS = {"split_feature", "decision_type", "left_child", "right_child"}
_DEFAULT_NAME = re.compile(r"Column_\d+")
_INFINITIES = {math.inf: "inf", -math.inf: "-inf"}


def export_lightgbm(
    booster: Any,
    features: Sequence[str],
    meta: Mapping[str, Any] | None = None,
    *,
    num_iteration: int | None = None,
) -> str:
    """The model file (JSON text) of `booster`, a `lightgbm.Booster` or a fitted
    scikit-learn estimator of LightGBM, whose columns are named `features` in order.

    `meta` is stored as given (calibration, feature-set version, training information).
    `num_iteration` is LightGBM's: None keeps the best iteration when early stopping found
    one, as `booster.predict` does, and <= 0 keeps every tree.

    Only what the engine evaluates exactly is exported: one tree per iteration (regression,
    ranking, binary; not multiclass), numeric splits (no categorical), constant leaves (no
    linear trees), summed trees (no random-forest averaging). Anything else raises
    `InvalidArgumentError`.
    """
    import lightgbm

    if not isinstance(booster, lightgbm.Booster):
        fitted = getattr(booster, "booster_", None)
        if not isinstance(fitted, lightgbm.Booster):
            raise InvalidArgumentError(
                f"expected a lightgbm.Booster or fitted LGBMModel, got {type(booster).__name__}"
            )
        booster = fitted
    features = list(features)
    if not all(isinstance(f, str) for f in features):
        raise InvalidArgumentError("feature names must be strings")
    if len(set(features)) != len(features):
        raise InvalidArgumentError("feature names must be unique")
    if meta is not None and not isinstance(meta, Mapping):
        raise InvalidArgumentError(f"meta must be a mapping, got {type(meta).__name__}")

    header, trees = parse_model_text(booster.model_to_string(num_iteration=num_iteration))
    if header.get("num_tree_per_iteration", "1") != "1":
        raise InvalidArgumentError(
            "the model has several trees per iteration (multiclass); acs evaluates one score"
        )
    if "average_output" in header:
        raise InvalidArgumentError("random-forest models (average_output) are not supported")
    names = header.get("feature_names", "").split()
    if len(names) != len(features):
        raise InvalidArgumentError(
            f"the booster has {len(names)} features, {len(features)} names were given"
        )
    if not all(_DEFAULT_NAME.fullmatch(n) for n in names) and names != features:
        wrong = next(i for i, (a, b) in enumerate(zip(names, features, strict=True)) if a != b)
        raise InvalidArgumentError(
            f"feature {wrong} is {names[wrong]!r} in the booster, {features[wrong]!r} here"
        )

    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "features": features,
        "objective": header.get("objective"),
        "trees": [_tree(i, t) for i, t in enumerate(trees)],
    }
    if meta is not None:
        out["meta"] = dict(meta)
    return orjson.dumps(out).decode()


def parse_model_text(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """LightGBM's model text as (header fields, each tree's fields), values unparsed."""
    header: dict[str, str] = {}
    trees: list[dict[str, str]] = []
    current = header
    for line in text.splitlines():
        if line == "end of trees":
            break
        if line.startswith("Tree="):
            current = {}
            trees.append(current)
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
        elif line.strip() and current is header:
            current[line.strip()] = ""
    return header, trees


def _tree(index: int, fields: Mapping[str, str]) -> dict[str, Any]:
    if fields.get("num_cat", "0") != "0":
        raise InvalidArgumentError(
            f"tree {index} has categorical splits; only numeric features are supported"
        )
    if fields.get("is_linear", "0") != "0":
        raise InvalidArgumentError(f"tree {index} is a linear tree (linear_tree=true)")
    missing = [f for f in TREE_FIELDS if f not in fields and f != "num_leaves"]
    if "num_leaves" not in fields or (missing and fields["num_leaves"] != "1"):
        raise InvalidArgumentError(f"tree {index} lacks {missing or ['num_leaves']}")
    tree: dict[str, Any] = {"num_leaves": int(fields["num_leaves"])}
    for name in TREE_FIELDS[1:]:
        values = fields.get(name, "").split()
        tree[name] = [int(v) for v in values] if name in _INT_FIELDS else [float(v) for v in values]
    if any(d & 1 for d in tree["decision_type"]):
        raise InvalidArgumentError(f"tree {index} has categorical splits")
    if not all(math.isfinite(v) for v in tree["leaf_value"]):
        raise InvalidArgumentError(f"tree {index} has a leaf value that is not finite")
    if any(math.isnan(t) for t in tree["threshold"]):
        raise InvalidArgumentError(f"tree {index} has a NaN threshold")
    # LightGBM splits at +inf (all but NaN go left); JSON has no infinities.
    tree["threshold"] = [_INFINITIES.get(t, t) for t in tree["threshold"]]
    return tree
