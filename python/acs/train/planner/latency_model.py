"""The tools' side of the RL reward's latency: a cost model of the plan, not a clock.

Measured wall time on a training node shared by many rollouts and the inference server is
noise, and group-normalised advantages amplify it. So a call's cost is a deterministic
function of what it was asked and what it returned, on this repository snapshot:

    call_ms = fixed_ms + per_unit_ms * units + per_item_ms * items + per_regex_ms * regexes

per tool, with the work below (`work`); the constants are measured and fitted by
`benches/bench_latency_model.py` and ship in `latency_costs.json` beside this module. A turn
costs its critical path: a call starts when the calls it references (`deps`) have finished,
independent calls run side by side. docs/reward.md gives the model and its fit.

* grep: MB scanned (`files_searched` x the snapshot's mean file size); matches returned.
* references: MB of the whole snapshot (its result does not say how many files its scope
  held: an upper bound when `include` or `paths` narrow it); lines returned.
* find_files: thousand paths of the snapshot (every path is matched); paths that matched.
* symbols: thousand definitions in `fuzzy` and `regex` mode (a scan of every name), none in
  the indexed modes; definitions that matched.
* outline, read: thousand lines of the file (counted on each call); definitions, lines
  returned.
* bm25: thousand documents x distinct query words (a bound of the postings scored); hits.
* imports: files asked about; files returned (the import graph is built once per snapshot,
  like the indexes, and not counted).

`regexes` counts the regular expressions with a Unicode word class (`\\w`, `\\W`) a call
compiles (grep's patterns, symbols' `regex` mode): building that automaton costs as much as
scanning tens of MB for a literal, on every call. A call that failed costs its tool's fixed
cost; a call skipped (its dependency failed) and a tool the model does not know cost nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ...errors import InvalidArgumentError

if TYPE_CHECKING:
    from ...repo import Repo

__all__ = [
    "COSTS_PATH",
    "LatencyCosts",
    "RepoStats",
    "ToolCost",
    "Work",
    "load_costs",
    "plan_tool_ms",
    "turn_tool_ms",
    "work",
]

COSTS_PATH = Path(__file__).parent / "latency_costs.json"
MB = 1e6
THOUSAND = 1e3
SCANNING_SYMBOL_MODES = ("fuzzy", "regex")  # the others are lookups in sorted or hashed names


@dataclass(frozen=True)
class RepoStats:
    """The snapshot facts the work units need: its files, their bytes, its definitions."""

    files: int
    bytes: int
    definitions: int

    @classmethod
    def of(cls, repo: Repo) -> RepoStats:
        """An `acs.Repo`'s stats (its index's report is cached: building it is the caller's
        choice, as the RL environment does when it opens a repository)."""
        stats = repo.stats
        return cls(int(stats["files"]), int(stats["bytes"]), int(repo.index()["symbols"]))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], default: RepoStats) -> RepoStats:
        """From `Repo.stats`-like JSON (`files`, `bytes`, and `definitions` or `symbols`);
        what it lacks comes from `default`."""
        definitions = values.get("definitions", values.get("symbols", default.definitions))
        return cls(
            int(_non_negative(values.get("files", default.files), "repo stats: files")),
            int(_non_negative(values.get("bytes", default.bytes), "repo stats: bytes")),
            int(_non_negative(definitions, "repo stats: definitions")),
        )

    @property
    def mean_file_bytes(self) -> float:
        return self.bytes / self.files if self.files > 0 else 0.0


class Work(NamedTuple):
    """What one call did, in the units its tool's cost is counted in (module docstring)."""

    units: float = 0.0
    items: float = 0.0
    regexes: float = 0.0


@dataclass(frozen=True)
class ToolCost:
    """One tool's cost in milliseconds: per call, per unit of work, per result item, per
    regex with a Unicode word class compiled."""

    fixed_ms: float = 0.0
    per_unit_ms: float = 0.0
    per_item_ms: float = 0.0
    per_regex_ms: float = 0.0

    def ms(self, work: Work) -> float:
        return (
            self.fixed_ms
            + self.per_unit_ms * work.units
            + self.per_item_ms * work.items
            + self.per_regex_ms * work.regexes
        )


