"""The RL reward: scripted rollouts (perfect, empty, malformed, slow, duplicate-heavy,
parallel-wide) get exactly the rewards the formula in docs/reward.md gives; the tools'
latency is a deterministic cost model of the plan (acs.train.planner.latency_model), never a
clock."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args

import pytest

import acs
from acs.errors import InvalidArgumentError
from acs.task.groundtruth import GroundTruth
from acs.task.metrics import Prediction
from acs.train.planner.latency_model import (
    COSTS_PATH,
    LatencyCosts,
    RepoStats,
    ToolCost,
    load_costs,
)
from acs.train.planner.reward import Reward, RewardConfig, score_trajectory
from acs.types import ToolName

GOLD = GroundTruth(
    files=("pkg/io.py",), modules=("pkg/io.py:Reader",), functions=("pkg/io.py:Reader.read",)
)
PERFECT = Prediction(files=GOLD.files, modules=GOLD.modules, functions=GOLD.functions)


def outcome(i: int, tool: str = "grep", *, at: float = 10.0, ms: float = 100.0, **extra: Any):
    return {
        "id": i,
        "tool": tool,
        "status": "ok",
        "deps": [],
        "submitted_ms": at,
        "started_ms": at,
        "elapsed_ms": ms,
        "fused": 1,
        **extra,
    }


def turn(*calls: tuple[str, dict[str, Any]], first_id: int = 1, ms: float = 100.0):
    tasks = [{"id": first_id + n, "tool": t, "args": a} for n, (t, a) in enumerate(calls)]
    return {
        "tasks": tasks,
        "outcomes": [outcome(t["id"], t["tool"], ms=ms) for t in tasks],
        "elapsed_ms": ms,
    }


def trajectory(*turns: dict[str, Any]) -> dict[str, Any]:
    return {"policy": "scripted", "issue": "x", "turns": list(turns)}


ONE_GREP = trajectory(turn(("grep", {"pattern": "Reader"})))


# Round constants, so that the expected latencies below are plain arithmetic.
COSTS = LatencyCosts(
    grep=ToolCost(fixed_ms=100.0, per_unit_ms=10.0, per_item_ms=1.0, per_regex_ms=50.0),
    symbols=ToolCost(fixed_ms=40.0, per_unit_ms=2.0, per_item_ms=0.5),
    read=ToolCost(fixed_ms=30.0, per_unit_ms=4.0, per_item_ms=0.1),
    reference_repo=RepoStats(files=1000, bytes=10_000_000, definitions=20_000),
)
ROUND = RewardConfig(latency_costs=COSTS)


def test_perfect_answer_fast_narrow_search_scores_one() -> None:
    r = score_trajectory(PERFECT, GOLD, ONE_GREP, config=ROUND)
    assert r.total == 1.0 and r.reason is None
    assert r.terms["f_file"] == r.terms["f_module"] == r.terms["f_function"] == 1.0
    # A grep's 100 ms + 2 model turns (plan, answer) at 20 ms: under the 1 s target.
    assert r.terms["latency_s"] == pytest.approx(0.1 + 2 * 0.02)
    assert r.terms["latency_factor"] == 1.0
    assert r.terms["parallel_bonus"] == 0.0 and r.terms["duplicate_penalty"] == 0.0


def test_empty_answer_scores_zero_without_a_rule() -> None:
    r = score_trajectory(Prediction.empty(), GOLD, ONE_GREP)
    assert r.total == 0.0 and r.reason is None  # zero by the metric, not by a rule
    assert r.terms["f_file"] == r.terms["f_function"] == 0.0


def test_malformed_plan_zeroes_even_a_perfect_answer() -> None:
    bad = turn(("grep", {"pattern": "Reader"}))
    bad["outcomes"][0] = outcome(
        1, status="error", error={"kind": "plan_syntax", "message": "`grep(`: unclosed"}
    )
    r = score_trajectory(PERFECT, GOLD, trajectory(bad))
    assert r.total == 0.0 and r.reason is not None and r.reason.startswith("malformed plan")
    assert r.terms["malformed"] == 1.0
    lenient = RewardConfig(malformed_zero=False)
    assert score_trajectory(PERFECT, GOLD, trajectory(bad), config=lenient).total == 1.0


def test_slow_rollout_gets_the_exact_latency_factor() -> None:
    r = score_trajectory(
        PERFECT, GOLD, ONE_GREP, prompt_tokens=2000, generated_tokens=500, config=ROUND
    )
    # 0.1 s tools + 2000 / 20000 s prefill + 500 / 250 s decode + 2 turns * 0.02 s = 2.24 s
    assert r.terms["latency_s"] == pytest.approx(2.24)
    factor = math.exp(-(2.24 - 1.0) / 2.0)
    assert r.terms["latency_factor"] == pytest.approx(factor)
    assert r.total == pytest.approx(factor) and r.total < 1


def test_parallel_calls_cost_their_longest_and_dependent_calls_add_up() -> None:
    """The critical path of each turn, from the cost model: grep (100) and symbols (40) run
    side by side, a read that references the grep (30) starts when it ends; turns add."""
    t = turn(("grep", {"pattern": "a"}), ("symbols", {"name": "B"}), ("read", {"path": "$1"}))
    t["outcomes"][2]["deps"] = [1]
    r = score_trajectory(PERFECT, GOLD, trajectory(t), config=ROUND)
    assert r.terms["tool_s"] == pytest.approx(0.13)
    second = turn(("symbols", {"name": "C"}), first_id=4)
    second["outcomes"][0]["deps"] = [3]  # an earlier turn's call: already done
    r = score_trajectory(PERFECT, GOLD, trajectory(t, second), config=ROUND)
    assert r.terms["tool_s"] == pytest.approx(0.13 + 0.04)


def test_failed_skipped_and_unknown_calls() -> None:
    """A call that failed costs its tool's fixed cost; one skipped (its dependency failed)
    and one of a tool the model does not know (refused before the engine) cost nothing."""
    t = turn(("grep", {"pattern": "("}), ("read", {"path": "$1"}), ("nosuchtool", {}))
    t["outcomes"][0].update(status="error", error={"kind": "invalid_pattern", "message": "("})
    t["outcomes"][1].update(status="skipped", deps=[1], elapsed_ms=900.0)  # its clock: ignored
    t["outcomes"][2] = outcome(3, "nosuchtool", at=0.0, ms=0.0, status="error")
    assert score_trajectory(PERFECT, GOLD, trajectory(t), config=ROUND).terms[
        "tool_s"
    ] == pytest.approx(0.1)


def test_duplicate_calls_are_penalised_per_repeat() -> None:
    grep = ("grep", {"pattern": "Reader"})
    t = trajectory(turn(grep, grep, grep), turn(grep, first_id=4))
    r = score_trajectory(PERFECT, GOLD, t)
    assert r.terms["duplicates"] == 3.0
    assert r.terms["duplicate_penalty"] == pytest.approx(3 * 0.05)
    assert r.total == pytest.approx(1.0 - 0.15)
    # Never below zero: a wasteful empty answer must not score below a malformed plan.
    assert score_trajectory(Prediction.empty(), GOLD, t).total == 0.0


def test_parallel_width_earns_a_bonus_scaled_by_quality() -> None:
    wide = trajectory(turn(*[("grep", {"pattern": f"p{i}"}) for i in range(8)]))
    r = score_trajectory(PERFECT, GOLD, wide)
    assert r.terms["width"] == 8.0
    assert r.terms["parallel_bonus"] == pytest.approx(0.1)
    assert r.total == pytest.approx(1.1)
    uneven = trajectory(
        turn(*[("grep", {"pattern": f"p{i}"}) for i in range(6)]),
        turn(("grep", {"pattern": "q"}), first_id=7),
    )  # widths 6 and 1: mean 3.5, so 2.5 of the 7 calls past the first
    bonus = score_trajectory(PERFECT, GOLD, uneven).terms["parallel_bonus"]
    assert bonus == pytest.approx(0.1 * 2.5 / 7)
    # No answer, no bonus: spraying calls cannot earn reward on its own.
    assert score_trajectory(Prediction.empty(), GOLD, wide).total == 0.0


def test_finishing_exactly_once_earns_a_bonus_scaled_by_quality() -> None:
    """CodeScout's finish-once bonus: one `answer(...)`, not none (ran out of turns) and not
    two; times the answer's quality, so a wrong answer earns nothing for finishing."""
    bonus = RewardConfig().answer_bonus
    once = score_trajectory(PERFECT, GOLD, ONE_GREP, answer_calls=1)
    assert once.terms["answer_bonus"] == bonus and once.total == pytest.approx(1.0 + bonus)
    for calls in (None, 0, 2):
        assert score_trajectory(PERFECT, GOLD, ONE_GREP, answer_calls=calls).total == 1.0
    half = Prediction(files=GOLD.files)  # the file only: quality 0.4 (file weight)
    r = score_trajectory(half, GOLD, ONE_GREP, answer_calls=1)
    assert r.terms["answer_bonus"] == pytest.approx(bonus * r.terms["quality"])
    assert score_trajectory(Prediction.empty(), GOLD, ONE_GREP, answer_calls=1).total == 0.0


