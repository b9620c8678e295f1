"""The agent loop (LLMCompiler style): a policy proposes tasks, the engine runs them while the
policy works on, the joiner ranks the evidence; repeat until the policy is done, the turn
budget or the time budget runs out. Every run is recorded as a trajectory."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Any, NotRequired, TypedDict

from .errors import AcsError, InvalidArgumentError, kind_of
from .execution import PlanRun
from .issue import MAX_ISSUE_CHARS, parse_issue, truncate_issue
from .joiner import rank
from .policies import POLICIES as POLICIES  # re-exported: its home before `acs.policies`
from .policies import make_policy
from .policies.base import Policy
from .repo import Repo
from .types import Task, TaskOutcome, Turn


class FileLocation(TypedDict):
    path: str
    # In [0, 1], higher is likelier to be edited; a calibrated probability when the ranker
    # provides one (the joiner's is its evidence relative to the best file's).
    score: float
    # In the confident set: the answer chosen for precision (line ranges come from it).
    confident: bool


class FunctionLocation(TypedDict):
    path: str
    name: str
    kind: str
    start_line: int
    end_line: int
    score: float
    confident: bool


class LineRange(TypedDict):
    path: str
    start: int
    end: int


# Where `latency_ms` goes, in order: making the indexes ready (`index_ms`), reading the issue,
# the search (each turn the policy proposing its tasks, a model's writing included, then the
# wait for the tools it started), ranking the evidence (the joiner or the learned ranker,
# whose first call loads its model), and the rest (starting and stopping the plan run,
# building the result). Every moment of the run is charged to exactly one part.
LATENCY_PARTS = ("index", "issue", "plan", "tools", "rank", "other")


class LocalizeStats(TypedDict):
    latency_ms: float
    # latency_ms by part (LATENCY_PARTS, in ms): they add up to it, within rounding.
    latency_split_ms: dict[str, float]
    index_ms: float
    index: str
    unreadable_files: int  # files left out of the snapshot: unreadable (Repo.stats names them)
    turns: int
    tool_calls: int
    calls_per_turn: list[int]


class LocalizeResult(TypedDict):
    files: list[FileLocation]  # the top `top_k`, best first
    functions: list[FunctionLocation]  # the top `top_k_functions`, best first
    lines: list[LineRange]  # the confident functions' and files' ranges
    stats: LocalizeStats
    # What the caller should know about how the run went (an issue cut to its first
    # MAX_ISSUE_CHARS characters); absent when there is nothing to say.
    warnings: NotRequired[list[str]]
    why: NotRequired[dict[str, str]]
    trajectory: NotRequired[dict[str, Any]]


def localize(
    repo: Repo,
    issue: str,
    *,
    policy: Policy | str = "default",
    top_k: int = 10,
    top_k_functions: int = 20,
    min_score: float = 0.0,
    max_turns: int = 4,
    budget_ms: float = 60_000,
    trajectory: bool = False,
    explain: bool = False,
) -> LocalizeResult:
    """Files, functions and line ranges a fix for `issue` most likely edits, best first.

    `files` are the best `top_k` files and `functions` the best `top_k_functions` functions,
    each with a `score` in [0, 1] (higher is likelier; a calibrated probability when the
    ranker provides one) and `confident`, which marks the set chosen for precision; `lines`
    are the ranges of the confident functions and files. Items scoring below `min_score` are
    left out.

    `budget_ms` bounds everything after indexing: reading the issue, the search (a model's
    writing included) and the ranking; building the indexes is not counted (`stats.index_ms`
    says how long it took). `stats.latency_split_ms` splits `stats.latency_ms` into its
    `LATENCY_PARTS`, which add up to it. Only the first `MAX_ISSUE_CHARS` characters of the
    issue are read (`warnings` says so). `explain` adds `why`: for each returned file (`path`) and
    function (`path:name`), its strongest piece of evidence in words. `trajectory` adds the
    record of the run."""
    if not isinstance(repo, Repo):  # a path is the usual slip: say how to open one
        raise InvalidArgumentError(
            f"repo: expected an acs.Repo (from acs.Repo.open), not {type(repo).__name__}"
        )
    if not isinstance(issue, str):
        raise InvalidArgumentError(f"the issue is text, not {type(issue).__name__}")
    if not issue.strip():
        raise InvalidArgumentError("the issue text is empty")
    for name, value in (
        ("top_k", top_k),
        ("top_k_functions", top_k_functions),
        ("max_turns", max_turns),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(f"{name} must be an integer of at least 1, got {value!r}")
    if (
        isinstance(min_score, bool)
        or not isinstance(min_score, int | float)
        or not 0 <= min_score <= 1
    ):
        raise InvalidArgumentError(f"min_score must be a number in [0, 1], got {min_score!r}")
    if (
        isinstance(budget_ms, bool)
        or not isinstance(budget_ms, int | float)
        or not 0 < budget_ms < math.inf
    ):
        raise InvalidArgumentError(
            f"budget_ms must be a finite number of milliseconds > 0, got {budget_ms!r}"
        )
    warnings: list[str] = []
    issue, cut = truncate_issue(issue)
    if cut:
        warnings.append(
            f"the issue is longer than {MAX_ISSUE_CHARS:,} characters: only its first "
            f"{len(issue):,} were read"
        )
    # Lone surrogates (undecodable bytes smuggled into a str) cannot cross into the engine.
    issue = issue.encode("utf-8", "replace").decode("utf-8")
    if isinstance(policy, str):
        # A model planner plans its answer for the last turn, so it must know the limit
        # (policies that take no `max_turns` drop it).
        agent = make_policy(policy, max_turns=max_turns)
    elif callable(getattr(policy, "plan", None)):
        agent = policy
    else:
        raise InvalidArgumentError(f"policy: expected a name or a Policy, got {policy!r:.80}")
    laps = Laps()
    # Every index at once (from memory, the on-disk store, or built), so that the time spent
    # indexing is measured apart from the search itself, and not counted in `budget_ms`.
    index = repo.index()
    search_start = laps.lap("index")
    # Parsed once, inside the budget: the planner and the ranker read this same parse (cached).
    signals = parse_issue(issue)
    laps.lap("issue")
    turns: list[Turn] = []
    # The engine holds the same deadline: work still running when the budget ends stops
    # there instead of running on unseen (cancelled tasks end with a `cancelled` error).
    left_s = budget_ms / 1000 - (time.perf_counter() - search_start)
    run = repo.start_plan(timeout=max(left_s, 0.001))
    laps.lap("other")
    while len(turns) < max_turns:
        turn_start = time.perf_counter()
        left_s = budget_ms / 1000 - (turn_start - search_start)
        if left_s <= 0:
            break
        tasks, rejected = dispatch(run, agent.plan(issue, turns))
        laps.lap("plan")  # a streamed plan's tools ran meanwhile: they are hidden in it
        if not tasks:
            break
        deadline = turn_start + left_s  # a streaming model's writing time counts too
        finished: list[Task] = []
        outcomes: list[TaskOutcome] = []
        for task in tasks:
            outcome = rejected.get(task["id"]) or run.wait(
                task["id"], timeout=max(deadline - time.perf_counter(), 0.001)
            )
            if outcome is not None:
                finished.append(task)
                outcomes.append(outcome)
        turns.append(Turn(finished, outcomes, (laps.lap("tools") - turn_start) * 1000))
        if len(finished) < len(tasks):
            break  # out of time: rank what arrived
    run.cancel()  # nothing more is read from this run: stop what the budget cut short
    ranker = getattr(agent, "rank", rank)  # a policy may rank its own evidence (the baseline)
    laps.lap("other")
    ranked = ranker(signals, turns, issue, top_k, top_k_functions)
    laps.lap("rank")
    files = [f for f in ranked["files"] if f["score"] >= min_score]
    functions = [f for f in ranked["functions"] if f["score"] >= min_score]
    laps.lap("other")
    split = laps.split_ms()
    result: LocalizeResult = {
        "files": files,
        "functions": functions,
        "lines": ranked["lines"],
        "stats": {
            "latency_ms": round(sum(split.values()), 3),
            "latency_split_ms": split,
            "index_ms": split["index"],
            "index": index["source"],
            "unreadable_files": repo.stats["skipped_unreadable"],
            "turns": len(turns),
            "tool_calls": sum(len(t.tasks) for t in turns),
            "calls_per_turn": [len(t.tasks) for t in turns],
        },
    }
    if warnings:
        result["warnings"] = warnings
    if explain:
        shown = {f["path"] for f in files} | {f"{f['path']}:{f['name']}" for f in functions}
        result["why"] = {k: v for k, v in ranked.get("why", {}).items() if k in shown}
    if trajectory:
        result["trajectory"] = {
            "policy": agent.name,
            "issue": issue,
            "turns": [t.to_json() for t in turns],
        }
        if hasattr(agent, "transcript"):  # a model planner: the messages it saw and wrote
            result["trajectory"]["transcript"] = agent.transcript()
    return result


class Laps:
    """A run's wall time cut into consecutive laps, each charged to one of `LATENCY_PARTS`,
    so that the parts add up to the whole."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self._ms = dict.fromkeys(LATENCY_PARTS, 0.0)

    def lap(self, part: str) -> float:
        """Charge the time since the previous lap to `part`; returns now (perf_counter)."""
        now = time.perf_counter()
        self._ms[part] += (now - self._last) * 1000
        self._last = now
        return now

    def split_ms(self) -> dict[str, float]:
        """Each part's milliseconds, rounded to microseconds."""
        return {part: round(ms, 3) for part, ms in self._ms.items()}


