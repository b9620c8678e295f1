"""SkyRL's own generator (`SkyRLGymGenerator`, 0.4) drives `acs-localize` rollouts with a real
model writing the tokens: a tiny random Qwen3 behind `TransformersEngine` (SkyRL's engine
interface on the CPU), on a git repository built here, with the presets' settings.

What it pins: stop reasons, loss masks and the reward's place; SkyRL's GRPO advantages on
those rollouts; and train/serve parity: every turn's prompt tokens in training are exactly the
tokens `LlmPolicy` sends at inference for the same conversation (the chat template
re-rendered each turn, the generation cut at the planner's `end` or answer line), which the
presets' old settings (token-in/token-out, no cut) did not give. Run by scripts/test-skyrl."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import acs
from acs.llm.policy import TURN_TOKENS, LlmPolicy
from acs.llm.prompt import load_prompts
from acs.llm.scripted import ReplayBackend, _Force, toy_tokenizer
from acs.train.planner import rl_data, skyrl_main
from acs.train.planner.env import register_env
from acs.train.planner.pg_smoke import random_qwen3
from acs.train.planner.plan_stop import PlanStopClient
from acs.train.planner.skyrl_cpu_engine import TransformersEngine
from helpers.training import make_instances, preset_args, write_jsonl

pytestmark = pytest.mark.skyrl

ISSUE = "Reader.read is 1"  # make_instances' problem statement
PLAN = '1. symbols(name="Reader.read")\n2. grep(pattern="return 1", fixed_strings=True)\nend\n'
ANSWER = 'answer(files=["pkg/io.py"], functions=["pkg/io.py:Reader.read"])\n'
# What a sampled model writes on after the plan's last line: serving never reads it.
TRAILING = "and then some more words the planner never reads\n"
SCRIPT = [PLAN + TRAILING, ANSWER + TRAILING]
ASSISTANT = "<|im_start|>assistant"


@dataclass
class Setup:
    cfg: Any
    tokenizer: Any
    model: Any
    rows: list[tuple[list[dict[str, str]], str, dict[str, Any]]]  # prompt, env class, extras
    repo: Path
    base: str


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    from skyrl.train.dataset import PromptDataset
    from transformers import AutoTokenizer

    root = tmp_path_factory.mktemp("rollouts")
    repos, data, model_dir = root / "repos", root / "data", root / "model"
    instances = make_instances(repos, ["widgets", "gadgets"])
    source = write_jsonl(root / "instances.jsonl", instances)
    args = [str(source), "--repos", str(repos), "--out", str(data), "--val-fraction", "0"]
    assert rl_data.main(args) == 0
    texts = [load_prompts().system, ISSUE, *SCRIPT, "Results: Turn of Last turn"]
    toy_tokenizer(texts, 500).save_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    cfg = skyrl_main.parse_config(preset_args(data, repos, model_dir))
    dataset = PromptDataset([str(data / "train.parquet")], tokenizer, 100_000, num_workers=1)
    rows = [dataset[n][:3] for n in range(len(dataset))]
    register_env()
    model = random_qwen3(tokenizer, hidden_size=64, intermediate_size=128, num_hidden_layers=2)
    return Setup(cfg, tokenizer, model, rows, repos / "acme__widgets", instances[0].base_commit)


def generate(setup: Setup, client: Any, cfg: Any = None, samples: int = 1, rows: int = 2) -> Any:
    """SkyRL's generator on one batch: the first `rows` rows `samples` times each, as a
    training step asks."""
    from skyrl.train.generators.base import BatchMetadata, TrajectoryID
    from skyrl.train.generators.skyrl_gym_generator import SkyRLGymGenerator

    cfg = cfg or setup.cfg
    generator = SkyRLGymGenerator(cfg.generator, cfg.environment.skyrl_gym, client, setup.tokenizer)
    batch_rows = [row for row in setup.rows[:rows] for _ in range(samples)]
    batch = {
        "prompts": [row[0] for row in batch_rows],
        "env_classes": [row[1] for row in batch_rows],
        "env_extras": [dict(row[2]) for row in batch_rows],
        "sampling_params": None,  # training: the engine's own (the config's)
        "trajectory_ids": [
            TrajectoryID(str(row[2]["extra_info"]["instance_id"]), i % samples)
            for i, row in enumerate(batch_rows)
        ],
        "batch_metadata": BatchMetadata(global_step=0, training_phase="train"),
    }
    return asyncio.run(generator.generate(batch, disable_tqdm=True))


def sampling(cfg: Any) -> dict[str, Any]:
    from skyrl.backends.skyrl_train.inference_servers.engine_utils import (
        get_vllm_sampling_params,
    )

    return get_vllm_sampling_params(cfg.generator.sampling_params)


def sampler(setup: Setup) -> TransformersEngine:
    """The random model, sampling as the presets say, but 48 tokens a turn at most (its text
    is noise either way; 512 would only make the test slow)."""
    return TransformersEngine(
        setup.model, setup.tokenizer, {**sampling(setup.cfg), "max_tokens": 48}
    )


def turn_of(tokenizer: Any, prompt_ids: list[int]) -> int:
    """Which turn a prompt asks for: the assistant turns it holds, its generation prompt's
    included, less one."""
    return str(tokenizer.decode(prompt_ids)).count(ASSISTANT) - 1


def forced(setup: Setup) -> TransformersEngine:
    """The model's decode forced to `SCRIPT[turn]` then end of turn: every forward pass runs,
    the tokens are the script's."""
    import torch

    def processors(prompt: list[int]) -> list[Any]:
        text = SCRIPT[min(turn_of(setup.tokenizer, prompt), len(SCRIPT) - 1)]
        ids = setup.tokenizer.encode(text, add_special_tokens=False)
        return [_Force(torch, ids, setup.tokenizer.eos_token_id, len(prompt))]

    return TransformersEngine(
        setup.model, setup.tokenizer, sampling(setup.cfg), processors=processors
    )