def test_f_beta_per_level_weighted_over_the_levels_with_gold() -> None:
    gold = GroundTruth(files=("a.py", "b.py"), modules=("a.py:f",), functions=("a.py:f",))
    pred = Prediction(files=("a.py",), modules=("a.py:f",), functions=("a.py:g",))
    r = score_trajectory(pred, gold, ONE_GREP)
    f_file = 1.25 * 1.0 * 0.5 / (0.25 * 1.0 + 0.5)  # precision 1, recall 1/2
    assert r.terms["f_file"] == pytest.approx(f_file)
    assert r.total == pytest.approx(0.4 * f_file + 0.2 * 1.0 + 0.4 * 0.0)
    # A patch that edits only top-level code has file gold only: the file level is it all.
    files_only = GroundTruth(files=("a.py", "b.py"))
    assert score_trajectory(pred, files_only, ONE_GREP).total == pytest.approx(f_file)
    f1 = score_trajectory(pred, files_only, ONE_GREP, config=RewardConfig(beta=1.0))
    assert f1.total == pytest.approx(2 / 3)


def test_the_confident_set_of_a_result_is_what_is_scored() -> None:
    result = {
        "files": [
            {"path": "pkg/io.py", "score": 1.0, "confident": True},
            {"path": "pkg/other.py", "score": 0.1, "confident": False},
        ],
        "functions": [
            {"path": "pkg/io.py", "name": "Reader.read", "score": 1.0, "confident": True}
        ],
    }
    assert score_trajectory(result, GOLD.to_json(), ONE_GREP).total == 1.0


