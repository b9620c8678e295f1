"""Policies: what proposes the plan. Every planner (the model-free default here, LLM
planners later) implements `Policy`, so the agent loop does not care which one runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .types import Task, TaskOutcome


@dataclass
class Turn:
    """One round of the loop: the tasks a policy proposed and what became of them."""

    tasks: list[Task]
    outcomes: list[TaskOutcome] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "outcomes": self.outcomes, "elapsed_ms": self.elapsed_ms}


class Policy(Protocol):
    """Proposes the next tasks from the issue and the turns so far; an empty list ends the
    search. Task ids must be unique across the whole run (later turns may reference earlier
    tasks' results)."""

    name: str

    def plan(self, issue: str, history: Sequence[Turn]) -> list[Task]: ...