# -- rollouts with a sampling model ---------------------------------------------------------


def test_sampled_rollouts_have_skyrl_stop_reasons_masks_and_a_last_token_reward(setup):
    out = generate(setup, PlanStopClient(sampler(setup), setup.tokenizer), samples=2)
    steps = len(out["response_ids"])
    last = out["is_last_step"]
    assert sum(last) == 4 and last[-1]  # 2 rows x 2 samples, one or more steps each
    assert set(out["stop_reasons"]) <= {"stop", "length"}
    for n in range(steps):
        ids, mask, reward = out["response_ids"][n], out["loss_masks"][n], out["rewards"][n]
        assert len(ids) == len(mask) == len(reward)
        generated = sum(mask)
        # The model's tokens are trained on; the observation after them is not.
        assert generated >= 1 and mask == [1] * generated + [0] * (len(mask) - generated)
        assert generated <= TURN_TOKENS
        # A turn's reward sits on its last generated token; only the last turn has one.
        assert all(r == 0.0 for i, r in enumerate(reward) if i != generated - 1)
        if not last[n]:
            assert reward[generated - 1] == 0.0
    # Random text is no plan: every rollout is scored (0, a malformed plan), none left out.
    metrics = out["rollout_metrics"]
    assert metrics["environment/unscored"] == 0.0
    assert metrics["environment/total"] == 0.0


