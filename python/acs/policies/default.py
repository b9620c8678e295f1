"""The model-free planner: turns the signals of an issue (see `acs.issue`) into one round of
parallel searches, then, when the first round is inconclusive, drills into the best files."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import count
from typing import Any

from ..evidence import Search, read_search
from ..issue import IssueSignals, message_fragments, parse_issue
from ..joiner import rank
from ..rank.features import FUNCTION_FILES
from ..rank.model import LearnedRanker, shipped
from ..types import Task, Turn

MAX_IDENTIFIERS = 10
MAX_PATHS = 6
MAX_STRINGS = 3
DRILL_FILES = 3  # candidate files the drill-down turn looks into
DRILL_FUNCTIONS = 5  # functions ranked per drilled file
OUTLINE_FILES = 5  # best files outlined: their definitions are candidates
MAX_CALLERS = 3  # definitions whose uses are looked up, from where a message was found
IMPORT_FILES = 5  # the learned file model's best files whose import-graph neighbours are asked
MAX_NEIGHBOURS = 60  # neighbours scored against the issue in the last turn
_ASSIGNED = re.compile(r"^\s*([A-Za-z_]\w{3,})\s*(?::[^=]*)?=(?!=)")


def default_ranking(
    signals: IssueSignals,
    turns: Sequence[Turn],
    issue: str,
    top_k: int,
    top_k_functions: int | None = None,
) -> dict[str, Any]:
    """The evidence of `turns` ranked as acs ranks it by default: by the shipped learned
    ranker, or by the hand-weighted joiner where no model ships (the default planner's
    answer, and what a model planner's answer is merged with)."""
    model = shipped()
    if model is None:
        return rank(signals, turns, issue, top_k, top_k_functions)
    return model.rank(signals, turns, issue, top_k, top_k_functions)


def function_files(model: LearnedRanker | None, search: Search) -> list[str]:
    """The files whose definitions the learned ranker will rank: its best `FUNCTION_FILES`
    files of `search` so far (none without a model). Files only: the function rows and their
    predictions would cost more than the whole file ranking."""
    if model is None:
        return []
    keys, rows = search.file_table()
    scores = model.file_scores(rows)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], keys[i]))
    return [keys[i] for i in order[:FUNCTION_FILES]]