def test_without_a_trajectory_only_the_answer_and_tokens_count() -> None:
    r = score_trajectory(PERFECT, GOLD, None, generated_tokens=750)  # 3 s of decode
    assert r.terms["latency_s"] == pytest.approx(3.0)
    assert r.total == pytest.approx(math.exp(-1.0))


@pytest.mark.parametrize(
    ("prediction", "gold", "traj", "reason"),
    [
        (PERFECT, GOLD, "not a trajectory", "malformed trajectory"),
        (PERFECT, GOLD, {"turns": [1, 2]}, "malformed trajectory"),
        (PERFECT, GOLD, {"turns": [{"tasks": "grep"}]}, "malformed trajectory"),
        (PERFECT, GOLD, trajectory(), "no tool call"),
        (PERFECT, GOLD, {"turns": []}, "no tool call"),
        (None, GOLD, ONE_GREP, "unreadable input"),
        ({"files": [{"nopath": 1}]}, GOLD, ONE_GREP, "unreadable input"),
        (PERFECT, {"files": []}, ONE_GREP, "gold is empty"),
        (PERFECT, 42, ONE_GREP, "unreadable input"),
    ],
)
def test_odd_input_gives_zero_with_a_reason(prediction, gold, traj, reason) -> None:
    r = score_trajectory(prediction, gold, traj)
    assert isinstance(r, Reward)
    assert r.total == 0.0 and r.reason is not None and r.reason.startswith(reason)
    assert r.terms["total"] == 0.0


