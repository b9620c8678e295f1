"""The ranker's candidates and features, on evidence written by hand: every value says what
one tool said about one candidate, and absent evidence is NaN, never 0."""

from __future__ import annotations

import math

from acs.issue import parse_issue
from acs.policies.base import Turn
from acs.rank.features import (
    FILE_FEATURES,
    FUNCTION_FEATURES,
    FUNCTION_FILES,
    file_features,
    flat_symbols,
    function_features,
)

ISSUE = "Widgets explode in `render_widget`\nThey explode when widget.py renders twice."


def ok(i: int, tool: str, result: dict) -> dict:
    return {"id": i, "tool": tool, "status": "ok", "result": result}


def hit(path: str, score: float, name: str | None = None) -> dict:
    h: dict = {"path": path, "score": score}
    if name:
        h.update(name=name, qualified_name=name, kind="function", start_line=10, end_line=19)
    return h


def turns() -> list[Turn]:
    first = [
        ({"id": 1, "tool": "bm25", "args": {"query": ISSUE, "limit": 30}}, "bm25",
         {"hits": [hit("pkg/widget.py", 8.0), hit("pkg/other.py", 2.0)]}),
        ({"id": 2, "tool": "bm25", "args": {"query": ISSUE, "level": "function"}}, "bm25",
         {"hits": [hit("pkg/other.py", 3.0, "helper")]}),
        ({"id": 3, "tool": "symbols", "args": {"name": "render_widget"}}, "symbols",
         {"symbols": [{"path": "pkg/widget.py", "name": "render_widget",
                       "qualified_name": "render_widget", "kind": "function",
                       "start_line": 30, "end_line": 40}], "total": 1}),
        ({"id": 4, "tool": "broken", "args": {}}, "broken", None),
    ]  # fmt: skip
    tasks = [t for t, _, _ in first]
    outcomes = [
        ok(t["id"], tool, r) if r is not None else {"id": 4, "tool": tool, "status": "error"}
        for t, tool, r in first
    ]
    outline = {
        "path": "pkg/widget.py",
        "symbols": [
            {"name": "Widget", "qualified_name": "Widget", "kind": "class",
             "path": "pkg/widget.py", "start_line": 1, "end_line": 20,
             "children": [{"name": "draw", "qualified_name": "Widget.draw", "kind": "method",
                           "path": "pkg/widget.py", "start_line": 5, "end_line": 9}]},
        ],
    }  # fmt: skip
    second = Turn([{"id": 5, "tool": "outline", "args": {"path": "pkg/widget.py"}}])
    second.outcomes = [ok(5, "outline", outline)]
    return [Turn(tasks, outcomes), second]  # type: ignore[arg-type]


def values(table, key, names) -> dict[str, float]:
    return dict(zip(names, table.rows[table.keys.index(key)], strict=True))


def test_every_surfaced_file_is_a_candidate_with_one_value_per_feature():
    table, _ = file_features(parse_issue(ISSUE), turns(), ISSUE)
    assert table.keys == ["pkg/other.py", "pkg/widget.py"]
    assert all(len(row) == len(FILE_FEATURES) for row in table.rows)


def test_bm25_scores_are_relative_to_the_best_hit_and_ranked():
    table, _ = file_features(parse_issue(ISSUE), turns(), ISSUE)
    widget = values(table, "pkg/widget.py", FILE_FEATURES)
    other = values(table, "pkg/other.py", FILE_FEATURES)
    assert (widget["bm25_issue_norm"], widget["bm25_issue_rank"]) == (1.0, 1)
    assert (other["bm25_issue_norm"], other["bm25_issue_rank"]) == (0.25, 2)
    assert other["fn_bm25_issue_max"] == 1.0 and other["fn_bm25_issue_hits"] == 1


def test_absent_evidence_is_missing_not_zero():
    table, _ = file_features(parse_issue(ISSUE), turns(), ISSUE)
    other = values(table, "pkg/other.py", FILE_FEATURES)
    assert math.isnan(other["sym_hits"]) and math.isnan(other["bm25_title_norm"])
    widget = values(table, "pkg/widget.py", FILE_FEATURES)
    assert widget["sym_hits"] == 1 and widget["sym_specificity"] == 1.0


