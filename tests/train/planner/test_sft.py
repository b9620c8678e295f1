"""The SFT warm start: the default planner's runs as the conversations a model planner would
have had (the same prompt, plan text the parser reads back to the same tasks, the same
observations), scored as the RL environment scores them, kept above a threshold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import acs
from acs.cli import main as acs_main
from acs.errors import InvalidArgumentError
from acs.llm import LlmPolicy, ScriptedBackend, planlang
from acs.llm.prompt import Conversation, load_prompts
from acs.task.dataset import Instance
from acs.task.groundtruth import ground_truth
from acs.train.planner import sft
from acs.train.planner.reward import RewardConfig
from helpers.repos import repo_with_fix

BEFORE = {
    "pkg/io.py": (
        "class Reader:\n    def read(self):\n        return 1\n\n\ndef helper():\n    pass\n"
    ),
    "pkg/util.py": "def double(x):\n    return 2 * x\n",
    "pkg/cli.py": "from pkg.io import Reader\n\n\ndef main():\n    return Reader().read()\n",
}
FIX = {"pkg/io.py": BEFORE["pkg/io.py"].replace("return 1", "return 2")}
GOOD = "Reader.read returns 1 instead of 2"
BAD = "util.double gives the wrong value for negative numbers"  # points away from the fix


def make_repo(repos: Path, name: str, issue: str) -> Instance:
    root = repos / f"acme__{name}"
    base, patch = repo_with_fix(root, BEFORE, FIX)
    return Instance(f"acme__{name}-1", f"acme/{name}", base, issue, patch)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("sft")
    repos = tmp / "repos"
    good = make_repo(repos, "widgets", GOOD)
    bad = make_repo(repos, "gadgets", BAD)
    dev = Instance("pydantic__pydantic-1", "pydantic/pydantic", good.base_commit, GOOD, good.patch)
    repo = acs.Repo.open(repos / "acme__widgets", commit=good.base_commit)
    return {
        "tmp": tmp,
        "repos": repos,
        "instances": [good, bad, dev],
        "repo": repo,
        "gold": ground_truth(repo, good.patch),
    }


def default_run(repo: acs.Repo, max_turns: int) -> dict[str, Any]:
    return acs.localize(repo, GOOD, max_turns=max_turns - 1, trajectory=True)


def tasks_of(trajectory: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [
        [{"id": t["id"], "tool": t["tool"], "args": t["args"]} for t in turn["tasks"]]
        for turn in trajectory["turns"]
    ]


@pytest.mark.parametrize("max_turns", [2, 4])
def test_conversation_is_what_the_model_planner_sees_and_writes(data, max_turns) -> None:
    run = default_run(data["repo"], max_turns)
    trajectory = run["trajectory"]
    messages = sft.conversation_from_trajectory(trajectory, max_turns=max_turns)
    roles = [m["role"] for m in messages]
    searches = len(trajectory["turns"])
    assert 1 <= searches <= max_turns - 1
    assert roles == ["system", "user"] + ["assistant", "user"] * searches + ["assistant"]
    assert messages[:2] == Conversation(load_prompts(), GOOD, max_turns).messages
    # The answer: the run's confident files and functions, in its order.
    files = [f["path"] for f in run["files"] if f["confident"]]
    functions = [f"{f['path']}:{f['name']}" for f in run["functions"] if f["confident"]]
    assert messages[-1]["content"] == planlang.format_answer(files, functions) + "\n"
    assert files == ["pkg/io.py"] and functions == ["pkg/io.py:Reader.read"]
    # Each turn is in the constrained-decoding language, and parses back to the tasks run.
    assistant = [m["content"] for m in messages if m["role"] == "assistant"]
    for i, text in enumerate(assistant):
        assert re.fullmatch(planlang.regex(final=i == len(assistant) - 1), text)
    for text, tasks in zip(assistant, tasks_of(trajectory), strict=False):
        calls = [item for item in planlang.parse_plan(text) if isinstance(item, planlang.Call)]
        assert [{"id": c.number, "tool": c.tool, "args": c.args} for c in calls] == tasks
    # Replayed through the model planner in `acs.localize`: the same tasks run, and the
    # messages it sends and records are the exported ones, observations included.
    backend = ScriptedBackend(assistant)
    policy = LlmPolicy(backend, max_turns=max_turns)
    replay = acs.localize(data["repo"], GOOD, policy=policy, max_turns=max_turns, trajectory=True)
    assert tasks_of(replay["trajectory"]) == tasks_of(trajectory)
    assert replay["trajectory"]["transcript"]["messages"] == messages
    for request, upto in zip(backend.requests, range(2, len(messages), 2), strict=True):
        assert request["messages"] == messages[:upto]


def test_render_plan_round_trips_awkward_values() -> None:
    tasks = [
        {"id": 7, "tool": "grep", "args": {"pattern": 'a"b\\w+\n\tc', "include": ["*.py"]}},
        {"id": 8, "tool": "read", "args": {"path": "$7.matches[0].path", "start": 3}},
        {"id": 9, "tool": "grep", "args": {"pattern": "x", "fixed_strings": True, "word": False}},
    ]
    items = planlang.parse_plan(sft.render_plan(tasks))
    assert isinstance(items[-1], planlang.End)
    calls = [{"id": c.number, "tool": c.tool, "args": c.args} for c in items[:-1]]
    assert calls == tasks


def test_a_long_run_is_cut_and_answered_from_what_is_shown(data) -> None:
    trajectory = default_run(data["repo"], 4)["trajectory"]
    assert len(trajectory["turns"]) >= 2
    example = sft.build_example(trajectory, max_turns=2)
    assert len(example.turns) == 1
    assert example.messages[3]["content"].startswith("Results:")
    final = load_prompts().final.split("{", 1)[0]
    assert final in example.messages[3]["content"]  # the final template: answer now
    with pytest.raises(InvalidArgumentError):
        sft.build_example(trajectory, max_turns=1)
    with pytest.raises(InvalidArgumentError):
        sft.build_example({**trajectory, "turns": []})


def test_score_is_the_environments_reward(data) -> None:
    example = sft.build_example(default_run(data["repo"], 4)["trajectory"], max_turns=4)
    reward = sft.score_example(example, data["gold"])
    assert reward.terms["quality"] == 1.0
    assert reward.total >= 1.0  # right, fast, with a parallel and a finish-once bonus
    assert reward.terms["answer_bonus"] == RewardConfig().answer_bonus
    wrong = sft.Example(example.messages, example.turns, ["pkg/util.py"], [])
    assert sft.score_example(wrong, data["gold"]).total == 0.0


def test_batch_keeps_runs_above_the_threshold(data, capsys) -> None:
    dataset = data["tmp"] / "data.jsonl"
    dataset.write_text("".join(json.dumps(i.to_json()) + "\n" for i in data["instances"]))
    out = data["tmp"] / "sft.jsonl"
    args = [str(dataset), "--repos", str(data["repos"]), "--out", str(out)]
    assert sft.main([*args, "--min-reward", "0.5", "--workers", "2"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["instance_id"] for r in rows] == ["acme__widgets-1"]
    assert rows[0]["reward"] >= 1.0 and rows[0]["repo"] == "acme/widgets"
    assert rows[0]["messages"][-1]["content"].startswith('answer(files=["pkg/io.py"]')
    err = capsys.readouterr().err
    assert "kept 1 conversations (reward >= 0.5), dropped 1 below it" in err
    assert "skipped (development-set repository): 1" in err
    # A threshold of 0 keeps the bad run too; --limit reads only the first instance.
    assert sft.main([*args, "--min-reward", "0"]) == 0
    assert len(out.read_text().splitlines()) == 2
    assert sft.main([*args, "--limit", "1", "--min-reward", "2"]) == 0
    assert out.read_text() == ""
    assert "kept 0 conversations (reward >= 2), dropped 1 below it" in capsys.readouterr().err


def test_held_out_repositories_are_refused(data, capsys) -> None:
    good = data["instances"][0]
    held = Instance("django__django-1", "django/django", good.base_commit, GOOD, good.patch)
    dataset = data["tmp"] / "held.jsonl"
    dataset.write_text(json.dumps(good.to_json()) + "\n" + json.dumps(held.to_json()) + "\n")
    out = data["tmp"] / "held-out.jsonl"
    assert sft.main([str(dataset), "--repos", str(data["repos"]), "--out", str(out)]) == 2
    assert "held-out" in capsys.readouterr().err
    assert not out.exists()
    swe = data["tmp"] / "SWE-bench_Lite.jsonl"
    swe.write_text(json.dumps(good.to_json()) + "\n")
    assert sft.main([str(swe), "--repos", str(data["repos"]), "--out", str(out)]) == 2
    with pytest.raises(InvalidArgumentError):
        sft.export([held], data["repos"])


def test_a_localize_trace_converts(data, capsys) -> None:
    good = data["instances"][0]
    trace = data["tmp"] / "trace.json"
    root = data["repos"] / "acme__widgets"
    args = ["localize", GOOD, "--repo", str(root), "--commit", good.base_commit]
    assert acs_main([*args, "--no-cache", "--max-turns", "3", "--trace", str(trace)]) == 0
    capsys.readouterr()
    messages = sft.from_trace(trace, max_turns=4)
    recorded = json.loads(trace.read_text())
    assert messages == sft.conversation_from_trajectory(recorded, max_turns=4)
    assert messages[-1]["content"].startswith('answer(files=["pkg/io.py"]')
    out = data["tmp"] / "from-trace.jsonl"
    assert sft.main(["--trace", str(trace), "--out", str(out)]) == 0
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["messages"] == messages and row["reward"] is None
    bad = data["tmp"] / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(InvalidArgumentError):
        sft.from_trace(bad)