class DefaultPlanner:
    """Deterministic, fast, no model: the embedded default policy. Its answer is ranked by
    the learned ranker the package ships (`acs.rank`), or by the joiner without one."""

    name = "default"

    def rank(
        self,
        signals: IssueSignals,
        turns: Sequence[Turn],
        issue: str,
        top_k: int,
        top_k_functions: int | None = None,
    ) -> dict[str, Any]:
        return default_ranking(signals, turns, issue, top_k, top_k_functions)

    def __init__(self) -> None:
        self._signals: tuple[str, IssueSignals] | None = None

    def signals(self, issue: str) -> IssueSignals:
        """The issue's signals, parsed once per issue (one planner may serve many runs)."""
        if self._signals is None or self._signals[0] != issue:
            self._signals = (issue, parse_issue(issue))
        return self._signals[1]

    def plan(self, issue: str, history: Sequence[Turn]) -> list[Task]:
        if not history:
            return self.first_turn(issue)
        if len(history) == 1:
            next_id = max(t["id"] for t in history[0].tasks) + 1
            fuzzy = self.misspellings_turn(history, next_id)
            next_id += len(fuzzy)
            callers = self.callers_turn(history, next_id)
            next_id += len(callers)
            return fuzzy + callers + self.drill_down_turn(issue, history, next_id)
        if len(history) == 2:
            next_id = max(t["id"] for t in history[1].tasks) + 1
            return self.neighbours_turn(issue, history[1], next_id)
        return []

    def neighbours_turn(self, issue: str, drill: Turn, next_id: int) -> list[Task]:
        """The import-graph neighbours of the best files are candidates (a quarter to a half
        of the gold files no search surfaced on the development set sit next to the best
        five); score them against the issue, as the repository-wide BM25 left them out."""
        found: dict[str, None] = {}  # in order, each once (a file may neighbour several)
        for task, outcome in zip(drill.tasks, drill.outcomes, strict=True):
            if task["tool"] == "imports" and outcome.get("status") == "ok":
                found.update((f["path"], None) for f in outcome["result"]["files"])
        paths = list(found)[:MAX_NEIGHBOURS]
        if not paths:
            return []
        args = {"query": issue, "level": "file", "include": paths, "limit": len(paths)}
        return [{"id": next_id, "tool": "bm25", "args": args}]

    def callers_turn(self, history: Sequence[Turn], next_id: int) -> list[Task]:
        """Where an issue's message or string was found in a few places only, the code that
        runs is often elsewhere: the callers of the function that builds the message, or the
        users of the constant that holds it. Look up their uses (grouped by definition)."""
        names: list[str] = []
        for task, outcome in zip(history[0].tasks, history[0].outcomes, strict=True):
            if task["tool"] != "grep" or outcome.get("status") != "ok":
                continue
            result = outcome["result"]
            if not 1 <= len(result["files"]) <= 3:
                continue
            for m in result["matches"][:3]:
                assigned = _ASSIGNED.match(m["text"])
                enclosing = m.get("enclosing")
                if assigned:
                    name = assigned.group(1)
                elif enclosing and enclosing["kind"] in ("function", "method"):
                    # the qualified name's last part, as the shipped ranker's data saw it
                    name = enclosing["qualified_name"].rsplit(".", 1)[-1]
                else:
                    continue
                if len(name) >= 4 and not name.startswith("__") and name not in names:
                    names.append(name)
        return [
            {"id": next_id + i, "tool": "references", "args": {"name": n, "max_results": 40}}
            for i, n in enumerate(names[:MAX_CALLERS])
        ]

    def drill_down_turn(self, issue: str, history: Sequence[Turn], next_id: int) -> list[Task]:
        """Look inside the best files: outline them (every definition becomes a candidate
        for the ranker: half of the gold functions of the development set sit in candidate
        files without being surfaced by any search), and where the first round named none
        of a confident file's functions, rank its functions against the issue (a search
        limited to those files reaches functions the repository-wide ranking left out).
        The files outlined are the joiner's best `OUTLINE_FILES` and the learned ranker's
        best `FUNCTION_FILES`, the files whose definitions it ranks."""
        # The turns read once: the joiner's ranking and the learned file model's rows.
        model = shipped()
        search = read_search(self.signals(issue), history, issue, features=model is not None)
        ranked = rank(
            self.signals(issue), history, issue, OUTLINE_FILES, 2 * DRILL_FILES, search=search
        )
        files = [f["path"] for f in ranked["files"]]
        best_files = function_files(model, search)
        files += [p for p in best_files if p not in files]
        drill = {f["path"] for f in ranked["files"][:DRILL_FILES] if f["confident"]}
        with_functions = {f["path"] for f in ranked["functions"] if f["confident"]}
        tasks: list[Task] = []
        for path in files:
            if path in drill and path not in with_functions:
                args = {
                    "query": issue,
                    "level": "function",
                    "include": [path],
                    "limit": DRILL_FUNCTIONS,
                }
                tasks.append({"id": next_id, "tool": "bm25", "args": args})
                next_id += 1
            tasks.append({"id": next_id, "tool": "outline", "args": {"path": path}})
            next_id += 1
        if best_files:  # the learned ranker reads the import graph; the hand joiner does not
            args = {"paths": best_files[:IMPORT_FILES], "direction": "both", "limit": 100}
            tasks.append({"id": next_id, "tool": "imports", "args": args})
        return tasks

    def misspellings_turn(self, history: Sequence[Turn], next_id: int) -> list[Task]:
        """Identifiers that named no definition may be misspelled: look them up fuzzily."""
        first = history[0]
        tasks: list[Task] = []
        for task, outcome in zip(first.tasks, first.outcomes, strict=True):
            if task["tool"] != "symbols" or task["args"].get("mode", "exact") != "exact":
                continue
            if outcome.get("status") == "ok" and outcome["result"]["total"] == 0:
                name = task["args"]["name"].rsplit(".", 1)[-1]
                if len(name) >= 5:
                    args = {"name": name, "mode": "fuzzy", "limit": 10}
                    tasks.append({"id": next_id, "tool": "symbols", "args": args})
                    next_id += 1
        return tasks

    def first_turn(self, issue: str) -> list[Task]:
        s = self.signals(issue)
        ids = count(1)
        tasks: list[Task] = [
            {"id": next(ids), "tool": "bm25", "args": {"query": issue, "limit": 30}},
            {
                "id": next(ids),
                "tool": "bm25",
                "args": {"query": issue, "level": "function", "limit": 50},
            },
        ]
        if s.title and s.title != issue.strip():  # the title alone, too
            for level, limit in (("file", 30), ("function", 50)):
                args = {"query": s.title, "level": level, "limit": limit}
                tasks.append({"id": next(ids), "tool": "bm25", "args": args})
        for name in s.identifiers[:MAX_IDENTIFIERS]:
            tasks.append({"id": next(ids), "tool": "symbols", "args": {"name": name, "limit": 20}})
        for path in (s.paths + s.modules)[:MAX_PATHS]:
            query = repo_relative_guess(path)
            tasks.append(
                {"id": next(ids), "tool": "find_files", "args": {"query": query, "limit": 3}}
            )
        searched = [(m, True) for m in s.messages] + [(t, False) for t in s.strings]
        for text, is_message in searched[:MAX_STRINGS]:
            # A message as the program printed it has values where the source has placeholders:
            # search its longest literal piece.
            pattern = (message_fragments(text) or [text])[0] if is_message else text
            args = {"pattern": pattern[:120], "fixed_strings": True, "max_results": 20}
            args["enclosing"] = True
            tasks.append({"id": next(ids), "tool": "grep", "args": args})
        return tasks


class HandPlanner(DefaultPlanner):
    """The default planner's search, ranked by the hand-weighted joiner: the baseline row
    the learned ranker is measured against (`acs eval --policies default,hand`)."""

    name = "hand"

    def rank(
        self,
        signals: IssueSignals,
        turns: Sequence[Turn],
        issue: str,
        top_k: int,
        top_k_functions: int | None = None,
    ) -> dict[str, Any]:
        return rank(signals, turns, issue, top_k, top_k_functions)


def repo_relative_guess(path: str) -> str:
    """The part of a path from a trace or a user's machine that likely exists in the
    repository: what follows `site-packages/`, else the last three components."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1]
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[-3:])
