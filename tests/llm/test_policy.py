"""The model planner in the agent loop, with scripted model outputs (no server, no model)."""

from __future__ import annotations

import pytest

import acs
from acs.llm import LlmPolicy, ScriptedBackend, make_llm_policy
from acs.llm.policy import merge_answer
from acs.llm.prompt import PROMPT_VERSION, load_prompts
from acs.localize import make_policy

FILES = {
    "pkg/config.py": (
        "class Settings:\n"
        "    def load(self, path):\n"
        "        return parse(path)\n"
        "\n"
        "def parse(path):\n"
        '    raise ValueError("bad settings file")\n'
    ),
    "pkg/cli.py": "from pkg.config import Settings\n\ndef main():\n    Settings().load('x')\n",
    "tests/test_config.py": "from pkg.config import parse\n\ndef test_parse():\n    parse('x')\n",
}
ISSUE = 'Settings.load raises ValueError "bad settings file" for an empty file'


@pytest.fixture(scope="module")
def repo():
    return acs.Repo.from_files(FILES)


def run(repo, script, max_turns=4, **options):
    backend = ScriptedBackend(script)
    policy = LlmPolicy(backend, max_turns=max_turns)
    result = acs.localize(
        repo, ISSUE, policy=policy, max_turns=max_turns, trajectory=True, **options
    )
    return result, backend


def test_plan_answer_and_merge(repo):
    result, backend = run(
        repo,
        [
            '1. symbols(name="Settings.load")\n'
            '2. grep(pattern="bad settings file", fixed_strings=True)\n'
            '3. outline(path="$2.matches[0].path")\n'
            "end\n",
            'answer(files=["pkg/config.py", "made/up.py"], '
            'functions=["pkg/config.py:parse", "Settings.load", "nowhere"])\n',
        ],
    )
    assert result["stats"]["calls_per_turn"] == [3]  # the answer turn runs no task
    assert result["files"][0] == {"path": "pkg/config.py", "score": 1.0, "confident": True}
    assert "made/up.py" not in {f["path"] for f in result["files"]}  # never seen: dropped
    functions = {f["name"]: f for f in result["functions"]}
    assert functions["parse"]["start_line"] == 5 and functions["parse"]["end_line"] == 6
    assert functions["Settings.load"]["kind"] == "method"
    assert {"path": "pkg/config.py", "start": 5, "end": 6} in result["lines"]
    transcript = result["trajectory"]["transcript"]
    assert transcript["prompt_version"] == PROMPT_VERSION == "planner-v3"
    assert backend.requests[0]["messages"][0]["content"] == load_prompts("planner-v3").system
    assert transcript["answer"]["files"][0] == "pkg/config.py"
    # The model's second request saw the results of the first turn.
    second = backend.requests[1]["messages"]
    assert second[:3] == backend.requests[0]["messages"] + [
        {"role": "assistant", "content": transcript["turns"][0]["output"]}
    ]
    assert "[2] grep: 1 matches in 1 files" in second[-1]["content"]
    assert "[3] outline: pkg/config.py (6 lines)" in second[-1]["content"]


def test_malformed_lines_become_error_outcomes_and_the_model_replans(repo):
    result, backend = run(
        repo,
        [
            "I will search for the settings loader.\n"  # prose, no task number
            "1. symbols(name=Settings)\n"  # unquoted: not a literal
            '2. serach(query="x")\n'  # unknown tool: the engine refuses it
            '3. grep(pattern="bad settings file")\n'
            '4. read(path="$2.files[0].path")\n'  # references a refused task
            "end\n",
            "only prose again\n",
            '5. symbols(name="Settings")\nend\n',
            'answer(files=["pkg/config.py"], functions=[])\n',
        ],
    )
    turns = result["trajectory"]["turns"]
    assert len(turns) == 3
    first = {o["id"]: o for o in turns[0]["outcomes"]}
    assert first[1]["error"]["kind"] == "plan_syntax"
    assert "not a literal" in first[1]["error"]["message"]
    assert first[2]["error"]["kind"] == "invalid_plan" and "serach" in first[2]["error"]["message"]
    assert first[3]["status"] == "ok"
    assert first[4]["status"] == "error" and "task 2" in first[4]["error"]["message"]
    assert first[5]["tool"] == "?" and "not a task" in first[5]["error"]["message"]
    # A turn of prose only still ends in an observation, and the model gets another turn.
    assert [o["error"]["kind"] for o in turns[1]["outcomes"]] == ["plan_syntax"]
    observed = backend.requests[1]["messages"][-1]["content"]
    assert "[1] symbols: error (plan_syntax)" in observed
    assert "[2] serach: error (invalid_plan): unknown tool `serach`" in observed
    assert "[5] ?: error (plan_syntax): `I will search" in observed
    assert "Number new tasks from 6" in observed
    assert turns[2]["outcomes"][0]["status"] == "ok"
    assert result["files"][0]["path"] == "pkg/config.py"