@dataclass(frozen=True)
class LatencyCosts:
    """Every engine tool's cost (one field per `acs.types.ToolName`, pinned by a test), and
    the snapshot assumed when a scorer is not told which one the rollout searched."""

    grep: ToolCost = ToolCost()
    find_files: ToolCost = ToolCost()
    symbols: ToolCost = ToolCost()
    outline: ToolCost = ToolCost()
    read: ToolCost = ToolCost()
    references: ToolCost = ToolCost()
    bm25: ToolCost = ToolCost()
    imports: ToolCost = ToolCost()
    reference_repo: RepoStats = RepoStats(files=2000, bytes=32_000_000, definitions=60_000)

    def tool(self, name: str) -> ToolCost | None:
        cost = getattr(self, name, None) if name in TOOL_NAMES else None
        return cost if isinstance(cost, ToolCost) else None

    def merged(self, overrides: Mapping[str, Any]) -> LatencyCosts:
        """These costs with `overrides` (JSON: `{"grep": {"per_unit_ms": 2.0}, ...}`) on top;
        an unknown tool or constant is an `InvalidArgumentError` (a typo would train on the
        default)."""
        changes: dict[str, Any] = {}
        for name, values in overrides.items():
            if name not in COST_FIELDS:
                raise InvalidArgumentError(
                    f"unknown latency cost {name!r:.60}; known: {list(COST_FIELDS)}"
                )
            if not hasattr(values, "items"):
                raise InvalidArgumentError(
                    f"latency cost {name!r:.60} must be a mapping of constants"
                )
            current = getattr(self, name)
            if isinstance(current, RepoStats):
                changes[name] = RepoStats.from_mapping(_plain(values), current)
                continue
            constants = _plain(values)
            if unknown := set(constants) - set(CONSTANTS):
                shown = sorted(k[:40] for k in unknown)[:5]
                raise InvalidArgumentError(
                    f"unknown {name} constants {shown}; known: {list(CONSTANTS)}"
                )
            changes[name] = replace(
                current, **{k: _non_negative(v, f"{name}.{k}") for k, v in constants.items()}
            )
        return replace(self, **changes)


CONSTANTS = tuple(f.name for f in fields(ToolCost))
TOOL_NAMES = ("grep", "find_files", "symbols", "outline", "read", "references", "bm25", "imports")
COST_FIELDS = (*TOOL_NAMES, "reference_repo")


def _plain(values: Any) -> dict[str, Any]:
    """A plain dict of a mapping (OmegaConf's DictConfig included)."""
    return {str(k): v for k, v in values.items()}


def _non_negative(value: Any, what: str) -> float:
    """`value` as a cost or a count, or a one-line error that does not echo it."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise InvalidArgumentError(
            f"{what} must be a non-negative number, got {type(value).__name__}"
        )
    return float(value)


def load_costs(path: str | os.PathLike[str] | None = None) -> LatencyCosts:
    """The costs in `path` (default: the fitted file shipped with acs, read once)."""
    return _shipped() if path is None else _load(os.fspath(path))


@cache
def _shipped() -> LatencyCosts:
    return _load(os.fspath(COSTS_PATH))


def _load(path: str) -> LatencyCosts:
    """A complete costs file (every tool; `unit` and `fit` are descriptions, not read)."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidArgumentError(f"cannot read latency costs {path[:200]}: {e}"[:300]) from None
    tools = data.get("tools") if isinstance(data, Mapping) else None
    if not isinstance(tools, Mapping):
        raise InvalidArgumentError(f"latency costs {path[:200]}: no `tools` object")
    if missing := [name for name in TOOL_NAMES if name not in tools]:
        raise InvalidArgumentError(f"latency costs {path[:200]}: no costs for {missing}")
    overrides: dict[str, Any] = {
        str(name): _constants(costs) if isinstance(costs, Mapping) else costs
        for name, costs in tools.items()
    }
    if "reference_repo" in data:
        overrides["reference_repo"] = data["reference_repo"]
    return LatencyCosts().merged(overrides)


def _constants(costs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in costs.items() if k not in ("unit", "fit")}


# -- work units -------------------------------------------------------------------------------


