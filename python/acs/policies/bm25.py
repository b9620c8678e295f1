"""The BM25 file ranking baseline: one turn, one `bm25` file-level search over the whole issue
text, and the files in exactly BM25's order.

It bypasses the joiner on purpose: the joiner down-weights tests, docs and examples and keeps
only what scores above a fraction of the best in its confident set, which would make the
baseline a little smarter than BM25 and blur the gap it is there to show: every file the
baseline returns is in its confident set. `localize` uses a policy's own
`rank` method when it has one. No functions or lines: BM25 over files says nothing about
them, so the baseline scores zero at the module, function and line levels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..issue import IssueSignals
from ..types import Task, Turn

LIMIT = 50  # enough for any top_k a report uses; `rank` cuts to top_k


class Bm25Policy:
    """Ranks files by BM25 similarity to the issue text, nothing else."""

    name = "bm25"

    def plan(self, issue: str, history: Sequence[Turn]) -> list[Task]:
        if history:
            return []
        return [
            {"id": 1, "tool": "bm25", "args": {"query": issue, "level": "file", "limit": LIMIT}}
        ]

    def rank(
        self,
        signals: IssueSignals,
        turns: Sequence[Turn],
        issue: str,
        top_k: int,
        top_k_functions: int | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """BM25's own order, scores divided by the best (ties keep the engine's order), all
        of them confident."""
        hits: list[dict[str, Any]] = []
        for turn in turns:
            for task, outcome in zip(turn.tasks, turn.outcomes, strict=True):
                if task["tool"] == "bm25" and outcome.get("status") == "ok":
                    hits.extend(outcome["result"]["hits"])
        hits = [h for h in hits if h["score"] > 0][:top_k]
        top = hits[0]["score"] if hits else 1.0
        files = [
            {"path": h["path"], "score": round(h["score"] / top, 4), "confident": True}
            for h in hits
        ]
        return {"files": files, "functions": [], "lines": []}
