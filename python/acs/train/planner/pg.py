"""A policy-gradient loop on the `acs-localize` environment with a transformers causal LM: the
smoke test of the RL plumbing (on a GPU, or the CPU with a tiny random Qwen3), not a trainer.
SkyRL is the trainer (training/README.md); this loop exists so that what SkyRL relies on
(the environment, its prompt, parser, tools and reward, and gradients through the sampled
tokens) is exercised where SkyRL cannot be installed.

* A rollout is SkyRL's multi-turn loop: the row's prompt from `env.init`, then per turn the
  chat template over the conversation so far, a sampled completion, `env.step(text)`, and the
  observation appended, until the environment says done. All the episodes of a step run in
  lockstep, one batched (left-padded) `generate` per turn, as an inference engine batches
  them. The exact token ids the model sampled are kept with the exact context they were
  sampled from, so the update scores the same tokens (no re-tokenisation drift between
  rollout and update).
* The update is GRPO's: `group` samples per prompt, each rollout's advantage its reward
  minus the group's mean (over the group's standard deviation unless `norm_by_std` is off),
  and the loss `-advantage * log p(token)` over the sampled tokens, reduced as SkyRL's
  `loss_reduction` says. One update per batch, so the samples are on-policy and no ratio
  clipping is needed; an optional KL term to the starting policy (`kl_coef`), and DAPO's
  overlong filtering (`overlong_filter`).
* The warm start (`warm_start`) fits the model to conversations of `acs.train.planner.sft` (the
  default planner's runs in the model's own protocol) with the same segments, advantage 1.

`acs.train.planner.pg_smoke` builds a small memorisable task set and runs the whole thing.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidArgumentError

LOSS_REDUCTIONS = ("token_mean", "sequence_mean")

__all__ = [
    "LOSS_REDUCTIONS",
    "PgSettings",
    "Rollout",
    "Segment",
    "UpdateBatch",
    "conversation_segments",
    "evaluate",
    "group_advantages",
    "loss_scales",
    "policy_gradient_step",
    "rollout",
    "rollouts",
    "sample_batch",
    "train",
    "update_batch",
    "warm_start",
]


@dataclass(frozen=True)
class PgSettings:
    steps: int = 30
    group: int = 8  # samples per prompt (SkyRL's n_samples_per_prompt)
    lr: float = 1e-3
    temperature: float = 1.0
    max_new_tokens: int = 256  # per turn
    max_grad_norm: float = 1.0
    seed: int = 0
    # "adamw", or "sgd": plain SGD moves weights in proportion to the gradient, where Adam's
    # early, sign-like steps move every weight by about `lr` (noise included).
    optimizer: str = "adamw"
    # KL to the starting policy (SkyRL's use_kl_loss, k3 estimator): keeps a memorised warm
    # start from drifting under noisy updates. 0 turns it off.
    kl_coef: float = 0.0
    # SkyRL's names: trainer.algorithm.loss_reduction ("token_mean" or "sequence_mean"),
    # trainer.algorithm.grpo_norm_by_std, generator.apply_overlong_filtering (DAPO: a rollout
    # cut at `max_new_tokens` before its end-of-turn token stays in its group's statistics
    # but adds nothing to the loss: its tail is noise, not a choice the reward judged).
    loss_reduction: str = "token_mean"
    norm_by_std: bool = True
    overlong_filter: bool = False
    # SkyRL's generator.step_wise_trajectories, on in the presets (base.args): each turn is a
    # training sample of its own, so `sequence_mean` averages over turns, not rollouts.
    step_wise: bool = True
    # Sequences per `generate` call: bounds sampling memory whatever the number of rollouts.
    batch_size: int = 256

    def __post_init__(self) -> None:
        checks = {
            "steps": self.steps >= 0,
            "group": self.group >= 1,
            "lr": self.lr > 0 and math.isfinite(self.lr),
            "temperature": self.temperature > 0 and math.isfinite(self.temperature),
            "max_new_tokens": self.max_new_tokens >= 1,
            "max_grad_norm": self.max_grad_norm > 0,
            "kl_coef": self.kl_coef >= 0 and math.isfinite(self.kl_coef),
            "optimizer": self.optimizer in ("adamw", "sgd"),
            "loss_reduction": self.loss_reduction in LOSS_REDUCTIONS,
            "batch_size": self.batch_size >= 1,
        }
        if bad := [name for name, ok in checks.items() if not ok]:
            values = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise InvalidArgumentError(f"invalid policy-gradient settings: {values}")

    def make_optimizer(self, params: Any) -> Any:
        import torch

        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr)
        return torch.optim.AdamW(params, lr=self.lr)  # the only other one __post_init__ allows


@dataclass
class Segment:
    """One model turn: the context it was sampled from and the tokens it sampled (ending with
    the end-of-turn token when the model wrote one)."""

    context: list[int]
    generated: list[int]


@dataclass
class Rollout:
    row: int  # index of the prompt in the batch's rows (its GRPO group)
    segments: list[Segment] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    reward: float = 0.0
    terms: dict[str, float] = field(default_factory=dict)
    reason: str | None = None

    def truncated(self, max_new_tokens: int, eos_token_id: int) -> bool:
        """Whether a model turn was cut at `max_new_tokens` before its end-of-turn token."""
        return any(
            len(s.generated) >= max_new_tokens and s.generated[-1] != eos_token_id
            for s in self.segments
        )


# --- sampling -------------------------------------------------------------------------------


def _context(tokenizer: Any, messages: Sequence[Mapping[str, str]]) -> list[int]:
    """The prompt the model continues, as inference renders it (thinking off)."""
    ids = tokenizer.apply_chat_template(
        [dict(m) for m in messages],
        add_generation_prompt=True,
        enable_thinking=False,
        tokenize=True,
        return_dict=True,
    )["input_ids"]
    return list(ids)


def sample_batch(
    model: Any, tokenizer: Any, contexts: Sequence[Sequence[int]], settings: PgSettings
) -> list[list[int]]:
    """One batched `generate` over `contexts` (left-padded, as an inference engine batches
    requests): each context's sampled tokens, up to and including the end-of-turn token."""
    import torch

    width = max(len(c) for c in contexts)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (width - len(c)) + list(c) for c in contexts], device=model.device)
    mask = torch.tensor(
        [[0] * (width - len(c)) + [1] * len(c) for c in contexts], device=model.device
    )
    with torch.no_grad():
        out = model.generate(
            ids,
            attention_mask=mask,
            do_sample=True,
            temperature=settings.temperature,
            top_k=0,
            top_p=1.0,
            max_new_tokens=settings.max_new_tokens,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=pad,
        )
    sampled = []
    for row in out[:, width:].tolist():
        end = row.index(tokenizer.eos_token_id) + 1 if tokenizer.eos_token_id in row else len(row)
        sampled.append(row[:end])  # what follows the end-of-turn token is padding
    return sampled


