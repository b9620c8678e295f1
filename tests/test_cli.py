"""The `acs` command: output, exit status and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def acs(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acs", *args], capture_output=True, text=True, input=stdin
    )


@pytest.fixture
def tree(make_tree):
    return make_tree({"a.py": "def alpha():\n    return 1\n", "b.py": "alpha()\n"})


def test_plan_from_stdin_prints_a_json_report(tree):
    plan = [{"id": 1, "tool": "grep", "args": {"pattern": "alpha"}}]
    out = acs("plan", "--repo", str(tree), "-", stdin=json.dumps(plan))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["tasks"][0]["result"]["counts"] == [2]


def test_tool_runs_one_call(tree):
    out = acs("tool", "--repo", str(tree), "read", '{"path": "a.py", "start": 2}')
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["lines"] == ["    return 1"]


@pytest.mark.parametrize(
    ("args", "stdin", "status", "message"),
    [
        (["plan", "--repo", "{tree}", "-"], "not json", 2, "not valid JSON"),
        (["plan", "--repo", "{tree}", "/no/such/plan.json"], None, 2, "cannot read"),
        (["plan", "--repo", "/no/such/repo", "-"], "[]", 1, "cannot open repository"),
        (["plan", "--repo", "{tree}", "-"], '[{"id": 1, "tool": "x"}]', 1, "unknown tool"),
        (["tool", "--repo", "{tree}", "read", '{"path": "../x"}'], None, 1, "outside"),
        (["tool", "--repo", "{tree}", "grep", "{"], None, 2, "not valid JSON"),
        (["plan", "--repo", "{tree}", "--commit", "HEAD", "-"], "[]", 1, "cannot open"),
    ],
)
def test_errors_are_one_line_with_the_documented_status(tree, args, stdin, status, message):
    out = acs(*(a.replace("{tree}", str(tree)) for a in args), stdin=stdin)
    assert out.returncode == status, (out.stdout, out.stderr)
    assert message in out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("acs: ")


def test_bad_usage_exits_2():
    assert acs("plan").returncode == 2
    assert acs("frobnicate").returncode == 2


def test_demo_runs_on_a_given_repository(tree):
    out = acs("demo", "--repo", str(tree))
    assert out.returncode == 0, out.stderr
    assert "plan finished" in out.stdout
    assert "localize: " in out.stdout
