"""The plan language (parser, grammar, regex) and the prompt (versioned files, rendering of
results, the conversation)."""

from __future__ import annotations

import functools
import re
import sys
import time
from importlib import resources

import pytest

import acs
from acs.llm import planlang as pl
from acs.llm.planlang import Answer, Call, End, Invalid
from acs.llm.prompt import (
    BUDGETS,
    PROMPT_VERSION,
    Conversation,
    approx_tokens,
    clip,
    load_prompts,
    render_outcome,
    render_turn,
)
from acs.policies.base import Turn
from acs.toolspec import TOOL_SPECS

GOOD = """1. symbols(name="JSONDecoder", kinds=["class"])
2. grep(pattern="Expecting value", fixed_strings=True, max_results=20)
3. outline(path="$1.symbols[0].path")
4. grep(pattern="def \\\\w+\\"x", case="smart", include=["*.py", "lib/*"])
5. read(path="$3.path", start=1, end=40)
end
"""


def calls(items):
    return [i for i in items if isinstance(i, Call)]


def test_good_plan():
    items = pl.parse_plan(GOOD)
    assert [type(i) for i in items] == [Call] * 5 + [End]
    first, _, third, fourth, fifth = calls(items)
    assert (first.number, first.tool, first.args) == (
        1,
        "symbols",
        {"name": "JSONDecoder", "kinds": ["class"]},
    )
    assert third.args == {"path": "$1.symbols[0].path"}  # references stay engine references
    assert fourth.args["pattern"] == 'def \\w+"x'
    assert fifth.args == {"path": "$3.path", "start": 1, "end": 40}


def test_streaming_emits_each_task_when_its_line_ends():
    parser = pl.PlanParser()
    line = '1. symbols(name="Foo")'
    for ch in line:
        assert parser.feed(ch) == []  # not before the newline
    [item] = parser.feed("\n2. gr")
    assert isinstance(item, Call) and item.args == {"name": "Foo"}
    assert parser.feed('ep(pattern="x")\nend\n1. ignored(x=1)\n')[-1] == End(line=3)
    assert parser.done and parser.feed("3. more()\n") == [] and parser.close() == []
    assert parser.output() == '1. symbols(name="Foo")\n2. grep(pattern="x")\nend\n'


def test_truncated_last_line():
    items = pl.parse_plan('1. symbols(name="Foo")\n2. grep(pattern="unterminat')
    assert isinstance(items[0], Call)
    assert isinstance(items[1], Invalid) and "cut off" in items[1].message
    assert items[1].tool == "grep"
    # A last line that is complete but lacks its newline is a task.
    [item] = pl.parse_plan('outline(path="a.py")')
    assert isinstance(item, Call) and item.number is None


def test_unknown_tools_and_arguments_are_left_to_the_engine():
    [item] = pl.parse_plan('1. serach(query="x", whatever=3)\n')
    assert isinstance(item, Call) and item.tool == "serach"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("5. symbols(name=foo)", "not a literal"),
        ('5. symbols(name="a" + "b")', "not a literal"),
        ("5. symbols(**kw)", "`**`"),
        ('5. grep("a", "b")', "by name"),
        ('5. outline(path="a.py").strip()', "one call"),
        ("Here is my plan:", "not a task"),
        ("Let me think about it (briefly)", "not a task"),
        ("answer(files=[1, 2])", "list of strings"),
    ],
)
def test_bad_lines(line, message):
    [item] = pl.parse_plan(line + "\n")
    assert isinstance(item, Invalid)
    assert message in item.message, item.message
    assert item.text == line.strip()


def test_tolerated_slips():
    parse = pl.parse_line
    assert parse("symbols('Foo')").args == {"name": "Foo"}
    assert parse("2) read(path=$1.files[0].path, start=3)").args == {
        "path": "$1.files[0].path",
        "start": 3,
    }
    slips = parse("- 3. grep(pattern='x', include='*.py', word=true, max_results=\"5\")")
    assert slips.number == 3
    assert slips.args == {"pattern": "x", "include": ["*.py"], "word": True, "max_results": 5}
    assert parse("Task 4: bm25(query=\"q\", level='function')").number == 4
    for end in ("end", "END", "<END_OF_PLAN>", "done", "7. end"):
        assert isinstance(parse(end), End), end
    assert parse("") is None and parse("```python") is None and parse("```") is None