def work(tool: str, args: Mapping[str, Any], result: Any, repo: RepoStats) -> Work:
    """What one successful call did, in its tool's units (the module docstring's table).
    Deterministic: only the call's arguments, its result, and the snapshot's stats."""
    if not isinstance(result, Mapping):
        return Work()
    if tool == "grep":
        scanned = _count(result.get("files_searched")) * repo.mean_file_bytes
        return Work(scanned / MB, _length(result.get("matches")), _grep_regexes(args))
    if tool == "references":
        lines = sum(_count(f.get("count")) for f in _mappings(result.get("files")))
        return Work(repo.bytes / MB, lines)
    if tool == "find_files":
        return Work(repo.files / THOUSAND, _count(result.get("total")))
    if tool == "symbols":
        mode = args.get("mode")
        scanned = repo.definitions / THOUSAND if mode in SCANNING_SYMBOL_MODES else 0.0
        regexes = float(mode == "regex" and _has_word_class(args.get("name")))
        return Work(scanned, _count(result.get("total")), regexes)
    if tool == "outline":
        return Work(_count(result.get("line_count")) / THOUSAND, _nodes(result.get("symbols")))
    if tool == "read":
        return Work(_count(result.get("total_lines")) / THOUSAND, _length(result.get("lines")))
    if tool == "bm25":
        postings = _count(result.get("documents")) * query_words(args.get("query"))
        return Work(postings / THOUSAND, _length(result.get("hits")))
    if tool == "imports":
        return Work(_length(args.get("paths")), _length(result.get("files")))
    return Work()


_WORD = re.compile(r"\w+")
# `\w` or `\W` not itself escaped (`\\w` is a backslash and a `w`).
_WORD_CLASS = re.compile(r"(?<!\\)(?:\\\\)*\\[wW]")


def query_words(query: Any) -> int:
    """Distinct words of a BM25 query, as an upper bound of the posting lists it scores."""
    return len({w.lower() for w in _WORD.findall(query)}) if isinstance(query, str) else 0


def _has_word_class(pattern: Any) -> bool:
    return isinstance(pattern, str) and _WORD_CLASS.search(pattern) is not None


def _grep_regexes(args: Mapping[str, Any]) -> float:
    """grep's patterns that compile a Unicode word class (none with `fixed_strings`)."""
    if args.get("fixed_strings") is True:
        return 0.0
    patterns = [args.get("pattern"), *_list(args.get("patterns"))]
    return float(sum(_has_word_class(p) for p in patterns))


def call_ms(
    task: Mapping[str, Any] | None, outcome: Mapping[str, Any], costs: LatencyCosts, repo: RepoStats
) -> float:
    """The modelled cost of one call: fixed plus work for a result, fixed for a failure,
    nothing for a skipped call or an unknown tool."""
    tool = str(outcome.get("tool") or (task or {}).get("tool") or "")
    cost = costs.tool(tool)
    status = outcome.get("status")
    if cost is None or status == "skipped":
        return 0.0
    if status != "ok":
        return cost.fixed_ms
    args = (task or {}).get("args")
    done = work(tool, args if isinstance(args, Mapping) else {}, outcome.get("result"), repo)
    return cost.ms(done)


def turn_tool_ms(turn: Mapping[str, Any], costs: LatencyCosts, repo: RepoStats) -> float:
    """A turn's modelled tool time: its critical path. A call finishes its own cost after the
    last of the calls it depends on in this turn (earlier turns' calls are done: they start
    it at 0); the turn ends when its last call does. A call can only depend on one submitted
    before it, so one pass in submission order sees every dependency first."""
    tasks = {t.get("id"): t for t in turn.get("tasks") or ()}
    finish: dict[Any, float] = {}
    for outcome in turn.get("outcomes") or ():
        start = max((finish.get(d, 0.0) for d in _list(outcome.get("deps"))), default=0.0)
        task_id = outcome.get("id")
        finish[task_id] = start + call_ms(tasks.get(task_id), outcome, costs, repo)
    return max(finish.values(), default=0.0)


def plan_tool_ms(turns: Sequence[Mapping[str, Any]], costs: LatencyCosts, repo: RepoStats) -> float:
    """The whole rollout's modelled tool time: its turns run one after another."""
    return sum(turn_tool_ms(turn, costs, repo) for turn in turns)


def _count(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _length(value: Any) -> float:
    return float(len(value)) if isinstance(value, list) else 0.0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in _list(value) if isinstance(v, Mapping)]


def _nodes(value: Any) -> float:
    """Definitions in an outline, nested ones included (a stack: nesting can be deep)."""
    count, stack = 0, [value]
    while stack:
        for node in _mappings(stack.pop()):
            count += 1
            stack.append(node.get("children"))
    return float(count)
