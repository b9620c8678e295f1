"""Train the learned ranker: LambdaMART (LightGBM `lambdarank`) over the candidates of the
default planner's searches, on mined training data only; validated by repository folds;
reported on a dataset it never trains on (the development set).

    python -m acs.train.ranker --train records.jsonl --eval dev_records.jsonl --out model.json

Records come from `python -m acs.train.ranker.collect`. Two models: files first; then functions,
whose features include their file's score (out-of-fold while training, so the function model
sees file scores as good as the ones it will see at inference). LightGBM is needed here only
(`pip install agentic-code-search[train]`); the exported trees are evaluated by the engine.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ...evidence import Search
from ...issue import parse_issue
from ...rank.features import (
    FILE_FEATURES,
    FUNCTION_FEATURES,
    FeatureTable,
    file_features,
    function_features,
)
from ...task.metrics import acc_at_k
from ...types import Turn


@dataclass
class Query:
    """One record's candidates, features and labels."""

    instance_id: str
    repo: str
    files: FeatureTable
    file_labels: list[int]
    gold_files: set[str]
    gold_functions: set[str]
    signals: Any
    turns: list[Turn]
    issue: str
    search: Search  # the engine's reading of the record's search
    labels: tuple[str, ...] = ()


def read_records(path: str | Path) -> Iterable[dict[str, Any]]:
    with open(path, "rb") as f:
        for line in f:
            rec = orjson.loads(line)
            if "error" not in rec:
                yield rec


def to_query(rec: dict[str, Any]) -> Query:
    issue = rec["issue"]
    signals = parse_issue(issue)
    turns = [Turn(t["tasks"], t["outcomes"]) for t in rec["turns"]]
    table, search = file_features(signals, turns, issue)
    gold = set(rec["gold"]["files"])
    return Query(
        instance_id=rec["instance_id"],
        repo=rec["repo"],
        files=table,
        file_labels=[int(k in gold) for k in table.keys],
        gold_files=gold,
        gold_functions=set(rec["gold"]["functions"]),
        signals=signals,
        turns=turns,
        issue=issue,
        search=search,
        labels=tuple(rec.get("labels") or ()),
    )


def function_table(q: Query, file_scores: dict[str, float]) -> tuple[FeatureTable, list[int]]:
    table = function_features(q.search, file_scores)
    labels = [int(f"{p}:{n}" in q.gold_functions) for p, n in table.keys]
    return table, labels


# -- training -----------------------------------------------------------------------------------

PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "ndcg_eval_at": [1, 5, 10],
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambdarank_truncation_level": 20,
    "verbose": -1,
    "seed": 7,
    "num_threads": 2,
}
ROUNDS = 300


def _matrix(
    tables: Sequence[FeatureTable], labels: Sequence[Sequence[int]]
) -> tuple[Any, Any, list[int]]:
    import numpy as np

    x = np.array([r for t in tables for r in t.rows], dtype=np.float64)
    y = np.array([v for ls in labels for v in ls], dtype=np.float64)
    return x, y, [len(t.rows) for t in tables]


def fit(
    tables: Sequence[FeatureTable],
    labels: Sequence[Sequence[int]],
    names: Sequence[str],
    rounds: int = ROUNDS,
) -> Any:
    """A lambdarank booster on the queries that have a positive (others teach nothing)."""
    import lightgbm as lgb

    keep = [i for i, ls in enumerate(labels) if any(ls)]
    x, y, groups = _matrix([tables[i] for i in keep], [labels[i] for i in keep])
    data = lgb.Dataset(x, y, group=groups, feature_name=list(names), free_raw_data=False)
    return lgb.train(PARAMS, data, num_boost_round=rounds)


def predict(booster: Any, table: FeatureTable) -> list[float]:
    import numpy as np

    if not table.rows:
        return []
    return [float(s) for s in booster.predict(np.array(table.rows, dtype=np.float64))]