def dispatch(run: PlanRun, proposed: Iterable[Task]) -> tuple[list[Task], dict[int, TaskOutcome]]:
    """Submit a policy's tasks to the running plan. A list is submitted at once (so greps
    that become ready together are fused); any other iterable, such as a model streaming its
    plan, is submitted task by task as it yields them, so the engine works while the policy
    is still writing. A task the executor refuses (unknown tool, bad arguments, reference to
    an unknown task) becomes an error outcome the policy sees next turn, not a crash; so does
    a streamed task that carries an `error` (`{"kind", "message"}`) instead of being runnable,
    such as a plan line the model's parser could not read."""
    tasks: list[Task] = []
    rejected: dict[int, TaskOutcome] = {}
    if isinstance(proposed, list):
        tasks = proposed
        if tasks:
            submit(run, tasks, rejected)
        return tasks, rejected
    for task in proposed:
        tasks.append(task)
        if "error" in task:  # the policy could not make a task of what the model wrote
            rejected[task["id"]] = invalid(task)
        else:
            submit(run, [task], rejected)
    return tasks, rejected


def submit(run: PlanRun, batch: list[Task], rejected: dict[int, TaskOutcome]) -> None:
    """Submit `batch`; a refused batch is retried task by task, so only the culprits become
    error outcomes. (A plain function: a recursive closure would be a reference cycle that
    keeps the run, and through it the snapshot and its indexes, alive until the next
    garbage collection.)"""
    try:
        run.submit(batch)
    except AcsError as e:
        if len(batch) > 1:  # find the culprits, keep the rest
            for task in batch:
                submit(run, [task], rejected)
            return
        task = batch[0]
        rejected[task.get("id", -1)] = refused(task, e)


def invalid(task: Mapping[str, Any]) -> TaskOutcome:
    error = task["error"]
    return refused(task, AcsError(error.get("message", "invalid task")), error.get("kind"))


def refused(task: Mapping[str, Any], error: AcsError, kind: str | None = None) -> TaskOutcome:
    return {
        "id": task.get("id", -1),
        "tool": task.get("tool", "?"),
        "status": "error",
        "error": {"kind": kind or kind_of(error), "message": str(error)},
        "deps": [],
        "submitted_ms": 0.0,
        "started_ms": 0.0,
        "elapsed_ms": 0.0,
        "fused": 1,
    }


async def localize_async(repo: Repo, issue: str, **options: Any) -> LocalizeResult:
    """`localize` on a worker thread, so an asyncio (or uvloop) event loop keeps running."""
    import asyncio  # here: importing it cost a cold `acs localize` about 50 ms

    return await asyncio.to_thread(localize, repo, issue, **options)