def test_answer():
    text = 'answer(files=["a.py", " ./b.py "], functions=["a.py:A.f", "g"])\nend\n'
    [answer] = pl.parse_plan(text)  # the answer ends the output
    assert answer == Answer(1, ["a.py", "./b.py"], ["a.py:A.f", "g"], text.split("\n")[0])
    assert pl.parse_line('answer("a.py")').files == ["a.py"]
    assert pl.parse_line("answer(files=[], functions=[])").files == []


def test_thinking_and_fences_are_skipped():
    text = '<think>\nI should grep.\n</think>\n```\n1. grep(pattern="x")\n```\nend\n'
    items = pl.parse_plan(text)
    assert [type(i) for i in items] == [Call, End]
    assert pl.parse_plan('<think></think>1. grep(pattern="x")\n')[0].tool == "grep"


def test_garbage_never_raises():
    junk = ["\x00\x01", "((((", '"""', "1. ", "1. grep(", "answer(", "$$$", "é" * 50, ")" * 9]
    for text in junk:
        # Two lines the model is told about: the first as not a task, the second (no newline
        # after it) as cut off; nothing is run, nothing is dropped.
        items = pl.parse_plan(text + "\n" + text)
        assert [type(i) for i in items] == [Invalid, Invalid], text
        first, second = items
        assert (first.line, second.line) == (1, 2)
        assert first.text == second.text == text.strip()
        assert first.message and "cut off" in second.message, text


def test_format_round_trip():
    args = {"pattern": 'a"b\\c\nd', "fixed_strings": True, "include": ["*.py"], "context": 2}
    line = pl.format_task(7, "grep", args)
    assert (
        line == '7. grep(pattern="a\\"b\\\\c\\nd", fixed_strings=True, include=["*.py"], context=2)'
    )
    item = pl.parse_line(line)
    assert (item.number, item.tool, item.args) == (7, "grep", args)
    answer = pl.format_answer(["a.py"], ["a.py:f"])
    assert pl.parse_line(answer) == Answer(0, ["a.py"], ["a.py:f"], answer)


def test_tool_spec_matches_the_engine():
    engine = {tool: set(args) for tool, args in acs.tool_arguments()}
    assert {tool: set(spec) for tool, spec in pl.TOOLS.items()} == engine
    assert set(pl.POSITIONAL) == set(engine)


# --- constrained decoding ------------------------------------------------------------------

CANONICAL = [
    GOOD,
    "end\n",
    'answer(files=["a.py"], functions=[])\n',
    '1. bm25(query="x", level="function", limit=5)\nanswer(files=[], functions=["a.py:f"])\n',
    '12. symbols(name="f", mode="fuzzy", kinds=["function", "method"], ignore_case=False)\nend\n',
]
REJECTED = [
    '1. serach(query="x")\nend\n',  # unknown tool
    '1. symbols(nme="x")\nend\n',  # unknown argument
    '1. symbols(name="x", mode="fuzy")\nend\n',  # not one of the modes
    '1. symbols(name="x")\n',  # no end
    "Here is the plan:\nend\n",
    '1. grep(pattern="x", word=true)\nend\n',  # canonical booleans are True/False
]


@pytest.mark.parametrize("text", CANONICAL)
def test_regex_accepts_canonical_plans(text):
    assert re.fullmatch(pl.regex(), text)
    assert all(not isinstance(i, Invalid) for i in pl.parse_plan(text))


@pytest.mark.parametrize("text", REJECTED)
def test_regex_rejects(text):
    assert not re.fullmatch(pl.regex(), text)


def test_final_turn_admits_only_the_answer():
    assert re.fullmatch(pl.regex(final=True), 'answer(files=["a.py"], functions=[])\n')
    assert not re.fullmatch(pl.regex(final=True), GOOD)
    assert pl.constraint(True).final and not pl.constraint(False).final


