"""The localization reward for reinforcement learning: how right the answer is (multi-level
F-beta, computed by `acs.task.metrics`), times how fast it came (a latency factor), plus how
the search was planned (parallel width rewarded, duplicate calls penalised). A malformed plan
scores 0. Formula, defaults and their reasons: docs/reward.md.

    quality = sum_l w_l * F_beta(l) / sum_l w_l      over the levels l whose gold is non-empty
    latency = tool_s + prompt_tokens * prefill_s + generated_tokens * decode_s + turns * turn_s
    tool_s  = the plan's modelled tool time (acs.train.planner.latency_model): per turn the critical
              path of its calls, each costing fixed + per unit of work + per result item
              + per Unicode-class regex compiled, measured by benches/bench_latency_model.py
    factor  = exp(-max(0, latency - target_s) / scale_s)
    total   = max(0, quality * factor + parallel_bonus + answer_bonus - duplicate_penalty)

`score_trajectory` never raises: input it cannot read gives a zero reward whose `reason` says
why, so one odd rollout cannot fail a training step.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import InvalidArgumentError
from ...task.groundtruth import GroundTruth
from ...task.metrics import Prediction, set_scores
from .latency_model import LatencyCosts, RepoStats, load_costs, plan_tool_ms

if TYPE_CHECKING:
    from ...llm.planlang import Answer

__all__ = [
    "LEVELS",
    "PLAN_SYNTAX",
    "LatencyCosts",
    "RepoStats",
    "Reward",
    "RewardConfig",
    "score_answer",
    "score_trajectory",
]

LEVELS = ("file", "module", "function")
PLAN_SYNTAX = "plan_syntax"  # the error kind of a plan line the parser could not read


@dataclass(frozen=True)
class RewardConfig:
    """Every weight and cost of the reward (docs/reward.md gives the reason for each default).

    The per-token costs are placeholders until `benches/bench_llm.py`'s GPU decode figures
    are measured: they assume Qwen3-0.6B served by vLLM on one H100/H200 at about 250
    tokens/s of decode per sequence and 20,000 tokens/s of prefill. The tools' costs are
    measured (`latency_costs`)."""

    # Precision weighted over recall, as the localizer's confident set and SWE-grep's F0.5:
    # the consumer is a coding agent whose context every wrong file costs.
    beta: float = 0.5
    # File and function carry the signal; module is half-redundant with function (it is
    # derived from it) and gives partial credit for the right class with the wrong method.
    file_weight: float = 0.4
    module_weight: float = 0.2
    function_weight: float = 0.4
    # Latency model (seconds); the placeholders above.
    prefill_s_per_token: float = 1 / 20_000
    decode_s_per_token: float = 1 / 250
    turn_s: float = 0.02  # a request's fixed cost (scheduling, first token) per model turn
    # The tools' cost model (acs.train.planner.latency_model), fitted by
    # benches/bench_latency_model.py into the shipped latency_costs.json. Also accepted, as
    # the env's `reward` overrides give them: a mapping of changes
    # (`{"grep": {"per_unit_ms": 0.5}}`) over the shipped costs, or the path of another costs
    # file (say one measured on the training node).
    latency_costs: LatencyCosts | Mapping[str, Any] | str = field(default_factory=load_costs)
    target_s: float = 1.0  # the product's budget for a whole localization: no penalty below
    scale_s: float = 2.0  # past the target, the factor falls by e per `scale_s` seconds
    # Plan quality.
    parallel_weight: float = 0.1  # the bonus at full width, times the answer's quality
    parallel_cap: int = 8  # calls per turn that earn the full bonus (SWE-grep runs 8)
    duplicate_penalty: float = 0.05  # per call that repeats an earlier one (tool + args)
    malformed_zero: bool = True  # a plan line the parser cannot read zeroes the reward
    # CodeScout's bonus for finishing exactly once: the model ended the rollout with one
    # `answer(...)` of its own, rather than running out of turns (latency) or answering
    # twice. Times the answer's quality, like the width bonus: a wrong guess earns nothing.
    answer_bonus: float = 0.05
    require_search: bool = True  # an answer without any tool call scores 0 (a guess)

    def __post_init__(self) -> None:
        object.__setattr__(self, "latency_costs", _latency_costs(self.latency_costs))

    @property
    def costs(self) -> LatencyCosts:
        """`latency_costs`, always a `LatencyCosts` (the constructor converts the others)."""
        costs = self.latency_costs
        assert isinstance(costs, LatencyCosts)  # by __post_init__
        return costs

    def weights(self) -> dict[str, float]:
        return {
            "file": self.file_weight,
            "module": self.module_weight,
            "function": self.function_weight,
        }


def _latency_costs(value: Any) -> LatencyCosts:  # Any: env overrides are untrusted JSON
    if isinstance(value, LatencyCosts):
        return value
    if isinstance(value, str | os.PathLike):
        return load_costs(value)
    if hasattr(value, "items"):  # a dict, or OmegaConf's DictConfig from SkyRL's config
        return load_costs().merged(value)
    raise InvalidArgumentError(
        f"latency_costs: expected a mapping of costs or a file path, got {type(value).__name__}"
    )


@dataclass(frozen=True)
class Reward:
    """The reward and each of its terms (`terms`, for the training logs); `reason` says why
    a reward is zero by rule (malformed plan, unreadable input), else None."""

    total: float
    terms: dict[str, float] = field(default_factory=dict)
    reason: str | None = None


def score_trajectory(
    prediction: Prediction | Mapping[str, Any],
    gold: GroundTruth | Mapping[str, Any],
    trajectory: Mapping[str, Any] | None,
    *,
    prompt_tokens: int = 0,
    generated_tokens: int = 0,
    answer_calls: int | None = None,
    config: RewardConfig = RewardConfig(),  # frozen: safe to share
    repo_stats: RepoStats | Mapping[str, Any] | None = None,
) -> Reward:
    """The reward of one rollout: `prediction` (a `Prediction` or an `acs.localize` result),
    `gold` (a `GroundTruth` or its JSON), `trajectory` (`localize(..., trajectory=True)`'s
    record: `turns`, each with `tasks` and `outcomes`; None scores the answer and the token
    latency only), `answer_calls` (how many `answer(...)` lines the model wrote; None where
    no model answered, which earns no answer bonus), `repo_stats` (the searched snapshot's
    size: `RepoStats.of(repo)`, or `Repo.stats`-like JSON; None: the costs' reference
    repository). The tools' latency is modelled from the calls and their results, never
    read from their timings, so a rollout scores the same on a loaded node. Never raises."""
    try:
        stats = _repo_stats(repo_stats, config.costs.reference_repo)
        return _score(
            prediction,
            gold,
            trajectory,
            prompt_tokens,
            generated_tokens,
            answer_calls,
            config,
            stats,
        )
    except Exception as e:  # a training step must not fail on one odd rollout
        return _zero(f"unreadable input: {type(e).__name__}: {e}"[:200])


def _score(
    prediction: Prediction | Mapping[str, Any],
    gold: GroundTruth | Mapping[str, Any],
    trajectory: Mapping[str, Any] | None,
    prompt_tokens: int,
    generated_tokens: int,
    answer_calls: int | None,
    config: RewardConfig,
    repo_stats: RepoStats,
) -> Reward:
    pred = prediction if isinstance(prediction, Prediction) else Prediction.from_result(prediction)
    truth = gold if isinstance(gold, GroundTruth) else GroundTruth.from_json(gold)
    turns = _turns(trajectory)
    if turns is None:
        return _zero("malformed trajectory: `turns` must be a list of turns")
    calls = [t for turn in turns for t in turn.get("tasks") or ()]
    malformed = sum(
        1
        for turn in turns
        for o in turn.get("outcomes") or ()
        if (o.get("error") or {}).get("kind") == PLAN_SYNTAX
    )
    terms: dict[str, float] = {"malformed": float(malformed), "tool_calls": float(len(calls))}
    if malformed and config.malformed_zero:
        return _zero("malformed plan: a line the parser could not read", terms)
    if trajectory is not None and not calls and config.require_search:
        return _zero("no tool call: the answer was not searched for", terms)

    # Quality: F-beta per level, by acs.task.metrics, weighted over the levels with gold.
    weights = config.weights()
    scored = {lv: g for lv, g in _gold_levels(truth).items() if g and weights[lv] > 0}
    if not scored:
        return _zero("gold is empty at every weighted level", terms)
    key = f"f{config.beta:g}"
    for level, level_gold in scored.items():
        terms[f"f_{level}"] = set_scores(pred.confident_set(level), level_gold, config.beta)[key]
    quality = sum(weights[lv] * terms[f"f_{lv}"] for lv in scored) / sum(
        weights[lv] for lv in scored
    )

    # Latency: the model's tokens at the serving costs, plus the tools' modelled time.
    tool_s = plan_tool_ms(turns, config.costs, repo_stats) / 1000
    model_turns = len(turns) + 1  # every planning turn, plus the answer turn
    latency_s = (
        tool_s
        + max(prompt_tokens, 0) * config.prefill_s_per_token
        + max(generated_tokens, 0) * config.decode_s_per_token
        + (model_turns if trajectory is not None else 0) * config.turn_s
    )
    factor = math.exp(-max(0.0, latency_s - config.target_s) / config.scale_s)

    # Plan quality: distinct calls per turn, and calls that repeat an earlier one.
    width = _mean_width(turns)
    span = max(config.parallel_cap - 1, 1)
    bonus = config.parallel_weight * min(max(width - 1, 0.0), span) / span * quality
    duplicates = len(calls) - len({_call_key(t) for t in calls})
    penalty = config.duplicate_penalty * duplicates
    answered = config.answer_bonus * quality if answer_calls == 1 else 0.0
    total = max(0.0, quality * factor + bonus + answered - penalty)
    terms.update(
        quality=quality,
        tool_s=tool_s,
        latency_s=latency_s,
        latency_factor=factor,
        width=width,
        parallel_bonus=bonus,
        duplicates=float(duplicates),
        duplicate_penalty=penalty,
        answer_bonus=answered,
        total=total,
    )
    return Reward(total, terms)


def _zero(reason: str, terms: Mapping[str, float] | None = None) -> Reward:
    return Reward(0.0, {**(terms or {}), "total": 0.0}, reason)


def _gold_levels(gold: GroundTruth) -> dict[str, Sequence[str]]:
    return {"file": gold.files, "module": gold.modules, "function": gold.functions}


def _turns(trajectory: Any) -> list[Mapping[str, Any]] | None:  # Any: rollouts are untrusted
    """The trajectory's turns ([] when there is none), None when they cannot be read."""
    if trajectory is None:
        return []
    if not isinstance(trajectory, Mapping):
        return None
    turns = trajectory.get("turns", [])
    if not isinstance(turns, list) or not all(isinstance(t, Mapping) for t in turns):
        return None
    for turn in turns:
        for name in ("tasks", "outcomes"):
            items = turn.get(name) or []
            if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
                return None
    return turns