def test_reads_a_real_localize_trajectory(make_tree) -> None:
    root: Path = make_tree(
        {
            "pkg/io.py": "class Reader:\n    def read(self):\n        return parse_header(1)\n",
            "pkg/util.py": "def parse_header(x):\n    return x\n",
        }
    )
    issue = "Reader.read fails in parse_header"
    result = acs.localize(acs.Repo.open(root), issue, trajectory=True)
    r = score_trajectory(result, GOLD, result["trajectory"])
    assert r.reason is None
    assert r.terms["tool_calls"] == result["stats"]["tool_calls"] > 0
    assert 0 < r.terms["tool_s"] < 60 and 0 < r.total <= 1.1


# -- the tools' latency: a cost model, not a clock ---------------------------------------------


def grep_outcome(i: int, *, files_searched: int, matches: int, **timing: float) -> dict[str, Any]:
    """A grep outcome with a result, as the engine returns it, and the given timings."""
    hit = {"pattern": 0, "path": "pkg/io.py", "line": 1, "column": 1, "text": "x"}
    result = {
        "matches": [hit] * matches,
        "files": [{"path": "pkg/io.py", "count": matches}],
        "counts": [matches],
        "truncated": False,
        "files_searched": files_searched,
    }
    return {**outcome(i, "grep"), "result": result, **timing}


def realistic(timing: dict[str, float]) -> dict[str, Any]:
    """Two turns of a plan with real results (a regex grep, a symbol lookup, a read that
    depends on the grep; then a literal grep), every outcome carrying `timing`."""
    first = turn(
        ("grep", {"pattern": r"def \w+_header\("}),
        ("symbols", {"name": "Reader"}),
        ("read", {"path": "$1.matches[0].path", "start": 1, "end": 40}),
    )
    first["outcomes"] = [
        grep_outcome(1, files_searched=800, matches=12, **timing),
        {**outcome(2, "symbols"), "result": {"symbols": [{}], "total": 1}, **timing},
        {
            **outcome(3, "read"),
            "deps": [1],
            "result": {"lines": ["x"] * 40, "total_lines": 350, "truncated": False},
            **timing,
        },
    ]
    second = turn(("grep", {"pattern": "parse_header", "fixed_strings": True}), first_id=4)
    second["outcomes"] = [grep_outcome(4, files_searched=1000, matches=3, **timing)]
    for t in (first, second):
        t["elapsed_ms"] = timing["elapsed_ms"] * 1.7
    return trajectory(first, second)


IDLE = {"submitted_ms": 5.0, "started_ms": 5.0, "elapsed_ms": 2.0}
LOADED = {"submitted_ms": 5.0, "started_ms": 4_000.0, "elapsed_ms": 9_000.0}


def test_the_same_rollout_scores_the_same_on_a_loaded_and_an_idle_node() -> None:
    """The same plan on the same repository: every term equal, whatever the clock said
    (today's measured tool time made the loaded rollout 13 s slower: factor 0.0015)."""
    stats = RepoStats(files=1000, bytes=20_000_000, definitions=30_000)
    idle = score_trajectory(PERFECT, GOLD, realistic(IDLE), repo_stats=stats, answer_calls=1)
    loaded = score_trajectory(PERFECT, GOLD, realistic(LOADED), repo_stats=stats, answer_calls=1)
    assert idle == loaded and idle.reason is None
    assert idle.terms["latency_factor"] == 1.0 and idle.terms["tool_s"] > 0
    # The shipped costs and round ones: the same arithmetic, so the same equality.
    assert score_trajectory(PERFECT, GOLD, realistic(IDLE), config=ROUND) == score_trajectory(
        PERFECT, GOLD, realistic(LOADED), config=ROUND
    )


