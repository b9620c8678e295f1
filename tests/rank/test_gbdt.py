"""The engine's tree-ensemble evaluator (`acs.rank.gbdt`) against LightGBM's own predict,
the exporter (`acs.rank.export`), and the loader's refusals."""

from __future__ import annotations

import math
import random
from typing import Any

import orjson
import pytest

from acs.errors import InvalidArgumentError
from acs.rank import gbdt
from acs.rank.export import export_lightgbm, parse_model_text

# Bit-exact in practice (same decisions, same summation order); the bound the lead asked for.
TOLERANCE = 1e-9


def python_predict(model: dict[str, Any], row: list[float]) -> float:
    """An independent reference: LightGBM's decision rule, written out in Python."""
    total = 0.0
    for tree in model["trees"]:
        node = 0 if tree["num_leaves"] > 1 else -1
        while node >= 0:
            v = row[tree["split_feature"][node]]
            if abs(v) <= 1.0000000180025095e-35:  # kZeroThreshold: absent from the row
                v = 0.0
            dt = tree["decision_type"][node]
            missing, default_left = (dt >> 2) & 3, bool(dt & 2)
            if math.isnan(v) and missing != 2:
                v = 0.0
            if (missing == 1 and v == 0.0) or (missing == 2 and math.isnan(v)):
                left = default_left
            else:
                left = v <= float(tree["threshold"][node])
            node = tree["left_child"][node] if left else tree["right_child"][node]
        total += tree["leaf_value"][~node]
    return total


def random_model(rng: random.Random, n_features: int, n_trees: int, leaves: int) -> dict:
    """A model file of random trees (random shapes, every decision type), for tests that
    need no LightGBM."""
    trees = []
    for _ in range(n_trees):
        n = rng.randint(1, leaves)
        # Grow by splitting a random leaf, as LightGBM numbers nodes and leaves.
        left, right, parent_of_leaf = [], [], {0: None}
        for node in range(n - 1):
            leaf = rng.choice(list(parent_of_leaf))
            parent = parent_of_leaf.pop(leaf)
            if parent is not None:
                p, side = parent
                (left if side == "l" else right)[p] = node
            left.append(~leaf)
            right.append(~(node + 1))
            parent_of_leaf[leaf] = (node, "l")
            parent_of_leaf[node + 1] = (node, "r")
        trees.append(
            {
                "num_leaves": n,
                "split_feature": [rng.randrange(n_features) for _ in range(n - 1)],
                "threshold": [rng.choice([0.0, rng.gauss(0, 1)]) for _ in range(n - 1)],
                "decision_type": [rng.choice([0, 2, 4, 6, 8, 10]) for _ in range(n - 1)],
                "left_child": left,
                "right_child": right,
                "leaf_value": [rng.gauss(0, 0.1) for _ in range(n)],
            }
        )
    return {
        "format": "acs-gbdt",
        "version": 1,
        "features": [f"f{i}" for i in range(n_features)],
        "trees": trees,
        "meta": {"calibration": {"a": 1.25, "b": -0.5}, "feature_set": 3},
    }


def random_rows(rng: random.Random, n_rows: int, n_features: int) -> list[list[float]]:
    pool = [math.nan, 0.0, -0.0, 1e-40, -1e-40, 1.0, -1.0, math.inf, -math.inf]
    return [
        [rng.choice(pool) if rng.random() < 0.3 else rng.gauss(0, 1) for _ in range(n_features)]
        for _ in range(n_rows)
    ]


# --- without LightGBM ---------------------------------------------------------------------


def test_large_random_model_matches_the_reference_walk():
    rng = random.Random(7)
    model = random_model(rng, n_features=30, n_trees=1500, leaves=63)
    text = orjson.dumps(model).decode()
    assert len(text) > 1_000_000  # more than we ship, but it loads
    loaded = gbdt.load(text)
    assert loaded.num_trees == 1500
    assert loaded.feature_names == tuple(model["features"])
    assert loaded.meta == model["meta"]
    rows = random_rows(rng, 50, 30)
    got = loaded.predict(rows)
    want = [python_predict(model, r) for r in rows]
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) == 0.0


