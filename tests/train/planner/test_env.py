"""The SkyRL environment `acs-localize`, driven through `skyrl_gym.make` on a real git
repository: scripted policies get exactly the reward `score_trajectory` gives their answer,
the observations are the ones inference shows, rollouts run concurrently, and nothing raises."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest

skyrl_gym = pytest.importorskip("skyrl_gym", reason="pip install 'agentic-code-search[rl]'")

import acs  # noqa: E402
from acs.llm import LlmPolicy, ScriptedBackend  # noqa: E402
from acs.task.groundtruth import ground_truth  # noqa: E402
from acs.train.planner import env as acs_env  # noqa: E402
from acs.train.planner.reward import RewardConfig, score_trajectory  # noqa: E402
from acs.train.planner.rl_data import reward_spec  # noqa: E402
from helpers.repos import repo_with_fix  # noqa: E402

BEFORE = {
    "pkg/io.py": (
        "class Reader:\n    def read(self):\n        return 1\n\n\ndef helper():\n    pass\n"
    ),
    "pkg/util.py": "def double(x):\n    return 2 * x\n",
    "pkg/cli.py": "from pkg.io import Reader\n\n\ndef main():\n    return Reader().read()\n",
}
FIX = {"pkg/io.py": BEFORE["pkg/io.py"].replace("return 1", "return 2")}
ISSUE = "Reader.read returns 1 instead of 2"

PLAN = '1. symbols(name="Reader.read")\n2. grep(pattern="return 1", fixed_strings=True)\nend\n'
PERFECT = 'answer(files=["pkg/io.py"], functions=["pkg/io.py:Reader.read"])\n'
WIDE = (
    '1. symbols(name="Reader.read")\n2. grep(pattern="return 1", fixed_strings=True)\n'
    '3. symbols(name="Reader")\n4. outline(path="pkg/io.py")\n5. find_files(query="io.py")\n'
    '6. bm25(query="reader read returns")\n7. references(name="Reader")\n'
    '8. read(path="pkg/io.py", symbol="Reader.read")\nend\n'
)
BONUS_PER_WIDTH = RewardConfig().parallel_weight / (RewardConfig().parallel_cap - 1)
ANSWERED = RewardConfig().answer_bonus  # finished once, with a right answer (quality 1)


@pytest.fixture(scope="module")
def row(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A repository `acme/widgets` (owner__name layout) with one fix commit, and the row the
    data builder makes of it (gold from `acs.task.groundtruth`)."""
    repos = tmp_path_factory.mktemp("repos")
    root = repos / "acme__widgets"
    base, patch = repo_with_fix(root, BEFORE, FIX)
    gold = ground_truth(acs.Repo.open(root, commit=base), patch)
    acs_env.register_env()
    return {
        "repos": repos,
        "root": root,
        "base": base,
        "extras": {
            "reward_spec": reward_spec(gold),
            "extra_info": {"repo": "acme/widgets", "base_commit": base, "instance_id": "w-1"},
        },
    }


def make(row: dict[str, Any], **config: Any) -> acs_env.AcsLocalizeEnv:
    env = skyrl_gym.make(
        "acs-localize",
        env_config={"repos_dir": str(row["repos"]), **config},
        extras=row["extras"],
    )
    assert isinstance(env, acs_env.AcsLocalizeEnv)
    prompt = [{"role": "system", "content": "s"}, {"role": "user", "content": ISSUE}]
    assert env.init(prompt)[0] == prompt
    return env


def rollout(row: dict[str, Any], *texts: str, **config: Any) -> tuple[list[Any], Any]:
    env = make(row, **config)
    outputs = [env.step(text) for text in texts]
    return outputs, env


def test_gold_is_the_fixed_method(row) -> None:
    gold = row["extras"]["reward_spec"]["ground_truth"]
    assert gold["files"] == ["pkg/io.py"]
    assert gold["functions"] == ["pkg/io.py:Reader.read"]


def test_register_is_idempotent(row) -> None:
    acs_env.register_env()
    acs_env.register_env()
    assert skyrl_gym.registry["acs-localize"].entry_point == "acs.train.planner.env:AcsLocalizeEnv"