def test_skyrl_grpo_advantages_of_rollouts(setup):
    """SkyRL's trainer turns the generator's output into advantages: in one group (one
    instance), one rollout the script's right answer, one a random model's nothing; the
    right one's advantage is positive on every step of its rollout, the other's negative."""
    from skyrl.train.trainer import RayPPOTrainer

    engines = (forced(setup), sampler(setup))
    outs = [generate(setup, PlanStopClient(e, setup.tokenizer), rows=1) for e in engines]
    keys = ("prompt_token_ids", "response_ids", "rewards", "loss_masks", "is_last_step")
    merged: dict[str, Any] = {k: outs[0][k] + outs[1][k] for k in (*keys, "stop_reasons")}
    merged["trajectory_ids"] = outs[0]["trajectory_ids"] + outs[1]["trajectory_ids"]
    merged["rollout_logprobs"] = None
    uids = [t.instance_id for t in merged["trajectory_ids"]]
    trainer = object.__new__(RayPPOTrainer)  # its methods, without Ray's workers
    trainer.cfg, trainer.all_metrics, trainer.tokenizer = setup.cfg, {}, setup.tokenizer
    trainer.dispatch = SimpleNamespace(get_lcm_dp_size=lambda: 1)  # one data-parallel worker
    output, uids = trainer.postprocess_generator_output(merged, uids)
    batch = trainer.convert_to_training_input(output, uids)
    batch.metadata["avg_response_length"] = 0.0
    batch["values"] = None  # GRPO has no critic
    batch = trainer.compute_advantages_and_returns(batch)
    advantages, mask = batch["advantages"], batch["response_mask"].bool()
    per_step = [advantages[i][mask[i]].mean().item() for i in range(len(uids))]
    right = len(outs[0]["response_ids"])
    assert all(v > 0 for v in per_step[:right]), per_step
    assert all(v < 0 for v in per_step[right:]), per_step


# -- train/serve parity ---------------------------------------------------------------------


class RecordingReplay(ReplayBackend):
    """Inference's backend, forced to the script; keeps the prompt ids of each request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[list[int]] = []

    def prompt_ids(self, messages: Any) -> Any:
        inputs = super().prompt_ids(messages)
        self.sent.append([int(t) for t in inputs["input_ids"][0]])
        return inputs


def inference_prompts(setup: Setup) -> list[list[int]]:
    """The token ids `LlmPolicy` sends, turn by turn, on the same issue and repository."""
    backend = RecordingReplay(
        setup.model,
        setup.tokenizer,
        lambda messages: SCRIPT[sum(m["role"] == "assistant" for m in messages)],
        device="cpu",
    )
    repo = acs.Repo.open(setup.repo, commit=setup.base)
    result = acs.localize(repo, ISSUE, policy=LlmPolicy(backend), trajectory=True)
    assert [t["output"] for t in result["trajectory"]["transcript"]["turns"]] == [PLAN, ANSWER]
    return backend.sent


def training_prompts(setup: Setup, cfg: Any = None, cut: bool = True) -> list[list[int]]:
    """The token ids SkyRL's generator sends the engine, turn by turn, in one rollout of the
    same instance."""
    engine = forced(setup)
    out = generate(setup, PlanStopClient(engine, setup.tokenizer) if cut else engine, cfg, rows=1)
    assert out["response_ids"]
    return engine.prompts


def test_each_training_turn_sends_the_tokens_inference_sends(setup):
    serving = inference_prompts(setup)
    assert len(serving) == 2  # the plan, then the answer
    assert training_prompts(setup) == serving


def test_uncut_generations_or_token_in_token_out_break_parity(setup):
    """What the presets' old settings did: the text after `end` stayed in the next turn's
    context, and token-in/token-out kept the first turn's empty think block, which the chat
    template drops when inference re-renders the conversation."""
    serving = inference_prompts(setup)
    uncut = training_prompts(setup, cut=False)
    assert uncut[0] == serving[0] and uncut[1] != serving[1]
    assert TRAILING.strip() in setup.tokenizer.decode(uncut[1])
    cfg = copy.deepcopy(setup.cfg)
    cfg.generator.step_wise_trajectories = False  # the launch refuses this now
    tito = training_prompts(setup, cfg)
    assert tito[0] == serving[0] and tito[1] != serving[1]
    assert "<think>\n\n</think>\n\n" + PLAN in setup.tokenizer.decode(tito[1])
