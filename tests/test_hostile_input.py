"""Hostile input (issue 9): whatever a careless or hostile caller passes, acs answers in
bounded time with an `AcsError` (the CLI: one line on stderr, exit 2 for bad usage and 1 for
a runtime failure), never a traceback, another exception type, or a hang.

Time bounds, in CPU time (tests/helpers/cpu_clock.py), are generous for a linear algorithm and far
below what the quadratic code they replace took (tens of seconds on these inputs)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

import acs
from acs import Repo
from acs.cachedir import max_cache_bytes
from acs.cli import one_line, printable
from acs.errors import AcsError, InvalidArgumentError, PlanError, UnknownCommitError
from acs.issue import MAX_ISSUE_CHARS, _parse_issue, message_fragments, parse_issue
from acs.llm import LlmPolicy, ScriptedBackend
from acs.llm.planlang import Call, End, Invalid, format_task, parse_line, parse_plan
from helpers.cpu_clock import child_cpu, cpu_of

# A linear parse of 100 KB takes milliseconds; the quadratic one took tens of seconds.
BOUND_S = 2.0


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """`fn(*args)` and the CPU seconds it took."""
    return cpu_of(lambda: fn(*args))


@pytest.fixture(scope="module")
def repo() -> Repo:
    return Repo.from_files(
        {
            "pkg/core.py": "def parse_config(path):\n    raise ValueError('bad config')\n",
            "pkg/util.py": "class Helper:\n    def run(self):\n        return 1\n",
        }
    )


# -- issue text: every regex linear, the text capped, parsed once, inside the budget -----

# Each took the old parser more than 5 s (most, minutes); a linear one needs milliseconds.
ADVERSARIAL_ISSUES = {
    "dots": "." * 100_000,  # the frame regex had no left anchor: 36 s for 20,000 dots
    "one long word": "a" * 100_000,
    "slashes": "a/" * 50_000,
    "dotted word": "a." * 50_000,
    "version-like": "1." * 50_000,
    "blank lines": "\n" * 100_000,  # `^\s*` ran over every following blank line
    "lines of a space": " \n" * 50_000,
    "error, blank lines, colon": "error" + "\n" * 100_000 + ":",
    # Each `file:line` frame was matched against every frame before it.
    "distinct file:line frames": " ".join(f"m{i}.py:{i}" for i in range(10_000)),
}


@pytest.mark.parametrize("text", ADVERSARIAL_ISSUES.values(), ids=ADVERSARIAL_ISSUES.keys())
def test_issue_parsing_is_linear_on_adversarial_text(text):
    _parse_issue.cache_clear()
    _, cpu = timed(parse_issue, text)
    assert cpu < BOUND_S


@pytest.mark.parametrize(
    "message", [' "a' * 33_000, "<" * 100_000, "'x " * 30_000], ids=["quotes", "lt", "words"]
)
def test_message_fragments_is_linear(message):
    _, cpu = timed(message_fragments, message)
    assert cpu < BOUND_S


def test_a_line_number_of_thousands_of_digits_is_no_frame_and_no_error():
    big = "9" * 5000  # int() refuses over 4,300 digits
    signals = parse_issue(f'File "a.py", line {big}, in f\nat g (b.js:{big}:1)\nc.py:{big}')
    assert signals.frames == []


def test_an_issue_is_read_up_to_the_cap():
    signals = parse_issue("x " * MAX_ISSUE_CHARS + "\nlate_identifier_name")
    assert "late_identifier_name" not in signals.identifiers


def test_tokens_too_long_to_be_names_are_not_identifiers():
    assert parse_issue("the " + "very_long_name" * 100 + " fails").identifiers == []


def test_localize_parses_the_issue_once(repo):
    _parse_issue.cache_clear()
    acs.localize(repo, "parse_config raises ValueError: bad config")
    info = _parse_issue.cache_info()
    assert info.misses == 1 and info.hits >= 1  # the planner and the ranker share it


@pytest.mark.parametrize(
    "issue",
    ["." * 20_000, "a" * 40_000, "the parser fails on the config file\n" * 600_000],
    ids=["20k dots", "40k word", "20 MB prose"],
)
def test_localize_keeps_its_budget_on_huge_issues(repo, issue):
    result, cpu = timed(lambda: acs.localize(repo, issue, budget_ms=1000))
    assert cpu < 3.0  # was 36 s, 26 s and 45 s
    assert result["stats"]["turns"] >= 1


def test_a_truncated_issue_is_reported(repo):
    result = acs.localize(repo, "parse_config fails\n" + "x " * MAX_ISSUE_CHARS)
    assert "longer than" in result["warnings"][0]
    assert "warnings" not in acs.localize(repo, "parse_config fails")


# -- model output: the plan-language parser never raises, in bounded time ----------------


def test_a_task_number_of_thousands_of_digits_is_an_invalid_line():
    [item] = parse_plan("9" * 5000 + ". end\n")
    assert isinstance(item, Invalid)
    assert "digits" in item.message


@pytest.mark.parametrize(
    "line",
    ["x" + " " * 40_000 + "x", "1" + " " * 40_000 + "x", "- " + " " * 40_000 + "grep(x)"],
    ids=["inner spaces", "number then spaces", "bullet then spaces"],
)
def test_a_line_of_spaces_parses_in_linear_time(line):
    item, cpu = timed(parse_line, line)
    assert isinstance(item, Invalid | Call)
    assert cpu < BOUND_S  # 9.5 s before


def test_a_huge_task_number_from_the_model_reaches_localize_as_an_observation(repo):
    script = ["9" * 5000 + '. grep(pattern="x")\nend\n', 'answer(files=["pkg/core.py"])\n']
    policy = LlmPolicy(ScriptedBackend(script), max_turns=2)
    result = acs.localize(repo, "parse_config fails", policy=policy, max_turns=2)
    assert result["stats"]["turns"] >= 1


def test_an_out_of_range_integer_from_the_model_is_a_task_error(repo):
    script = ['1. read(path="pkg/core.py", start=99999999999999999999999)\nend\n']
    policy = LlmPolicy(ScriptedBackend(script), max_turns=1)
    result = acs.localize(repo, "parse_config fails", policy=policy, max_turns=1)
    assert result["stats"]["tool_calls"] == 1


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "a\rb", "\ud800", "x\udfffy", "\x1b[31m", "\x7f", "\\x00", "\\u0041", "q\"'\\"],
)
def test_format_then_parse_round_trips_controls_and_surrogates(value):
    args = {"pattern": value, "paths": [value, "b"], "context": 2, "word": True}
    item = parse_line(format_task(7, "grep", args))
    assert isinstance(item, Call) and item.args == args and item.number == 7


def test_regex_escapes_a_model_writes_are_left_to_the_engine():
    item = parse_line(r'1. grep(pattern="\x2e\w+\u0041")')
    assert isinstance(item, Call) and item.args["pattern"] == r"\x2e\w+\u0041"


def test_end_still_ends():
    assert isinstance(parse_line("3. end"), End)


# -- the Python API: bad values are AcsErrors ---------------------------------------------

BAD_CALLS: dict[str, tuple[Callable[[Repo], Any], type[AcsError]]] = {
    "read start=-1": (lambda r: r.read("pkg/core.py", start=-1), InvalidArgumentError),
    "read start=2**64": (lambda r: r.read("pkg/core.py", start=2**64), InvalidArgumentError),
    "grep lone surrogate": (lambda r: r.grep("\ud800"), InvalidArgumentError),
    "grep None": (lambda r: r.grep(None), InvalidArgumentError),
    "grep 5": (lambda r: r.grep(5), InvalidArgumentError),
    "grep context=2**70": (lambda r: r.grep("x", context=2**70), InvalidArgumentError),
    "grep include=7": (lambda r: r.grep("x", include=7), InvalidArgumentError),
    "find_files surrogate": (lambda r: r.find_files("\udcff"), InvalidArgumentError),
    "outline surrogate": (lambda r: r.outline("\ud800"), InvalidArgumentError),
    "bm25 surrogate": (lambda r: r.bm25("\ud800 x"), InvalidArgumentError),
    "symbols limit=-1": (lambda r: r.symbols("x", limit=-1), InvalidArgumentError),
    "references 2**64": (lambda r: r.references("x", max_results=2**64), InvalidArgumentError),
    "call tool None": (lambda r: r.call(None, {}), InvalidArgumentError),
    "call tool surrogate": (lambda r: r.call("\ud800", {}), InvalidArgumentError),
    "call args list": (lambda r: r.call("grep", ["x"]), InvalidArgumentError),
    "grep_many None": (lambda r: r.grep_many(None), InvalidArgumentError),
    "grep_many surrogate": (
        lambda r: r.grep_many([{"patterns": ["\ud800"]}]),
        InvalidArgumentError,
    ),
    "run_plan None": (lambda r: r.run_plan(None), PlanError),
    "run_plan 1": (lambda r: r.run_plan(1), PlanError),
    "run_plan True": (lambda r: r.run_plan(True), PlanError),
    "run_plan str": (lambda r: r.run_plan("abc"), PlanError),
    "run_plan surrogate": (
        lambda r: r.run_plan([{"id": 1, "tool": "grep", "args": {"pattern": "\ud800"}}]),
        PlanError,
    ),
    "run_plan id 2**64": (
        lambda r: r.run_plan([{"id": 2**64, "tool": "grep", "args": {"pattern": "x"}}]),
        PlanError,
    ),
    "submit None": (lambda r: r.start_plan().submit(None), PlanError),
    "submit str": (lambda r: r.start_plan().submit("abc"), PlanError),
    "submit surrogate": (
        lambda r: r.start_plan().submit({"id": 1, "tool": "grep", "args": {"pattern": "\ud800"}}),
        PlanError,
    ),
    "wait -1": (lambda r: r.start_plan().wait(-1, timeout=0.01), InvalidArgumentError),
    "wait 2**64": (lambda r: r.start_plan().wait(2**64, timeout=0.01), InvalidArgumentError),
    "wait None": (lambda r: r.start_plan().wait(None, timeout=0.01), InvalidArgumentError),
    "wait timeout nan": (lambda r: r.start_plan().wait(1, timeout=float("nan")), AcsError),
    "wait timeout str": (lambda r: r.start_plan().wait(1, timeout="1"), InvalidArgumentError),
    "wait_all timeout -1": (lambda r: r.start_plan().wait_all(timeout=-1), InvalidArgumentError),
    "open None": (lambda r: Repo.open(None), InvalidArgumentError),
    "open commit surrogate": (lambda r: Repo.open(".", commit="\ud800"), InvalidArgumentError),
    "open max_file_size=-1": (lambda r: Repo.open(".", max_file_size=-1), InvalidArgumentError),
    "open max_file_size=2**64": (
        lambda r: Repo.open(".", max_file_size=2**64),
        InvalidArgumentError,
    ),
    "open exclude surrogate": (lambda r: Repo.open(".", exclude=["\ud800"]), InvalidArgumentError),
    "open exclude 3": (lambda r: Repo.open(".", exclude=3), InvalidArgumentError),
    "open index_cache 3": (lambda r: Repo.open(".", index_cache=3), InvalidArgumentError),
    "from_files None": (lambda r: Repo.from_files(None), InvalidArgumentError),
    "from_files surrogate path": (lambda r: Repo.from_files({"\ud800": "x"}), InvalidArgumentError),
    "from_files int content": (lambda r: Repo.from_files({"a.py": 1}), InvalidArgumentError),
    "localize None": (lambda r: acs.localize(r, None), InvalidArgumentError),
    "localize top_k='3'": (lambda r: acs.localize(r, "x", top_k="3"), InvalidArgumentError),
    "localize top_k=0": (lambda r: acs.localize(r, "x", top_k=0), InvalidArgumentError),
    "localize top_k_functions=0": (
        lambda r: acs.localize(r, "x", top_k_functions=0),
        InvalidArgumentError,
    ),
    "localize min_score nan": (
        lambda r: acs.localize(r, "x", min_score=float("nan")),
        InvalidArgumentError,
    ),
    "localize min_score 2": (lambda r: acs.localize(r, "x", min_score=2), InvalidArgumentError),
    "localize budget nan": (
        lambda r: acs.localize(r, "x", budget_ms=float("nan")),
        InvalidArgumentError,
    ),
    "localize budget inf": (
        lambda r: acs.localize(r, "x", budget_ms=float("inf")),
        InvalidArgumentError,
    ),
    "localize budget -1": (lambda r: acs.localize(r, "x", budget_ms=-1), InvalidArgumentError),
    "localize policy 3": (lambda r: acs.localize(r, "x", policy=3), InvalidArgumentError),
    "start_plan timeout nan": (lambda r: r.start_plan(timeout=float("nan")), InvalidArgumentError),
    "start_plan timeout -1": (lambda r: r.start_plan(timeout=-1), InvalidArgumentError),
    "cache budgets -1": (lambda r: acs.set_cache_budgets(-1, 0), InvalidArgumentError),
    "cache budgets 2**64": (lambda r: acs.set_cache_budgets(0, 2**64), InvalidArgumentError),
    "cache budgets str": (lambda r: acs.set_cache_budgets("1", 0), InvalidArgumentError),
    "term budget -5": (lambda r: acs.set_cache_budgets(1, 1, -5), InvalidArgumentError),
}


@pytest.mark.parametrize(("call", "error"), BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_values_raise_the_matching_acs_error(tmp_path, monkeypatch, repo, call, error):
    monkeypatch.chdir(tmp_path)  # `Repo.open(".")` opens an empty folder
    with pytest.raises(error):
        call(repo)


def test_a_plan_that_is_a_string_is_named_as_such(repo):
    with pytest.raises(PlanError, match="got str"):
        repo.run_plan("abc")


def test_a_lone_surrogate_in_the_issue_is_replaced(repo):
    assert acs.localize(repo, "\ud800 parse_config")["files"]


def test_an_unresolvable_revision_says_so(make_git):
    path, _ = make_git({"a.py": "x = 1\n"})
    with pytest.raises(UnknownCommitError, match="does not resolve"):
        Repo.open(path, commit=":/no commit says this")


def test_a_huge_cache_budget_is_clamped(monkeypatch):
    monkeypatch.setenv("ACS_CACHE_MAX_MB", "99999999999999")
    assert max_cache_bytes() == 2**64 - 1


# -- the command line: one line on stderr, the documented status, never a traceback -------


def run_acs(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    import os

    return subprocess.run(
        [sys.executable, "-m", "acs", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def assert_one_line_error(out: subprocess.CompletedProcess[str], status: int) -> None:
    assert out.returncode == status, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("acs: ") and out.stderr.count("\n") == 1, out.stderr


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("hostile")
    (root / "a.py").write_text("def alpha():\n    return 1\n")
    (root / "we\x1b[31mird\tname.py").write_text("alpha()\n")
    return str(root)


@pytest.mark.parametrize("plan", ["null", "1", "true", '"abc"', "3.5"])
def test_a_plan_that_is_no_list_or_object_is_a_usage_error(tree, plan):
    out = run_acs("plan", "--repo", tree, "-", stdin=plan)
    assert_one_line_error(out, 2)
    assert "a plan is" in out.stderr


@pytest.mark.parametrize("args", ['["a"]', "null", "3", '"pattern"'])
def test_tool_arguments_must_be_an_object(tree, args):
    out = run_acs("tool", "--repo", tree, "grep", args)
    assert_one_line_error(out, 2)


@pytest.mark.parametrize("budget", ["nan", "inf", "-1", "0"])
def test_a_budget_that_is_no_positive_number_is_a_usage_error(tree, budget):
    out = run_acs("localize", "--repo", tree, "--budget-ms", budget, "alpha")
    assert_one_line_error(out, 2)
    assert "--budget-ms" in out.stderr


def test_an_invalid_regex_is_one_line_without_the_engine_wrapper(tree):
    out = run_acs("tool", "--repo", tree, "grep", '{"pattern": "a(b"}')
    assert_one_line_error(out, 1)
    assert "unclosed group" in out.stderr and "(?:" not in out.stderr


def test_an_unresolvable_commit_says_it_does_not_resolve(make_git):
    path, _ = make_git({"a.py": "x = 1\n"})
    out = run_acs("tool", "--repo", str(path), "--commit", ":/nomatch", "grep", '{"pattern": "x"}')
    assert_one_line_error(out, 1)
    assert "does not resolve" in out.stderr and "no error" not in out.stderr


@pytest.mark.parametrize("command", ["index", "localize"])
def test_a_huge_cache_budget_is_no_overflow(tree, tmp_path, command):
    env = {"ACS_CACHE_MAX_MB": "99999999999999", "ACS_CACHE_DIR": str(tmp_path)}
    args = ["index", tree] if command == "index" else ["localize", "--repo", tree, "alpha"]
    out = run_acs(*args, env=env)
    assert out.returncode == 0, out.stderr


def test_text_output_escapes_control_characters_in_names(tree):
    plan = [{"id": 1, "tool": "find_files", "args": {"query": "name"}}]
    out = run_acs("plan", "--repo", tree, "--format", "text", "-", stdin=json.dumps(plan))
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "we\\x1b[31mird\\tname.py" in out.stdout
    out = run_acs("localize", "--repo", tree, "--format", "text", "weird name alpha")
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\\x1b" in out.stdout


def test_a_cut_issue_is_a_warning_on_stderr(tree):
    out = run_acs("localize", "--repo", tree, "-", stdin="alpha " * MAX_ISSUE_CHARS)
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("acs: warning: the issue is longer than")


def test_a_huge_adversarial_issue_keeps_the_budget_end_to_end(tree):
    with child_cpu() as cpu:
        out = run_acs("localize", "--repo", tree, "--budget-ms", "1000", "-", stdin="." * 200_000)
    assert out.returncode == 0, out.stderr
    assert cpu() < 10  # CPU seconds, process start included; was minutes


def test_helpers_make_messages_one_printable_line():
    engine = 'invalid pattern "a(b": regex parse error:\n    (?:a(b)\n    ^\nerror: unclosed group'
    assert one_line(engine) == 'invalid pattern "a(b": regex parse error: unclosed group'
    assert printable("a\x1b[0m\u202eb\x00") == "a\\x1b[0m\\u202eb\\x00"


# -- ways in added with the learned ranker, mined data and RL training -------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--min-score", "nan"],
        ["--min-score", "-0.5"],
        ["--top-k-functions", "0"],
        ["--top-k-functions", "-1"],
    ],
)
def test_localize_list_flags_out_of_range_are_usage_errors(tree, args):
    assert_one_line_error(run_acs("localize", "--repo", tree, *args, "alpha"), 2)


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["/nonexistent/repo", "--name", "a/b"], 1),  # no such directory
        (["{tree}", "--name", "a/b"], 1),  # not a git repository
        (["{git}", "--name", "../../etc"], 2),  # not an owner/name: never a path
        (["{git}", "--name", "sympy/sympy"], 2),  # held out, whatever the repository
        (["{git}", "--name", "a/b", "--max", "-3"], 2),
    ],
)
def test_data_mine_refuses_what_it_cannot_mine_in_one_line(tree, make_git, tmp_path, args, status):
    out_file = tmp_path / "out.jsonl"
    repo = str(make_git({"a.py": "x = 1\n"}, {"a.py": "x = 2\n"})[0])
    argv = [a.replace("{tree}", tree).replace("{git}", repo) for a in args]
    assert_one_line_error(run_acs("data", "mine", *argv, "--out", str(out_file)), status)
    assert not out_file.exists()  # nothing written for a refused repository


def test_eval_refuses_an_unknown_executor(tree):
    out = run_acs("eval", "x.jsonl", "--repos", tree, "--executor", "dask")
    assert out.returncode == 2 and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # nesting far past any parser's stack
        '{"format": "acs-gbdt", "version": 1, "features": ["a"], "trees": [{"num_leaves": '
        '1000000000, "split_feature": [], "threshold": [], "decision_type": [], '
        '"left_child": [], "right_child": [], "leaf_value": [0.1]}]}',
        '{"format": "acs-gbdt", "version": 99}',
        "\x00\xff not json",
    ],
)
def test_a_hostile_tree_model_is_an_invalid_argument_quickly(text):
    from acs.rank import gbdt

    def load() -> None:
        with pytest.raises(InvalidArgumentError):
            gbdt.loads(text)

    assert timed(load)[1] < BOUND_S


# --- the training tools' new ways in: executors, workers, smoke settings, env tokenizer -----


def run_module(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "args",
    [["--workers", "0"], ["--workers", "-3"], ["--executor", "dask"]],
)
@pytest.mark.parametrize("module", ["acs.train.planner.rl_data", "acs.train.planner.sft"])
def test_data_builders_refuse_bad_executor_options_and_write_nothing(tree, tmp_path, module, args):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"instance_id": "a-1", "repo": "acme/a", "base_commit": "0" * 40,
                                "problem_statement": "x", "patch": "y"}) + "\n")  # fmt: skip
    out = tmp_path / "out"
    done = run_module(module, str(data), "--repos", tree, "--out", str(out), *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert ("workers" in done.stderr) or ("dask" in done.stderr)
    assert not out.exists()


def test_ordered_map_refuses_a_worker_count_that_is_no_positive_integer():
    from acs.distributed import ordered_map

    for workers in (0, -1, True, 1.5):
        with pytest.raises(InvalidArgumentError, match="workers must be a positive integer"):
            ordered_map(str, [1], workers=workers)  # type: ignore[arg-type]


def test_a_missing_ray_is_one_clear_error_for_the_data_builders(monkeypatch, tmp_path):
    from acs.task.dataset import Instance
    from acs.train.planner import rl_data

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    inst = Instance("a-1", "acme/a", "0" * 40, "x", "y")
    with pytest.raises(InvalidArgumentError, match=r"pip install 'agentic-code-search\[ray\]'"):
        rl_data.build_rows([inst], tmp_path, executor="ray")


@pytest.mark.parametrize(
    "fields",
    [
        {"steps": -1},
        {"group": 0},
        {"lr": 0.0},
        {"lr": float("nan")},
        {"kl_coef": -0.1},
        {"kl_coef": float("inf")},
        {"temperature": 0.0},
        {"max_new_tokens": 0},
        {"optimizer": "lion"},
        {"loss_reduction": "sum"},
        {"batch_size": 0},
    ],
)
def test_policy_gradient_settings_out_of_range_are_invalid_arguments(fields):
    from acs.train.planner.pg import PgSettings

    with pytest.raises(InvalidArgumentError, match="invalid policy-gradient settings"):
        PgSettings(**fields)


@pytest.mark.parametrize(
    "args",
    [
        ["--group", "0"],
        ["--lr", "-1"],
        ["--kl", "-1"],
        ["--bugs", "9"],
        ["--warm-steps", "-2"],
        ["--temperature", "0"],
        ["--eval-samples", "0"],
        ["--loss-reduction", "sum"],
        ["--budget-s", "0"],
        ["--budget-s", "nan"],
        ["--group", "100000"],
        ["--eval-samples", "100000"],
    ],
)
def test_the_smoke_command_refuses_bad_settings_before_any_work(tmp_path, args):
    work = tmp_path / "work"
    done = run_module("acs.train.planner.pg_smoke", "--workdir", str(work), *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert not work.exists()  # refused before the task set is built


def test_training_or_evaluating_on_no_rows_is_an_invalid_argument():
    """Checked before the model, the tokenizer or an environment is touched."""
    from acs.train.planner import pg

    settings = pg.PgSettings()
    with pytest.raises(InvalidArgumentError, match="no rows to train on"):
        pg.train(None, None, [], {}, settings)
    with pytest.raises(InvalidArgumentError, match="nothing to evaluate"):
        pg.evaluate(None, None, [], {}, settings, samples=4)
    with pytest.raises(InvalidArgumentError, match="nothing to evaluate"):
        pg.evaluate(None, None, [{"prompt": []}], {}, settings, samples=0)


def test_an_unloadable_env_tokenizer_is_an_invalid_argument(tmp_path):
    pytest.importorskip("transformers", reason="transformers not installed")
    from acs.train.planner.env import token_counter

    with pytest.raises(InvalidArgumentError, match="cannot load tokenizer"):
        token_counter(str(tmp_path / "no-such-tokenizer"))


# -- issue 20: the public API's remaining bare TypeErrors -------------------------------------

BAD_API_VALUES: dict[str, Callable[[Repo], Any]] = {
    "localize a path": lambda r: acs.localize("/path/to/repo", "x"),
    "localize 42": lambda r: acs.localize(42, "x"),
    "localize None": lambda r: acs.localize(None, "x"),
    "open path surrogate": lambda r: Repo.open("/tmp/\ud800"),
    "open index_cache surrogate": lambda r: Repo.open(".", index_cache="\ud800"),
    "open index_cache not UTF-8": lambda r: Repo.open(".", index_cache="/tmp/\udcff"),
    "start_plan timeout str": lambda r: r.start_plan(timeout="1"),
    "start_plan timeout True": lambda r: r.start_plan(timeout=True),
}


@pytest.mark.parametrize("call", BAD_API_VALUES.values(), ids=BAD_API_VALUES.keys())
def test_bad_api_values_are_one_line_invalid_argument_errors(tmp_path, monkeypatch, repo, call):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError) as e:
        call(repo)
    assert "\n" not in str(e.value) and len(str(e.value)) < 200


def test_a_bytes_path_opens_like_its_str(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    assert Repo.open(bytes(tmp_path), index_cache=False).paths() == ["a.py"]


# -- issue 21: the training pieces' new inputs -----------------------------------------------


@pytest.mark.parametrize("value", [0, -5, "4096", 1.5, True])
def test_a_bad_context_tokens_option_is_an_invalid_argument(value):
    """The env's `context_tokens` (SkyRL's config, or a user's env_config) is refused at
    construction with one line, not turned into a context no prompt fits."""
    pytest.importorskip("skyrl_gym", reason="the RL extra")
    from acs.train.planner.env import AcsLocalizeEnv

    with pytest.raises(InvalidArgumentError, match="context_tokens must be a positive"):
        AcsLocalizeEnv({"context_tokens": value}, {})


@pytest.mark.parametrize("damage", ["garbage model", "no nll", "bad nll"])
def test_a_damaged_warm_cache_entry_is_an_invalid_argument(tmp_path, damage):
    """`pg_smoke --warm-cache`: a torn or foreign entry is named, with what to do; its
    model file is read as weights only (never unpickled code)."""
    pytest.importorskip("torch", reason="torch not installed")
    pytest.importorskip("transformers", reason="transformers not installed")
    from acs.llm.scripted import toy_tokenizer
    from acs.train.planner.pg_smoke import warm_started

    cache, work = tmp_path / "cache", tmp_path / "work"
    toy_tokenizer(["a plan line"], 300).save_pretrained(cache / "tokenizer")
    (cache / "model.pt").write_bytes(b"\x80\x04not a state dict" * 100)
    if damage != "no nll":
        (cache / "nll.json").write_text("[1.0, 2.0]" if damage == "garbage model" else "{")
    work.mkdir()
    with pytest.raises(InvalidArgumentError, match=r"--warm-cache: the entry .* cannot be loaded"):
        warm_started(work, [], shape="tiny", device="cpu", steps=1, lr=1e-3, cache=cache)


def test_model_output_the_planner_cannot_end_is_left_as_it_came():
    """`PlanStopClient` reads any text a sampled model writes: a 1 MB line, a plan that never
    ends, text whose tokens decode to something else: no cut, no error, bounded work."""
    import asyncio

    pytest.importorskip("transformers", reason="transformers not installed")
    from acs.llm.scripted import toy_tokenizer
    from acs.train.planner.plan_stop import PlanStopClient

    tokenizer = toy_tokenizer(["end answer grep"], 300)
    texts = ["x" * 1_000_000 + "\nend\n", "1. grep(pattern=" + "(" * 100_000, "\udcff end\n"]

    class Engine:
        async def generate(self, batch: Any, model: Any = None) -> dict[str, Any]:
            ids = [[tokenizer.eos_token_id] * 3 for _ in texts]  # tokens that are not the text
            return {"responses": list(texts), "response_ids": ids, "stop_reasons": ["length"] * 3}

    started = time.process_time()
    out = asyncio.run(PlanStopClient(Engine(), tokenizer).generate({}))
    assert out["responses"] == texts and out["stop_reasons"] == ["length"] * 3
    assert time.process_time() - started < 30  # CPU time: a 1 MB line is read once


# -- issue 22: the engine reads tool outcomes ---------------------------------------------------


def _turn(tool: str, args: dict[str, Any], result: Any) -> Any:
    from acs.policies.base import Turn

    return Turn([{"id": 1, "tool": tool, "args": args}], [{"status": "ok", "result": result}])  # type: ignore[list-item]


BAD_OUTCOMES = {
    "bm25 without hits": _turn("bm25", {"query": "q"}, {"matches": []}),
    "function hit without a name": _turn(
        "bm25", {"query": "q", "level": "function"}, {"hits": [{"path": "a.py", "score": 1}]}
    ),
    "score of 1 MB": _turn(
        "bm25", {"query": "q"}, {"hits": [{"path": "a", "score": "9" * (1 << 20)}]}
    ),
    "symbols without a name": _turn(
        "symbols",
        {},
        {
            "symbols": [
                {
                    "path": "a",
                    "name": "f",
                    "qualified_name": "f",
                    "kind": "function",
                    "start_line": 1,
                    "end_line": 2,
                }
            ]
        },
    ),
    "a lone surrogate": _turn("grep", {"pattern": "\ud800"}, {"files": [], "matches": []}),
    "a result JSON cannot hold": _turn("grep", {"pattern": "x"}, {"files": [object()]}),
}


@pytest.mark.parametrize("turn", BAD_OUTCOMES.values(), ids=BAD_OUTCOMES.keys())
def test_a_malformed_outcome_is_a_one_line_invalid_argument_for_both_rankers(turn):
    from acs.joiner import rank
    from acs.rank.model import shipped

    signals = parse_issue("x")
    model = shipped()
    assert model is not None
    for ranker in (rank, model.rank):
        with pytest.raises(InvalidArgumentError) as e:
            ranker(signals, [turn], "x", 10, 20)
        assert "\n" not in str(e.value) and len(str(e.value)) < 400


# -- this round's new ways in: the imports tool, History, --min-closeness ---------------------

BAD_IMPORTS_ARGS = {
    "paths not a list": ({"paths": 7}, InvalidArgumentError),
    "a path outside": ({"paths": ["../../etc/passwd"]}, acs.PathOutsideRepoError),
    "a 10 MB path": ({"paths": ["p" * 10_000_000]}, AcsError),
    "a lone surrogate": ({"paths": ["a\udcff.py"]}, InvalidArgumentError),
    "an unknown direction": ({"paths": ["a.py"], "direction": "sideways"}, InvalidArgumentError),
    "a negative limit": ({"paths": ["a.py"], "limit": -1}, InvalidArgumentError),
    "a limit past 2**64": ({"paths": ["a.py"], "limit": 2**70}, InvalidArgumentError),
}


@pytest.mark.parametrize("args,error", BAD_IMPORTS_ARGS.values(), ids=BAD_IMPORTS_ARGS.keys())
def test_bad_imports_arguments_are_one_line_errors(args, error):
    repo = Repo.from_files({"a.py": "import b\n", "b.py": ""})
    with pytest.raises(error) as e:
        repo.call("imports", args)
    assert "\n" not in str(e.value) and len(str(e.value)) < 400


def test_hostile_python_files_give_the_import_graph_what_they_can_in_bounded_time():
    """A 4 MB import line, an unclosed name list, 100,000 leading dots, bytes that are not
    UTF-8 and a docstring that never closes: the graph is built, linear in the input."""
    files: dict[str, str | bytes] = {
        "pkg/__init__.py": "",
        "pkg/a.py": "",
        "huge_line.py": "from pkg import " + "a, " * 1_300_000 + "a\n",
        "unclosed.py": "from pkg import (\n" + "    a,\n" * 100_000,
        "dots.py": "from " + "." * 100_000 + " import a\nimport pkg.a\n",
        "bytes.py": b"import pkg.a\n\xff\xfe from pkg import a\n",
        "docstring.py": '"""\n' + "import pkg.a\n" * 100_000,  # never closed: all text
    }
    repo = Repo.from_files(files)
    found, cpu = cpu_of(lambda: repo.imports(list(files)[2:], limit=100))
    assert {(f["via"], f["path"]) for f in found["files"] if f["direction"] == "imports"} == {
        ("huge_line.py", "pkg/a.py"),
        ("unclosed.py", "pkg/a.py"),
        ("dots.py", "pkg/a.py"),
        ("bytes.py", "pkg/a.py"),
    }
    assert cpu < 30  # CPU seconds: about 10 MB of source is scanned once