def test_the_modelled_tool_time_is_the_cost_model_of_the_plan() -> None:
    """Exactly the formula of docs/reward.md on round constants, per turn its critical path:
    turn 1: max(grep, symbols, grep + read); turn 2: the literal grep."""
    stats = RepoStats(files=1000, bytes=20_000_000, definitions=30_000)  # 20 kB a file
    r = score_trajectory(PERFECT, GOLD, realistic(LOADED), repo_stats=stats, config=ROUND)
    regex_grep = 100 + 10 * (800 * 20_000 / 1e6) + 1 * 12 + 50  # fixed, MB, matches, \w
    symbols = 40 + 0.5 * 1  # an exact lookup scans nothing
    read = 30 + 4 * 350 / 1000 + 0.1 * 40  # lines of the file counted, lines returned
    literal_grep = 100 + 10 * (1000 * 20_000 / 1e6) + 1 * 3
    expected_ms = max(regex_grep + read, symbols) + literal_grep
    assert r.terms["tool_s"] == pytest.approx(expected_ms / 1000)


def test_the_modelled_cost_grows_with_the_work() -> None:
    """More files scanned, a bigger snapshot, more lines read: a larger latency."""

    def tool_s(traj: dict[str, Any], stats: RepoStats) -> float:
        return score_trajectory(PERFECT, GOLD, traj, repo_stats=stats).terms["tool_s"]

    small = RepoStats(files=200, bytes=2_000_000, definitions=4_000)
    large = RepoStats(files=20_000, bytes=400_000_000, definitions=600_000)
    grep = {"tasks": [{"id": 1, "tool": "grep", "args": {"pattern": "x"}}]}
    few = trajectory({**grep, "outcomes": [grep_outcome(1, files_searched=10, matches=1)]})
    many = trajectory({**grep, "outcomes": [grep_outcome(1, files_searched=200, matches=1)]})
    assert tool_s(few, small) < tool_s(many, small)
    assert tool_s(many, small) < tool_s(many, large)  # the same files, larger on average
    refs = {"tasks": [{"id": 1, "tool": "references", "args": {"name": "x"}}]}
    refs["outcomes"] = [{**outcome(1, "references"), "result": {"files": [], "total": 0}}]
    assert tool_s(trajectory(refs), small) < tool_s(trajectory(refs), large)


def test_a_bigger_repository_costs_more_to_search(make_tree) -> None:
    """The same plan through the engine on a small and a large snapshot: the large one's
    grep scans more files, so its modelled latency is larger (and never read off a clock)."""
    body = "def parse_header(x):\n    return x\n" + "# filler line\n" * 200
    plan = [
        {"id": 1, "tool": "grep", "args": {"pattern": "parse_header", "fixed_strings": True}},
        {"id": 2, "tool": "references", "args": {"name": "parse_header"}},
        {"id": 3, "tool": "find_files", "args": {"query": "util"}},
    ]
    modelled = []
    for files in (3, 300):
        repo = acs.Repo.open(make_tree({f"pkg/m{i}.py": body for i in range(files)}))
        repo.index()
        tasks = repo.run_plan(plan)["tasks"]
        traj = trajectory({"tasks": plan, "outcomes": tasks})
        r = score_trajectory(PERFECT, GOLD, traj, repo_stats=RepoStats.of(repo))
        modelled.append(r.terms["tool_s"])
        assert tasks[0]["result"]["files_searched"] == files
    assert modelled[0] < modelled[1]


def test_a_regex_with_a_unicode_word_class_costs_its_compilation() -> None:
    def tool_s(args: dict[str, Any]) -> float:
        t = {"tasks": [{"id": 1, "tool": "grep", "args": args}]}
        t["outcomes"] = [grep_outcome(1, files_searched=10, matches=1)]
        return score_trajectory(PERFECT, GOLD, trajectory(t), config=ROUND).terms["tool_s"]

    literal = tool_s({"pattern": "def parse_header"})
    assert tool_s({"pattern": r"def \w+_header"}) == pytest.approx(literal + 0.05)
    assert tool_s({"patterns": [r"\w+", r"\W", "x"]}) == pytest.approx(literal + 0.1)
    assert tool_s({"pattern": r"\w+", "fixed_strings": True}) == literal  # not a regex
    assert tool_s({"pattern": r"a\\w"}) == literal  # an escaped backslash, then `w`


