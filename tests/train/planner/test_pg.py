"""The policy-gradient smoke loop (`acs.train.planner.pg`, `acs.train.planner.pg_smoke`) on the
CPU with a tiny random Qwen3: rollouts go through `skyrl_gym.make("acs-localize")`, the update moves
probability toward rollouts that scored above their group and away from those below, the warm
start fits the default planner's conversations, and the whole run records its figures."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="pip install 'agentic-code-search[hf]'")
transformers = pytest.importorskip("transformers", reason="pip install 'agentic-code-search[hf]'")
pytest.importorskip("skyrl_gym", reason="pip install 'agentic-code-search[rl]'")

from acs.errors import InvalidArgumentError  # noqa: E402
from acs.llm.scripted import toy_tokenizer  # noqa: E402
from acs.train.planner import pg, pg_smoke  # noqa: E402
from acs.train.planner.rl_data import build_rows  # noqa: E402
from acs.train.planner.sft import export  # noqa: E402

SEED = 0
SETTINGS = pg.PgSettings(steps=1, group=2, max_new_tokens=24, lr=1e-3)


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory):
    """The smoke's task set (one bug), its rows and the default planner's conversation, a
    tokenizer trained on them and a tiny random Qwen3."""
    repos = tmp_path_factory.mktemp("pg") / "repos"
    instances = pg_smoke.make_task_set(repos, bugs=1)
    rows = build_rows(instances, repos, max_turns=2).rows
    conversations = [r["messages"] for r in export(instances, repos, min_reward=0.0, max_turns=2)
                     .rows]  # fmt: skip
    tokenizer = toy_tokenizer([m["content"] for c in conversations for m in c], 800)
    torch.manual_seed(0)
    model = pg_smoke.random_qwen3(
        tokenizer,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    return {"repos": repos, "rows": rows, "conversations": conversations,
            "tokenizer": tokenizer, "model": model}  # fmt: skip


def logp(model, segment: pg.Segment) -> float:
    with torch.no_grad():
        ids = torch.tensor([segment.context + segment.generated])
        logits = model(ids).logits[0, len(segment.context) - 1 : -1]
        target = ids[0, len(segment.context) :]
        return float(torch.log_softmax(logits, -1).gather(-1, target[:, None]).sum())


def k3(model, reference, segment: pg.Segment) -> float:
    """The k3 estimate of KL(model || reference) on the segment's tokens (summed): what the KL
    term minimises (a sum of log-probabilities can agree while the distributions differ)."""
    with torch.no_grad():
        delta = pg._token_logp(reference, segment) - pg._token_logp(model, segment)
        return float((torch.exp(delta) - delta - 1).sum())


def test_the_task_set_is_real_git_history_with_gold_from_the_patch(task) -> None:
    (row,) = task["rows"]
    assert row["env_class"] == "acs-localize"
    assert row["reward_spec"]["ground_truth"]["files"] == ["toolkit/csvio.py"]
    assert row["reward_spec"]["ground_truth"]["functions"] == ["toolkit/csvio.py:parse_header"]
    # The default planner finds it: its conversation scores as a right answer.
    assert len(task["conversations"]) == 1
    assert [m["role"] for m in task["conversations"][0]] == [
        "system", "user", "assistant", "user", "assistant",
    ]  # fmt: skip


def test_group_advantages_are_normalised_within_each_group() -> None:
    adv = pg.group_advantages([1.0, 0.0, 0.5, 0.5], [0, 0, 1, 1])
    assert adv == [1.0, -1.0, 0.0, 0.0]  # group 1 is all equal: nothing to learn
    three = pg.group_advantages([0.0, 0.0, 3.0], [7, 7, 7])
    assert three == pytest.approx([-1 / math.sqrt(2), -1 / math.sqrt(2), math.sqrt(2)])
    assert sum(three) == pytest.approx(0.0)


def test_without_std_normalisation_advantages_are_the_reward_minus_the_group_mean() -> None:
    """Dr. GRPO (SkyRL's grpo_norm_by_std=false): a small reward gap stays a small push."""
    assert pg.group_advantages([1.0, 0.0, 0.2, 0.1], [0, 0, 1, 1], norm_by_std=False) == (
        pytest.approx([0.5, -0.5, 0.05, -0.05])
    )


def test_loss_scales_follow_skyrls_loss_reduction() -> None:
    """Two rollouts: the first of two turns (3 and 1 tokens), the second of one (2 tokens).
    token_mean weighs every token alike; sequence_mean weighs every rollout alike."""
    lengths, rollout_of = [3, 1, 2], [0, 0, 1]
    assert pg.loss_scales(lengths, rollout_of, "token_mean") == [1 / 6] * 3
    assert pg.loss_scales(lengths, rollout_of, "sequence_mean") == [1 / 8, 1 / 8, 1 / 4]
    with pytest.raises(InvalidArgumentError, match="unknown loss reduction 'sum'"):
        pg.loss_scales(lengths, rollout_of, "sum")


def test_a_rollout_is_truncated_when_a_turn_hit_the_token_limit_without_its_end() -> None:
    eos = 2
    cut = pg.Rollout(0, [pg.Segment([1], [5, 6, 7, 8]), pg.Segment([1], [9, eos])])
    ended = pg.Rollout(0, [pg.Segment([1], [5, 6, 7, eos])])
    short = pg.Rollout(0, [pg.Segment([1], [5, 6])])  # the episode ended it, not the limit
    assert cut.truncated(4, eos) and not ended.truncated(4, eos) and not short.truncated(4, eos)


def test_batched_sampling_is_the_same_distribution_as_one_at_a_time(task) -> None:
    """Left padding changes nothing: at a temperature near 0, contexts of different lengths
    sampled together give what each gives alone (so the update's unpadded scoring matches
    the sampling)."""
    tokenizer, model = task["tokenizer"], task["model"]
    long = pg.conversation_segments(tokenizer, task["conversations"][0])[1].context
    contexts = [long, long[:-40]]
    cold = pg.PgSettings(temperature=1e-6, max_new_tokens=12)
    together = pg.sample_batch(model, tokenizer, contexts, cold)
    alone = [pg.sample_batch(model, tokenizer, [c], cold)[0] for c in contexts]
    assert together == alone and all(0 < len(t) <= 12 for t in together)


def test_rollouts_run_every_rows_group_in_lockstep(task) -> None:
    env_config = {"repos_dir": str(task["repos"]), "max_turns": 2}
    rows = [task["rows"][0], task["rows"][0]]
    chunked = dataclasses.replace(SETTINGS, batch_size=4)  # 6 episodes: batches of 4 and 2
    out = pg.rollouts(task["model"], task["tokenizer"], rows, env_config, chunked, group=3)
    assert [r.row for r in out] == [0, 0, 0, 1, 1, 1]
    for r in out:
        assert r.segments and len(r.texts) == len(r.segments) and r.reason  # random: zero
    figures = pg.evaluate(
        task["model"], task["tokenizer"], rows[:1], env_config, SETTINGS, samples=2
    )
    assert figures["samples"] == 2 and figures["reward_mean"] == 0.0
    assert all(0.0 <= figures[k] <= 1.0 for k in ("right", "malformed", "truncated"))


def test_the_overlong_filter_leaves_cut_rollouts_out_of_the_loss(task) -> None:
    """DAPO's overlong filtering: a rollout cut at the token limit stays in its group but adds
    no token to the update; without the filter its tokens are scored."""
    env_config = {"repos_dir": str(task["repos"]), "max_turns": 2}
    model = transformers.Qwen3ForCausalLM(task["model"].config)
    model.load_state_dict(task["model"].state_dict())
    cut = pg.PgSettings(steps=1, group=2, max_new_tokens=4, overlong_filter=True)
    (filtered,) = pg.train(model, task["tokenizer"], task["rows"], env_config, cut)
    assert filtered["truncated"] == 2 and filtered["tokens_trained"] == 0
    assert filtered["tokens_sampled"] >= 2 * 4
    kept = dataclasses.replace(cut, overlong_filter=False)
    (unfiltered,) = pg.train(model, task["tokenizer"], task["rows"], env_config, kept)
    assert unfiltered["truncated"] == 2
    assert unfiltered["tokens_trained"] == unfiltered["tokens_sampled"] >= 2 * 4


def test_a_cut_rollout_still_counts_in_its_groups_advantages() -> None:
    """One group: a rollout cut at the limit (reward 0) and one that ended (reward 1). The
    filter keeps the cut one out of the loss, not out of the group: the other's advantage is
    +1, not 0 (as it would be alone), and sequence_mean still divides by both."""
    eos, limit = 2, 3
    cut = pg.Rollout(0, [pg.Segment([1], [5, 6, 7])], reward=0.0)
    ended = pg.Rollout(0, [pg.Segment([1], [5, eos]), pg.Segment([1], [8, 9, eos])], reward=1.0)
    settings = pg.PgSettings(max_new_tokens=limit, overlong_filter=True, step_wise=False)
    batch = pg.update_batch([cut, ended], settings, eos)
    assert [(s.generated, a) for s, a in batch.weighted] == [([5, eos], 1.0), ([8, 9, eos], 1.0)]
    assert batch.sequences == [1, 1] and batch.samples == 2 and batch.tokens == 5
    scales = pg.loss_scales([2, 3], batch.sequences, "sequence_mean", count=batch.samples)
    assert scales == [1 / 10, 1 / 10]  # a token mean over 5 tokens, over 2 rollouts
    unfiltered = pg.update_batch(
        [cut, ended], dataclasses.replace(settings, overlong_filter=False), eos
    )
    assert [a for _, a in unfiltered.weighted] == [-1.0, 1.0, 1.0] and unfiltered.tokens == 8


def test_step_wise_samples_are_turns_as_skyrl_trains_them() -> None:
    """SkyRL's step-wise trajectories (the presets' generator.step_wise_trajectories=true):
    each turn is a sample carrying its rollout's advantage, and `sequence_mean` is SkyRL's
    `advantage / (samples * tokens in the sample)`: a 2-token answer turn weighs as much as
    a 6-token plan turn, where the rollout mean would weigh it by its tokens."""
    eos, limit = 2, 8
    cut = pg.Rollout(0, [pg.Segment([1], [5, 6, 7, 8, 9, 10, 11, 12])], reward=0.0)
    two_turns = pg.Rollout(
        0, [pg.Segment([1], [5, 6, 7, 8, 9, eos]), pg.Segment([1], [3, eos])], reward=1.0
    )
    settings = pg.PgSettings(max_new_tokens=limit, overlong_filter=True)
    assert settings.step_wise  # the default: what the presets run
    batch = pg.update_batch([cut, two_turns], settings, eos)
    assert batch.sequences == [1, 2] and batch.samples == 3  # the filtered turn still counts
    scales = pg.loss_scales([6, 2], batch.sequences, "sequence_mean", count=batch.samples)
    assert scales == [1 / (3 * 6), 1 / (3 * 2)]
    by_rollout = pg.update_batch(
        [cut, two_turns], dataclasses.replace(settings, step_wise=False), eos
    )
    assert by_rollout.sequences == [1, 1] and by_rollout.samples == 2


def test_a_time_budget_stops_training_before_the_next_step(task) -> None:
    env_config = {"repos_dir": str(task["repos"]), "max_turns": 2}
    settings = pg.PgSettings(steps=5, group=1, max_new_tokens=4)
    assert pg.train(task["model"], task["tokenizer"], task["rows"], env_config, settings,
                    budget_s=0.0) == []  # fmt: skip


def test_a_wrong_answer_conversation_changes_only_the_answer(task) -> None:
    right = task["conversations"][0]
    wrong = pg_smoke.with_wrong_answer(right, ("toolkit/cli.py", "toolkit/cli.py:main"))
    assert wrong[:-1] == right[:-1] and wrong[-1]["role"] == "assistant"
    assert wrong[-1]["content"] == (
        'answer(files=["toolkit/cli.py"], functions=["toolkit/cli.py:main"])\n'
    )
    with pytest.raises(InvalidArgumentError, match="does not end with the model's answer"):
        pg_smoke.with_wrong_answer(right[:-1], ("toolkit/cli.py", "toolkit/cli.py:main"))


def test_conversation_segments_are_the_model_turns_after_their_context(task) -> None:
    tokenizer = task["tokenizer"]
    messages = task["conversations"][0]
    segments = pg.conversation_segments(tokenizer, messages)
    assert len(segments) == 2  # the plan turn and the answer turn
    for segment, message in zip(segments, [messages[2], messages[4]], strict=True):
        assert segment.generated[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(segment.generated, skip_special_tokens=True) == message["content"]
        context = tokenizer.decode(segment.context)
        assert context.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert tokenizer.decode(segments[1].context).count("<|im_start|>assistant") == 2


def test_a_rollout_of_a_random_model_goes_through_the_environment(task) -> None:
    """A random model writes garbage: the environment scores it 0 with a reason, nothing
    raises, and each model turn keeps the exact tokens it sampled."""
    env_config = {"repos_dir": str(task["repos"]), "max_turns": 2}
    out = pg.rollout(task["model"], task["tokenizer"], task["rows"][0], env_config, SETTINGS)
    assert 1 <= len(out.segments) <= 2 and len(out.texts) == len(out.segments)
    for segment, text in zip(out.segments, out.texts, strict=True):
        assert 0 < len(segment.generated) <= SETTINGS.max_new_tokens
        assert task["tokenizer"].decode(segment.generated, skip_special_tokens=True) == text
    assert out.reward == 0.0 and out.reason


def test_the_update_moves_probability_toward_the_better_rollout(task) -> None:
    """Advantage +1 on the planner's plan, -1 on a wrong one: after one step the first is
    more likely and the second less, so the gradient reaches the sampled tokens."""
    model = transformers.Qwen3ForCausalLM(task["model"].config)
    model.load_state_dict(task["model"].state_dict())
    tokenizer = task["tokenizer"]
    good = pg.conversation_segments(tokenizer, task["conversations"][0])[0]
    bad = pg.Segment(
        good.context, tokenizer("answer(files=[])")["input_ids"] + [good.generated[-1]]
    )
    before = logp(model, good), logp(model, bad)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    loss, norm = pg.policy_gradient_step(model, optimizer, [(good, 1.0), (bad, -1.0)])
    assert math.isfinite(loss) and norm > 0
    after = logp(model, good), logp(model, bad)
    assert after[0] > before[0] and after[1] < before[1]
    # Advantage 0 everywhere (a group with equal rewards): no gradient, no change.
    frozen = {k: v.clone() for k, v in model.state_dict().items()}
    assert pg.policy_gradient_step(model, optimizer, [(good, 0.0)]) == (0.0, 0.0)
    assert all(torch.equal(frozen[k], v) for k, v in model.state_dict().items())


def test_the_warm_start_fits_the_planners_conversations(task) -> None:
    model = transformers.Qwen3ForCausalLM(task["model"].config)
    model.load_state_dict(task["model"].state_dict())
    losses = pg.warm_start(model, task["tokenizer"], task["conversations"], steps=4, lr=1e-2)
    assert len(losses) == 4 and losses[-1] < losses[0]


def test_the_smoke_run_records_its_figures(tmp_path: Path, capsys) -> None:
    """`python -m acs.train.planner.pg_smoke`, as small as it goes: a warm start, one GRPO step, the
    figures written; the environment counted tokens with the saved tokenizer."""
    out = tmp_path / "pg.json"
    argv = ["--device", "cpu", "--bugs", "1", "--warm-steps", "2", "--steps", "1",
            "--group", "2", "--eval-samples", "2",
            "--out", str(out), "--workdir", str(tmp_path / "work"),
            "--warm-cache", str(tmp_path / "warm")]  # fmt: skip
    assert pg_smoke.main(argv) == 0
    figures = json.loads(out.read_text())
    assert figures["device"] == "cpu" and figures["instances"] == 1
    assert figures["cpu_seconds"] > 0
    key = "cpu-tiny-bugs1-seed0-warm2x0.003-right-and-wrong"
    assert (tmp_path / "warm" / key / "model.pt").is_file()
    assert len(figures["warm_start_nll"]) == 2 and len(figures["steps"]) == 1
    step = figures["steps"][0]
    assert step["tokens_sampled"] > 0 and 0.0 <= step["reward_mean"] <= step["reward_max"]
    assert figures["warm_start_reward"] > 0.5  # the default planner solves the bug
    assert (tmp_path / "work" / "tokenizer" / "tokenizer.json").is_file()
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["reward_first"] == summary["reward_last"] == step["reward_mean"]
    # Evaluated before and after, on 2 samples of the one bug; the warm start also saw the
    # wrong answer (so what to answer is left to the reward).
    assert figures["distractors"] is True
    assert figures["before"]["samples"] == figures["after"]["samples"] == 2
    assert summary["reward_before"] == figures["before"]["reward_mean"]


def test_the_kl_term_pulls_the_policy_back_to_its_reference(task) -> None:
    """SkyRL's use_kl_loss (k3): at the reference it adds nothing; away from it, a step with
    no advantage at all lowers the policy's KL to the reference."""
    tokenizer = task["tokenizer"]
    segment = pg.conversation_segments(tokenizer, task["conversations"][0])[0]
    reference = task["model"]
    model = transformers.Qwen3ForCausalLM(reference.config)
    model.load_state_dict(reference.state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    kl = {"reference": reference, "kl_coef": 1.0}
    assert pg.policy_gradient_step(model, optimizer, [(segment, 0.0)], **kl) == (0.0, 0.0)
    noise = torch.Generator().manual_seed(SEED)  # the same move whatever ran before
    with torch.no_grad():  # move the policy away from the reference
        for p in model.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=noise))
    before = k3(model, reference, segment)
    loss, norm = pg.policy_gradient_step(model, optimizer, [(segment, 0.0)], **kl)
    assert loss > 0 and norm > 0
    assert k3(model, reference, segment) < before


def test_a_cached_warm_start_is_loaded_not_trained_again(task, tmp_path: Path, monkeypatch) -> None:
    """`--warm-cache`: the second run with the same warm-start settings gets the first's
    weights, tokenizer and NLL curve without a supervised step, so arms that compare GRPO
    settings (docs/rl-settings.md) start from the same policy."""
    cache = tmp_path / "cache"
    settings = {"shape": "tiny", "device": "cpu", "steps": 2, "lr": 3e-3, "cache": cache}
    model, tokenizer, nll = pg_smoke.warm_started(tmp_path / "a", task["conversations"],
                                                  **settings)  # fmt: skip

    def no_training(*args, **kwargs):
        raise AssertionError("the cached warm start was trained again")

    monkeypatch.setattr(pg_smoke, "warm_start", no_training)
    again, tokenizer_again, nll_again = pg_smoke.warm_started(
        tmp_path / "b", task["conversations"], **settings
    )
    assert nll_again == nll and len(nll) == 2
    assert tokenizer_again.get_vocab() == tokenizer.get_vocab()
    assert (tmp_path / "b" / "tokenizer" / "tokenizer.json").is_file()  # where the env reads it
    loaded = again.state_dict()
    assert all(torch.equal(w, loaded[name]) for name, w in model.state_dict().items())


def test_the_warm_cache_key_holds_what_decides_the_warm_start() -> None:
    base = {"device": "cpu", "shape": "tiny", "bugs": 1, "seed": 0, "steps": 300, "lr": 3e-3,
            "distractors": True}  # fmt: skip
    keys = {pg_smoke.warm_cache_key(**base)} | {
        pg_smoke.warm_cache_key(**{**base, name: value})
        for name, value in [("device", "cuda"), ("shape", "small"), ("bugs", 3), ("seed", 1),
                            ("steps", 100), ("lr", 1e-3), ("distractors", False)]
    }  # fmt: skip
    assert len(keys) == 8