def test_path_and_kind_features_read_the_path():
    table, _ = file_features(parse_issue(ISSUE), turns(), ISSUE)
    widget = values(table, "pkg/widget.py", FILE_FEATURES)
    assert widget["stem_in_issue"] == 1.0 and widget["name_share"] == 1.0
    assert (widget["is_test"], widget["is_source"], widget["depth"]) == (0.0, 1.0, 1.0)


def test_outlined_definitions_become_function_candidates():
    signals = parse_issue(ISSUE)
    _, search = file_features(signals, turns(), ISSUE)
    scores = {"pkg/widget.py": 2.0, "pkg/other.py": -1.0}
    fns = function_features(search, scores)
    assert fns.keys == [
        ("pkg/other.py", "helper"),
        ("pkg/widget.py", "Widget"),
        ("pkg/widget.py", "Widget.draw"),
        ("pkg/widget.py", "render_widget"),
    ]
    draw = values(fns, ("pkg/widget.py", "Widget.draw"), FUNCTION_FEATURES)
    assert draw["outlined"] == 1.0 and draw["is_method"] == 1.0 and draw["file_rank"] == 1
    named = values(fns, ("pkg/widget.py", "render_widget"), FUNCTION_FEATURES)
    assert named["name_in_issue"] == 1.0 and named["sym_specificity"] == 1.0
    assert math.isnan(named["outlined"])


def test_nested_definitions_are_flattened_after_their_parent():
    syms = [{"qualified_name": "A", "children": [{"qualified_name": "A.b"}]}]
    assert flat_symbols(syms) == [{"qualified_name": "A"}, {"qualified_name": "A.b"}]


# -- function candidates and the features added after the shipped model ------------------------

TRACE_ISSUE = """Drawing a Widget crashes

```
>>> from pkg.widget import render_widget
Traceback (most recent call last):
  File "/env/site-packages/pkg/widget.py", line 7, in draw
    helper(self)
  File "/env/site-packages/pkg/util.py", line 3, in paint
    raise ValueError
ValueError
```
`Widget.draw` calls paint, and `scale` too.
"""


def definition(path: str, qualified: str, kind: str, start: int, end: int) -> dict:
    name = qualified.rsplit(".", 1)[-1]
    return {"path": path, "name": name, "qualified_name": qualified, "kind": kind,
            "start_line": start, "end_line": end}  # fmt: skip


def function_rows(issue: str, defs: list[dict], scores: dict[str, float]) -> dict:
    """The function rows of `defs` (each found by one function-level BM25 query, scored in
    list order) by (path, qualified name), as feature dicts."""
    hits = [d | {"score": float(len(defs) - i)} for i, d in enumerate(defs)]
    task = {"id": 1, "tool": "bm25", "args": {"query": issue, "level": "function"}}
    turn = Turn([task], [ok(1, "bm25", {"hits": hits})])  # type: ignore[arg-type]
    _, search = file_features(parse_issue(issue), [turn], issue)
    table = function_features(search, scores)
    return {k: values(table, k, FUNCTION_FEATURES) for k in table.keys}


TRACED = [
    definition("pkg/widget.py", "Widget.draw", "method", 5, 9),
    definition("pkg/other.py", "draw", "function", 1, 4),
    definition("pkg/widget.py", "render_widget", "function", 11, 20),
    definition("pkg/util.py", "paint", "function", 1, 5),
    definition("pkg/util.py", "scale", "function", 6, 9),
    definition("pkg/util.py", "Canvas.resize", "method", 10, 19),
    definition("pkg/widget.py", "Gadget.draw", "method", 21, 30),
]
SCORES = {"pkg/widget.py": 3.0, "pkg/util.py": 2.0, "pkg/other.py": 1.0}


