"""The SkyRL environment `acs-localize`: one rollout of the planner on one instance.

SkyRL generates the model's text; this environment plays the rest of `acs.localize`'s loop
with the very code inference runs, so training and serving cannot drift apart:

* the text is parsed by `LlmPolicy` (the tolerant `planlang` parser, task renumbering, bad
  lines as `plan_syntax` error tasks), fed to it as a one-chunk stream;
* the tasks go through `acs.localize.dispatch` into one `PlanRun` per rollout on the
  instance's repository at its base commit (opened once per process: `open_repo`);
* the next user message is `Conversation.results` (the `next` or `final` template around
  `render_turn`), exactly what `LlmPolicy` appends at inference;
* the answer turn (or the last allowed turn) is scored by `acs.train.planner.reward.score_answer`
  (`merge_answer`, grounded in the evidence, then `score_trajectory`).

`step` never raises: SkyRL fails the whole training step on one exception, so an error
becomes an error observation or a zero reward, counted in `metadata["errors"]`.

    from acs.train.planner.env import register_env
    register_env()  # inside the Ray entrypoint, before SkyRL makes its environments
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import skyrl_gym
from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput

from ...errors import InvalidArgumentError
from ...llm.policy import TURN_TOKENS, LlmPolicy
from ...llm.prompt import PROMPT_VERSION, TURN_BUDGET, Conversation, approx_tokens
from ...localize import dispatch
from ...repo import Repo
from ...task.repos import find_repository
from ...types import Task, TaskOutcome, Turn
from .reward import RepoStats, Reward, RewardConfig, score_answer
from .rl_data import ENV_CLASS

__all__ = ["ENV_ID", "AcsLocalizeEnv", "open_repo", "register_env"]

ENV_ID = ENV_CLASS  # the rows' env_class
REPO_CACHE_SIZE = 8  # open repositories kept per process (a training batch spans a few)
OPTIONS = ("repos_dir", "max_turns", "turn_timeout_s", "reward", "tokenizer", "context_tokens")
# What every rollout reports (SkyRL averages each key over the rollouts that report it: a
# rollout zeroed by rule must report its zeros, or the means leave it out and overstate).
METRICS = ("total", "quality", "f_file", "f_module", "f_function", "latency_s", "tool_calls")
# The results' budgets tried, largest first, when the next prompt would not fit the context
# (`render_turn`'s: 0 keeps one line, -1 only counts the results).
SHRUNK_BUDGETS = (TURN_BUDGET // 2, TURN_BUDGET // 4, TURN_BUDGET // 8, 0, -1)
# Room a plan turn's prompt leaves for what may follow it: the model's turn (at most
# TURN_TOKENS) and then the shortest answer turn's message (the answer template, results only
# counted: under 2,048 tokens whatever the text; tests/train/planner/test_configs.py bounds
# it), so a rollout can always still be asked for its answer within the context.
ANSWER_RESERVE = 2048

# --- one open repository per (git dir, commit), shared by every rollout of the process -----

_repos: OrderedDict[tuple[str, str], Repo] = OrderedDict()
_opening: dict[tuple[str, str], threading.Lock] = {}
_lock = threading.Lock()


def open_repo(git_dir: str | os.PathLike[str], commit: str) -> Repo:
    """`Repo.open(git_dir, commit=commit)`, indexed, from a small process-wide LRU: hundreds
    of rollouts on one instance share one snapshot and its indexes. Thread-safe; a repository
    is opened once even when many rollouts ask for it at the same time."""
    key = (os.fspath(Path(git_dir).resolve()), commit)
    with _lock:
        if (repo := _repos.get(key)) is not None:
            _repos.move_to_end(key)
            return repo
        opening = _opening.setdefault(key, threading.Lock())
    with opening:  # others wait for this key only; other repositories open in parallel
        with _lock:
            if (repo := _repos.get(key)) is not None:
                return repo
        repo = Repo.open(key[0], commit=commit)
        # Indexed now, once per snapshot, rather than inside the first rollout's turn.
        repo.index()
        with _lock:
            _repos[key] = repo
            while len(_repos) > REPO_CACHE_SIZE:
                _repos.popitem(last=False)
            _opening.pop(key, None)
    return repo


# --- token counts for the latency term -----------------------------------------------------


@functools.lru_cache(maxsize=4)
def _tokenizer(name: str) -> tuple[Any, threading.Lock]:
    """The model's tokenizer (a folder or Hub id, loaded once per process by transformers),
    and the lock its users share (a fast tokenizer is one Rust object used by all rollouts)."""
    try:  # lazily: the env itself needs no transformers
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(name), threading.Lock()
    except Exception as e:  # a misconfigured run fails at its start, with the reason
        raise InvalidArgumentError(f"cannot load tokenizer {name!r}: {e}") from e


def token_counter(tokenizer: str | None) -> Callable[[str], int]:
    """How many tokens a text is: exactly, with the trained model's tokenizer, or
    `approx_tokens`'s estimate when none is named."""
    if not tokenizer:
        return approx_tokens
    loaded, lock = _tokenizer(tokenizer)

    def count(text: str) -> int:
        with lock:
            return len(loaded(text, add_special_tokens=False)["input_ids"])

    return count