def repo_folds(repos: Sequence[str], k: int) -> list[set[str]]:
    """Repositories dealt into `k` folds, largest first, each to the lightest fold."""
    counts: dict[str, int] = {}
    for r in repos:
        counts[r] = counts.get(r, 0) + 1
    folds: list[set[str]] = [set() for _ in range(k)]
    sizes = [0] * k
    for r in sorted(counts, key=lambda r: (-counts[r], r)):
        i = sizes.index(min(sizes))
        folds[i].add(r)
        sizes[i] += counts[r]
    return folds


# -- metrics ------------------------------------------------------------------------------------


def _acc(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """`acc_at_k`, the headline metric (one definition, `acs.task.metrics`); a query without
    gold at this level (no function edited) counts as a miss in these reports."""
    return acc_at_k(ranked, gold, k) if gold else 0.0


def ranked_keys(table: FeatureTable, scores: Sequence[float]) -> list[Any]:
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], str(table.keys[i])))
    return [table.keys[i] for i in order]


def report(queries: Sequence[Query], file_scores: Sequence[Sequence[float]]) -> dict[str, float]:
    n = len(queries)
    out: dict[str, float] = {}
    for k in (1, 3, 5, 10):
        hits = sum(
            _acc(ranked_keys(q.files, s), q.gold_files, k)
            for q, s in zip(queries, file_scores, strict=True)
        )
        out[f"file_acc@{k}"] = round(100 * hits / n, 1)
    ceiling = sum(q.gold_files <= set(q.files.keys) for q in queries)
    out["file_ceiling"] = round(100 * ceiling / n, 1)
    return out


def function_report(
    queries: Sequence[Query], tables: Sequence[FeatureTable], scores: Sequence[Sequence[float]]
) -> dict[str, float]:
    n = len(queries)
    out: dict[str, float] = {}
    for k in (5, 10):
        hits = 0.0
        for q, t, s in zip(queries, tables, scores, strict=True):
            names = [f"{p}:{f}" for p, f in ranked_keys(t, s)]
            hits += _acc(names, q.gold_functions, k)
        out[f"function_acc@{k}"] = round(100 * hits / n, 1)
    ceiling = 0
    for q, t in zip(queries, tables, strict=True):
        ceiling += bool(q.gold_functions) and q.gold_functions <= {f"{p}:{f}" for p, f in t.keys}
    out["function_ceiling"] = round(100 * ceiling / n, 1)
    return out


def hand_scores(table: FeatureTable, names: Sequence[str]) -> list[float]:
    """The hand-weighted joiner's ranking, as scores (the baseline row)."""
    i = list(names).index("hand_norm")
    return [0.0 if math.isnan(r[i]) else r[i] for r in table.rows]


def fit_calibration(
    scores: Sequence[Sequence[float]], labels: Sequence[Sequence[int]]
) -> list[float]:
    """Coefficients (a, b, c) of `acs.rank.model.calibrated`, by logistic regression (Newton's
    method) on out-of-fold scores: P(edited) = sigmoid(a * s + b * (s - best) + c)."""
    import numpy as np

    xs, ys = [], []
    for ss, ls in zip(scores, labels, strict=True):
        if not ss:
            continue
        best = max(ss)
        xs += [(s, s - best, 1.0) for s in ss]
        ys += list(ls)
    x, y = np.array(xs), np.array(ys, dtype=np.float64)
    w = np.zeros(3)
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + 1e-6 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-6 * np.eye(3)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return [float(v) for v in w]


def confident_f05(
    probs: Sequence[Sequence[float]],
    keys: Sequence[Sequence[str]],
    golds: Sequence[set[str]],
    threshold: float,
) -> float:
    """Mean F0.5 of the confident sets (probability at or above `threshold`, and always the
    first item) over the queries that have gold locations."""
    from ...task.metrics import set_scores

    total, n = 0.0, 0
    for ps, ks, gold in zip(probs, keys, golds, strict=True):
        if not gold:
            continue
        order = sorted(range(len(ps)), key=lambda i: -ps[i])
        chosen = [ks[i] for j, i in enumerate(order) if j == 0 or ps[i] >= threshold]
        total += set_scores(chosen, gold)["f0.5"]
        n += 1
    return total / max(1, n)


