"""The agent loop (LLMCompiler style): a policy proposes tasks, the engine runs them while the
policy works on, the joiner ranks the evidence; repeat until the policy is done, the turn
budget or the time budget runs out. Every run is recorded as a trajectory."""

from __future__ import annotations

import asyncio
import time
from typing import Any, NotRequired, TypedDict

from .baseline import Bm25Policy
from .errors import InvalidArgumentError
from .issue import parse_issue
from .joiner import rank
from .planner import DefaultPlanner
from .policy import Policy, Turn
from .repo import Repo
from .types import Task, TaskOutcome

POLICIES: dict[str, type] = {"default": DefaultPlanner, "bm25": Bm25Policy}


class FileLocation(TypedDict):
    path: str
    score: float


class FunctionLocation(TypedDict):
    path: str
    name: str
    kind: str
    start_line: int
    end_line: int
    score: float


class LineRange(TypedDict):
    path: str
    start: int
    end: int


class LocalizeStats(TypedDict):
    latency_ms: float
    index_ms: float
    index: str
    turns: int
    tool_calls: int
    calls_per_turn: list[int]


class LocalizeResult(TypedDict):
    files: list[FileLocation]
    functions: list[FunctionLocation]
    lines: list[LineRange]
    stats: LocalizeStats
    trajectory: NotRequired[dict[str, Any]]


def make_policy(name: str) -> Policy:
    try:
        return POLICIES[name]()
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        raise InvalidArgumentError(f"unknown policy {name!r} (known: {known})") from None


def localize(
    repo: Repo,
    issue: str,
    *,
    policy: Policy | str = "default",
    top_k: int = 10,
    max_turns: int = 4,
    budget_ms: float = 60_000,
    trajectory: bool = False,
) -> LocalizeResult:
    """Files, functions and line ranges a fix for `issue` most likely edits, best first."""
    if not issue.strip():
        raise InvalidArgumentError("the issue text is empty")
    if top_k < 1 or max_turns < 1:
        raise InvalidArgumentError("top_k and max_turns must be at least 1")
    start = time.perf_counter()
    agent = make_policy(policy) if isinstance(policy, str) else policy
    # Every index at once (from memory, the on-disk pack, or built), so that the time spent
    # indexing is measured apart from the search itself.
    index = repo.index()
    index_ms = (time.perf_counter() - start) * 1000
    turns: list[Turn] = []
    run = repo.start_plan()
    while len(turns) < max_turns:
        left_s = budget_ms / 1000 - (time.perf_counter() - start)
        if left_s <= 0:
            break
        turn_start = time.perf_counter()
        tasks = agent.plan(issue, turns)
        if not tasks:
            break
        run.submit(tasks)
        deadline = time.perf_counter() + left_s
        finished: list[Task] = []
        outcomes: list[TaskOutcome] = []
        for task in tasks:
            outcome = run.wait(task["id"], timeout=max(deadline - time.perf_counter(), 0.001))
            if outcome is not None:
                finished.append(task)
                outcomes.append(outcome)
        turns.append(Turn(finished, outcomes, (time.perf_counter() - turn_start) * 1000))
        if len(finished) < len(tasks):
            break  # out of time: rank what arrived
    ranker = getattr(agent, "rank", rank)  # a policy may rank its own evidence (the baseline)
    ranked = ranker(parse_issue(issue), turns, issue, top_k)
    result: LocalizeResult = {
        "files": ranked["files"],
        "functions": ranked["functions"],
        "lines": ranked["lines"],
        "stats": {
            "latency_ms": round((time.perf_counter() - start) * 1000, 3),
            "index_ms": round(index_ms, 3),
            "index": index["source"],
            "turns": len(turns),
            "tool_calls": sum(len(t.tasks) for t in turns),
            "calls_per_turn": [len(t.tasks) for t in turns],
        },
    }
    if trajectory:
        result["trajectory"] = {
            "policy": agent.name,
            "issue": issue,
            "turns": [t.to_json() for t in turns],
        }
    return result


async def localize_async(repo: Repo, issue: str, **options: Any) -> LocalizeResult:
    """`localize` on a worker thread, so an asyncio (or uvloop) event loop keeps running."""
    return await asyncio.to_thread(localize, repo, issue, **options)