# Per message, the chat template's own tokens when no tokenizer counts them (ChatML's
# `<|im_start|>role\n ... <|im_end|>\n`), and the generation prompt's (with an empty think block).
MESSAGE_OVERHEAD, GENERATION_PROMPT = 5, 8


def prompt_counter(tokenizer: str | None) -> Callable[[list[dict[str, str]]], int]:
    """How many tokens the prompt of a conversation is, as the model is sent it: the chat
    template applied with the generation prompt and `enable_thinking=False` (serving's and
    the presets' `generator.chat_template_kwargs`); an estimate without a tokenizer."""
    if not tokenizer:
        return lambda messages: (
            GENERATION_PROMPT
            + sum(MESSAGE_OVERHEAD + approx_tokens(m["content"]) for m in messages)
        )
    loaded, lock = _tokenizer(tokenizer)

    def count(messages: list[dict[str, str]]) -> int:
        with lock:
            ids = loaded.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, enable_thinking=False
            )
        return len(ids["input_ids"] if hasattr(ids, "keys") else ids)

    return count


def register_env() -> None:
    """Register `acs-localize` with skyrl_gym (idempotent). Call it inside the Ray entrypoint:
    SkyRL's workers make environments from their own process's registry."""
    with _lock:
        if ENV_ID not in skyrl_gym.registry:
            skyrl_gym.register(id=ENV_ID, entry_point="acs.train.planner.env:AcsLocalizeEnv")


# --- the environment ------------------------------------------------------------------------


class _StepText:
    """The stream `LlmPolicy` reads: the text SkyRL generated for this step, in one chunk."""

    name = "skyrl"
    model_name = None

    def __init__(self) -> None:
        self.text = ""
        self.stats: dict[str, Any] = {}

    def stream(
        self, messages: Any, *, constraint: Any = None, max_tokens: int = 0
    ) -> Iterator[str]:
        yield self.text