def choose_threshold(
    probs: Sequence[Sequence[float]], keys: Sequence[Sequence[str]], golds: Sequence[set[str]]
) -> tuple[float, float]:
    """The probability threshold (0.02 to 0.94) whose confident sets have the best mean F0.5,
    and that F0.5."""
    scored = [(confident_f05(probs, keys, golds, t / 100), t / 100) for t in range(2, 96, 2)]
    f, t = max(scored, key=lambda ft: (ft[0], -ft[1]))
    return t, f


@dataclass
class Fitted:
    """Out-of-fold file and function scores of the training queries."""

    file_scores: dict[str, list[float]]
    fn_tables: dict[str, FeatureTable]
    fn_labels: dict[str, list[int]]
    fn_scores: dict[str, list[float]]


def cross_fit(train: Sequence[Query], k: int, rounds: int = ROUNDS) -> Fitted:
    folds = repo_folds([q.repo for q in train], k)
    file_scores: dict[str, list[float]] = {}
    for fold in folds:
        fit_q = [q for q in train if q.repo not in fold]
        booster = fit(
            [q.files for q in fit_q], [q.file_labels for q in fit_q], FILE_FEATURES, rounds
        )
        for q in train:
            if q.repo in fold:
                file_scores[q.instance_id] = predict(booster, q.files)
    fn_tables, fn_labels = {}, {}
    for q in train:
        scores = dict(zip(q.files.keys, file_scores[q.instance_id], strict=True))
        fn_tables[q.instance_id], fn_labels[q.instance_id] = function_table(q, scores)
    fn_scores: dict[str, list[float]] = {}
    for fold in folds:
        ids = [q.instance_id for q in train if q.repo not in fold]
        booster = fit(
            [fn_tables[i] for i in ids], [fn_labels[i] for i in ids], FUNCTION_FEATURES, rounds
        )
        for q in train:
            if q.repo in fold:
                fn_scores[q.instance_id] = predict(booster, fn_tables[q.instance_id])
    return Fitted(file_scores, fn_tables, fn_labels, fn_scores)


# Mined commits that change no source file: kept by the miner (real issues edit docs and
# configuration too), left out of training by default. With them, 41% of the mined gold files
# are not Python; without them 23%, close to the quarter of edited files that are docs or
# configuration in real issues (the outside benchmark the ranking issue cites).
SKIP_LABELS = ("docs-only", "config-only", "docs-config-only")

# Feature groups for the ablation: what each kind of evidence adds.
IMPORT_GRAPH = tuple(f for f in FILE_FEATURES if f.startswith(("import", "neighbour_")))
GROUPS: dict[str, tuple[str, ...]] = {
    "bm25": tuple(
        f for f in FILE_FEATURES if ("bm25" in f or f == "drill_max") and f not in IMPORT_GRAPH
    ),
    "named": tuple(
        f for f in FILE_FEATURES if f.startswith(("sym_", "path_", "frame", "grep", "caller"))
    ),
    "path words": ("name_share", "dir_share", "stem_in_issue"),
    "file kind": ("is_test", "is_auxiliary", "is_source", "is_init", "depth"),
    "hand joiner": ("hand_norm", "hand_rank"),
    "issue shape": (*(f for f in FILE_FEATURES if f.startswith("issue_")), "candidates"),
    "import graph": IMPORT_GRAPH,
}


def without(table: FeatureTable, names: Iterable[str]) -> FeatureTable:
    """`table` with the columns `names` missing (NaN): the model cannot use them."""
    drop = {FILE_FEATURES.index(n) for n in names}
    rows = [[math.nan if i in drop else v for i, v in enumerate(r)] for r in table.rows]
    return FeatureTable(table.keys, rows)


def file_oof(train: Sequence[Query], k: int, drop: Sequence[str] = ()) -> dict[str, list[float]]:
    """Out-of-fold file scores: each repository's queries scored by a model trained on the
    other folds' repositories."""
    scores: dict[str, list[float]] = {}
    for fold in repo_folds([q.repo for q in train], k):
        fit_q = [q for q in train if q.repo not in fold]
        booster = fit(
            [without(q.files, drop) for q in fit_q], [q.file_labels for q in fit_q], FILE_FEATURES
        )
        for q in train:
            if q.repo in fold:
                scores[q.instance_id] = predict(booster, without(q.files, drop))
    return scores