def test_a_function_a_traceback_frame_is_in_is_2_and_one_of_its_name_elsewhere_1():
    rows = function_rows(TRACE_ISSUE, TRACED, SCORES)
    assert rows[("pkg/widget.py", "Widget.draw")]["frame_function"] == 2.0
    assert rows[("pkg/util.py", "paint")]["frame_function"] == 2.0
    assert rows[("pkg/other.py", "draw")]["frame_function"] == 1.0  # the name, not the file
    # The file and the name, but the frame's line is in another class's draw.
    assert rows[("pkg/widget.py", "Gadget.draw")]["frame_function"] == 1.0
    assert rows[("pkg/widget.py", "render_widget")]["frame_function"] == 0.0


def test_in_quoted_code_reads_fences_interactive_lines_and_inline_code_not_prose():
    rows = function_rows(TRACE_ISSUE, TRACED, SCORES)
    assert rows[("pkg/widget.py", "render_widget")]["in_quoted_code"] == 1.0  # `>>>` in a fence
    assert rows[("pkg/util.py", "scale")]["in_quoted_code"] == 1.0  # `inline`
    assert rows[("pkg/widget.py", "Widget.draw")]["in_quoted_code"] == 1.0
    assert rows[("pkg/util.py", "Canvas.resize")]["in_quoted_code"] == 0.0
    # Prose only (the last line names paint outside backticks; the trace's fence does too).
    prose = "Drawing crashes: paint is wrong, and `unclosed scale"
    rows = function_rows(prose, TRACED, SCORES)
    assert rows[("pkg/util.py", "paint")]["in_quoted_code"] == 0.0
    assert rows[("pkg/util.py", "scale")]["in_quoted_code"] == 0.0


def test_identifier_rank_is_the_place_of_the_first_identifier_naming_the_definition():
    issue = "`Canvas.resize` breaks after `draw`; see `pkg.util.scale`"
    assert parse_issue(issue).identifiers[:1] == ["Canvas.resize"]
    rows = function_rows(issue, TRACED, SCORES)
    ids = parse_issue(issue).identifiers
    assert rows[("pkg/util.py", "Canvas.resize")]["identifier_rank"] == 0.0
    assert rows[("pkg/widget.py", "Widget.draw")]["identifier_rank"] == ids.index("draw")
    assert rows[("pkg/util.py", "scale")]["identifier_rank"] == ids.index("pkg.util.scale")
    assert math.isnan(rows[("pkg/util.py", "paint")]["identifier_rank"])


def test_class_in_issue_says_the_issue_names_a_methods_class():
    rows = function_rows("the Widget flickers when resized", TRACED, SCORES)
    assert rows[("pkg/widget.py", "Widget.draw")]["class_in_issue"] == 1.0
    assert rows[("pkg/util.py", "Canvas.resize")]["class_in_issue"] == 0.0
    assert rows[("pkg/widget.py", "render_widget")]["class_in_issue"] == 0.0  # no class


def test_rank_in_file_ranks_a_files_own_candidates_by_the_joiners_score():
    rows = function_rows("paint scale resize", TRACED, SCORES)
    util = {k[1]: r["rank_in_file"] for k, r in rows.items() if k[0] == "pkg/util.py"}
    # BM25 scores follow list order: paint, scale, then Canvas.resize.
    assert util == {"paint": 1.0, "scale": 2.0, "Canvas.resize": 3.0}
    assert rows[("pkg/other.py", "draw")]["rank_in_file"] == 1.0


def test_function_candidates_come_from_the_best_function_files_files():
    defs = [definition(f"pkg/m{i:02}.py", f"f{i:02}", "function", 1, 2) for i in range(30)]
    scores = {f"pkg/m{i:02}.py": 100.0 - i for i in range(30)}
    rows = function_rows("anything", defs, scores)
    assert FUNCTION_FILES == 10
    assert sorted(p for p, _ in rows) == [f"pkg/m{i:02}.py" for i in range(FUNCTION_FILES)]
    assert {r["file_rank"] for r in rows.values()} == set(map(float, range(1, FUNCTION_FILES + 1)))
