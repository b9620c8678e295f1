"""The joiner: turns the evidence of a run into ranked files, functions and line ranges,
each with a score in [0, 1], and marks the confident set: the items chosen for precision
(`confident`), today those above a fraction of the best score. Line ranges come from the
confident set only.

Signals: a file or definition named by the issue (path, stack frame, identifier), a literal
error message found in a file, and BM25 similarity of files and functions to the issue text.
Tests, docs, examples and vendored code are down-weighted unless the issue names a test, and
non-source files (prose, data, configuration) are down-weighted always: gold patches edit
source (all 449 gold files of the development set are `.py`, 5 of them tests or examples).

The weights were tuned on the development set (`../shared/data/swe_gym_dev.jsonl`) by
coordinate descent on file Acc@1 + Acc@5 + function Acc@10 + file and function F0.5, and
checked by tuning on half of the instances and scoring the other half (1.42 -> 1.53 there).

The reading and the scoring are the engine's (`acs_core::evidence`, one reader of tool
outcomes shared with the learned ranker's features): this module is their Python face.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from . import _core
from .evidence import Search, read_search
from .issue import IssueSignals
from .types import Turn

CUT: float = _core.CUT  # the confident set: what scores at least this fraction of the best
FN_CUT: float = _core.FN_CUT  # the same for functions


def rank(
    signals: IssueSignals,
    turns: Sequence[Turn],
    issue: str,
    top_k: int,
    top_k_functions: int | None = None,
    search: Search | None = None,
) -> dict[str, Any]:
    """The best `top_k` files and `top_k_functions` (default `2 * top_k`) functions, best
    first, each with its score normalised to the best of its list and `confident` (see
    `confident`); line ranges of the confident functions and files; `why` per item.
    `search`: these turns as the engine already read them (any reading ranks the same)."""
    top_k_functions = 2 * top_k if top_k_functions is None else top_k_functions
    if search is None:
        search = read_search(signals, turns, issue, features=False)
    ranked: dict[str, Any] = orjson.loads(search.hand_ranking(top_k, top_k_functions))
    return ranked


def confident(scores: Sequence[float], level: str) -> list[bool]:
    """Which items of a ranked list (`scores`, best first, at `level` "file" or "function")
    form the confident set, the answer chosen for precision. The joiner's rule: at least CUT
    (FN_CUT) of the best score, and above zero. A ranker with calibrated probabilities
    replaces this with a threshold on the probability."""
    if not scores:
        return []
    floor = (CUT if level == "file" else FN_CUT) * scores[0]
    return [s >= floor and s > 0 for s in scores]


def function_location(
    path: str, name: str, span: tuple[str, int, int], score: float
) -> dict[str, Any]:
    """A ranked function as `localize` returns it; `span` is (kind, start line, end line)."""
    kind, start, end = span
    return {
        "path": path,
        "name": name,
        "kind": kind,
        "start_line": start,
        "end_line": end,
        "score": score,
    }


def merge_lines(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overlapping ranges of one file become one, in ranking order of their first range."""
    out: list[dict[str, Any]] = []
    for span in spans:
        for kept in out:
            if (
                kept["path"] == span["path"]
                and span["start"] <= kept["end"] + 1
                and kept["start"] <= span["end"] + 1
            ):
                kept["start"] = min(kept["start"], span["start"])
                kept["end"] = max(kept["end"], span["end"])
                break
        else:
            out.append(dict(span))
    return out