def test_rows_none_flat_and_mappings(tmp_path):
    rng = random.Random(1)
    model = random_model(rng, n_features=4, n_trees=40, leaves=8)
    path = tmp_path / "model.json"
    path.write_text(orjson.dumps(model).decode())
    loaded = gbdt.load(path)
    assert gbdt.load(str(path)).num_trees == loaded.num_trees == 40
    rows = random_rows(rng, 20, 4)
    want = loaded.predict(rows)
    with_none = [[None if math.isnan(v) else v for v in r] for r in rows]
    assert loaded.predict(with_none) == want
    assert loaded.predict([tuple(r) for r in rows]) == want
    flat = [v for r in rows for v in r]
    assert loaded.predict_flat(flat, 20) == want
    import array

    assert loaded.predict_flat(array.array("d", flat), 20) == want
    names = loaded.feature_names
    as_maps = [{n: v for n, v in zip(names, r, strict=True) if not math.isnan(v)} for r in rows]
    assert loaded.predict_mappings(as_maps) == want
    assert loaded.predict([]) == []

    loaded.check_features(names)
    assert loaded.predict(rows, features=names) == want
    with pytest.raises(InvalidArgumentError, match="feature 0 is 'f1'"):
        loaded.check_features([names[1], names[0], *names[2:]])
    with pytest.raises(InvalidArgumentError, match="missing"):
        loaded.check_features(names[:3])
    with pytest.raises(InvalidArgumentError, match="unknown features"):
        loaded.predict_mappings([{"f9": 1.0}])
    with pytest.raises(InvalidArgumentError, match="row 1 has 3 values"):
        loaded.predict([rows[0], rows[1][:3]])
    with pytest.raises(InvalidArgumentError, match="row 0, column 2"):
        loaded.predict([[1.0, 2.0, "x", 4.0]])
    with pytest.raises(InvalidArgumentError, match="values for 3 rows"):
        loaded.predict_flat(flat, 3)


def _model_with(**tree_changes: Any) -> str:
    tree = {
        "num_leaves": 3,
        "split_feature": [0, 1],
        "threshold": [0.5, 2.0],
        "decision_type": [2, 10],
        "left_child": [1, -1],
        "right_child": [-3, -2],
        "leaf_value": [0.1, -0.2, 0.3],
    }
    tree.update(tree_changes)
    model = {"format": "acs-gbdt", "version": 1, "features": ["a", "b"], "trees": [tree]}
    return orjson.dumps(model).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        ('{"format": "acs-gbdt"}', "no `version`"),
        (_model_with().replace('"acs-gbdt"', '"xgboost"'), "format is"),
        (_model_with().replace('"version":1', '"version":2'), "version 2 is not supported"),
        (_model_with(split_feature=[0, 2]), r"tree 0: split_feature\[1\] = 2"),
        (_model_with(left_child=[5, -1]), r"left_child\[0\] = 5"),
        (_model_with(right_child=[-3, -9]), r"right_child\[1\] = -9"),
        (_model_with(left_child=[1, 1]), "node 1 is the child of 2 nodes"),
        (_model_with(threshold=[0.5]), "threshold has 1 entries"),
        (_model_with(leaf_value=[0.1, "x", 0.3]), "not a number"),
        (_model_with(leaf_value=[0.1, None, 0.3]), "not a number"),
        (_model_with(decision_type=[1, 10]), "categorical"),
        (_model_with(num_leaves=0), "num_leaves = 0"),
        (_model_with(gain=[1.0]), "unknown field `gain`"),
    ],
)
def test_malformed_files_raise_invalid_argument(text, message):
    with pytest.raises(InvalidArgumentError, match=message):
        gbdt.loads(text)


# --- against LightGBM ---------------------------------------------------------------------