def test_grammar_with_xgrammar():
    xgr = pytest.importorskip("xgrammar", reason="xgrammar not installed (pip install xgrammar)")
    from xgrammar.testing import _is_grammar_accept_string as accepts
    from xgrammar.testing import _regex_to_ebnf

    plan = xgr.Grammar.from_ebnf(pl.grammar())
    final = xgr.Grammar.from_ebnf(pl.grammar(final=True))
    as_regex = xgr.Grammar.from_ebnf(_regex_to_ebnf(pl.regex()))
    for text in CANONICAL:
        assert accepts(plan, text), text
        assert accepts(as_regex, text), text
    for text in REJECTED:
        assert not accepts(plan, text), text
    assert accepts(final, CANONICAL[2]) and not accepts(final, GOOD)


# --- the prompt ------------------------------------------------------------------------------


def test_prompt_file_is_package_data():
    path = resources.files("acs") / "prompts" / "planner-v1.md"
    assert path.is_file()
    prompts = load_prompts("planner-v1")
    assert prompts.version == "planner-v1"
    assert "{issue}" in prompts.first and "{results}" in prompts.next
    assert "{" not in prompts.system.replace("{issue}", "")  # nothing to fill: a stable prefix
    with pytest.raises(ValueError, match="no prompt version"):
        load_prompts("planner-v0")


def test_prompt_examples_are_valid_plans():
    """Every plan line in the system prompt parses, uses a real tool and real arguments, and
    the tool list names every tool the engine has."""
    system = load_prompts().system
    lines = [line for line in system.splitlines() if re.match(r"^\d+\. \w+\(", line)]
    assert len(lines) >= 8
    for line in lines:
        item = pl.parse_line(line)
        assert isinstance(item, Call), line
        assert item.tool in pl.TOOLS and set(item.args) <= set(pl.TOOLS[item.tool]), line
        assert re.fullmatch(pl.regex(), line + "\nend\n"), line
    answers = [line for line in system.splitlines() if line.startswith("answer(files=[")]
    assert answers and all(isinstance(pl.parse_line(a), Answer) for a in answers)
    for tool in pl.TOOLS:
        assert f"\n{tool}(" in system


def outcome(task_id, tool, result=None, error=None, status="ok"):
    out = {"id": task_id, "tool": tool, "status": status, "deps": [], "fused": 1}
    out |= {"submitted_ms": 0.0, "started_ms": 0.0, "elapsed_ms": 0.1}
    if result is not None:
        out["result"] = result
    if error is not None:
        out["error"] = error
        out["status"] = status if status != "ok" else "error"
    return out


def test_render_results_with_budgets():
    repo = acs.Repo.from_files(
        {f"pkg/m{i}.py": f"def handler_{i}():\n    return 'needle {i}'\n" for i in range(200)}
    )
    grep = repo.grep("needle", max_results=200)
    text = render_outcome(outcome(3, "grep", grep))
    assert text.startswith("[3] grep: 200 matches in 200 files")
    assert "more not shown]" in text
    assert approx_tokens(text) <= BUDGETS["grep"] + 10
    inside = render_outcome(outcome(3, "grep", repo.grep("needle 7'", enclosing=True)))
    assert inside.endswith("pkg/m7.py:2: return 'needle 7'  [in handler_7]")
    sym = render_outcome(outcome(4, "symbols", repo.symbols("handler_7")))
    assert sym == "[4] symbols: 1 definitions\n  pkg/m7.py:1-2 function handler_7"
    read = render_outcome(outcome(5, "read", repo.read("pkg/m1.py", 1, 2)))
    assert read.splitlines()[1:] == ["  1| def handler_1():", "  2|     return 'needle 1'"]
    error = {"kind": "invalid_plan", "message": "invalid plan: task 6: unknown tool `x`"}
    assert render_outcome(outcome(6, "x", error=error)) == (
        "[6] x: error (invalid_plan): unknown tool `x`"
    )
    skipped = {"kind": "skipped", "message": "skipped: dependency 6 failed"}
    assert "[7] read: skipped: skipped: dependency 6" in render_outcome(
        outcome(7, "read", error=skipped, status="skipped")
    )


