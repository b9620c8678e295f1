"""Localization metrics, shared by the evaluation report and the RL reward.

Four levels: file, module (top-level class or function), function (innermost definition) and
line. Ranked levels get strict Acc@k (every gold location in the top k, as LocAgent and
Agentless report it) and Recall@k; every level gets precision, recall, F1 and F0.5 of the
whole returned set (as SWE-grep and CodeScout report them). Formulas and what they are
comparable with: docs/eval-metrics.md.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgumentError
from .groundtruth import GroundTruth, merge_ranges

__all__ = [
    "ACC_K",
    "LEVELS",
    "Prediction",
    "acc_at_k",
    "aggregate",
    "line_scores",
    "recall_at_k",
    "score",
    "set_scores",
]

LEVELS = ("file", "module", "function", "line")
ACC_K: dict[str, tuple[int, ...]] = {"file": (1, 3, 5), "module": (5, 10), "function": (5, 10)}

LineRanges = Mapping[str, Sequence[tuple[int, int]]]


@dataclass(frozen=True)
class Prediction:
    """A localizer's answer: files, modules and functions in rank order (no duplicates) as
    `"path"`, `"path:Top"` and `"path:Class.method"`; lines as merged ranges per path."""

    files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    lines: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> Prediction:
        """From an `acs.localize` result. A function's module is the first component of its
        qualified name (`Class.method` -> `Class`), ranked where its first function is."""
        files = _unique(f["path"] for f in result.get("files", ()))
        funcs = list(result.get("functions", ()))
        functions = _unique(f"{f['path']}:{f['name']}" for f in funcs)
        modules = _unique(f"{f['path']}:{f['name'].split('.')[0]}" for f in funcs)
        spans: dict[str, list[tuple[int, int]]] = {}
        for r in result.get("lines", ()):
            spans.setdefault(r["path"], []).append((int(r["start"]), int(r["end"])))
        lines = {p: merge_ranges(rs) for p, rs in spans.items()}
        return cls(files, modules, functions, lines)

    @classmethod
    def empty(cls) -> Prediction:
        return cls()

    def to_json(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "modules": list(self.modules),
            "functions": list(self.functions),
            "lines": {p: [list(r) for r in rs] for p, rs in self.lines.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Prediction:
        return cls(
            files=tuple(data.get("files", ())),
            modules=tuple(data.get("modules", ())),
            functions=tuple(data.get("functions", ())),
            lines={
                p: tuple((int(s), int(e)) for s, e in rs) for p, rs in data.get("lines", {}).items()
            },
        )


def acc_at_k(predicted: Sequence[str], gold: Collection[str], k: int) -> float:
    """Strict accuracy: 1.0 if every gold item is among the first `k` predictions, else 0.0.

    >>> acc_at_k(["a", "b", "c"], {"a", "c"}, 2), acc_at_k(["a", "b", "c"], {"a", "c"}, 3)
    (0.0, 1.0)
    """
    gold_set = _gold(gold, k)
    return 1.0 if gold_set <= set(predicted[:k]) else 0.0


def recall_at_k(predicted: Sequence[str], gold: Collection[str], k: int) -> float:
    """The fraction of gold items among the first `k` predictions.

    >>> recall_at_k(["a", "b", "c"], {"a", "c"}, 2)
    0.5
    """
    gold_set = _gold(gold, k)
    return len(gold_set & set(predicted[:k])) / len(gold_set)


def set_scores(
    predicted: Collection[str], gold: Collection[str], beta: float = 0.5
) -> dict[str, float]:
    """Precision, recall, F1 and F-beta (key `f{beta:g}`, `f0.5` by default) of the predicted
    set against the gold set. The precision of an empty prediction is 0.

    >>> set_scores(["a", "b"], {"a", "c", "d"})
    {'precision': 0.5, 'recall': 0.3333333333333333, 'f1': 0.4, 'f0.5': 0.45454545454545453}
    """
    gold_set = _gold(gold)
    hits = len(set(predicted) & gold_set)
    return _prf(hits, len(set(predicted)), len(gold_set), beta)


def line_scores(predicted: LineRanges, gold: LineRanges, beta: float = 0.5) -> dict[str, float]:
    """`set_scores` over the sets of (path, line) pairs the inclusive ranges cover."""
    pred = _merged(predicted)
    truth = _merged(gold)
    n_gold = sum(_covered(rs) for rs in truth.values())
    if n_gold == 0:
        raise InvalidArgumentError("gold is empty: the line level cannot be scored")
    n_pred = sum(_covered(rs) for rs in pred.values())
    hits = sum(_overlap(pred[p], truth[p]) for p in pred.keys() & truth.keys())
    return _prf(hits, n_pred, n_gold, beta)


def score(prediction: Prediction, gold: GroundTruth) -> dict[str, dict[str, float]]:
    """Every metric at every level whose gold is non-empty (a level with no gold location,
    such as the function level of a patch that only edits top-level code, is omitted).

    File, module and function levels: `acc@k` and `recall@k` for each k in `ACC_K[level]`,
    then `precision`, `recall`, `f1`, `f0.5` of the whole prediction. Line level: the last
    four only."""
    out: dict[str, dict[str, float]] = {}
    ranked = {
        "file": (prediction.files, gold.files),
        "module": (prediction.modules, gold.modules),
        "function": (prediction.functions, gold.functions),
    }
    for level, (predicted, truth) in ranked.items():
        if not truth:
            continue
        metrics: dict[str, float] = {}
        for k in ACC_K[level]:
            metrics[f"acc@{k}"] = acc_at_k(predicted, truth, k)
            metrics[f"recall@{k}"] = recall_at_k(predicted, truth, k)
        metrics.update(set_scores(predicted, truth))
        out[level] = metrics
    if any(_covered(rs) for rs in _merged(gold.lines).values()):
        out["line"] = line_scores(prediction.lines, gold.lines)
    return out


def aggregate(scores: Iterable[Mapping[str, Mapping[str, float]]]) -> dict[str, dict[str, float]]:
    """The mean of each metric per level over the instances that have that level, with `n`,
    the number of those instances. Levels come out in `LEVELS` order."""
    sums: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    for instance in scores:
        for level, metrics in instance.items():
            counts[level] = counts.get(level, 0) + 1
            level_sums = sums.setdefault(level, {})
            for name, value in metrics.items():
                level_sums[name] = level_sums.get(name, 0.0) + value
    order = [lv for lv in LEVELS if lv in sums] + sorted(lv for lv in sums if lv not in LEVELS)
    return {
        level: {**{m: v / counts[level] for m, v in sums[level].items()}, "n": counts[level]}
        for level in order
    }


# -- helpers ----------------------------------------------------------------------------------


def _gold(gold: Collection[str], k: int = 1) -> set[str]:
    if k < 1:
        raise InvalidArgumentError(f"k must be at least 1, got {k}")
    gold_set = set(gold)
    if not gold_set:
        raise InvalidArgumentError("gold is empty: this level cannot be scored")
    return gold_set


def _prf(hits: int, n_pred: int, n_gold: int, beta: float) -> dict[str, float]:
    precision = hits / n_pred if n_pred else 0.0
    recall = hits / n_gold
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f_beta(precision, recall, 1.0),
        f"f{beta:g}": _f_beta(precision, recall, beta),
    }


def _f_beta(precision: float, recall: float, beta: float) -> float:
    b2 = beta * beta
    denominator = b2 * precision + recall
    return (1 + b2) * precision * recall / denominator if denominator else 0.0


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _merged(ranges: LineRanges) -> dict[str, tuple[tuple[int, int], ...]]:
    """Ranges per path merged and sorted; empty ranges (end before start) dropped."""
    return {p: merge_ranges((s, e) for s, e in rs if s <= e) for p, rs in ranges.items()}


def _covered(ranges: Sequence[tuple[int, int]]) -> int:
    return sum(max(0, e - s + 1) for s, e in ranges)


def _overlap(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> int:
    """Lines common to two merged, sorted lists of inclusive ranges."""
    i = j = total = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        total += max(0, hi - lo + 1)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total
