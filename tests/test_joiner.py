"""The joiner's ranked lists and confident set, on evidence written by hand."""

from __future__ import annotations

from acs.issue import parse_issue
from acs.joiner import CUT, FN_CUT, confident, rank
from acs.policies.base import Turn

ISSUE = "Widgets explode\nThey explode on tuesdays when the moon is full."


def hit(path: str, score: float, name: str | None = None) -> dict:
    h: dict = {"path": path, "score": score}
    if name:
        h.update(name=name, qualified_name=name, kind="function", start_line=1, end_line=3)
    return h


def bm25_turn() -> Turn:
    """BM25 over files and over functions, nothing else: file names share no word with the
    issue, so the scores follow from the hits alone."""
    tasks = [
        {"id": 1, "tool": "bm25", "args": {"query": ISSUE, "level": "file"}},
        {"id": 2, "tool": "bm25", "args": {"query": ISSUE, "level": "function"}},
    ]
    files = [hit("pkg/alpha.py", 10), hit("pkg/beta.py", 5), hit("pkg/gamma.py", 3)]
    files.append(hit("pkg/delta.py", 1))
    functions = [
        hit("pkg/alpha.py", 4, "f"),
        hit("pkg/gamma.py", 4, "h"),
        hit("pkg/beta.py", 2, "g"),
        hit("pkg/alpha.py", 1, "m"),
        hit("pkg/delta.py", 2, "k"),
    ]
    outcomes = [
        {"id": 1, "tool": "bm25", "status": "ok", "result": {"hits": files}},
        {"id": 2, "tool": "bm25", "status": "ok", "result": {"hits": functions}},
    ]
    return Turn(tasks, outcomes)  # type: ignore[arg-type]


def ranked(top_k: int = 10, top_k_functions: int | None = None) -> dict:
    return rank(parse_issue(ISSUE), [bm25_turn()], ISSUE, top_k, top_k_functions)


def test_the_confident_rule_is_a_share_of_the_best_score():
    assert CUT == FN_CUT == 0.35
    assert confident([2.0, 1.0, 0.7, 0.69, 0.0], "file") == [True, True, True, False, False]
    assert confident([0.0, 0.0], "function") == [False, False]
    assert confident([], "file") == []


def test_the_confident_set_is_what_the_joiner_returned_when_it_cut_its_lists():
    # The old joiner (before ranked lists) returned, for this evidence, exactly these files,
    # functions (scores normalised the same way) and lines.
    old_files = [("pkg/alpha.py", 1.0), ("pkg/gamma.py", 0.5037), ("pkg/beta.py", 0.4593)]
    old_functions = [("f", 1.0), ("h", 0.7519), ("g", 0.3648)]
    old_lines = [
        {"path": p, "start": 1, "end": 3} for p in ("pkg/alpha.py", "pkg/gamma.py", "pkg/beta.py")
    ]
    r = ranked()
    assert [(f["path"], f["score"]) for f in r["files"] if f["confident"]] == old_files
    assert [(f["name"], f["score"]) for f in r["functions"] if f["confident"]] == old_functions
    assert r["lines"] == old_lines
    # Below the confident set, still ranked: a file under 35% of the best, a function under
    # 35% of the best function. Functions come from confident files only (`k` of delta.py).
    assert [(f["path"], f["confident"]) for f in r["files"][3:]] == [("pkg/delta.py", False)]
    assert [(f["name"], f["confident"]) for f in r["functions"][3:]] == [("m", False)]


def test_top_k_and_top_k_functions_cut_the_ranked_lists_not_the_scores():
    r = ranked(top_k=2, top_k_functions=2)
    assert [f["path"] for f in r["files"]] == ["pkg/alpha.py", "pkg/gamma.py"]
    assert [(f["name"], f["score"]) for f in r["functions"]] == [("f", 1.0), ("h", 0.7519)]
    # Functions default to twice as many as files.
    assert len(ranked(top_k=1)["functions"]) == 2