def rollouts(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    env_config: Mapping[str, Any],
    settings: PgSettings,
    *,
    group: int = 1,
) -> list[Rollout]:
    """Episodes of the environment `acs-localize` (made through `skyrl_gym.make`, as SkyRL
    makes it), `group` per row, run in lockstep: each turn, one batched `generate` over the
    episodes still running, then each one's `env.step`. Row i's episodes come out in
    positions `i * group` to `(i + 1) * group - 1`, with `Rollout.row == i`."""
    import skyrl_gym

    from .env import ENV_ID, register_env

    register_env()
    episodes: list[tuple[Any, Rollout, list[dict[str, Any]]]] = []
    try:
        for index, row in enumerate(rows):
            extras = {"reward_spec": row["reward_spec"], "extra_info": row["extra_info"]}
            for _ in range(group):
                env = skyrl_gym.make(ENV_ID, env_config=dict(env_config), extras=extras)
                # appended before `init`, so `finally` closes it whatever happens next; the
                # list is the conversation so far
                episodes.append((env, Rollout(index), []))
                episodes[-1][2].extend(env.init([dict(m) for m in row["prompt"]])[0])
        running = list(episodes)
        turns = max((env.max_turns for env, _, _ in episodes), default=-1) + 1  # ended by then
        for _ in range(turns):
            if not running:
                break
            contexts = [_context(tokenizer, messages) for _, _, messages in running]
            size = settings.batch_size
            sampled = [
                tokens
                for at in range(0, len(contexts), size)
                for tokens in sample_batch(model, tokenizer, contexts[at : at + size], settings)
            ]
            still = []
            for (env, out, messages), context, generated in zip(
                running, contexts, sampled, strict=True
            ):
                text = tokenizer.decode(generated, skip_special_tokens=True)
                out.segments.append(Segment(context, generated))
                out.texts.append(text)
                step = env.step(text)
                if step["done"]:
                    out.reward = float(step["reward"])
                    out.terms = dict(step["metadata"].get("reward_terms") or {})
                    out.reason = step["metadata"].get("reason")
                    continue
                messages.extend([{"role": "assistant", "content": text}, *step["observations"]])
                still.append((env, out, messages))
            running = still
        for _, out, _ in running:
            out.reason = "the environment did not end"
        return [out for _, out, _ in episodes]
    finally:
        for env, _, _ in episodes:
            env.close()