def test_renumbered_tasks_keep_their_references(repo):
    result, _ = run(
        repo,
        [
            '1. find_files(query="config")\nend\n',
            # The model starts again at 1: the tasks get fresh ids, references follow.
            '1. outline(path="$1.path")\n'
            '1. find_files(query="cli")\n'
            '2. read(path="$1.files[0].path")\n'
            "end\n",
        ],
        max_turns=2,
    )
    second = result["trajectory"]["turns"][1]
    ids = [t["id"] for t in second["tasks"]]
    assert ids == [2, 3, 4]
    assert second["tasks"][0]["args"] == {"path": "$1.path"}  # no task 1 this turn yet
    assert second["tasks"][2]["args"] == {"path": "$3.files[0].path"}  # the latest task 1
    assert second["outcomes"][2]["result"]["path"] == "pkg/cli.py"


def test_last_turn_asks_for_the_answer_under_the_answer_grammar(repo):
    _, backend = run(
        repo, ['1. symbols(name="parse")\nend\n', "answer(files=[], functions=[])\n"], max_turns=2
    )
    first, last = backend.requests
    assert not first["constraint"].final and last["constraint"].final
    assert "Last turn" in last["messages"][-1]["content"]


def test_no_answer_falls_back_to_the_joiner(repo):
    scripted, _ = run(
        repo, ['1. grep(pattern="bad settings file", fixed_strings=True)\nend\n'], max_turns=2
    )
    assert scripted["files"][0]["path"] == "pkg/config.py"
    # An empty answer is no answer either.
    empty, _ = run(
        repo,
        [
            '1. grep(pattern="bad settings file", fixed_strings=True)\nend\n',
            "answer(files=[], functions=[])\n",
        ],
    )
    assert empty["files"] == scripted["files"]


def test_model_that_writes_nothing_ends_the_search(repo):
    result, backend = run(repo, ["end\n"])
    assert result["stats"]["turns"] == 0 and len(backend.requests) == 1
    assert result["files"] == [] or all(f["score"] > 0 for f in result["files"])


def test_policy_object_is_reusable(repo):
    backend = ScriptedBackend(
        lambda messages: (
            '1. symbols(name="parse")\nend\n'
            if len(messages) == 2
            else 'answer(files=["pkg/config.py"])\n'
        )
    )
    policy = LlmPolicy(backend, max_turns=3)
    first = acs.localize(repo, ISSUE, policy=policy)
    second = acs.localize(repo, ISSUE, policy=policy)
    assert first["files"] == second["files"] and first["files"][0]["path"] == "pkg/config.py"
    assert len(backend.requests) == 4


def test_functions_located_through_grep_and_references(repo):
    result, _ = run(
        repo,
        [
            '1. grep(pattern="bad settings file", enclosing=True)\n'
            '2. references(name="parse")\nend\n',
            'answer(files=["pkg/config.py"], functions=["parse", "pkg/config.py:Settings.load"])\n',
        ],
    )
    functions = {f["name"]: (f["start_line"], f["end_line"]) for f in result["functions"]}
    assert functions["parse"] == (5, 6) and functions["Settings.load"] == (2, 3)


def test_merge_weights():
    from acs.llm.planlang import Answer
    from acs.policies.base import Turn

    hit = {
        "path": "b.py",
        "score": 1.0,
        "name": "g",
        "qualified_name": "g",
        "kind": "function",
        "start_line": 3,
        "end_line": 9,
    }
    outcome = {
        "id": 1,
        "tool": "bm25",
        "status": "ok",
        "result": {
            "hits": [hit, {**hit, "path": "a.py", "name": "f", "qualified_name": "f"}],
            "documents": 2,
        },
    }
    turns = [Turn([{"id": 1, "tool": "bm25", "args": {}}], [outcome])]
    base = {
        "files": [{"path": "b.py", "score": 1.0}, {"path": "c.py", "score": 0.5}],
        "functions": [],
        "lines": [{"path": "c.py", "start": 1, "end": 2}],
    }
    merged = merge_answer(Answer(0, ["a.py"], ["a.py:f"], ""), base, turns, top_k=10, weight=0.5)
    assert [f["path"] for f in merged["files"]] == ["a.py", "b.py", "c.py"]
    assert merged["functions"][0]["name"] == "f" and merged["functions"][0]["score"] == 1.0
    assert merged["lines"][0] == {"path": "a.py", "start": 3, "end": 9}
    only_model = merge_answer(Answer(0, ["a.py"], [], ""), base, turns, top_k=1, weight=1.0)
    assert only_model["files"] == [{"path": "a.py", "score": 1.0, "confident": True}]


