"""The RL reward: scripted rollouts (perfect, empty, malformed, slow, duplicate-heavy,
parallel-wide) get exactly the rewards the formula in docs/reward.md gives."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import acs
from acs.eval.groundtruth import GroundTruth
from acs.eval.metrics import Prediction
from acs.train.reward import Reward, RewardConfig, score_trajectory

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


def test_perfect_answer_fast_narrow_search_scores_one() -> None:
    r = score_trajectory(PERFECT, GOLD, ONE_GREP)
    assert r.total == 1.0 and r.reason is None
    assert r.terms["f_file"] == r.terms["f_module"] == r.terms["f_function"] == 1.0
    # 100 ms of tools + 2 model turns (plan, answer) at 20 ms: under the 1 s target.
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
    r = score_trajectory(PERFECT, GOLD, ONE_GREP, prompt_tokens=2000, generated_tokens=500)
    # 0.1 s tools + 2000 / 20000 s prefill + 500 / 250 s decode + 2 turns * 0.02 s = 2.24 s
    assert r.terms["latency_s"] == pytest.approx(2.24)
    factor = math.exp(-(2.24 - 1.0) / 2.0)
    assert r.terms["latency_factor"] == pytest.approx(factor)
    assert r.total == pytest.approx(factor) and r.total < 1


def test_parallel_calls_cost_their_longest_not_their_sum() -> None:
    t = turn(("grep", {"pattern": "a"}), ("symbols", {"name": "B"}))
    t["outcomes"] = [outcome(1, ms=900.0), outcome(2, "symbols", at=20.0, ms=500.0)]
    assert score_trajectory(PERFECT, GOLD, trajectory(t)).terms["tool_s"] == pytest.approx(0.9)


def test_a_task_refused_before_the_engine_does_not_stretch_the_turn() -> None:
    t = turn(("grep", {"pattern": "a"}), ("nosuchtool", {}))
    t["outcomes"][0] = outcome(1, at=500.0, ms=100.0)
    t["outcomes"][1] = outcome(2, "nosuchtool", at=0.0, ms=0.0, status="error")
    assert score_trajectory(PERFECT, GOLD, trajectory(t)).terms["tool_s"] == pytest.approx(0.1)


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