def test_without_repository_stats_the_reference_repository_is_assumed() -> None:
    traj = realistic(IDLE)
    default = score_trajectory(PERFECT, GOLD, traj, config=ROUND)
    assert default == score_trajectory(
        PERFECT, GOLD, traj, config=ROUND, repo_stats=COSTS.reference_repo
    )
    # `Repo.stats`' JSON is accepted as is (its `definitions` from the reference).
    as_json = {"files": 1000, "bytes": 10_000_000, "skipped_binary": 3}
    assert default == score_trajectory(PERFECT, GOLD, traj, config=ROUND, repo_stats=as_json)
    bad = score_trajectory(PERFECT, GOLD, traj, repo_stats=[1, 2])  # type: ignore[arg-type]
    assert bad.total == 0.0 and bad.reason is not None
    assert bad.reason.startswith("unreadable input: InvalidArgumentError: repo_stats")


def test_latency_costs_cover_every_engine_tool() -> None:
    """A new engine tool must get a cost (else the model would call it free)."""
    tools = {f.name for f in fields(LatencyCosts) if f.type in ("ToolCost", ToolCost)}
    assert tools == set(get_args(ToolName)) == {name for name, _ in acs.tool_arguments()}


def test_the_shipped_costs_are_measured_and_are_the_default() -> None:
    shipped = json.loads(COSTS_PATH.read_text("utf-8"))
    assert {"machine", "date", "command", "method", "corpora"} <= set(shipped)
    assert "benches/bench_latency_model.py" in shipped["command"]
    for name, tool in shipped["tools"].items():
        constants = [tool[k] for k in ("fixed_ms", "per_unit_ms", "per_item_ms", "per_regex_ms")]
        assert all(c >= 0 for c in constants) and tool["fixed_ms"] > 0, name
        assert 0 < tool["fit"]["r2"] <= 1 and tool["fit"]["samples"] >= 10, name
    costs = load_costs()
    assert (
        RewardConfig().costs == costs
        and costs.grep.fixed_ms == shipped["tools"]["grep"]["fixed_ms"]
    )


def test_reward_overrides_reach_the_latency_costs(tmp_path: Path) -> None:
    """As the env's `reward` options give them: changes over the shipped costs, or a file."""
    shipped = load_costs()
    changed = RewardConfig(**{"latency_costs": {"grep": {"per_unit_ms": 5.0}}}).costs
    assert changed.grep == ToolCost(
        shipped.grep.fixed_ms, 5.0, shipped.grep.per_item_ms, shipped.grep.per_regex_ms
    )
    assert changed.read == shipped.read and changed.reference_repo == shipped.reference_repo
    # A file is a complete set (as the bench writes it); a partial one is an error.
    node = {"tools": {t: {"fixed_ms": 7.0} for t in get_args(ToolName)}}
    path = tmp_path / "node.json"
    path.write_text(json.dumps(node))
    assert RewardConfig(latency_costs=str(path)).costs.read == ToolCost(fixed_ms=7.0)
    path.write_text(json.dumps({"tools": {"read": {"fixed_ms": 7.0}}}))
    with pytest.raises(InvalidArgumentError, match=r"no costs for \['grep', 'find_files'"):
        RewardConfig(latency_costs=str(path))
    with pytest.raises(InvalidArgumentError, match="cannot read latency costs"):
        RewardConfig(latency_costs=str(tmp_path / "missing.json"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"grpe": {"fixed_ms": 1.0}}, "unknown latency cost 'grpe'"),
        ({"grep": {"per_mb": 1.0}}, r"unknown grep constants \['per_mb'\]"),
        ({"grep": 3.0}, "latency cost 'grep' must be a mapping"),
        ({"grep": {"fixed_ms": -1.0}}, "grep.fixed_ms must be a non-negative number, got float"),
        ({"grep": {"fixed_ms": "x" * 1_000_000}}, "grep.fixed_ms must be a non-negative number"),
        ({"reference_repo": {"files": float("nan")}}, "repo stats: files must be a non-negative"),
    ],
)
def test_bad_latency_cost_overrides_say_why_briefly(overrides: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as e:
        RewardConfig(latency_costs=overrides)
    assert len(str(e.value)) < 300