def test_turn_budget_shrinks_later_results():
    repo = acs.Repo.from_files({f"m{i}.py": "x = 1\n" * 50 for i in range(30)})
    outcomes = [outcome(i, "read", repo.read(f"m{i}.py", 1, 50)) for i in range(30)]
    text = render_turn(Turn([], outcomes), budget=600)
    assert "[details cut: turn budget]" in text
    assert text.count("\n[") == 29  # every result still has its header line


def test_clip_marks_the_cut():
    text = "".join(f"line {i}\n" for i in range(1000))
    clipped = clip(text, 100)
    assert "characters cut …]" in clipped and clipped.startswith("line 0")
    assert clipped.rstrip().endswith("line 999")
    assert clip("short", 100) == "short"


def test_conversation_is_a_growing_prefix():
    issue = "Crash in {max_turns} with {results} braces " + "word " * 5000
    conv = Conversation(load_prompts(), issue, max_turns=3)
    first = [dict(m) for m in conv.messages]
    assert "{results} braces" in first[1]["content"]  # fields in the issue are left alone
    assert "characters of the issue cut" in first[1]["content"]
    conv.answered('1. grep(pattern="x")\nend\n')
    conv.results(
        Turn([], [outcome(1, "grep", error={"kind": "e", "message": "m"})]),
        number=2,
        next_id=2,
        final=False,
    )
    assert conv.messages[:2] == first
    assert "Number new tasks from 2" in conv.messages[-1]["content"]
    conv.answered("end\n")
    conv.results(Turn([], []), number=3, next_id=2, final=True)
    assert "Last turn" in conv.messages[-1]["content"]


def test_importing_acs_imports_no_model_packages():
    import subprocess

    code = (
        "import sys, acs, acs.cli, acs.llm\n"
        "heavy = [m for m in ('httpx', 'torch', 'transformers', 'xgrammar') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "line",
    [
        '1. grep(pattern={["a"]: 1})',  # a dict with a list key
        '1. grep(pattern="x", context="²")',  # a digit that int() refuses
    ],
)
def test_whatever_the_model_writes_is_an_observation_not_a_crash(line):
    assert isinstance(pl.parse_line(line), pl.Invalid)


def test_regex_escapes_are_kept_as_written():
    """`\\b` is a word boundary to the engine, not a backspace; `\\N` is no syntax error."""
    assert pl.parse_line(r'1. grep(pattern="\bfoo\b")').args == {"pattern": r"\bfoo\b"}
    assert pl.parse_line(r'1. grep(pattern="a\N")').args == {"pattern": r"a\N"}
    assert pl.parse_line(r'1. grep(pattern="say \"hi\"")').args == {"pattern": 'say "hi"'}


# --- issue 20: caps on what one plan may hold, and short echoes ------------------------------


def greps(n: int) -> str:
    return "".join(f'{i}. grep(pattern="a")\n' for i in range(1, n + 1)) + "end\n"


def test_a_plan_over_the_task_cap_stops_at_the_cap_with_a_message():
    """2,000 task lines: the first MAX_PLAN_TASKS are tasks, the next is refused with the
    cap named, and the parser stops there (the model stops writing)."""
    parser = pl.PlanParser()
    started = time.process_time()
    items = parser.feed(greps(2_000))
    spent = time.process_time() - started
    assert parser.done
    calls = [i for i in items if isinstance(i, Call)]
    assert len(calls) == pl.MAX_PLAN_TASKS == 256
    refused = items[-1]
    assert isinstance(refused, Invalid) and len(items) == pl.MAX_PLAN_TASKS + 1
    assert "over 256 tasks (the cap on tasks per plan)" in refused.message
    assert parser.output().count("\n") == pl.MAX_PLAN_TASKS + 1  # the conversation keeps no more
    # Parsing stops at the cap: about what parsing 257 lines costs.
    alone = time.process_time()
    pl.parse_plan(greps(pl.MAX_PLAN_TASKS + 1))
    baseline = time.process_time() - alone
    assert spent < 3 * baseline + 0.2, (spent, baseline)


