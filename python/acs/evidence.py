"""The Python face of the engine's evidence reader (`acs_core::evidence`): a search, its
issue's signals and the outcomes of its tool calls, handed to the engine once as JSON and
read there into candidates, the hand joiner's scores and the learned ranker's features.

    search = read_search(signals, turns, issue)
    ranked = orjson.loads(search.hand_ranking(10, 20))    # the joiner (`acs.joiner.rank`)
    paths, rows = search.file_table()                      # features (`acs.rank.features`)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from . import _core
from .errors import InvalidArgumentError
from .issue import IssueSignals
from .types import Turn

Search = _core.Search


def tool_results(turns: Sequence[Turn]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(tool, arguments, result) of every task of `turns` that succeeded, in order."""
    for turn in turns:
        for task, outcome in zip(turn.tasks, turn.outcomes, strict=True):
            if outcome.get("status") == "ok":
                yield task["tool"], task["args"], outcome["result"]


# Tools whose outcomes only the learned ranker's features read: the joiner's ranking is the
# same without them (outlines are most of a search's bytes).
FEATURES_ONLY = frozenset({"outline"})


def search_json(
    signals: IssueSignals, turns: Sequence[Turn], issue: str, *, features: bool = True
) -> bytes:
    """A search as the engine reads it (`acs_core::evidence::Search::from_json`); without
    `features`, only what the joiner's ranking reads."""
    outcomes = [c for c in tool_results(turns) if features or c[0] not in FEATURES_ONLY]
    search = {
        "issue": issue,
        "title": signals.title,
        "identifiers": signals.identifiers,
        "frames": [(f.path, f.line, f.function) for f in signals.frames],
        "outcomes": outcomes,
    }
    try:
        return orjson.dumps(search)
    except orjson.JSONEncodeError as e:  # a lone surrogate, an object JSON cannot hold
        raise InvalidArgumentError(f"evidence: a search JSON cannot hold ({e!s:.100})") from None


def read_search(
    signals: IssueSignals, turns: Sequence[Turn], issue: str, *, features: bool = True
) -> Search:
    """The search read by the engine, once: rank it, or read its feature tables (without
    `features`: only its hand ranking)."""
    return _core.Search(search_json(signals, turns, issue, features=features))
