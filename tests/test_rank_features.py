"""The ranker's candidates and features, on evidence written by hand: every value says what
one tool said about one candidate, and absent evidence is NaN, never 0."""

from __future__ import annotations

import math

from acs.issue import parse_issue
from acs.policy import Turn
from acs.rank.features import (
    FILE_FEATURES,
    FUNCTION_FEATURES,
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