def test_the_answer_merges_with_the_joiners_confident_set_and_is_all_confident():
    """The joiner's items below its confident set do not enter the merge (the model's answer
    is merged with what the joiner would answer itself), and the merged answer is the
    model planner's chosen set: every item in it is confident."""
    from acs.llm.planlang import Answer
    from acs.policies.base import Turn

    outcome = {"id": 1, "tool": "find_files", "status": "ok", "result": {"files": []}}
    turns = [Turn([{"id": 1, "tool": "find_files", "args": {}}], [outcome])]
    base = {
        "files": [
            {"path": "b.py", "score": 1.0, "confident": True},
            {"path": "c.py", "score": 0.2, "confident": False},
        ],
        "functions": [],
        "lines": [],
    }
    merged = merge_answer(Answer(0, [], [], ""), base, turns, top_k=10, weight=0.5)
    assert merged["files"] == [{"path": "b.py", "score": 1.0, "confident": True}]


def test_unknown_policy_lists_the_model_planners():
    with pytest.raises(acs.InvalidArgumentError, match="transformers, vllm"):
        make_policy("gpt")
    with pytest.raises(acs.InvalidArgumentError, match="needs --model"):
        make_policy("transformers")


def test_explain_names_the_models_answer(repo):
    policy = LlmPolicy(
        ScriptedBackend(
            [
                '1. grep(pattern="bad settings file", fixed_strings=True)\n'
                '2. outline(path="$1.matches[0].path")\nend\n',
                'answer(files=["pkg/config.py"], functions=["pkg/config.py:parse"])\n',
            ]
        )
    )
    result = acs.localize(repo, ISSUE, policy=policy, explain=True)
    assert "the model's answer ranks it #1" in result["why"]["pkg/config.py"]
    assert result["why"]["pkg/config.py:parse"].endswith("the model's answer ranks it #1")


def test_planner_v1_is_kept_to_reproduce_the_runs_made_with_it(repo):
    script = ['answer(files=["pkg/config.py"], functions=["pkg/config.py:Settings.load"])\n']
    backend = ScriptedBackend(script)
    policy = LlmPolicy(backend, prompt_version="planner-v1")
    result = acs.localize(repo, ISSUE, policy=policy, trajectory=True)
    assert result["trajectory"]["transcript"]["prompt_version"] == "planner-v1"
    assert backend.requests[0]["messages"][0]["content"] == load_prompts("planner-v1").system
    # The command line's factory takes it too.
    made = make_llm_policy("vllm", model="m", prompt_version="planner-v1")
    assert made.prompts.version == "planner-v1"
    assert make_llm_policy("vllm", model="m").prompts.version == "planner-v3"


def test_the_model_planner_builds_on_the_learned_ranking(repo):
    """Without an answer, a model planner answers as the default policy would from the same
    evidence (the shipped learned ranker's calibrated probabilities), not as the joiner."""
    from acs.issue import parse_issue
    from acs.joiner import rank as joiner_rank
    from acs.policies.base import Turn
    from acs.policies.default import default_ranking

    result, _ = run(
        repo,
        [
            '1. grep(pattern="bad settings file", fixed_strings=True)\n'
            '2. symbols(name="Settings.load")\nend\n',
            "answer(files=[], functions=[])\n",
        ],
        max_turns=2,
    )
    turns = [Turn(t["tasks"], t["outcomes"]) for t in result["trajectory"]["turns"]]
    signals = parse_issue(ISSUE)
    learned = default_ranking(signals, turns, ISSUE, 10, 20)
    assert result["files"] == learned["files"] and result["functions"] == learned["functions"]
    assert result["files"] != joiner_rank(signals, turns, ISSUE, 10, 20)["files"]
