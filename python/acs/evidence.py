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
from .policy import Turn

Search = _core.Search


def tool_results(turns: Sequence[Turn]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(tool, arguments, result) of every task of `turns` that succeeded, in order."""
    for turn in turns:
        for task, outcome in zip(turn.tasks, turn.outcomes, strict=True):
            if outcome.get("status") == "ok":
                yield task["tool"], task["args"], outcome["result"]


def search_json(signals: IssueSignals, turns: Sequence[Turn], issue: str) -> bytes:
    """A search as the engine reads it (`acs_core::evidence::Search::from_json`)."""
    search = {
        "issue": issue,
        "title": signals.title,
        "identifiers": signals.identifiers,
        "frames": [(f.path, f.line, f.function) for f in signals.frames],
        "outcomes": list(tool_results(turns)),
    }
    try:
        return orjson.dumps(search)
    except orjson.JSONEncodeError as e:  # a lone surrogate, an object JSON cannot hold
        raise InvalidArgumentError(f"evidence: a search JSON cannot hold ({e!s:.100})") from None


def read_search(signals: IssueSignals, turns: Sequence[Turn], issue: str) -> Search:
    """The search read by the engine, once: rank it, or read its feature tables."""
    return _core.Search(search_json(signals, turns, issue))
