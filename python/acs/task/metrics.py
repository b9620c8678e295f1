"""Localization metrics, shared by the evaluation report and the RL reward.

Four levels: file, module (top-level class or function), function (innermost definition) and
line. Ranked levels get strict Acc@k (every gold location in the top k, as LocAgent and
Agentless report it) and Recall@k over the whole ranked list; every level gets precision,
recall, F1 and F0.5 of the confident set (the items a result marks `confident`, as SWE-grep
and CodeScout report them). Scores are checked against gold with a reliability diagram, ECE
and the Brier score. Formulas and what they are comparable with: docs/eval-metrics.md.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgumentError
from .groundtruth import GroundTruth, merge_ranges

__all__ = [
    "ACC_K",
    "BINS",
    "CALIBRATED",
    "LEVELS",
    "Prediction",
    "acc_at_k",
    "aggregate",
    "calibration_pairs",
    "line_scores",
    "recall_at_k",
    "reliability",
    "score",
    "set_scores",
]

LEVELS = ("file", "module", "function", "line")
ACC_K: dict[str, tuple[int, ...]] = {"file": (1, 3, 5), "module": (5, 10), "function": (5, 10)}
CALIBRATED = ("file", "function")  # the levels whose items carry a score
BINS = 10  # equal-width bins of the reliability diagram

LineRanges = Mapping[str, Sequence[tuple[int, int]]]


@dataclass(frozen=True)
class Prediction:
    """A localizer's answer: files, modules and functions in rank order (no duplicates) as
    `"path"`, `"path:Top"` and `"path:Class.method"`; lines as merged ranges per path.

    `confident_*` are the confident sets (in rank order), `None` when the result marked none
    (an old run, a policy without the flag): then the whole ranked list is the set.
    `file_scores` and `function_scores` are the scores of `files` and `functions`, in the
    same order, `None` when unknown (runs saved before scores were kept)."""

    files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    lines: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    confident_files: tuple[str, ...] | None = None
    confident_modules: tuple[str, ...] | None = None
    confident_functions: tuple[str, ...] | None = None
    file_scores: tuple[float, ...] | None = None
    function_scores: tuple[float, ...] | None = None

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> Prediction:
        """From an `acs.localize` result. A function's module is the first component of its
        qualified name (`Class.method` -> `Class`), ranked where its first function is. A
        list in which no item has `confident` is all confident."""
        file_items = _first_of_each(result.get("files", ()), lambda f: f["path"])
        fn_items = _first_of_each(result.get("functions", ()), lambda f: f"{f['path']}:{f['name']}")
        files = tuple(file_items)
        functions = tuple(fn_items)
        module = {key: f"{f['path']}:{f['name'].split('.')[0]}" for key, f in fn_items.items()}
        modules = _unique(module.values())
        confident_files = _confident(file_items)
        confident_functions = _confident(fn_items)
        confident_modules = (
            None
            if confident_functions is None
            else _unique(module[key] for key in confident_functions)
        )
        spans: dict[str, list[tuple[int, int]]] = {}
        for r in result.get("lines", ()):
            spans.setdefault(r["path"], []).append((int(r["start"]), int(r["end"])))
        lines = {p: merge_ranges(rs) for p, rs in spans.items()}
        return cls(
            files,
            modules,
            functions,
            lines,
            confident_files,
            confident_modules,
            confident_functions,
            _scores(file_items.values()),
            _scores(fn_items.values()),
        )

    @classmethod
    def empty(cls) -> Prediction:
        return cls()

    def confident_set(self, level: str) -> tuple[str, ...]:
        """The set precision, recall and F-scores are computed on at a ranked level: the
        confident items, or the whole list when none was marked."""
        ranked, sure = {
            "file": (self.files, self.confident_files),
            "module": (self.modules, self.confident_modules),
            "function": (self.functions, self.confident_functions),
        }[level]
        return ranked if sure is None else sure

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "files": list(self.files),
            "modules": list(self.modules),
            "functions": list(self.functions),
            "lines": {p: [list(r) for r in rs] for p, rs in self.lines.items()},
        }
        # Only what is known, so a prediction without it reads back the same (and rows
        # written before these fields existed load unchanged).
        confident = {
            name: list(values)
            for name, values in (
                ("files", self.confident_files),
                ("modules", self.confident_modules),
                ("functions", self.confident_functions),
            )
            if values is not None
        }
        if confident:
            out["confident"] = confident
        scores = {
            name: list(values)
            for name, values in (("files", self.file_scores), ("functions", self.function_scores))
            if values is not None
        }
        if scores:
            out["scores"] = scores
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Prediction:
        confident = data.get("confident") or {}
        scores = data.get("scores") or {}

        def strings(name: str) -> tuple[str, ...] | None:
            return tuple(confident[name]) if name in confident else None

        def floats(name: str) -> tuple[float, ...] | None:
            return tuple(float(v) for v in scores[name]) if name in scores else None

        return cls(
            files=tuple(data.get("files", ())),
            modules=tuple(data.get("modules", ())),
            functions=tuple(data.get("functions", ())),
            lines={
                p: tuple((int(s), int(e)) for s, e in rs) for p, rs in data.get("lines", {}).items()
            },
            confident_files=strings("files"),
            confident_modules=strings("modules"),
            confident_functions=strings("functions"),
            file_scores=floats("files"),
            function_scores=floats("functions"),
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

    File, module and function levels: `acc@k` and `recall@k` of the ranked list for each k in
    `ACC_K[level]`, then `precision`, `recall`, `f1`, `f0.5` of the confident set. Line
    level: the last four only (lines come from the confident set)."""
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
        metrics.update(set_scores(prediction.confident_set(level), truth))
        out[level] = metrics
    if any(_covered(rs) for rs in _merged(gold.lines).values()):
        out["line"] = line_scores(prediction.lines, gold.lines)
    return out


