"""Training the ranker end to end on planted data: search records in, a model file out that
the engine loads and that ranks by the signal the data planted."""

from __future__ import annotations

import random

import orjson
import pytest

from acs.issue import parse_issue
from acs.policies.base import Turn
from acs.rank.model import LearnedRanker
from acs.train.ranker.fit import main, repo_folds, to_query, train_model

pytest.importorskip("lightgbm")

FILES = [f"pkg/mod{i}.py" for i in range(8)]


def record(i: int, rng: random.Random) -> dict:
    """An issue naming `thing_<i>`, defined in one file (the gold one); BM25 is noise."""
    issue = f"Crash in `thing_{i}` when called twice\nIt fails badly."
    gold = rng.choice(FILES)
    hits = [{"path": p, "score": rng.uniform(1, 10)} for p in rng.sample(FILES, 6)]
    defn = {"path": gold, "name": f"thing_{i}", "qualified_name": f"thing_{i}",
            "kind": "function", "start_line": 3, "end_line": 9}  # fmt: skip
    tasks = [
        {"id": 1, "tool": "bm25", "args": {"query": issue, "limit": 30}},
        {"id": 2, "tool": "symbols", "args": {"name": f"thing_{i}", "limit": 20}},
    ]
    outcomes = [
        {"id": 1, "tool": "bm25", "status": "ok", "result": {"hits": hits}},
        {"id": 2, "tool": "symbols", "status": "ok", "result": {"symbols": [defn], "total": 1}},
    ]
    return {
        "instance_id": f"r{i % 4}-{i}",
        "repo": f"owner/repo{i % 4}",
        "issue": issue,
        "turns": [{"tasks": tasks, "outcomes": outcomes}],
        "gold": {"files": [gold], "functions": [f"{gold}:thing_{i}"]},
        "labels": ["docs-only"] if i % 10 == 9 else [],
    }


@pytest.fixture(scope="module")
def records() -> list[dict]:
    rng = random.Random(3)
    return [record(i, rng) for i in range(120)]


def test_repositories_are_dealt_into_balanced_folds():
    folds = repo_folds(["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"], 2)
    assert folds == [{"a", "d"}, {"b", "c"}]


def test_a_trained_model_loads_and_ranks_by_the_planted_signal(records):
    queries = [to_query(r) for r in records]
    model, _, lines = train_model(queries, k=2, rounds=20)
    ranker = LearnedRanker(orjson.dumps(model).decode())
    assert model["info"]["train_queries"] == 120 and "learned" in "\n".join(lines)
    a, b, _ = model["calibration"]["files"]
    assert a + b > 0
    assert 0 < model["confident"]["files"] < 1
    fresh = record(999, random.Random(11))
    signals = parse_issue(fresh["issue"])
    turns = [Turn(t["tasks"], t["outcomes"]) for t in fresh["turns"]]
    ranked = ranker.rank(signals, turns, fresh["issue"], top_k=5)
    assert ranked["files"][0]["path"] == fresh["gold"]["files"][0]
    assert ranked["files"][0]["confident"]
    assert ranked["functions"][0]["name"] == "thing_999"


def test_the_command_skips_labelled_instances_and_writes_model_and_report(records, tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    out, report = tmp_path / "model.json", tmp_path / "report.md"
    args = ["--train", str(path), "--eval", str(path), "--folds", "2", "--rounds", "10"]
    assert main([*args, "--out", str(out), "--report", str(report)]) == 0
    model = orjson.loads(out.read_bytes())
    assert model["info"]["train_queries"] == 108  # 12 docs-only instances left out
    text = report.read_text()
    assert "## Development set" in text and "| hand joiner |" in text


def test_the_headline_metric_is_defined_once():
    """Acc@k is `acs.task.metrics.acc_at_k`: training's reports and `acs eval` cannot drift."""
    import ast
    from pathlib import Path

    import acs

    package = Path(acs.__file__).parent
    defined = [
        f"{path.relative_to(package)}:{node.name}"
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name.startswith("acc_at")
    ]
    assert defined == ["task/metrics.py:acc_at_k"], defined