def test_perfect_rollout_gets_score_trajectorys_reward(row) -> None:
    (plan, answer), env = rollout(row, PLAN, PERFECT)
    assert not plan["done"] and plan["reward"] == 0.0
    assert plan["observations"][0]["role"] == "user"
    assert "[1] symbols: 1 definitions" in plan["observations"][0]["content"]
    assert "pkg/io.py:2-3 method Reader.read" in plan["observations"][0]["content"]
    assert answer["done"] and answer["observations"] == []
    # Exactly what the reward gives this answer on this trajectory, with these token counts.
    prediction = {
        "files": [{"path": "pkg/io.py", "score": 1.0, "confident": True}],
        "functions": [{"path": "pkg/io.py", "name": "Reader.read", "confident": True}],
    }
    expected = score_trajectory(
        prediction,
        row["extras"]["reward_spec"]["ground_truth"],
        {"turns": [t.to_json() for t in env.history]},
        prompt_tokens=env.prompt_tokens,
        generated_tokens=env.generated_tokens,
        answer_calls=1,
        repo_stats=env.repo_stats,
    )
    assert answer["reward"] == expected.total
    # width 2, fast (factor 1), answered once
    assert answer["reward"] == pytest.approx(1.0 + BONUS_PER_WIDTH + ANSWERED)
    terms = answer["metadata"]["reward_terms"]
    assert terms["quality"] == 1.0 and terms["latency_factor"] == 1.0
    assert answer["metadata"]["errors"] == 0 and answer["metadata"]["reason"] is None
    assert env.get_metrics()["total"] == answer["reward"]


def test_observation_is_what_inference_shows(row) -> None:
    """The env's next user message is the one `LlmPolicy` sends at inference."""
    backend = ScriptedBackend([PLAN, PERFECT])
    repo = acs.Repo.open(row["root"], commit=row["base"])
    acs.localize(repo, ISSUE, policy=LlmPolicy(backend, max_turns=4))
    (plan, _), _ = rollout(row, PLAN, PERFECT)
    assert plan["observations"][0] == backend.requests[1]["messages"][-1]


def test_last_turn_asks_for_the_answer_and_ends_the_rollout(row) -> None:
    (first, second), _ = rollout(row, PLAN, PLAN.replace("Reader.read", "helper"), max_turns=2)
    assert "Last turn: write only the `answer(...)` line" in first["observations"][0]["content"]
    assert second["done"] and second["reward"] == 0.0  # no answer: nothing predicted
    assert second["metadata"]["turns"] == 2


def test_empty_answer_scores_zero(row) -> None:
    (_, answer), _ = rollout(row, PLAN, "answer(files=[], functions=[])\n")
    assert answer["done"] and answer["reward"] == 0.0
    assert answer["metadata"]["reward_terms"]["quality"] == 0.0


def test_hallucinated_path_is_not_credited(row) -> None:
    """Only paths the tools returned count (merge_answer): guessing the gold file unseen fails."""
    (_, answer), _ = rollout(row, '1. grep(pattern="double")\nend\n', PERFECT)
    assert answer["reward"] == 0.0


def test_malformed_plan_scores_zero_with_reason(row) -> None:
    (plan, answer), _ = rollout(row, PLAN.replace("end\n", "let me think about it\nend\n"), PERFECT)
    assert "error (plan_syntax)" in plan["observations"][0]["content"]
    assert answer["reward"] == 0.0
    assert answer["metadata"]["reason"].startswith("malformed plan")
    assert answer["metadata"]["reward_terms"]["malformed"] == 1.0


def test_answer_without_search_scores_zero(row) -> None:
    (answer,), _ = rollout(row, PERFECT)
    assert answer["done"] and answer["reward"] == 0.0
    assert answer["metadata"]["reason"].startswith("no tool call")


def test_duplicate_calls_are_penalised(row) -> None:
    again = '3. symbols(name="Reader.read")\n4. symbols(name="Reader.read")\n'
    repeated = PLAN.replace("end\n", again + "end\n")
    (_, answer), _ = rollout(row, repeated, PERFECT)
    terms = answer["metadata"]["reward_terms"]
    assert terms["duplicates"] == 2.0
    assert terms["duplicate_penalty"] == pytest.approx(2 * RewardConfig().duplicate_penalty)
    assert answer["reward"] == pytest.approx(1.0 + BONUS_PER_WIDTH + ANSWERED - 0.1)


def test_parallel_width_earns_the_bonus(row) -> None:
    (_, wide), _ = rollout(row, WIDE, PERFECT)
    (_, narrow), _ = rollout(row, '1. symbols(name="Reader.read")\nend\n', PERFECT)
    assert wide["metadata"]["reward_terms"]["width"] == 8.0
    assert wide["metadata"]["reward_terms"]["parallel_bonus"] == pytest.approx(0.1)
    assert wide["reward"] == pytest.approx(1.1 + ANSWERED)
    assert narrow["metadata"]["reward_terms"]["parallel_bonus"] == 0.0
    assert narrow["reward"] == pytest.approx(1.0 + ANSWERED)