def test_a_plan_at_the_task_cap_is_parsed_whole():
    items = pl.parse_plan(greps(pl.MAX_PLAN_TASKS))
    assert [type(i) for i in items] == [Call] * pl.MAX_PLAN_TASKS + [End]


def test_invalid_lines_count_toward_the_task_cap():
    items = pl.parse_plan("nonsense\n" * 1_000)
    assert len(items) == pl.MAX_PLAN_TASKS + 1
    assert "the cap on tasks per plan" in items[-1].message


def test_the_plan_cap_is_the_engines(tmp_path):
    """The engine refuses a batch of MAX_PLAN_TASKS + 1 tasks, naming the same number."""
    repo = acs.Repo.from_files({"a.py": "a = 1\n"})
    tasks = [{"id": i, "tool": "read", "args": {"path": "a.py"}} for i in range(1, 258)]
    with pytest.raises(acs.PlanError, match=r"257 tasks: .*at most 256 .*tasks per plan"):
        repo.run_plan(tasks)
    report = repo.run_plan(tasks[:256])
    assert [t["status"] for t in report["tasks"]] == ["ok"] * 256


def test_a_line_over_the_line_cap_is_refused_before_it_is_parsed():
    line = "1. grep(patterns=[" + '"a", ' * 2_000_000 + '"a"])'  # 10 MB
    started = time.process_time()
    item = pl.parse_line(line)
    spent = time.process_time() - started
    assert isinstance(item, Invalid)
    assert f"at most {pl.MAX_LINE_CHARS:,} (the cap on a plan line)" in item.message
    assert len(item.message) < 200
    assert spent < 0.5, spent  # parsing it took seconds and gigabytes


def test_an_answer_over_the_entry_cap_is_refused_with_a_message():
    files = ", ".join(f'"f{i}.py"' for i in range(pl.MAX_ANSWER_ENTRIES + 1))
    item = pl.parse_line(f"answer(files=[{files}])")
    assert isinstance(item, Invalid)
    assert "lists 101 files: at most 100 (the cap on answer entries)" in item.message
    at_cap = ", ".join(f'"f{i}.py"' for i in range(pl.MAX_ANSWER_ENTRIES))
    assert isinstance(pl.parse_line(f"answer(files=[{at_cap}], functions=[{at_cap}])"), Answer)
    # A million entries is over the line cap: refused before Python parses the list.
    huge = "answer(files=[" + '"a", ' * 1_000_000 + "])"
    started = time.process_time()
    item = pl.parse_line(huge)
    assert isinstance(item, Invalid) and time.process_time() - started < 0.5


def test_messages_quote_a_short_prefix_of_what_the_model_wrote():
    item = pl.parse_line("1. grep(pattern=" + "x" * 50_000 + ")")
    assert isinstance(item, Invalid)
    assert len(item.message) < 400 and "characters)" in item.message


def test_a_turn_of_many_failures_renders_a_bounded_observation():
    """10,000 invalid lines made a 2.5 MB observation: past twice the turn budget the
    results are counted, and the last failure among them is still shown."""
    error = {"kind": "plan_syntax", "message": "`" + "x" * 300 + "`: not a task"}
    outcomes = [outcome(i, "?", error=error) for i in range(1, 10_001)]
    text = render_turn(Turn([], outcomes))
    assert len(text) < 8 * 3000 * 3.5, len(text)  # a few times the turn's token budget
    assert "more results not shown (turn budget)" in text
    assert "last failure: [" in text


# --- the prompt's tools, arguments and result fields, against the engine ----------------------

PROMPT_VERSIONS = ("planner-v1", "planner-v2", "planner-v3")
# The tools each version describes: a released prompt keeps the tools it was written for.
PROMPT_TOOLS = {
    "planner-v1": set(pl.TOOLS) - {"imports"},
    "planner-v2": set(pl.TOOLS) - {"imports"},
}

