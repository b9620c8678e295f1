"""One policy-gradient step through SkyRL 0.4's own trainer code, on CPU (run by
scripts/test-skyrl; issue 21, build item 2).

SkyRL's FSDP policy worker is written for CUDA. On a CPU-only machine it stops, in this order
(paths under skyrl/backends/skyrl_train/):

- workers/model_wrapper.py:13: `from flash_attn.bert_padding import ...` at import time, and
  flash-attn needs CUDA to build;
- workers/worker.py:124: `init_process_group("cpu:gloo,cuda:nccl")`: NCCL needs a GPU;
- distributed/fsdp_utils.py:256: `create_device_mesh` is `init_device_mesh("cuda", ...)`, so
  `fully_shard` puts the shards on CUDA;
- distributed/fsdp_utils.py:125: `_sync_non_persistent_buffers` calls `buf.cuda()` (every
  model with rotary embeddings has such a buffer);
- workers/worker.py:1090, distributed/strategy.py:84, distributed/fsdp_utils.py:249:
  `torch.cuda.current_device()` places the batch, the metrics and the grad norm.

The first two are met without touching SkyRL: a stand-in `flash_attn` whose functions are never
called (`trainer.remove_microbatch_padding=false`), and a gloo group made first, which SkyRL
keeps. The last three are SkyRL's device choice itself; `cpu_redirects` points exactly those at
the CPU. The rest runs as shipped: RayPPOTrainer's own step (postprocess_generator_output,
convert_to_training_input, fwd_logprobs_values_reward, compute_advantages_and_returns with GRPO,
train_critic_and_policy with its loss-reduction scaling) drives FSDPPolicyWorkerBase (FSDP2 over
a gloo group of one, SkyRL's PPO policy loss, FSDPStrategy's grad clipping, AdamW) through
`InProcessDispatch`, which stands where WorkerDispatch and its Ray actors stand.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import math
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acs.llm.scripted import toy_tokenizer
from acs.train.planner.pg_smoke import random_qwen3

pytestmark = pytest.mark.skyrl

PROMPT = "Reader.read returns 1, expected 2. Where is the bug?"
# One prompt, four sampled answers; only the first is right (reward 1).
ANSWERS = [
    "answer pkg/io.py Reader.read",
    "answer pkg/cli.py main",
    "answer pkg/util.py helper",
    "answer docs/index.md intro",
]
REWARDS = [1.0, 0.0, 0.0, 0.0]
LEARNING_RATE = 1e-2


class InProcessDispatch:
    """WorkerDispatch's training calls, answered by one worker in this process (data-parallel
    size 1: each mini-batch is the one rank's chunk) instead of Ray actors."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker

    def get_lcm_dp_size(self) -> int:
        return 1

    def forward(self, model: str, data: Any) -> Any:
        return self.worker.forward(data)

    def stage_data(self, model: str, data: Any, boundaries: list[tuple[int, int]]) -> list[Any]:
        return [[data[start:end]] for start, end in boundaries]

    def forward_from_staged(self, model: str, chunks: list[Any]) -> Any:
        return self.worker.forward(chunks[0])

    def forward_backward_from_staged(self, model: str, chunks: list[Any]) -> Any:
        return self.worker.forward_backward(chunks[0])

    def optim_step(self, model: str) -> float | None:
        return self.worker.optim_step()

    def empty_cache(self, model: str | None = None) -> None:
        self.worker.empty_cache()