def ablation(train: Sequence[Query], dev: Sequence[Query], k: int) -> list[str]:
    """File-level rows (markdown): all features, then each group left out, out of fold on
    the training repositories and on the dev set."""
    lines = ["| features | folds Acc@1 | folds Acc@5 | dev Acc@1 | dev Acc@5 | dev Acc@10 |"]
    lines.append("|---|---:|---:|---:|---:|---:|")
    for label, drop in [("all", ()), *((f"without {g}", fs) for g, fs in GROUPS.items())]:
        oof = file_oof(train, k, drop)
        o = report(train, [oof[q.instance_id] for q in train])
        booster = fit(
            [without(q.files, drop) for q in train], [q.file_labels for q in train], FILE_FEATURES
        )
        d = report(dev, [predict(booster, without(q.files, drop)) for q in dev]) if dev else {}
        cells = [o["file_acc@1"], o["file_acc@5"]]
        cells += [d.get(m, math.nan) for m in ("file_acc@1", "file_acc@5", "file_acc@10")]
        lines.append(f"| {label} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
        print(lines[-1], file=sys.stderr)
    return lines


def train_model(
    train: Sequence[Query], k: int = 5, rounds: int = ROUNDS
) -> tuple[dict[str, Any], Fitted, list[str]]:
    """The model file's content (both ensembles, calibration, thresholds), the out-of-fold
    scores it was calibrated on, and report lines (markdown) of the folds."""
    from ...rank.calibration import calibrated
    from ...rank.export import export_lightgbm
    from ...rank.features import FEATURES_VERSION

    ids = [q.instance_id for q in train]
    cv = cross_fit(train, k, rounds)
    file_cal = fit_calibration([cv.file_scores[i] for i in ids], [q.file_labels for q in train])
    fn_cal = fit_calibration([cv.fn_scores[i] for i in ids], [cv.fn_labels[i] for i in ids])
    file_probs = [calibrated(cv.file_scores[i], file_cal) for i in ids]
    fn_probs = [calibrated(cv.fn_scores[i], fn_cal) for i in ids]
    fn_keys = [[f"{p}:{n}" for p, n in cv.fn_tables[i].keys] for i in ids]
    golds = [q.gold_files for q in train]
    file_t, file_f = choose_threshold(file_probs, [q.files.keys for q in train], golds)
    fn_t, fn_f = choose_threshold(fn_probs, fn_keys, [q.gold_functions for q in train])

    learned = report(train, [cv.file_scores[i] for i in ids])
    hand = report(train, [hand_scores(q.files, FILE_FEATURES) for q in train])
    fn_learned = function_report(
        train, [cv.fn_tables[i] for i in ids], [cv.fn_scores[i] for i in ids]
    )
    lines = [
        f"{len(train)} queries from {len({q.repo for q in train})} repositories, "
        f"{k} repository folds (out of fold):",
        "",
        "| ranking | file Acc@1 | Acc@5 | Acc@10 | function Acc@10 | gold among candidates |",
        "|---|---:|---:|---:|---:|---:|",
        f"| learned | {learned['file_acc@1']} | {learned['file_acc@5']} | "
        f"{learned['file_acc@10']} | {fn_learned['function_acc@10']} | {learned['file_ceiling']} |",
        f"| hand joiner | {hand['file_acc@1']} | {hand['file_acc@5']} | {hand['file_acc@10']} |"
        " | |",
        "",
        f"Confident sets: files p >= {file_t} (F0.5 {100 * file_f:.1f} out of fold), "
        f"functions p >= {fn_t} (F0.5 {100 * fn_f:.1f}).",
    ]
    file_model = fit(
        [q.files for q in train], [q.file_labels for q in train], FILE_FEATURES, rounds
    )
    fn_model = fit(
        [cv.fn_tables[i] for i in ids], [cv.fn_labels[i] for i in ids], FUNCTION_FEATURES, rounds
    )
    model = {
        "format": "acs-ranker",
        "version": 1,
        "features_version": FEATURES_VERSION,
        "files": orjson.loads(export_lightgbm(file_model, FILE_FEATURES, {})),
        "functions": orjson.loads(export_lightgbm(fn_model, FUNCTION_FEATURES, {})),
        "calibration": {"files": file_cal, "functions": fn_cal},
        "confident": {"files": file_t, "functions": fn_t},
        "info": {
            "train_queries": len(train),
            "train_repositories": sorted({q.repo for q in train}),
            "params": PARAMS,
            "rounds": rounds,
            "folds": learned | {"function_acc@10": fn_learned["function_acc@10"]},
        },
    }
    return model, cv, lines


def evaluate(model_text: str, dev: Sequence[Query]) -> list[str]:
    """Report lines (markdown) for the shipped-format model on `dev`, beside the joiner."""
    from ...rank.calibration import calibrated
    from ...rank.model import LearnedRanker

    ranker = LearnedRanker(model_text)
    learned_files, tables, fn_scores, probs = [], [], [], []
    for q in dev:
        raw = ranker.file_scores(q.files.rows)
        learned_files.append(raw)
        probs.append(calibrated(raw, ranker.calibration["files"]))
        t = function_table(q, dict(zip(q.files.keys, raw, strict=True)))[0]
        tables.append(t)
        fn_scores.append(ranker.function_scores(t.rows))
    lf = report(dev, learned_files)
    hf = report(dev, [hand_scores(q.files, FILE_FEATURES) for q in dev])
    ln = function_report(dev, tables, fn_scores)
    hn = function_report(dev, tables, [hand_scores(t, FUNCTION_FEATURES) for t in tables])
    keys, golds = [q.files.keys for q in dev], [q.gold_files for q in dev]
    f05 = round(100 * confident_f05(probs, keys, golds, ranker.thresholds["files"]), 1)
    return [
        f"{len(dev)} queries never trained on:",
        "",
        "| ranking | file Acc@1 | Acc@3 | Acc@5 | Acc@10 | function Acc@5 | Acc@10 |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| learned | {lf['file_acc@1']} | {lf['file_acc@3']} | {lf['file_acc@5']} | "
        f"{lf['file_acc@10']} | {ln['function_acc@5']} | {ln['function_acc@10']} |",
        f"| hand joiner | {hf['file_acc@1']} | {hf['file_acc@3']} | {hf['file_acc@5']} | "
        f"{hf['file_acc@10']} | {hn['function_acc@5']} | {hn['function_acc@10']} |",
        "",
        f"Gold among the candidates: files {lf['file_ceiling']}, functions "
        f"{ln['function_ceiling']}. File F0.5 of the confident set: {f05}.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m acs.train.ranker", description=__doc__)
    p.add_argument("--train", required=True, help="records of mined instances")
    p.add_argument("--eval", help="records of a dataset never trained on (the dev set)")
    p.add_argument("--out", help="write the model here (acs ships python/acs/rank/models/)")
    p.add_argument("--report", help="write the report (markdown) here")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--rounds", type=int, default=ROUNDS)
    p.add_argument(
        "--skip-labels",
        default=",".join(SKIP_LABELS),
        help="leave out mined instances with these labels ('' keeps all)",
    )
    p.add_argument("--ablation", action="store_true", help="also leave out each feature group")
    args = p.parse_args(argv)

    skip = {s for s in args.skip_labels.split(",") if s}
    train = [q for q in map(to_query, read_records(args.train)) if not skip & set(q.labels)]
    dev = [to_query(r) for r in read_records(args.eval)] if args.eval else []
    print(f"train: {len(train)} queries; dev: {len(dev)}", file=sys.stderr)
    model, _, lines = train_model(train, args.folds, args.rounds)
    text = orjson.dumps(model).decode()
    lines = ["## Training (mined data)", "", *lines]
    if dev:
        lines += ["", "## Development set", "", *evaluate(text, dev)]
    if args.ablation:
        lines += ["", "## Ablation (file level)", "", *ablation(train, dev, args.folds)]
    print("\n".join(lines))
    if args.report:
        Path(args.report).write_text("\n".join(lines) + "\n")
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out} ({len(text):,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
