"""The learned ranker's inference: 300 candidates x 40 features through a LambdaMART model
of 300 trees of 31 leaves, evaluated by the engine (`acs.rank.gbdt`), by LightGBM's own
predict, and by a tree walk in pure Python. Target: under 2 ms per localize, well ahead of
LightGBM's predict on one thread. `test_ratios` times all of them in one run and records
the ratios in `extra_info`."""

from __future__ import annotations

import math
import time

import orjson
import pytest

from acs.rank import gbdt
from acs.rank.export import export_lightgbm

lgb = pytest.importorskip("lightgbm")
np = pytest.importorskip("numpy")

CANDIDATES, FEATURES, TREES, LEAVES = 300, 40, 300, 31


def _features(rng, n: int):
    """Feature rows shaped like a ranker's: continuous scores, counts and flags with many
    zeros, and missing values."""
    X = rng.normal(size=(n, FEATURES))
    X[:, :10] = rng.poisson(0.7, size=(n, 10))
    X[:, 10:15] = rng.integers(0, 2, size=(n, 5))
    X[rng.random((n, FEATURES)) < 0.1] = np.nan
    return X


@pytest.fixture(scope="module")
def ranker():
    rng = np.random.default_rng(0)
    X = _features(rng, 6000)
    y = np.nan_to_num(X[:, :3]).sum(1) + np.nan_to_num(X[:, 15:18]).sum(1)
    y += rng.normal(size=len(y))
    label = np.digitize(y, np.quantile(y, [0.6, 0.85, 0.97]))
    params = {
        "objective": "lambdarank",
        "num_leaves": LEAVES,
        "min_data_in_leaf": 5,
        "verbose": -1,
        "seed": 1,
    }
    data = lgb.Dataset(X, label, group=np.full(len(X) // 300, 300))
    booster = lgb.train(params, data, num_boost_round=TREES)
    names = [f"f{i}" for i in range(FEATURES)]
    text = export_lightgbm(booster, names)
    model = gbdt.loads(text)
    candidates = _features(rng, CANDIDATES)
    rows = [[None if math.isnan(v) else v for v in r] for r in candidates.tolist()]
    want = booster.predict(candidates, raw_score=True)
    assert np.array_equal(np.array(model.predict(rows)), want)
    return {
        "booster": booster,
        "model": model,
        "walk": _python_walker(orjson.loads(text)),
        "matrix": candidates,
        "rows": rows,
        "want": want,
    }


def _python_walker(model_dict):
    """LightGBM's decision rule in plain Python, over flat per-tree tuples."""
    trees = [
        (
            t["split_feature"],
            [float(x) for x in t["threshold"]],
            [((d >> 2) & 3, bool(d & 2)) for d in t["decision_type"]],
            t["left_child"],
            t["right_child"],
            t["leaf_value"],
        )
        for t in model_dict["trees"]
    ]
    isnan = math.isnan

    def predict(rows):
        out = []
        for row in rows:
            row = [0.0 if v is not None and abs(v) <= 1e-35 else v for v in row]
            total = 0.0
            for feature, threshold, kind, left, right, leaf in trees:
                node = 0 if len(leaf) > 1 else -1
                while node >= 0:
                    v = row[feature[node]]
                    missing, default_left = kind[node]
                    if v is None or isnan(v):
                        go_left = default_left if missing else 0.0 <= threshold[node]
                    elif missing == 1 and v == 0.0:
                        go_left = default_left
                    else:
                        go_left = v <= threshold[node]
                    node = left[node] if go_left else right[node]
                total += leaf[~node]
            out.append(total)
        return out

    return predict


def test_acs_predict_rows(benchmark, ranker):
    """The API the ranker uses: rows as Python lists, None for missing."""
    scores = benchmark(ranker["model"].predict, ranker["rows"])
    assert np.array_equal(np.array(scores), ranker["want"])


def test_acs_predict_flat(benchmark, ranker):
    """A float64 matrix (no per-value conversion)."""
    matrix = ranker["matrix"]
    scores = benchmark(ranker["model"].predict_flat, matrix, len(matrix))
    assert np.array_equal(np.array(scores), ranker["want"])


def test_lightgbm_predict(benchmark, ranker):
    benchmark(ranker["booster"].predict, ranker["matrix"], raw_score=True)


def test_lightgbm_predict_one_thread(benchmark, ranker):
    benchmark(ranker["booster"].predict, ranker["matrix"], raw_score=True, num_threads=1)


def test_python_tree_walk(benchmark, ranker):
    scores = benchmark.pedantic(ranker["walk"], args=(ranker["rows"],), rounds=2, iterations=1)
    assert np.max(np.abs(np.array(scores) - ranker["want"])) == 0.0


def _best_us(fn, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e6


def test_ratios(benchmark, ranker):
    """Every way, timed in this one run (best of N, microseconds per 300-row predict)."""
    model, booster = ranker["model"], ranker["booster"]
    matrix, rows = ranker["matrix"], ranker["rows"]
    n = 3 if benchmark.disabled else 200
    figures = {
        "acs_rows_us": _best_us(lambda: model.predict(rows), n),
        "acs_flat_us": _best_us(lambda: model.predict_flat(matrix, len(matrix)), n),
        "lightgbm_us": _best_us(lambda: booster.predict(matrix, raw_score=True), n),
        "lightgbm_1thread_us": _best_us(
            lambda: booster.predict(matrix, raw_score=True, num_threads=1), n
        ),
        "python_us": _best_us(lambda: ranker["walk"](rows), 1 if benchmark.disabled else 3),
    }
    figures = {k: round(v, 1) for k, v in figures.items()}
    acs = figures["acs_rows_us"]
    figures.update(
        lightgbm_over_acs=round(figures["lightgbm_us"] / acs, 2),
        lightgbm_1thread_over_acs=round(figures["lightgbm_1thread_us"] / acs, 2),
        python_over_acs=round(figures["python_us"] / acs, 1),
    )
    benchmark.extra_info.update(figures, shape=[CANDIDATES, FEATURES, TREES, LEAVES])
    print(figures)
    benchmark.pedantic(model.predict, args=(rows,), rounds=1, iterations=1)