def _dataset(np, rng, n_rows: int, n_features: int):
    """Features of the kinds the ranker sees: continuous, counts (many ties, many zeros),
    flags, and columns with NaNs."""
    X = rng.normal(size=(n_rows, n_features))
    X[:, 1] = rng.poisson(1.0, size=n_rows)  # counts: zeros and ties
    X[:, 2] = rng.integers(0, 2, size=n_rows)  # a flag
    X[:, 3] = np.where(rng.random(n_rows) < 0.5, 0.0, X[:, 3])  # half zeros
    X[rng.random((n_rows, n_features)) < 0.15] = np.nan  # missing anywhere
    X[:, 4] = np.where(rng.random(n_rows) < 0.4, np.nan, rng.exponential(size=n_rows))
    y = np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * 0.5 - np.isnan(X[:, 4])
    y += rng.normal(scale=0.5, size=n_rows)
    return X, y


def _probe_rows(np, rng, booster, X):
    """Rows that sit exactly on every threshold, one ulp either side, and on the special
    values (NaN, ±0, values LightGBM reads as 0, infinities), plus ordinary rows."""
    _, trees = parse_model_text(booster.model_to_string())
    cuts: dict[int, set[float]] = {}
    for tree in trees:
        for f, t in zip(tree["split_feature"].split(), tree["threshold"].split(), strict=True):
            cuts.setdefault(int(f), set()).add(float(t))
    rows = [X[:300].copy()]
    specials = [np.nan, 0.0, -0.0, 1e-40, -1e-40, 1e-35, -1e-35, np.inf, -np.inf, 1e300]
    for f, values in cuts.items():
        values = sorted(values)
        near = np.array(
            values + list(np.nextafter(values, np.inf)) + list(np.nextafter(values, -np.inf))
        )
        for v in [*near, *specials]:
            block = X[rng.integers(0, len(X), size=4)].copy()
            block[:, f] = v
            rows.append(block)
    return np.vstack(rows)


def _missing_types(booster) -> set[int]:
    _, trees = parse_model_text(booster.model_to_string())
    return {(int(d) >> 2) & 3 for t in trees for d in t["decision_type"].split()}


PARAMS = {
    # NaN-aware splits (missing type NaN) where a column has NaNs, None elsewhere.
    "default": {},
    # Zeros and NaNs are missing (missing type Zero).
    "zero_as_missing": {"zero_as_missing": True},
    # No missing handling: NaN reads as 0 (missing type None everywhere).
    "no_missing": {"use_missing": False},
}


@pytest.mark.parametrize("missing", sorted(PARAMS))
@pytest.mark.parametrize("objective", ["lambdarank", "regression", "binary"])
def test_parity_with_lightgbm(objective, missing):
    lgb = pytest.importorskip("lightgbm")
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(len(objective) * 10 + len(missing))
    X, y = _dataset(np, rng, 3000, 12)
    params = {
        "objective": objective,
        "num_leaves": 63,
        "min_data_in_leaf": 5,
        "learning_rate": 0.1,
        "verbose": -1,
        "seed": 3,
        "deterministic": True,
        "num_threads": 1,
        **PARAMS[missing],
    }
    if objective == "lambdarank":
        groups = np.full(100, 30)
        label = np.clip(np.digitize(y, np.quantile(y, [0.5, 0.8, 0.95])), 0, 3)
        data = lgb.Dataset(X, label, group=groups)
    elif objective == "binary":
        data = lgb.Dataset(X, (y > np.median(y)).astype(int))
    else:
        data = lgb.Dataset(X, y)
    booster = lgb.train(params, data, num_boost_round=120)
    assert booster.num_trees() == 120

    features = [f"x{i}" for i in range(X.shape[1])]
    meta = {"features_version": 1, "objective": objective}
    text = export_lightgbm(booster, features, meta)
    model = gbdt.loads(text)
    # Re-serialised (as a model file that embeds it is): still LightGBM's numbers exactly.
    again = gbdt.loads(orjson.dumps(orjson.loads(text)))
    assert model.num_trees == again.num_trees == 120
    assert model.feature_names == tuple(features)
    assert model.meta == meta
    assert model.objective is not None and model.objective.startswith(objective)
    expected_types = {"default": {2}, "zero_as_missing": {1}, "no_missing": {0}}[missing]
    assert expected_types <= _missing_types(booster)

    probe = _probe_rows(np, rng, booster, X)
    want = booster.predict(probe, raw_score=True)
    got = np.array(model.predict(probe.tolist()))
    assert np.max(np.abs(got - want)) <= TOLERANCE
    assert np.array_equal(got, want)  # in fact bit for bit
    assert again.predict(probe.tolist()) == got.tolist()
    flat = np.array(model.predict_flat(np.ascontiguousarray(probe), len(probe)))
    assert np.array_equal(flat, got)


