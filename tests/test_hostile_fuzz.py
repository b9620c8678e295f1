"""Fuzzing (issue 9): plans as JSON, the plan language a model writes, and issue texts.

Whatever the input: a plan either runs or fails with an `AcsError`; the plan-language parser
and the issue parser never raise and answer in bounded time; formatting a task and parsing it
back gives the same task, for every string."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from acs import Repo
from acs.errors import AcsError
from acs.issue import IssueSignals, _parse_issue, parse_issue
from acs.llm.planlang import (
    TOOLS,
    Answer,
    Arg,
    Call,
    End,
    Invalid,
    PlanParser,
    format_task,
    parse_line,
    parse_plan,
)
from helpers.cpu_clock import HANG_S, cpu_limited, cpu_of

FUZZ = settings(
    max_examples=150,
    deadline=None,  # Hypothesis's deadline is wall time: each test is `@BOUNDED` instead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# CPU seconds per example: a quadratic blow-up fails the test.
BOUNDED = cpu_limited(2.0)

# Every string, lone surrogates and controls included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)


@pytest.fixture(scope="module")
def repo() -> Repo:
    return Repo.from_files(
        {
            "pkg/core.py": "def parse(path):\n    raise ValueError('bad')\n\n\nclass Core: ...\n",
            "pkg/util.py": "from pkg.core import parse\n\ndef helper():\n    return parse('x')\n",
            "README.md": "# pkg\nParse things.\n",
        }
    )


# -- plans as JSON -------------------------------------------------------------------------

TOOL_NAMES = [*TOOLS, "nope", ""]
ARG_NAMES = sorted({name for spec in TOOLS.values() for name in spec} | {"x", ""})
REFERENCES = st.sampled_from(
    ["$1", "$1.files[0].path", "$1.matches[*].path", "$2.symbols[-1].name", "$$1", "$0", "$9"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | ANY_TEXT
    | REFERENCES
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=10,
)
TASKS = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=-2, max_value=6) | st.sampled_from([2**64, 2**63, "1"]),
        "tool": st.sampled_from(TOOL_NAMES),
        "args": st.dictionaries(st.sampled_from(ARG_NAMES), JSON, max_size=4) | JSON,
    }
)
PLANS = (
    st.lists(TASKS, max_size=5)
    | st.fixed_dictionaries({"tasks": st.lists(TASKS, max_size=5)})
    | JSON
    | st.lists(JSON, max_size=3)
)


@FUZZ
@given(plan=PLANS)
@BOUNDED
def test_a_plan_runs_or_fails_with_an_acs_error(repo, plan):
    try:
        report = repo.run_plan(plan)
    except AcsError:
        return
    assert isinstance(report["tasks"], list)


@FUZZ
@given(tool=st.sampled_from(TOOL_NAMES) | ANY_TEXT, args=JSON)
@BOUNDED
def test_a_tool_call_answers_or_fails_with_an_acs_error(repo, tool, args):
    try:
        repo.call(tool, args)
    except AcsError:
        pass


@FUZZ
@given(tasks=st.lists(TASKS, max_size=4), wait_for=st.integers(-(2**65), 2**65) | st.none())
@BOUNDED
def test_a_streamed_plan_fails_only_with_acs_errors(repo, tasks, wait_for):
    run = repo.start_plan()
    for task in tasks:
        try:
            run.submit(task)
        except AcsError:
            pass
    try:
        run.wait(wait_for, timeout=1.0)  # type: ignore[arg-type]
    except AcsError:
        pass
    assert run.wait_all(timeout=HANG_S)["complete"]


# -- the plan language -----------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "1. ", "12) ", "- ", "task 3: ", "9" * 30, "9" * 5000 + ". ", "grep(", "read(",
        "pattern=", "files=[", "start=", '"', "'", "\\", "\\x00", "\\ud800", "$1.files[0].path",
        "$1", ")", "]", "[", ",", " ", "  " * 50, "\t", "\n", "\r", "\x00", "\ud800", "<think>",
        "</think>", "```", "True", "-5", "**k", "f(x)", "1e9999", "done", "answer(", "end",
    ]
)  # fmt: skip
MODEL_OUTPUT = st.lists(PIECES | ANY_TEXT, max_size=30).map("".join)


@FUZZ
@given(text=MODEL_OUTPUT)
@example(text="9" * 5000 + ". end\n")  # int() refuses over 4,300 digits
@BOUNDED
def test_the_plan_parser_never_raises(text):
    for item in parse_plan(text):
        assert isinstance(item, Call | Answer | Invalid | End)


@FUZZ
@given(text=MODEL_OUTPUT, cut=st.integers(min_value=1, max_value=8))
@BOUNDED
def test_streaming_in_chunks_reads_what_a_whole_output_reads(text, cut):
    parser = PlanParser()
    items = []
    for i in range(0, len(text), cut):
        items += parser.feed(text[i : i + cut])
    assert items + parser.close() == parse_plan(text)


def _values(arg: Arg) -> st.SearchStrategy[Any]:
    match arg.kind:
        case "str":
            return ANY_TEXT
        case "int":
            return st.integers(min_value=-(2**63), max_value=2**63)
        case "bool":
            return st.booleans()
        case "strs":
            return st.lists(ANY_TEXT, max_size=3)
        case "enum":
            return st.sampled_from(arg.values)
    return st.lists(st.sampled_from(arg.values), max_size=3)


@st.composite
def tasks_in_plan_language(draw: st.DrawFn) -> tuple[int, str, dict[str, Any]]:
    tool = draw(st.sampled_from(sorted(TOOLS)))
    spec = TOOLS[tool]
    names = draw(st.lists(st.sampled_from(sorted(spec)), min_size=1, max_size=4, unique=True))
    return draw(st.integers(1, 999)), tool, {n: draw(_values(spec[n])) for n in names}


@settings(FUZZ, max_examples=300)
@given(task=tasks_in_plan_language())
@BOUNDED
def test_format_then_parse_gives_the_same_task(task):
    number, tool, args = task
    item = parse_line(format_task(number, tool, args))
    assert isinstance(item, Call)
    assert (item.number, item.tool, item.args) == (number, tool, args)


# -- issue texts -----------------------------------------------------------------------------

ISSUE_PIECES = st.sampled_from(
    [
        "`", "```", "```py\n", '"', "'", "<", ">", ".", "/", ":", "-", "_", " ", "\n", "\t",
        "a", "A", "1", "(", ")", "$", "Error", "error:", "Traceback", 'File "', ", line ",
        ", in ", "at ", "x.py", ":12", "http://", "www.", "--flag=", "self.", "e.g.",
        "x.py:" + "9" * 5000,
    ]
)  # fmt: skip
ISSUES = st.lists(ISSUE_PIECES | ANY_TEXT, max_size=60).map("".join)


@FUZZ
@given(text=ISSUES)
@example(text='File "a.py", line ' + "9" * 5000)
@BOUNDED
def test_the_issue_parser_never_raises(text):
    assert isinstance(parse_issue(text), IssueSignals)


@settings(FUZZ, max_examples=40)
@given(unit=st.lists(ISSUE_PIECES, min_size=1, max_size=4).map("".join), size=st.just(60_000))
def test_the_issue_parser_is_linear_on_repetitive_text(unit, size):
    text = (unit * (size // len(unit) + 1))[:size]
    _parse_issue.cache_clear()
    _, cpu = cpu_of(lambda: parse_issue(text))
    assert cpu < 1.5, f"{cpu:.2f} s of CPU"