FIELD_REPO = {
    "json/decoder.py": "class JSONDecodeError(ValueError):\n    pass\n\n\n"
    "class JSONDecoder:\n    def raw_decode(self, s):\n"
    "        raise JSONDecodeError('Expecting value')\n\n\n"
    "def loads(s):\n    return JSONDecoder().raw_decode(s)\n",
    "json/cli.py": "from json.decoder import loads\n\n\n"
    "def main(argv):\n    return loads(argv[0])\n",
}
# A call of each tool (bm25 at both levels) whose results hold every field a tool gives: a
# grep match inside a method, a class with a child, a use inside a function.
FIELD_CALLS = [
    ("grep", {"pattern": "Expecting value", "enclosing": True}),
    ("find_files", {"query": "decoder"}),
    ("symbols", {"name": "raw_decode"}),
    ("outline", {"path": "json/decoder.py"}),
    ("read", {"path": "json/decoder.py", "symbol": "JSONDecoder.raw_decode"}),
    ("references", {"name": "loads"}),
    ("bm25", {"query": "raw decode expecting value", "level": "function"}),
    ("bm25", {"query": "decoder", "level": "file"}),
    ("imports", {"paths": ["json/cli.py", "json/decoder.py"]}),
]


@functools.cache
def real_outcomes() -> dict[str, list[dict]]:
    """Tool -> the outcomes of its calls in one real plan run."""
    repo = acs.Repo.from_files(FIELD_REPO)
    tasks = [{"id": i, "tool": t, "args": a} for i, (t, a) in enumerate(FIELD_CALLS, start=1)]
    report = repo.run_plan(tasks)
    assert all(o["status"] == "ok" for o in report["tasks"]), report
    out: dict[str, list[dict]] = {}
    for o in report["tasks"]:
        out.setdefault(o["tool"], []).append(o)
    return out


def values_at(result, path):
    """Every value `path` reaches in a result: `matches[i].enclosing.name`, `$N`-style
    `files[0].path` and `hits[*].path` (an index other than a number: every item)."""
    nodes = [result]
    for step in re.findall(r"\w+|\[[^\]]*\]", path):
        if step.startswith("["):
            index = step[1:-1]
            lists = [n for n in nodes if isinstance(n, list)]
            nodes = [
                x
                for n in lists
                for x in (n if not index.isdigit() else n[int(index) : int(index) + 1])
            ]
        else:
            nodes = [n[step] for n in nodes if isinstance(n, dict) and step in n]
    return nodes


def tool_lines(system):
    """The Tools section's lines: tool -> (its arguments' text, its result fields' text)."""
    lines = {}
    for line in system.splitlines():
        m = re.match(r"(\w+)\(", line)
        if m and m[1] in pl.TOOLS and " [" in line:
            arguments, fields = line.rsplit(" [", 1)
            lines[m[1]] = (arguments, fields.removesuffix("]"))
    return lines


def field_paths(fields):
    """`matches[i].path, .line, .enclosing.name (a comment); files[i].path` -> the full paths:
    a field that starts with a dot belongs to the item the group began with."""
    fields = re.sub(r"\s*\([^()]*\)", "", fields)
    paths = []
    for group in fields.split(";"):
        base = ""
        for item in (part.strip() for part in group.split(",")):
            if item.startswith("."):
                paths.append(base + item)
            else:
                base = item[: item.index("]") + 1] if "[" in item else ""
                paths.append(item)
    return paths


def prompt_fields(version):
    return {
        tool: field_paths(fields)
        for tool, (_, fields) in tool_lines(load_prompts(version).system).items()
    }


def missing_fields(fields):
    """The (tool, field) pairs of `fields` that no real result of the tool holds."""
    outcomes = real_outcomes()
    return {
        (tool, path)
        for tool, paths in fields.items()
        for path in paths
        if not any(values_at(o["result"], path) for o in outcomes[tool])
    }


def names_not_as_shown(version):
    """The name fields the prompt names whose values are not written, whole, in the results
    the model is shown (`raw_decode` for `JSONDecoder.raw_decode`): a `$N` reference to one
    would not give the name the model saw."""
    wrong = set()
    for tool, paths in prompt_fields(version).items():
        for o in real_outcomes()[tool]:
            shown = render_outcome(o)
            for path in (p for p in paths if p.endswith("name")):
                for value in values_at(o["result"], path):
                    if not re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", shown):
                        wrong.add((tool, path))
    return wrong


