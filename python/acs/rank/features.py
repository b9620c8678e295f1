"""Candidates and their features, from the evidence of a search.

Every file and function that any tool surfaced is a candidate. Its features say what each
piece of evidence was, raw: scores normalised to their query's best and ranks for every BM25
query (the whole issue, its title, the drill-down), what the issue names (definitions, paths,
stack frames, messages), callers of message-building code, how the candidate's name and path
read against the issue's words, and what kind of file it is. The hand-weighted joiner's score
is a feature too, so the model starts from it. Scores are relative within one search (a
query's best hit is 1.0), so they mean the same on any repository.

Missing evidence is NaN, not zero: "no BM25 hit" is not "the lowest BM25 hit", and the tree
model learns a direction for it. `FILE_FEATURES` and `FUNCTION_FEATURES` are the columns the
engine computes; a model reads those it was trained on, by name, so new columns go at the
end and an older model keeps working (`FEATURES_VERSION` changes when a feature's meaning
does). Function rows also say what the issue's traceback and quoted code say about the
definition (`frame_function`, `in_quoted_code`), where the issue's identifiers name it
(`identifier_rank`), whether it names its class (`class_in_issue`), and its rank among its
own file's candidates (`rank_in_file`).

The features are defined once, in the engine (`acs_core::evidence`, which also computes the
joiner's score from the same reading of the tool outcomes): their names, order and version
come from there, and a search is read there once (`acs.evidence.read_search`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import _core, definitions
from ..evidence import Search, read_search
from ..issue import IssueSignals
from ..types import Turn

FEATURES_VERSION: int = _core.FEATURES_VERSION
FUNCTION_FILES: int = _core.FUNCTION_FILES  # function candidates come from this many files
FILE_FEATURES: tuple[str, ...] = _core.FILE_FEATURES
FUNCTION_FEATURES: tuple[str, ...] = _core.FUNCTION_FEATURES


@dataclass
class FeatureTable:
    """Candidates (file paths, or (path, qualified name) pairs) and their feature rows."""

    keys: list[Any]
    rows: list[list[float]]


def file_features(
    signals: IssueSignals,
    turns: Sequence[Turn],
    issue: str,
    search: Search | None = None,
) -> tuple[FeatureTable, Search]:
    """The candidate files (in path order) and their rows of `FILE_FEATURES`; and the
    search as the engine read it, for `function_features`."""
    search = search if search is not None else read_search(signals, turns, issue)
    keys, rows = search.file_table()
    return FeatureTable(list(keys), rows), search


def function_features(search: Search, file_scores: Mapping[str, float]) -> FeatureTable:
    """Function candidates of the `FUNCTION_FILES` best files by `file_scores` (the file
    ranker's scores of the candidate files), in (path, name) order, and their rows of
    `FUNCTION_FEATURES`."""
    keys, rows = search.function_table(list(file_scores.items()))
    return FeatureTable(list(keys), rows)


def flat_symbols(symbols: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """An outline's definitions, nested ones after their parent, without `children`."""
    return [
        {k: v for k, v in node.items() if k != "children"}
        for node in definitions.outline_nodes(symbols)
    ]