@pytest.mark.parametrize(
    "args",
    [{"commits": -1}, {"commits": 10**6}, {"files": True}, {"commits": "5"}],
    ids=["negative", "huge", "a bool", "a string"],
)
def test_bad_history_query_counts_are_one_line_errors(tmp_path, args):
    from acs.history import History
    from helpers.repos import repo_with_fix

    repo_with_fix(tmp_path, {"a.py": "x = 1\n"}, {"a.py": "x = 2\n"})
    history = History.open(tmp_path, index_cache=False)
    with pytest.raises(InvalidArgumentError) as e:
        history.similar_fixes("a fix", **args)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


@pytest.mark.parametrize("value", ["nan", "inf", "-0.1", "1.5", "x"])
def test_a_bad_min_closeness_is_a_usage_error(tmp_path, value):
    mine = ["data", "mine", str(tmp_path), "--out", str(tmp_path / "out.jsonl")]
    done = subprocess.run(
        [sys.executable, "-m", "acs", *mine, "--min-closeness", value],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]  # argparse prints its usage above
    assert "--min-closeness" in last and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "result",
    [
        {"files": [{"path": "b.py"}]},  # no `via`, no `direction`
        {"files": [{"path": 7, "via": "a.py", "direction": "imports"}]},
        {"files": "b.py"},
        {},
    ],
    ids=["fields missing", "a number for a path", "a string for the list", "no files"],
)
def test_a_malformed_imports_outcome_is_a_one_line_error_of_the_evidence(result):
    """A recorded or hand-written search (training records, `acs.evidence.read_search`) whose
    `imports` outcome is malformed: refused by the engine's reader, never a panic."""
    from acs.evidence import read_search
    from acs.issue import parse_issue
    from acs.types import Turn

    issue = "run fails"
    task = {"id": 1, "tool": "imports", "args": {"paths": ["a.py"]}}
    outcome = {"id": 1, "tool": "imports", "status": "ok", "result": result}
    with pytest.raises(InvalidArgumentError) as e:
        read_search(parse_issue(issue), [Turn([task], [outcome])], issue)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_an_imports_outcome_with_odd_arguments_is_read_without_error():
    """`paths` that are not a list, unknown directions and a file the best files never named:
    the reader takes what it can (the rank of an unknown `via` is after every asked file)."""
    from acs.evidence import read_search
    from acs.issue import parse_issue
    from acs.types import Turn

    issue = "run fails"
    hits = [{"path": "b.py", "via": "elsewhere.py", "direction": "sideways"}] * 3
    for args in ({"paths": "a.py"}, {"paths": [1, None]}, {}):
        task = {"id": 1, "tool": "imports", "args": args}
        outcome = {"id": 1, "tool": "imports", "status": "ok", "result": {"files": hits}}
        keys, _ = read_search(parse_issue(issue), [Turn([task], [outcome])], issue).file_table()
        assert list(keys) == ["b.py"]