def flash_attn_stand_in() -> dict[str, types.ModuleType]:
    """`flash_attn` and `flash_attn.bert_padding` for model_wrapper's import only: the padding
    functions raise if anything calls them."""

    def not_here(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("flash_attn is a stand-in here (no CUDA)")

    package, padding = types.ModuleType("flash_attn"), types.ModuleType("flash_attn.bert_padding")
    padding.pad_input = padding.unpad_input = not_here
    package.bert_padding = padding
    # A spec, so transformers' find_spec probe works (and finds no flash_attn distribution).
    package.__spec__ = importlib.machinery.ModuleSpec("flash_attn", None)
    padding.__spec__ = importlib.machinery.ModuleSpec("flash_attn.bert_padding", None)
    return {"flash_attn": package, "flash_attn.bert_padding": padding}


@pytest.fixture
def gloo_world_of_one(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A default gloo process group of one rank (SkyRL's worker keeps an existing one), and
    the environment SkyRL's worker writes, restored after. No LOCAL_RANK: it names a GPU."""
    import torch.distributed as dist

    for name, value in {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": "0",
        "WORLD_SIZE": "1",
        "RANK": "0",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    # Unset, SkyRL's worker leaves stdout and stderr alone (set, it dup2s them into a file).
    monkeypatch.delenv("SKYRL_LOG_FILE", raising=False)
    dist.init_process_group(backend="gloo", store=dist.HashStore(), world_size=1, rank=0)
    try:
        yield
    finally:
        dist.destroy_process_group()


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """SkyRL's worker and trainer route all logging through a loguru sink of their own; put
    the stdlib root logger and loguru back afterwards."""
    from loguru import logger

    handlers, level = logging.root.handlers[:], logging.root.level
    try:
        yield
    finally:
        logger.remove()
        logger.add(sys.stderr)
        logging.root.handlers, logging.root.level = handlers, level


@pytest.fixture
def cpu_redirects(monkeypatch: pytest.MonkeyPatch) -> None:
    """SkyRL's CUDA-only places (module docstring), pointed at the CPU; nothing else."""
    import torch
    from torch.distributed.device_mesh import init_device_mesh

    if importlib.util.find_spec("flash_attn") is None:
        for name, module in flash_attn_stand_in().items():
            monkeypatch.setitem(sys.modules, name, module)
    from skyrl.backends.skyrl_train.distributed import fsdp_strategy, fsdp_utils

    def cpu_mesh(world_size: int, fsdp_size: int) -> Any:
        return init_device_mesh("cpu", mesh_shape=(world_size,), mesh_dim_names=["fsdp"])

    def keep_rank0_buffers(model: Any, loaded_state: dict[str, Any]) -> None:
        """With one rank there is no other rank to send rank 0's buffers to."""

    monkeypatch.setattr(fsdp_strategy, "create_device_mesh", cpu_mesh)
    monkeypatch.setattr(fsdp_utils, "_sync_non_persistent_buffers", keep_rank0_buffers)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: torch.device("cpu"))


def tiny_model(folder: Path) -> Any:
    """A random 2-layer Qwen3 and its tokenizer saved in `folder` (no model can be downloaded
    here); returns the tokenizer."""
    import torch

    tokenizer = toy_tokenizer([PROMPT, *ANSWERS], 300)
    torch.manual_seed(0)
    model = random_qwen3(tokenizer, hidden_size=64, intermediate_size=128, num_hidden_layers=2)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return tokenizer


def step_config(model_path: Path) -> Any:
    """SkyRL's config for a GRPO step on one prompt of four samples, in one mini-batch."""
    from skyrl.train.config.config import SkyRLTrainConfig

    cfg = SkyRLTrainConfig()
    trainer = cfg.trainer
    trainer.policy.model.path = str(model_path)
    trainer.flash_attn = False
    trainer.remove_microbatch_padding = False  # the one place flash_attn would be called
    trainer.train_batch_size = trainer.policy_mini_batch_size = 1
    cfg.generator.n_samples_per_prompt = len(ANSWERS)
    trainer.micro_train_batch_size_per_gpu = trainer.micro_forward_batch_size_per_gpu = 2
    trainer.algorithm.temperature = 1.0
    trainer.algorithm.use_kl_loss = False  # no reference model
    # Large enough for a tiny model to show the step; no weight decay, so only the gradient
    # moves the weights.
    trainer.policy.optimizer_config.lr = LEARNING_RATE
    trainer.policy.optimizer_config.weight_decay = 0.0
    # Both ask Ray for cluster state; nothing runs under Ray here.
    cfg.generator.inference_engine.enable_ray_prometheus_stats = False
    trainer.enable_ray_gpu_monitor = False
    return cfg


def policy_worker(cfg: Any, model_path: Path) -> Any:
    """SkyRL's FSDP policy worker, built and initialised in this process (not as a Ray
    actor): FSDP2 over the gloo group, AdamW, its scheduler."""
    import os

    from skyrl.backends.skyrl_train.workers.fsdp.fsdp_worker import FSDPPolicyWorkerBase

    worker = FSDPPolicyWorkerBase(
        cfg=cfg.trainer,
        world_size=1,
        rank=0,
        local_rank=0,
        master_addr="127.0.0.1",
        master_port=0,
        sequence_parallel_size=1,
    )
    os.environ.pop("LOCAL_RANK", None)  # the worker sets "0", a CUDA device index
    worker.init_worker_process_group()
    worker.init_model(str(model_path), num_training_steps=1)
    return worker


def rollouts(tokenizer: Any) -> dict[str, Any]:
    """SkyRL's generator output for the four answers to the prompt, rewards as chosen."""
    prompt = tokenizer.encode(PROMPT)
    responses = [tokenizer.encode(" " + answer) for answer in ANSWERS]
    return {
        "prompt_token_ids": [prompt] * len(responses),
        "response_ids": responses,
        "rewards": list(REWARDS),
        "loss_masks": [[1] * len(response) for response in responses],
        "stop_reasons": ["stop"] * len(responses),
        "rollout_metrics": None,
        "rollout_logprobs": None,
    }


def sequence_logprobs(trainer: Any, data: Any) -> list[float]:
    """Each response's log-probability under the policy now, by the trainer's own forward."""
    forward = trainer.fwd_logprobs_values_reward(data.select(["sequences", "attention_mask"]))
    per_token = forward["action_log_probs"] * data["loss_mask"]
    return [float(total) for total in per_token.sum(dim=-1)]


def test_skyrl_device_mesh_is_cuda_whatever_the_machine(gloo_world_of_one):
    """Why `cpu_redirects` redirects the mesh: SkyRL 0.4 builds it on CUDA unconditionally.
    When this fails, SkyRL chooses the device itself and that redirect can go."""
    from skyrl.backends.skyrl_train.distributed.fsdp_utils import create_device_mesh

    assert create_device_mesh(world_size=1, fsdp_size=-1).device_type == "cuda"


def test_one_grpo_step_through_skyrl_trainer_and_fsdp_worker_on_cpu(
    tmp_path, gloo_world_of_one, restored_logging, cpu_redirects
):
    from skyrl.train.trainer import RayPPOTrainer

    tokenizer = tiny_model(tmp_path)
    cfg = step_config(tmp_path)
    worker = policy_worker(cfg, tmp_path)
    trainer = RayPPOTrainer(
        cfg,
        tracker=None,
        tokenizer=tokenizer,
        train_dataset=None,
        inference_engine_client=None,
        generator=None,
    )
    trainer.dispatch = InProcessDispatch(worker)

    # The trainer's step, as RayPPOTrainer.train runs it after generation.
    output, uids = trainer.postprocess_generator_output(rollouts(tokenizer), ["p0"] * len(ANSWERS))
    data = trainer.convert_to_training_input(output, uids)
    data = trainer.fwd_logprobs_values_reward(data)
    data = trainer.compute_advantages_and_returns(data)
    # SkyRL's GRPO: (reward - mean) / (std + eps) over the prompt's group, on every response token.
    advantages = [
        float(row[mask.bool()].mean())
        for row, mask in zip(data["advantages"], data["loss_mask"], strict=True)
    ]
    assert advantages == pytest.approx([1.5, -0.5, -0.5, -0.5], abs=1e-4)

    before_logprobs = sequence_logprobs(trainer, data)
    before_weights = {name: p.detach().clone() for name, p in worker.model.named_parameters()}
    status = trainer.train_critic_and_policy(data)

    assert math.isfinite(status["policy_loss"]) and math.isfinite(status["final_loss"])
    assert math.isfinite(status["grad_norm"]) and status["grad_norm"] > 0
    moved = {
        name: float((p.detach() - before_weights[name]).abs().max())
        for name, p in worker.model.named_parameters()
    }
    # AdamW's first step moves each weight with a gradient by about the learning rate.
    assert max(moved.values()) > LEARNING_RATE / 2, moved
    after_logprobs = sequence_logprobs(trainer, data)
    gains = [after - before for after, before in zip(after_logprobs, before_logprobs, strict=True)]
    # The rewarded answer became likelier, and more so than any unrewarded one (those share
    # tokens with it, "answer pkg/", so one of them may rise a little too).
    assert gains[0] > 0, gains
    assert gains[0] > max(gains[1:]), gains