def test_a_slow_rollout_is_penalised_by_the_latency_factor(row) -> None:
    # The perfect rollout again, with decoding at 1 s per generated token: far past the
    # one-second budget, so the factor falls by e per `scale_s` seconds beyond it.
    slow = {"decode_s_per_token": 1.0, "target_s": 1.0, "scale_s": 2.0}
    (_, answer), env = rollout(row, PLAN, PERFECT, reward=slow)
    terms = answer["metadata"]["reward_terms"]
    assert terms["latency_s"] >= env.generated_tokens > 10  # decoding dominates
    assert terms["latency_factor"] == pytest.approx(math.exp(-(terms["latency_s"] - 1.0) / 2.0))
    bonuses = BONUS_PER_WIDTH + ANSWERED  # for the plan's shape, not its speed
    assert answer["reward"] == pytest.approx(terms["latency_factor"] + bonuses)
    assert answer["reward"] < bonuses + 1e-3  # the answer is right, and worth ~nothing


def test_reward_overrides_come_from_env_config(row) -> None:
    (_, answer), _ = rollout(
        row, WIDE, PERFECT, reward={"parallel_weight": 0.0, "answer_bonus": 0.0}
    )
    assert answer["reward"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown reward options"):
        make(row, reward={"paralel_weight": 0.0})


def _comparable(outputs: list[Any]) -> list[Any]:
    """A rollout's outputs, every reward term included: the latency is modelled, not timed."""
    return [(o["observations"], o["reward"], o["done"], o["metadata"]) for o in outputs]


def test_concurrent_rollouts_match_sequential(row) -> None:
    scripts = [(PLAN, PERFECT), (WIDE, PERFECT), (PLAN, "answer(files=[], functions=[])\n")] * 3
    sequential = [_comparable(rollout(row, *s)[0]) for s in scripts[:8]]
    results: list[Any] = [None] * 8
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        env = make(row)
        barrier.wait()
        results[i] = _comparable([env.step(text) for text in scripts[i]])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == sequential


def test_one_repository_is_opened_once_per_process(row) -> None:
    git_dir = row["root"]
    assert acs_env.open_repo(git_dir, row["base"]) is acs_env.open_repo(git_dir, row["base"])


def test_missing_repository_gives_zero_reward_not_a_raise(row, tmp_path: Path) -> None:
    env = skyrl_gym.make(
        "acs-localize", env_config={"repos_dir": str(tmp_path / "nowhere")}, extras=row["extras"]
    )
    out = env.step(PLAN)
    assert out["done"] and out["reward"] == 0.0
    assert out["metadata"]["errors"] == 1
    assert "no git repository for acme/widgets" in out["metadata"]["reason"]
    assert env.step(PERFECT)["reward"] == 0.0  # after the end: still no raise


def test_unusable_row_gives_zero_reward_not_a_raise(row) -> None:
    env = skyrl_gym.make("acs-localize", env_config={"repos_dir": str(row["repos"])}, extras={})
    out = env.step(PLAN)
    assert out["done"] and out["reward"] == 0.0 and out["metadata"]["errors"] == 1


def test_odd_actions_do_not_raise(row) -> None:
    for action in ["", "\x00\ud800", "1. read(path=" + "x" * 10_000, None, 42]:
        env = make(row)
        out = env.step(action)  # type: ignore[arg-type]
        assert isinstance(out["reward"], float)
        if not out["done"]:
            assert env.step(PERFECT)["done"]


def test_the_rollout_ends_at_the_first_answer(row) -> None:
    """The parser stops at the first `answer(...)`: a second one is never read (its tokens
    still count as generated), so a rollout finishes once and earns the bonus once."""
    (_, once), one = rollout(row, PLAN, PERFECT)
    (_, twice), two = rollout(row, PLAN, PERFECT + PERFECT.replace("pkg/io.py", "pkg/util.py"))
    assert once["metadata"]["reward_terms"]["answer_bonus"] == pytest.approx(ANSWERED)
    terms = twice["metadata"]["reward_terms"]
    assert terms == {**once["metadata"]["reward_terms"], "latency_s": terms["latency_s"]}
    assert two.generated_tokens > one.generated_tokens  # the only difference: decode time


def test_running_out_of_turns_earns_no_finish_bonus(row) -> None:
    """Two turns allowed, two plans and no answer: scored on the evidence, without a bonus."""
    outputs, env = rollout(row, PLAN, '1. symbols(name="Reader")\nend\n', max_turns=2)
    assert outputs[-1]["done"] and env.policy.answer is None
    assert outputs[-1]["metadata"]["reward_terms"].get("answer_bonus", 0.0) == 0.0


def test_a_named_tokenizer_counts_tokens_exactly(row, tmp_path) -> None:
    """With `tokenizer` (the trained model's), the latency term counts real tokens; without,
    the 3.5-characters estimate."""
    pytest.importorskip("transformers", reason="transformers not installed")
    from acs.llm.scripted import toy_tokenizer

    tokenizer = toy_tokenizer([PLAN, PERFECT, ISSUE], 300)
    tokenizer.save_pretrained(tmp_path / "tok")
    _, exact = rollout(row, PLAN, PERFECT, tokenizer=str(tmp_path / "tok"))
    _, estimated = rollout(row, PLAN, PERFECT)
    count = len(tokenizer(PLAN, add_special_tokens=False)["input_ids"]) + len(
        tokenizer(PERFECT, add_special_tokens=False)["input_ids"]
    )
    assert exact.generated_tokens == count
    assert estimated.generated_tokens == acs_env.approx_tokens(PLAN) + acs_env.approx_tokens(
        PERFECT
    )
    assert exact.generated_tokens != estimated.generated_tokens


# --- issue 20: a plan over the task cap, echoes, huge answers ------------------------------


def many_greps(n: int) -> str:
    return "".join(f'{i}. grep(pattern="a")\n' for i in range(1, n + 1)) + "end\n"


def test_a_plan_over_the_task_cap_is_an_observation_at_bounded_cost(row) -> None:
    """2,000 greps: the first 256 run, the model is told the rest were not (the cap named),
    and the turn costs about what a plan at the cap costs (it took 28 s and 4.3 GB)."""
    at_cap, over = make(row), make(row)
    started = time.process_time()
    capped = at_cap.step(many_greps(256))
    baseline = time.process_time() - started
    started = time.process_time()
    out = over.step(many_greps(2_000))
    spent = time.process_time() - started
    assert not capped["done"] and not out["done"]
    text = out["observations"][0]["content"]
    assert "over 256 tasks (the cap on tasks per plan)" in text
    assert "not run" in text and len(text) < 40_000
    assert out["metadata"]["tool_calls"] == 257 and out["metadata"]["errors"] == 0
    assert spent < 3 * baseline + 1.0, (spent, baseline)


def test_invalid_model_text_is_not_echoed_whole(row) -> None:
    """10,000 lines of 250 characters of prose made a 2.5 MB observation."""
    env = make(row)
    out = env.step(("x" * 250 + "\n") * 10_000)
    text = out["observations"][0]["content"]
    assert len(text) < 40_000, len(text)
    assert "the cap on tasks per plan" in text


def test_an_answer_of_a_million_entries_is_refused_cheaply(row) -> None:
    """It took 5.5 s and 1.4 GB to parse; now the line is over the cap on a plan line."""
    env = make(row)
    env.step(PLAN)
    started = time.process_time()
    out = env.step("answer(files=[" + '"pkg/io.py", ' * 1_000_000 + "])\n")
    assert time.process_time() - started < 1.0
    assert env.policy.answer is None
    if not out["done"]:
        assert "the cap on a plan line" in out["observations"][0]["content"]
    over = ", ".join(['"pkg/io.py"'] * 101)
    out = make(row).step(f"answer(files=[{over}])\n")
    assert "the cap on answer entries" in out["observations"][0]["content"]


MEMORY_SCRIPT = """
import json, resource, sys, time
from acs.train.planner import env as acs_env
root, base, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
extras = {"reward_spec": {"ground_truth": {"files": ["pkg/m0.py"], "functions": []}},
          "extra_info": {"repo": "acme/big", "base_commit": base, "instance_id": "m"}}
env = acs_env.AcsLocalizeEnv({"repos_dir": sys.argv[4]}, extras)
acs_env.open_repo(root, base)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = env.step("".join(f'{i}. grep(pattern="a")\\n' for i in range(1, n + 1)) + "end\\n")
time.sleep(0.5)  # tasks cut off by the turn's timeout would still be running
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grown_mb": (after - before) / 1024, "errors": env.errors}))
"""


def test_a_plan_of_2000_greps_holds_bounded_memory(tmp_path: Path) -> None:
    """In a process of its own (peak RSS): 2,000 greps of a letter on every line of 300
    files grew a debug build by 1.1 GB (4.3 GB in release) before the turn timed out."""
    import json
    import subprocess
    import sys

    body = "".join(f"def f_{i}(a, b):\n    return a + b  # a line with a\n" for i in range(100))
    root = tmp_path / "repos" / "acme__big"
    base, _ = repo_with_fix(root, {f"pkg/m{i}.py": body for i in range(300)}, {"pkg/m0.py": ""})
    args = [str(root), base, "2000", str(tmp_path / "repos")]
    run = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, *args], capture_output=True, text=True, check=True
    )
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    assert measured["errors"] == []
    assert measured["grown_mb"] < 300, measured