def rollout(
    model: Any,
    tokenizer: Any,
    row: Mapping[str, Any],
    env_config: Mapping[str, Any],
    settings: PgSettings,
    *,
    index: int = 0,
) -> Rollout:
    """One episode of `rollouts`, its `Rollout.row` set to `index`."""
    (out,) = rollouts(model, tokenizer, [row], env_config, settings)
    out.row = index
    return out


# --- the update -----------------------------------------------------------------------------


def group_advantages(
    rewards: Sequence[float], groups: Sequence[int], *, norm_by_std: bool = True
) -> list[float]:
    """GRPO's advantages: each reward minus its group's mean, over the group's standard
    deviation (`norm_by_std`, SkyRL's `grpo_norm_by_std`; Dr. GRPO turns it off); 0 for a
    group whose rewards are all equal (nothing to learn from it)."""
    members: dict[int, list[float]] = {}
    for r, g in zip(rewards, groups, strict=True):
        members.setdefault(g, []).append(r)
    stats = {}
    for g, rs in members.items():
        mean = sum(rs) / len(rs)
        std = math.sqrt(sum((r - mean) ** 2 for r in rs) / len(rs))
        stats[g] = (mean, std)
    return [
        ((r - stats[g][0]) / stats[g][1] if norm_by_std else r - stats[g][0])
        if stats[g][1] > 1e-8
        else 0.0
        for r, g in zip(rewards, groups, strict=True)
    ]


def loss_scales(
    lengths: Sequence[int],
    sequences: Sequence[int],
    reduction: str = "token_mean",
    *,
    count: int | None = None,
) -> list[float]:
    """What each segment's token sum is multiplied by in the loss, given the segments' token
    counts and the sequence (rollout) each belongs to. SkyRL's `loss_reduction`:
    `token_mean` is the mean over every token of the batch (DAPO), `sequence_mean` the mean
    over sequences of each one's token mean (GRPO as published: a long rollout weighs no
    more than a short one), over `count` sequences (default: those given; a batch whose
    filtered rollouts still count, as zeros, passes its whole size)."""
    if reduction == "token_mean":
        return [1 / max(sum(lengths), 1)] * len(lengths)
    if reduction == "sequence_mean":
        per_sequence: dict[int, int] = {}
        for n, seq in zip(lengths, sequences, strict=True):
            per_sequence[seq] = per_sequence.get(seq, 0) + n
        count = max(count or len(per_sequence), len(per_sequence), 1)
        return [1 / (max(per_sequence[seq], 1) * count) for seq in sequences]
    raise InvalidArgumentError(
        f"unknown loss reduction {reduction!r} (expected one of {', '.join(LOSS_REDUCTIONS)})"
    )


def _token_logp(model: Any, segment: Segment) -> Any:
    """log p of each generated token given everything before it (a tensor, with grad)."""
    import torch

    ids = torch.tensor([segment.context + segment.generated], device=model.device)
    logits = model(ids).logits[0, len(segment.context) - 1 : -1].float()
    target = ids[0, len(segment.context) :]
    return torch.log_softmax(logits, dim=-1).gather(-1, target[:, None]).squeeze(-1)


def _accumulate(
    model: Any,
    weighted: Sequence[tuple[Segment, float]],
    scales: Sequence[float],
    *,
    reference: Any = None,
    kl_coef: float = 0.0,
) -> float:
    """Backward of `sum_segments(scale * sum_tokens(-weight * log p(token) + kl_coef *
    KL_k3(token)))` one segment at a time (the memory of one sequence, not the batch), where
    KL_k3 is the k3 estimator of KL(policy || reference) on the sampled token, as SkyRL's
    `use_kl_loss`. Returns the loss."""
    import torch

    with_kl = reference is not None and kl_coef > 0
    total = 0.0
    for (segment, weight), scale in zip(weighted, scales, strict=True):
        if not segment.generated or (weight == 0.0 and not with_kl):
            continue
        logp = _token_logp(model, segment)
        loss = -weight * logp.sum()
        if with_kl:
            with torch.no_grad():
                ref = _token_logp(reference, segment)
            delta = ref - logp
            loss = loss + kl_coef * (torch.exp(delta) - delta - 1).sum()
        loss = loss * scale
        loss.backward()
        total += float(loss.detach())
    return total