def calibration_pairs(prediction: Prediction, gold: GroundTruth) -> dict[str, list[list[float]]]:
    """Per level of `CALIBRATED` whose gold is non-empty and whose scores are known: each
    ranked item as `[score, 1 if gold else 0]`, in rank order (what `reliability` reads).

    >>> p = Prediction(files=("a", "b"), file_scores=(1.0, 0.25))
    >>> calibration_pairs(p, GroundTruth(files=("b",)))
    {'file': [[1.0, 0], [0.25, 1]]}
    """
    out: dict[str, list[list[float]]] = {}
    for level, items, scores, truth in (
        ("file", prediction.files, prediction.file_scores, gold.files),
        ("function", prediction.functions, prediction.function_scores, gold.functions),
    ):
        if truth and scores is not None:
            gold_set = set(truth)
            out[level] = [[s, int(item in gold_set)] for item, s in zip(items, scores, strict=True)]
    return out


def reliability(pairs: Iterable[Sequence[float]], bins: int = BINS) -> dict[str, Any]:
    """The reliability diagram of (score, is gold) pairs: `bins` equal-width bins of the
    score over [0, 1] (a score of 1 goes in the last), each with `lo`, `hi`, `n`, the mean
    score `score` and the observed fraction of gold items `observed` (both None when `n` is
    0); the expected calibration error `ece` (the bins' |score - observed| weighted by their
    share of the items) and the `brier` score (mean squared error of the score against 0/1),
    None when there is no pair; and `n`.

    >>> r = reliability([(0.95, 1), (0.85, 1), (0.85, 0), (0.05, 0)], bins=2)
    >>> [(b["n"], b["score"], b["observed"]) for b in r["bins"]]
    [(1, 0.05, 0.0), (3, 0.8833333333333333, 0.6666666666666666)]
    """
    if bins < 1:
        raise InvalidArgumentError(f"bins must be at least 1, got {bins}")
    counts = [0] * bins
    score_sums = [0.0] * bins
    gold_sums = [0.0] * bins
    squared = 0.0
    for s, y in pairs:
        s, y = float(s), float(y)
        # The epsilon puts a score on a bin edge in the bin above (0.3 * 10 is 2.99...96).
        b = min(max(int(s * bins + 1e-9), 0), bins - 1)
        counts[b] += 1
        score_sums[b] += s
        gold_sums[b] += y
        squared += (s - y) ** 2
    n = sum(counts)
    out_bins = []
    ece = 0.0
    for b in range(bins):
        mean = score_sums[b] / counts[b] if counts[b] else None
        observed = gold_sums[b] / counts[b] if counts[b] else None
        if mean is not None and observed is not None:
            ece += counts[b] / n * abs(mean - observed)
        out_bins.append(
            {
                "lo": b / bins,
                "hi": (b + 1) / bins,
                "n": counts[b],
                "score": mean,
                "observed": observed,
            }
        )
    return {
        "bins": out_bins,
        "ece": ece if n else None,
        "brier": squared / n if n else None,
        "n": n,
    }


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


def _first_of_each(items: Iterable[Mapping[str, Any]], key: Any) -> dict[str, Mapping[str, Any]]:
    """Items by key, in rank order, the first of each key kept."""
    out: dict[str, Mapping[str, Any]] = {}
    for item in items:
        out.setdefault(key(item), item)
    return out


def _confident(items: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...] | None:
    """The keys of the confident items; None when no item says (the whole list is the set)."""
    if not any("confident" in item for item in items.values()):
        return None
    return tuple(k for k, item in items.items() if item.get("confident"))


def _scores(items: Iterable[Mapping[str, Any]]) -> tuple[float, ...] | None:
    """The items' scores, None unless every item has one."""
    values = [item.get("score") for item in items]
    if any(not isinstance(v, int | float) or isinstance(v, bool) for v in values):
        return None
    return tuple(float(v) for v in values)  # type: ignore[arg-type]


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