# -- the context: every prompt a rollout sends fits `context_tokens`, and every rollout is scored


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tokenizers", reason="pip install 'agentic-code-search[hf]'")
    pytest.importorskip("transformers", reason="pip install 'agentic-code-search[hf]'")
    from acs.llm.scripted import toy_tokenizer

    folder = tmp_path_factory.mktemp("tokenizer")
    toy_tokenizer([ISSUE, PLAN, WIDE, PERFECT, BEFORE["pkg/io.py"]], 400).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("context", range(2_650, 4_050, 150))
def test_every_prompt_fits_the_context_and_every_rollout_is_scored(row, tokenizer_dir, context):
    env = make(row, tokenizer=str(tokenizer_dir), context_tokens=context)
    count = acs_env.prompt_counter(str(tokenizer_dir))
    # The row's prompt comes first (SkyRL's data filter bounds it: trainer.max_prompt_length).
    # The model plans wide until it is asked for its answer, then answers.
    for _ in range(env.max_turns):
        asked = "Last turn" in env.messages[-1]["content"]
        out = env.step(PERFECT if asked else WIDE)
        if out["done"]:
            break
        assert count(env.messages) + acs_env.TURN_TOKENS <= context  # the next turn fits
    assert out["done"] and env.reward is not None
    metrics = env.get_metrics()
    assert metrics["unscored"] == 0 and set(acs_env.METRICS) <= set(metrics)
    if metrics["context_cut"]:  # asked for its answer early, and answered
        assert "Last turn" in env.messages[-1]["content"] and env.reward.total > 0