class AcsLocalizeEnv(BaseTextEnv):
    """One rollout: `init` gives the row's prompt, each `step` runs one turn of the model's
    plan, the answer turn (or the last allowed one) ends it with the reward.

    `env_config` (SkyRL's `environment.skyrl_gym.acs-localize`, any mapping): `repos_dir`
    (git mirrors, the layouts of `acs.task.repos.find_repository`; default `$ACS_REPOS`),
    `max_turns` (default 4: must be the data builder's, whose prompt states it),
    `turn_timeout_s` (default 30), `reward` (overrides of `RewardConfig` fields),
    `tokenizer` (the model's tokenizer, a folder or Hub id: exact token counts for the
    latency term and the context; default an estimate of 3.5 characters per token),
    `context_tokens` (the longest prompt a turn may send: SkyRL's `generator.max_input_length`,
    which the launch copies here; default no limit). A plan turn's prompt must leave room
    for one more model turn and the shortest answer message (`ANSWER_RESERVE`); when it
    would not, the turn asks for the answer at once, its results shrunk until it fits
    (`context_cut` in the metrics); should not even that fit, the rollout ends and is scored
    as it stands. Either way it is scored: SkyRL would stop a rollout over the context
    unscored.
    `extras`: the row's `reward_spec.ground_truth` and `extra_info` (repo, base_commit,
    instance_id, prompt_version)."""

    def __init__(self, env_config: Any = None, extras: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        config = _mapping(env_config)
        unknown = set(config) - set(OPTIONS)
        if unknown:  # a typo would silently train on the wrong setting
            raise ValueError(f"unknown acs-localize options {sorted(unknown)}; known: {OPTIONS}")
        self.max_turns = int(config.get("max_turns", 4))
        self.turn_timeout_s = float(config.get("turn_timeout_s", 30.0))
        self.reward_config = _reward_config(config.get("reward"))
        self.repos_dir = config.get("repos_dir") or os.environ.get("ACS_REPOS")
        self.count_tokens = token_counter(config.get("tokenizer") or None)
        self.count_prompt = prompt_counter(config.get("tokenizer") or None)
        self.context_tokens = _context_tokens(config.get("context_tokens"))
        self.messages: list[dict[str, str]] = []  # the conversation as the model is sent it
        self.context_cut = False
        self.errors: list[str] = []
        self.broken: str | None = None  # why this rollout cannot search (scored 0)
        self.history: list[Turn] = []
        self.prompt_tokens = 0
        self.generated_tokens = 0
        self.done = False
        self.reward: Reward | None = None
        self._run: Any = None
        self.repo_stats: RepoStats | None = None
        self._step_lock = threading.Lock()  # SkyRL steps one rollout sequentially; be sure
        self._text = _StepText()
        extras = extras or {}
        info = _mapping(extras.get("extra_info"))
        self.repo_name = str(info.get("repo", ""))
        self.commit = str(info.get("base_commit", ""))
        self.instance_id = str(info.get("instance_id", ""))
        self.gold = _mapping(_mapping(extras.get("reward_spec")).get("ground_truth"))
        if not self.gold:
            self._break("the row has no reward_spec.ground_truth")
        try:
            version = str(info.get("prompt_version") or PROMPT_VERSION)
            self.policy = LlmPolicy(self._text, max_turns=self.max_turns, prompt_version=version)
        except Exception as e:  # an unknown prompt version: this rollout scores 0
            self._break(f"prompt: {e}")
            self.policy = LlmPolicy(self._text, max_turns=self.max_turns)

    # -- SkyRL's interface -----------------------------------------------------------------

    def init(self, prompt: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """The row's prompt as is: the data builder rendered it with `Conversation`."""
        self.prompt_tokens = sum(self._tokens(str(m.get("content", ""))) for m in prompt or ())
        self.messages = [
            {"role": str(m.get("role", "")), "content": str(m.get("content", ""))}
            for m in prompt or ()
        ]
        return prompt, {
            "instance_id": self.instance_id,
            "repo": self.repo_name,
            "max_turns": self.max_turns,
            "prompt_version": self.policy.prompts.version,
        }

    def step(self, action: str) -> BaseTextEnvStepOutput:
        with self._step_lock:
            try:
                return self._step(action)
            except Exception as e:  # never raise: one rollout must not fail the step
                self._break(f"step: {type(e).__name__}: {e}")
                return self._finish()

    def close(self) -> None:
        run, self._run = self._run, None
        if run is not None:
            try:
                run.cancel()  # stops unfinished tasks; frees the snapshot
            except Exception as e:
                self._error(f"close: {e}")

    def get_metrics(self) -> dict[str, Any]:
        terms = dict(self.reward.terms) if self.reward else {}
        return {
            **dict.fromkeys(METRICS, 0.0),
            **terms,
            "errors": len(self.errors),
            "turns": len(self.history),
            "context_cut": int(self.context_cut),
            "unscored": int(self.reward is None),
        }

    # -- one turn ----------------------------------------------------------------------------

    def _step(self, action: str) -> BaseTextEnvStepOutput:
        if self.done:
            return _output([], 0.0, True, {"reason": "the rollout had already ended"})
        self.turns += 1
        text = action if isinstance(action, str) else str(action)
        self.generated_tokens += self._tokens(text)
        if self.broken:  # the row is unusable: nothing to search
            return self._finish()
        if self._run is None:
            repo = self._repository()
            self.repo_stats = RepoStats.of(repo)  # the reward's cost model: this snapshot's size
            self._run = repo.start_plan()
        self._text.text = text
        started = time.perf_counter()
        # `acs.localize`'s turn: the policy parses and yields tasks, dispatch submits them.
        tasks, rejected = dispatch(self._run, self.policy.plan("", self.history))
        deadline = started + self.turn_timeout_s
        finished: list[Task] = []
        outcomes: list[TaskOutcome] = []
        for task in tasks:
            outcome = rejected.get(task["id"]) or self._run.wait(
                task["id"], timeout=max(deadline - time.perf_counter(), 0.001)
            )
            if outcome is not None:
                finished.append(task)
                outcomes.append(outcome)
        if len(finished) < len(tasks):
            self._error(f"turn {self.turns}: {len(tasks) - len(finished)} tasks timed out")
        if tasks:
            self.history.append(Turn(finished, outcomes, (time.perf_counter() - started) * 1000))
        if (
            not tasks
            or self.policy.answer is not None
            or self.policy.finished
            or len(self.history) >= self.max_turns
        ):
            return self._finish()
        observation = self._next_message(text)
        if observation is None:  # not even the answer turn fits the context
            return self._finish()
        self.prompt_tokens += self._tokens(observation)  # prefix-cached: only the new part
        return _output(
            [{"role": "user", "content": observation}],
            0.0,
            False,
            {"turn": self.turns, "tool_calls": len(tasks), "errors": len(self.errors)},
        )

    def _tokens(self, text: str) -> int:
        try:
            return self.count_tokens(text)
        except Exception as e:  # a tokenizer that fails: the estimate, and say so
            self._error(f"tokenizer: {type(e).__name__}: {e}")
            return approx_tokens(text)

    def _repository(self) -> Repo:
        if not self.repos_dir:
            raise FileNotFoundError("no repos_dir in env_config and no $ACS_REPOS")
        return open_repo(find_repository(self.repos_dir, self.repo_name), self.commit)

    def _next_message(self, action: str) -> str | None:
        """The next user message: as inference writes it when the prompt it makes fits the
        context; else the answer turn's, its results shrunk until it fits (the policy is
        told: its next turn is its last); None when not even that fits."""
        self.messages.append({"role": "assistant", "content": action})
        observation = self._observation()
        if self._fits(observation, TURN_TOKENS + ANSWER_RESERVE):
            self.messages.append({"role": "user", "content": observation})
            return observation
        self.context_cut = True
        self.policy.max_turns = len(self.history) + 1  # `LlmPolicy.plan`: the next is final
        for budget in SHRUNK_BUDGETS:
            observation = self._observation(final=True, budget=budget)
            if self._fits(observation):
                self._error(f"turn {self.turns}: context full: answer turn, results cut")
                self.messages.append({"role": "user", "content": observation})
                return observation
        self._error(f"turn {self.turns}: context full: the rollout ends unanswered")
        return None

    def _fits(self, observation: str, room: int = 0) -> bool:
        """Whether the prompt with `observation` fits the context, `room` tokens to spare."""
        if self.context_tokens is None:
            return True
        message = {"role": "user", "content": observation}
        return self.count_prompt([*self.messages, message]) + room <= self.context_tokens

    def _observation(self, final: bool | None = None, budget: int = TURN_BUDGET) -> str:
        """The next user message, as `LlmPolicy.plan` appends it at inference (a scratch
        conversation, so the policy's own stays as inference leaves it)."""
        number = len(self.history) + 1
        next_id = 1 + max((t["id"] for turn in self.history for t in turn.tasks), default=0)
        scratch = Conversation(self.policy.prompts, "", self.max_turns)
        if final is None:
            final = len(self.history) >= self.max_turns - 1
        scratch.results(
            self.history[-1], number=number, next_id=next_id, final=final, budget=budget
        )
        return scratch.messages[-1]["content"]

    def _finish(self) -> BaseTextEnvStepOutput:
        """End the rollout: score the answer (0 when the rollout broke)."""
        self.done = True
        self.close()
        if self.broken:
            self.reward = Reward(0.0, {"total": 0.0}, f"error: {self.broken}")
        else:
            self.reward = self._score()
        metadata = {
            "instance_id": self.instance_id,
            "prompt_version": self.policy.prompts.version,  # the rollout's turns were in it
            "reward_terms": dict(self.reward.terms),
            "reason": self.reward.reason,
            "turns": len(self.history),
            "tool_calls": sum(len(t.tasks) for t in self.history),
            "errors": len(self.errors),
            "error_messages": list(self.errors),
        }
        return _output([], self.reward.total, True, metadata)

    def _score(self) -> Reward:
        tokens = {
            "prompt_tokens": self.prompt_tokens,
            "generated_tokens": self.generated_tokens,
            # The parser stops at the first `answer(...)`: a rollout answers once or never.
            "answer_calls": int(self.policy.answer is not None),
        }
        try:
            return score_answer(
                self.policy.answer,
                self.history,
                self.gold,
                config=self.reward_config,
                repo_stats=self.repo_stats,
                **tokens,
            )
        except Exception as e:  # an answer that cannot be merged scores as no answer
            self._error(f"answer: {type(e).__name__}: {e}")
            tokens["answer_calls"] = 0
            return score_answer(
                None,
                self.history,
                self.gold,
                config=self.reward_config,
                repo_stats=self.repo_stats,
                **tokens,
            )

    def _error(self, message: str) -> None:
        self.errors.append(message[:300])

    def _break(self, message: str) -> None:
        self._error(message)
        self.broken = self.broken or self.errors[-1]


def _output(
    observations: list[dict[str, str]], reward: float, done: bool, metadata: dict[str, Any]
) -> BaseTextEnvStepOutput:
    return BaseTextEnvStepOutput(
        observations=observations, reward=reward, done=done, metadata=metadata
    )


def _mapping(value: Any) -> dict[str, Any]:
    """A plain dict of a mapping (SkyRL passes OmegaConf's DictConfig), {} for None."""
    if value is None:
        return {}
    if hasattr(value, "items"):
        return {str(k): v for k, v in value.items()}
    return {}


def _context_tokens(value: Any) -> int | None:
    """The `context_tokens` option: None, or a whole number of tokens that holds a prompt."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(
            f"context_tokens must be a positive whole number of tokens, not {str(value)[:40]!r}"
        )
    return value


def _reward_config(overrides: Any) -> RewardConfig:
    values = _mapping(overrides)
    known = {f.name for f in fields(RewardConfig)}
    if unknown := set(values) - known:
        raise ValueError(f"unknown reward options {sorted(unknown)}; known: {sorted(known)}")
    return RewardConfig(**values)