def policy_gradient_step(
    model: Any,
    optimizer: Any,
    weighted: Sequence[tuple[Segment, float]],
    *,
    sequences: Sequence[int] | None = None,
    reduction: str = "token_mean",
    sequence_count: int | None = None,
    max_grad_norm: float = 1.0,
    reference: Any = None,
    kl_coef: float = 0.0,
) -> tuple[float, float]:
    """One update on `(segment, advantage)` pairs: `-advantage * log p` (plus `kl_coef`
    times the KL to `reference`, when given) over all their tokens, reduced by `reduction`
    (`loss_scales`; `sequences[i]` is the rollout segment i belongs to, by default each
    segment its own; `sequence_count` the batch's samples, filtered ones included), gradients
    clipped to `max_grad_norm`. Returns (loss, gradient norm
    before clipping)."""
    import torch

    lengths = [len(s.generated) for s, _ in weighted]
    scales = loss_scales(
        lengths, sequences or range(len(weighted)), reduction, count=sequence_count
    )
    loss = _accumulate(model, weighted, scales, reference=reference, kl_coef=kl_coef)
    norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm))
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss, norm


def conversation_segments(tokenizer: Any, messages: Sequence[Mapping[str, str]]) -> list[Segment]:
    """The model turns of a chat conversation as segments: each assistant message's tokens
    (plus the end-of-turn token) after the context the chat template renders before it."""
    segments = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        content = tokenizer(message["content"], add_special_tokens=False)["input_ids"]
        segments.append(
            Segment(_context(tokenizer, messages[:i]), [*content, tokenizer.eos_token_id])
        )
    return segments