def test_a_context_too_small_for_the_plans_results_asks_for_the_answer_at_once(row, tokenizer_dir):
    count = acs_env.prompt_counter(str(tokenizer_dir))
    roomy = make(row, tokenizer=str(tokenizer_dir))
    observation = roomy.step(WIDE)["observations"][0]["content"]
    needed = count(roomy.messages)  # the prompt with the full results of the wide plan
    # A context that holds not even that prompt:
    env = make(row, tokenizer=str(tokenizer_dir), context_tokens=needed - 20)
    cut = env.step(WIDE)["observations"][0]["content"]
    assert cut != observation and "Last turn" in cut and len(cut) < len(observation)
    assert env.get_metrics()["context_cut"] == 1 and count(env.messages) <= needed - 20
    final = env.step(PERFECT)
    assert final["done"] and final["reward"] > 0


def test_a_rollout_zeroed_by_rule_reports_every_metric(row):
    (out,), env = rollout(row, "this is not a plan line\nend\n", max_turns=1)
    assert out["done"] and out["reward"] == 0.0
    metrics = env.get_metrics()
    # SkyRL averages each key over the rollouts that report it: zeros must be reported.
    assert {k: metrics[k] for k in ("quality", "f_file", "f_function")} == dict.fromkeys(
        ("quality", "f_file", "f_function"), 0.0
    )


@pytest.mark.parametrize("version", ["planner-v1", "planner-v2", "planner-v3", None])
def test_a_rollout_goes_on_in_its_rows_prompt_version_and_records_it(row, version) -> None:
    from acs.llm.prompt import PROMPT_VERSION, Conversation, load_prompts

    info = dict(row["extras"]["extra_info"], prompt_version=version)
    if version is None:  # a row that names none: the model planners' default
        del info["prompt_version"]
    env = skyrl_gym.make(
        "acs-localize",
        env_config={"repos_dir": str(row["repos"])},
        extras={**row["extras"], "extra_info": info},
    )
    used = version or PROMPT_VERSION
    _, started = env.init(Conversation(load_prompts(used), ISSUE, 4).messages)
    assert started["prompt_version"] == used
    assert env.policy.prompts.version == used
    env.step(PLAN)
    answer = env.step(PERFECT)
    assert answer["metadata"]["prompt_version"] == used
    assert answer["metadata"]["reward_terms"]["quality"] == 1.0
