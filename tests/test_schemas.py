"""The JSON Schemas in docs/schema describe what the CLI really writes: every JSON output,
produced here by the CLI, validates against its schema, and an output that grows a field the
schema does not know fails validation (so the schemas cannot silently fall behind)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from acs.cli import main
from acs.toolspec import arguments_schema
from helpers import ROOT

SCHEMAS = ROOT / "docs" / "schema"
NAMES = ["localize", "tool", "plan", "index", "eval-row", "eval-summary", "tool-arguments"]


def _load() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(SCHEMAS.glob("*.json"))}


pytestmark = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="docs/schema not beside the tests")


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return _load()


def validator(schemas: dict[str, dict[str, Any]], name: str, pointer: str = "") -> Any:
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    schema = {"$ref": schemas[name]["$id"] + (f"#{pointer}" if pointer else "")}
    return Draft202012Validator(schema, registry=registry)


def assert_valid(schemas: dict[str, dict[str, Any]], name: str, value: Any, pointer: str = ""):
    errors = list(validator(schemas, name, pointer).iter_errors(value))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def acs_json(*args: str, stdin: str | None = None) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "acs", *args], capture_output=True, text=True, input=stdin
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("schema-repo")
    (root / "pkg").mkdir()
    (root / "pkg" / "parser.py").write_text(
        "class Parser:\n"
        "    def parse_header(self, text):\n"
        "        if not text:\n"
        "            raise ValueError('empty header')\n"
        "        return text.split(':')\n"
    )
    (root / "pkg" / "use.py").write_text(
        "from .parser import Parser\n\ndef run(t):\n    return Parser().parse_header(t)\n"
    )
    return str(root)


def test_every_schema_is_a_valid_draft_2020_12_schema(schemas):
    assert sorted(schemas) == sorted(NAMES)
    for name, schema in schemas.items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert schema["$id"].endswith(f"/{name}.json"), name
        Draft202012Validator.check_schema(schema)


# -- real outputs validate ---------------------------------------------------------------------


ISSUE = "Parser.parse_header raises ValueError 'empty header' for an empty string"


def test_localize_output(schemas, repo):
    assert_valid(schemas, "localize", acs_json("localize", "--repo", repo, ISSUE))


def test_localize_output_with_warnings_and_reasons(schemas, repo):
    import acs

    result = acs.localize(acs.Repo.open(repo), ISSUE + " x" * 40_000, explain=True)
    assert result["warnings"] and result["why"]
    assert_valid(schemas, "localize", result)


TOOL_CALLS = {
    "grep": {"pattern": "parse_header", "context": 1, "enclosing": True},
    "find_files": {"query": "parser"},
    "symbols": {"name": "parse", "mode": "prefix"},
    "outline": {"path": "pkg/parser.py"},
    "read": {"path": "pkg/parser.py", "symbol": "Parser.parse_header"},
    "references": {"name": "Parser"},
    "bm25": {"query": "empty header", "level": "function"},
}


@pytest.mark.parametrize("tool", sorted(TOOL_CALLS))
def test_tool_output(schemas, repo, tool):
    result = acs_json("tool", "--repo", repo, tool, json.dumps(TOOL_CALLS[tool]))
    assert_valid(schemas, "tool", result, f"/$defs/{tool}")
    assert_valid(schemas, "tool", result)


def test_plan_output_with_ok_error_and_skipped_tasks(schemas, repo):
    plan = [
        {"id": i, "tool": tool, "args": args}
        for i, (tool, args) in enumerate(TOOL_CALLS.items(), start=1)
    ]
    plan.append({"id": 10, "tool": "read", "args": {"path": "no/such.py"}})
    plan.append({"id": 11, "tool": "outline", "args": {"path": "$10.path"}})
    report = acs_json("plan", "--repo", repo, "-", stdin=json.dumps(plan))
    statuses = {t["status"] for t in report["tasks"]}
    assert statuses == {"ok", "error", "skipped"}
    assert_valid(schemas, "plan", report)


def test_index_output(schemas, repo, tmp_path):
    report = acs_json("index", repo, "--format", "json", "--cache-dir", str(tmp_path))
    assert_valid(schemas, "index", report)


@pytest.fixture
def eval_files(world, tmp_path):  # world: conftest.py's bare repository and its issues
    out = tmp_path / "run"
    argv = ["eval", str(world["data"]), "--repos", str(world["repos"]), "--out", str(out)]
    assert main([*argv, "--workers", "1", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return rows, json.loads((out / "summary.json").read_text())


# -- unknown fields fail -----------------------------------------------------------------------


def _grown(value: dict[str, Any], path: list[str | int]) -> dict[str, Any]:
    """`value` with an extra field in the object at `path`."""
    grown = copy.deepcopy(value)
    target: Any = grown
    for key in path:
        target = target[key]
    target["surprise"] = 1
    return grown


@pytest.mark.parametrize(
    "path",
    [[], ["files", 0], ["functions", 0], ["lines", 0], ["stats"], ["stats", "latency_split_ms"]],
    ids=lambda p: "/".join(map(str, p)) or "top",
)
def test_localize_output_with_an_unknown_field_fails(schemas, repo, path):
    result = acs_json("localize", "--repo", repo, ISSUE)
    assert not validator(schemas, "localize").is_valid(_grown(result, path))


@pytest.mark.parametrize("tool", sorted(TOOL_CALLS))
def test_tool_output_with_an_unknown_field_fails(schemas, repo, tool):
    result = acs_json("tool", "--repo", repo, tool, json.dumps(TOOL_CALLS[tool]))
    assert not validator(schemas, "tool").is_valid(_grown(result, []))
    lists = [k for k, v in result.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
    for key in lists:  # `read` has none: its lines are strings
        assert not validator(schemas, "tool").is_valid(_grown(result, [key, 0])), key


def test_plan_and_index_outputs_with_an_unknown_field_fail(schemas, repo, tmp_path):
    plan = [{"id": 1, "tool": "grep", "args": {"pattern": "Parser"}}]
    report = acs_json("plan", "--repo", repo, "-", stdin=json.dumps(plan))
    for path in ([], ["tasks", 0], ["tasks", 0, "result"], ["tasks", 0, "result", "matches", 0]):
        assert not validator(schemas, "plan").is_valid(_grown(report, path)), path
    index = acs_json("index", repo, "--format", "json", "--cache-dir", str(tmp_path))
    for path in ([], ["parsed"]):
        assert not validator(schemas, "index").is_valid(_grown(index, path)), path


def test_eval_rows_and_summary_and_their_unknown_fields(schemas, eval_files):
    rows, summary = eval_files
    assert {r["status"] for r in rows} == {"ok", "error"}
    assert {r["policy"] for r in rows} == {"default", "bm25"}
    for row in rows:
        assert_valid(schemas, "eval-row", row)
    assert_valid(schemas, "eval-summary", summary)
    ok = next(r for r in rows if r["status"] == "ok" and r["policy"] == "default")
    for path in (
        [],
        ["prediction"],
        ["gold"],
        ["prediction", "confident"],
        ["latency_split_ms"],
    ):
        assert not validator(schemas, "eval-row").is_valid(_grown(ok, path)), path
    for path in (
        [],
        ["per_policy", "default"],
        ["per_policy", "default", "counts"],
        ["per_policy", "default", "latency_split_ms"],
        ["per_policy", "default", "latency_split_ms", "rank"],
    ):
        assert not validator(schemas, "eval-summary").is_valid(_grown(summary, path)), path


# -- tool arguments: generated from the engine's tool spec -----------------------------------


def test_the_tool_arguments_schema_is_generated_from_the_engines_spec(schemas):
    assert schemas["tool-arguments"] == arguments_schema(), (
        "docs/schema/tool-arguments.json is stale: run scripts/gen-tool-schema"
    )


def test_the_tool_arguments_schema_takes_what_the_engine_takes(schemas, repo):
    good = {"pattern": "x", "case": "smart", "include": ["*.py"], "context": 2}
    assert_valid(schemas, "tool-arguments", good, "/$defs/grep")
    assert_valid(schemas, "tool-arguments", {"name": "f", "kinds": ["class"]}, "/$defs/symbols")
    acs_json("tool", "--repo", repo, "grep", json.dumps(good))
    for tool, args in TOOL_CALLS.items():  # each ran in test_tool_output
        assert_valid(schemas, "tool-arguments", args, f"/$defs/{tool}")
    for tool, bad in [
        ("grep", {"patern": "x"}),
        ("grep", {"case": "loud"}),
        ("symbols", {"name": "f", "kinds": ["klass"]}),
        ("read", {"path": "a.py", "start": 0}),
    ]:
        errors = list(validator(schemas, "tool-arguments", f"/$defs/{tool}").iter_errors(bad))
        assert errors, (tool, bad)