@pytest.mark.parametrize("version", PROMPT_VERSIONS)
def test_every_result_field_the_prompt_names_is_in_real_results(version):
    fields = prompt_fields(version)
    assert set(fields) == PROMPT_TOOLS.get(version, set(pl.TOOLS)), "a tool without its fields"
    assert sum(len(p) for p in fields.values()) >= 15  # the parse sees the fields
    assert missing_fields(fields) == set()


def test_a_misnamed_field_is_found():
    # The check can fail: a field the tools do not return, and one under the wrong item.
    wrong = {"bm25": ["hits[i].path", "hits[i].qualifiedname"], "grep": ["matches[i].name"]}
    assert missing_fields(wrong) == {("bm25", "hits[i].qualifiedname"), ("grep", "matches[i].name")}
    assert field_paths("hits[i].path, .name (bare, a comment); files[i].path, .count") == [
        "hits[i].path",
        "hits[i].name",
        "files[i].path",
        "files[i].count",
    ]


@pytest.mark.parametrize("version", ["planner-v2", "planner-v3"])
def test_the_name_fields_since_planner_v2_give_the_names_the_results_show(version):
    assert names_not_as_shown(version) == set()


def test_planner_v1_describes_bare_names_as_the_names_shown():
    # What planner-v2 fixes: bm25's `name` and grep's enclosing `name` are bare today, while
    # the results (and answers) show the qualified name.
    assert names_not_as_shown("planner-v1") == {
        ("bm25", "hits[i].name"),
        ("grep", "matches[i].enclosing.name"),
    }


@pytest.mark.parametrize("version", PROMPT_VERSIONS)
def test_every_reference_in_the_prompt_is_a_field_of_its_tasks_tool(version):
    """`$N.field` in the examples resolves against the real results of task N's tool; one in
    the prose, against some tool's."""
    system = load_prompts(version).system
    outcomes = real_outcomes()
    any_tool = [o for os_ in outcomes.values() for o in os_]
    checked = 0
    for chunk in system.split("\n# Example"):
        tools = dict(re.findall(r"^(\d+)\. (\w+)\(", chunk, re.M))
        for line in chunk.splitlines():
            task = re.match(r"^\d+\. \w+\(", line)
            for n, path in re.findall(r'"\$(\d+)\.([^"]+)"', line):
                candidates = outcomes[tools[n]] if task else any_tool
                assert any(values_at(o["result"], path) for o in candidates), (version, line)
                checked += 1
    assert checked >= 5


@pytest.mark.parametrize("version", PROMPT_VERSIONS)
def test_every_argument_the_tool_lines_show_is_the_tools(version):
    for tool, (arguments, _) in tool_lines(load_prompts(version).system).items():
        specs = TOOL_SPECS[tool]
        for name, value in re.findall(r'(\w+)=("[^"]*"|\[[^\]]*\]|\w+)', arguments):
            assert name in specs, (version, tool, name)
            if specs[name].type == "enum":
                assert set(value.strip('"').split("|")) <= set(specs[name].values), value
            if specs[name].type == "enums":
                assert set(re.findall(r'"(\w+)"', value)) <= set(specs[name].values), value


def test_every_prompt_version_loads_and_v3_is_the_default():
    assert PROMPT_VERSION == "planner-v3" and load_prompts().version == PROMPT_VERSION
    prompts = [load_prompts(v) for v in PROMPT_VERSIONS]
    assert [p.version for p in prompts] == list(PROMPT_VERSIONS)
    assert len({p.system for p in prompts}) == len(prompts)  # each version its own text
    new = prompts[-1]
    assert all((p.first, p.next, p.final) == (new.first, new.next, new.final) for p in prompts)
    assert (resources.files("acs") / "prompts" / "planner-v3.md").is_file()


def test_an_unknown_prompt_version_is_a_short_error_naming_the_known_ones():
    from acs.errors import InvalidArgumentError

    for version in ("planner-v0", "../prompts/planner-v1", "planner-v1.md", "x" * 10_000_000):
        with pytest.raises(InvalidArgumentError, match="no prompt version") as caught:
            load_prompts(version)
        message = str(caught.value)
        assert "known: planner-v1, planner-v2" in message and len(message) < 300
