"""Policies: what proposes the plan. Every planner (the model-free default and its `hand`
variant, the BM25 baseline, the model planners of `acs.llm`) implements `Policy`, so the
agent loop does not care which one runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from ..types import Task, Turn


class Policy(Protocol):
    """Proposes the next tasks from the issue and the turns so far; proposing none ends the
    search. Task ids must be unique across the whole run (later turns may reference earlier
    tasks' results).

    `plan` may return a list (submitted at once) or any iterable, such as a generator that
    yields each task as a model finishes writing it: the loop submits each one as it arrives.
    A policy may also define `rank(signals, turns, issue, top_k, top_k_functions)` to produce
    the final answer itself (the default is `acs.joiner.rank`): the best `top_k` files and
    `top_k_functions` functions, each with `score` and `confident`, and the line ranges."""

    name: str

    def plan(self, issue: str, history: Sequence[Turn]) -> Iterable[Task]: ...