def _hand_model_text(decision_type: int, threshold: float) -> str:
    """A LightGBM model text of one stump on feature 0, written by hand to reach decision
    types and thresholds training rarely produces (thresholds inside ±1e-35, say)."""
    return "\n".join(
        [
            "tree",
            "version=v4",
            "num_class=1",
            "num_tree_per_iteration=1",
            "label_index=0",
            "max_feature_idx=1",
            "objective=regression",
            "feature_names=a b",
            "feature_infos=[-1:1] [-1:1]",
            "",
            "Tree=0",
            "num_leaves=2",
            "num_cat=0",
            "split_feature=0",
            "split_gain=1",
            f"threshold={threshold!r}",
            f"decision_type={decision_type}",
            "left_child=-1",
            "right_child=-2",
            "leaf_value=-1 1",
            "leaf_weight=1 1",
            "leaf_count=1 1",
            "internal_value=0",
            "internal_weight=2",
            "internal_count=2",
            "is_linear=0",
            "shrinkage=1",
            "",
            "",
            "end of trees",
            "",
        ]
    )


def test_every_decision_type_and_tiny_thresholds_match_lightgbm():
    lgb = pytest.importorskip("lightgbm")
    np = pytest.importorskip("numpy")
    thresholds = [-0.5, 0.0, 0.5, 1e-38, -1e-38, 1.0000000180025095e-35, 2.5]
    values = [
        math.nan,
        0.0,
        -0.0,
        1e-40,
        -1e-40,
        1e-36,
        -1e-36,
        1.0000000180025095e-35,
        -1.0000000180025095e-35,
        2e-35,
        -2e-35,
        0.5,
        -0.5,
        2.5,
        math.inf,
        -math.inf,
    ]
    for dt in [0, 2, 4, 6, 8, 10]:
        for t in thresholds:
            booster = lgb.Booster(model_str=_hand_model_text(dt, t))
            model = gbdt.loads(export_lightgbm(booster, ["a", "b"]))
            X = np.array([[v, 0.0] for v in [*values, t]])
            want = booster.predict(X, raw_score=True)
            got = model.predict(X.tolist())
            assert list(want) == got, (dt, t)


def test_export_refuses_what_the_engine_cannot_evaluate():
    lgb = pytest.importorskip("lightgbm")
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, size=(400, 3)).astype(float)
    y = (X[:, 0] == 2) + rng.normal(scale=0.1, size=400)
    params = {"verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5}
    categorical = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[0]), num_boost_round=3)
    with pytest.raises(InvalidArgumentError, match="categorical"):
        export_lightgbm(categorical, ["a", "b", "c"])
    multiclass = lgb.train(
        {**params, "objective": "multiclass", "num_class": 3},
        lgb.Dataset(X, X[:, 1] % 3),
        num_boost_round=2,
    )
    with pytest.raises(InvalidArgumentError, match="multiclass"):
        export_lightgbm(multiclass, ["a", "b", "c"])
    plain = lgb.train(params, lgb.Dataset(X, y), num_boost_round=3)
    with pytest.raises(InvalidArgumentError, match="3 features, 2 names"):
        export_lightgbm(plain, ["a", "b"])
    named = lgb.train(params, lgb.Dataset(X, y, feature_name=["a", "b", "c"]), num_boost_round=3)
    with pytest.raises(InvalidArgumentError, match="feature 1 is 'b'"):
        export_lightgbm(named, ["a", "c", "b"])
    assert gbdt.loads(export_lightgbm(named, ["a", "b", "c"])).num_trees == 3
    with pytest.raises(InvalidArgumentError, match=r"lightgbm\.Booster"):
        export_lightgbm(object(), ["a"])