def _repo_stats(value: Any, reference: RepoStats) -> RepoStats:  # Any: untrusted JSON
    if value is None:
        return reference
    if isinstance(value, RepoStats):
        return value
    if isinstance(value, Mapping):
        return RepoStats.from_mapping(value, reference)
    raise InvalidArgumentError(
        f"repo_stats: expected RepoStats or a mapping, got {type(value).__name__}"
    )


def _call_key(task: Mapping[str, Any]) -> str:
    """A call's identity: its tool and arguments (the id differs between repeats)."""
    return json.dumps([task.get("tool"), task.get("args", {})], sort_keys=True, default=str)


def _mean_width(turns: Sequence[Mapping[str, Any]]) -> float:
    """Distinct calls per turn, averaged over the turns that made any."""
    widths = [len({_call_key(t) for t in turn.get("tasks") or ()}) for turn in turns]
    widths = [w for w in widths if w]
    return sum(widths) / len(widths) if widths else 0.0


# `acs.localize`'s defaults: an answer is cut as it would be at inference.
TOP_K, TOP_K_FUNCTIONS = 10, 20


def score_answer(
    answer: Answer | None,
    turns: Sequence[Any],
    gold: Any,
    *,
    prompt_tokens: int = 0,
    generated_tokens: int = 0,
    answer_calls: int | None = None,
    config: RewardConfig | None = None,
    repo_stats: RepoStats | Mapping[str, Any] | None = None,
) -> Reward:
    """The reward of a model planner's rollout: its `answer` alone (weight 1: the joiner's
    picks would earn it credit for work it did not do), kept to the paths and definitions
    the tools returned in `turns` (`merge_answer`), scored by `score_trajectory`;
    `answer_calls` defaults to 1 when there is an answer, 0 when there is none;
    `repo_stats` as `score_trajectory`'s. The environment and the SFT export both score
    with this."""
    if answer_calls is None:
        answer_calls = int(answer is not None)
    from ...llm.policy import merge_answer

    empty: dict[str, Any] = {"files": [], "functions": [], "lines": [], "why": {}}
    prediction = (
        merge_answer(answer, empty, turns, TOP_K, 1.0, top_k_functions=TOP_K_FUNCTIONS)
        if answer is not None
        else empty
    )
    return score_trajectory(
        prediction,
        gold,
        {"turns": [t.to_json() for t in turns]},
        prompt_tokens=prompt_tokens,
        generated_tokens=generated_tokens,
        answer_calls=answer_calls,
        config=config or RewardConfig(),
        repo_stats=repo_stats,
    )