def warm_start(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Mapping[str, str]]],
    *,
    steps: int,
    lr: float = 3e-3,
    log: Callable[[dict[str, Any]], None] | None = None,
) -> list[float]:
    """Supervised steps on whole conversations (every model turn, every step): the mean
    negative log-likelihood per token, returned per step."""
    import torch

    segments = [s for messages in conversations for s in conversation_segments(tokenizer, messages)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    model.train()
    for step in range(steps):
        loss, _ = policy_gradient_step(model, optimizer, [(s, 1.0) for s in segments])
        losses.append(loss)
        if log:
            log({"phase": "warm_start", "step": step, "nll_per_token": loss})
    model.eval()
    return losses


def evaluate(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    env_config: Mapping[str, Any],
    settings: PgSettings,
    *,
    samples: int,
) -> dict[str, float]:
    """The policy as it samples (no update): `samples` rollouts per row. Returns the mean
    reward, the share of rollouts whose answer was entirely right (quality 1), the share
    zeroed for a malformed plan, and the share cut at the token limit."""
    if not rows or samples < 1:
        raise InvalidArgumentError(f"nothing to evaluate: {len(rows)} rows, {samples} samples")
    episodes = rollouts(model, tokenizer, rows, env_config, settings, group=samples)
    n = max(len(episodes), 1)
    eos = tokenizer.eos_token_id
    return {
        "samples": float(len(episodes)),
        "reward_mean": sum(r.reward for r in episodes) / n,
        "right": sum(1 for r in episodes if r.terms.get("quality") == 1.0) / n,
        "malformed": sum(1 for r in episodes if (r.reason or "").startswith("malformed")) / n,
        "truncated": sum(1 for r in episodes if r.truncated(settings.max_new_tokens, eos)) / n,
    }


@dataclass
class UpdateBatch:
    """What one GRPO update trains on: `(segment, advantage)` pairs, the training sample each
    segment belongs to (its rollout, or with `step_wise` its own turn), and how many samples
    the batch had (filtered ones included): what `sequence_mean` averages over."""

    weighted: list[tuple[Segment, float]]
    sequences: list[int]
    samples: int

    @property
    def tokens(self) -> int:
        return sum(len(s.generated) for s, _ in self.weighted)


def update_batch(
    episodes: Sequence[Rollout], settings: PgSettings, eos_token_id: int
) -> UpdateBatch:
    """Advantages over each row's whole group (`group_advantages`), then, with
    `overlong_filter`, the rollouts cut at the token limit left out of the loss: they still
    set their group's mean and spread, as SkyRL's apply_overlong_filtering zeroes their loss
    mask but keeps them in the batch. (SkyRL looks at the stop reason of the trajectory's
    last generation; here a cut in any turn counts, since every turn is sampled text the
    next turn builds on.) With `step_wise`, as SkyRL's step-wise trajectories, each turn is a
    sample of its own and carries its rollout's advantage."""
    advantages = group_advantages(
        [r.reward for r in episodes], [r.row for r in episodes], norm_by_std=settings.norm_by_std
    )
    weighted: list[tuple[Segment, float]] = []
    sequences: list[int] = []
    samples = 0
    for r, a in zip(episodes, advantages, strict=True):
        turns = len(r.segments) if settings.step_wise else 1
        ids = [samples + t for t in range(turns)] if settings.step_wise else [samples]
        samples += turns
        if settings.overlong_filter and r.truncated(settings.max_new_tokens, eos_token_id):
            continue
        weighted.extend((s, a) for s in r.segments)
        sequences.extend(ids if settings.step_wise else ids * len(r.segments))
    return UpdateBatch(weighted, sequences, samples)


def train(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    env_config: Mapping[str, Any],
    settings: PgSettings = PgSettings(),
    *,
    log: Callable[[dict[str, Any]], None] | None = None,
    budget_s: float | None = None,
) -> list[dict[str, Any]]:
    """`settings.steps` GRPO steps over all `rows` (each sampled `settings.group` times).
    Returns a record per step: reward mean/min/max, the loss, the gradient norm before
    clipping, tokens sampled and tokens in the loss (fewer when the overlong filter drops
    some), rollouts cut at the token limit, answers that earned credit, zero-reward reasons,
    the seconds spent sampling (rollouts) and updating. With `budget_s`, no step starts once
    that many seconds have passed (a time-boxed run still ends with its records)."""
    if not rows:
        raise InvalidArgumentError("no rows to train on")
    import torch

    torch.manual_seed(settings.seed)
    optimizer = settings.make_optimizer(model.parameters())
    reference = None
    if settings.kl_coef > 0:  # the policy as training starts, frozen
        reference = copy.deepcopy(model).eval().requires_grad_(False)
    records = []
    eos = tokenizer.eos_token_id
    began = time.perf_counter()
    for step in range(settings.steps):
        started = time.perf_counter()
        if budget_s is not None and started - began >= budget_s:
            break
        model.eval()
        episodes = rollouts(model, tokenizer, rows, env_config, settings, group=settings.group)
        sampled = time.perf_counter()
        rewards = [r.reward for r in episodes]
        batch = update_batch(episodes, settings, eos)
        model.train()
        loss, grad_norm = policy_gradient_step(
            model,
            optimizer,
            batch.weighted,
            sequences=batch.sequences,
            reduction=settings.loss_reduction,
            sequence_count=batch.samples,
            max_grad_norm=settings.max_grad_norm,
            reference=reference,
            kl_coef=settings.kl_coef,
        )
        reasons: dict[str, int] = {}
        for r in episodes:
            if r.reward == 0.0 and r.reason:
                key = r.reason.split(":")[0]
                reasons[key] = reasons.get(key, 0) + 1
        record = {
            "step": step,
            "reward_mean": sum(rewards) / len(rewards),
            "reward_min": min(rewards),
            "reward_max": max(rewards),
            "loss": loss,
            "grad_norm": grad_norm,
            "tokens_sampled": sum(len(s.generated) for r in episodes for s in r.segments),
            "tokens_trained": batch.tokens,
            "truncated": sum(1 for r in episodes if r.truncated(settings.max_new_tokens, eos)),
            "credited_answers": sum(1 for r in episodes if r.terms.get("answer_bonus", 0) > 0),
            "zero_reasons": reasons,
            "rollout_s": sampled - started,
            "update_s": time.perf_counter() - sampled,
        }
        records.append(record)
        if log:
            log({"phase": "rl", **record})
    model.eval()
    return records
