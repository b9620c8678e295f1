"""The evaluation's small world (a repository, a dataset of its issues) and the pieces the
evaluation's tests share: a policy that sleeps or crashes on cue, the per-run time limit, and
a JSONL reader."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from helpers.repos import GIT_ENV

PARSER = '''"""Headers."""


def parse_header(text):
    """The header of a message."""
    name, _, value = text.partition(":")
    return name.strip(), value.strip()


def parse_body(text):
    return text.split("\\n\\n", 1)[-1]
'''

RENDER = '''"""Drawing."""


class Renderer:
    def __init__(self, color="black"):
        self.color = color

    def draw(self, shape):
        return f"{shape} in black"

    def clear(self):
        return ""
'''

TESTS = """from pkg.parser import parse_header


def test_parse_header():
    assert parse_header("a: b") == ("a", "b")
"""

ISSUES = {
    "acme__widgets-1": "parse_header crashes with ValueError on an empty header line",
    "acme__widgets-2": "Renderer.draw ignores the color given to the renderer and draws black",
}


def _patch(root: Path, a: str, b: str) -> str:
    out = subprocess.run(
        ["git", "diff", a, b], cwd=root, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return out.stdout


def make_world(tmp_path: Path, make_git: Callable[..., tuple[Path, list[str]]]) -> dict[str, Any]:
    """A repository `acme/widgets` (a bare mirror under repos/), two real instances, one of a
    repository that is not there and one at a commit that does not exist (conftest.py's `world`
    fixture). Keys: root (the work tree), repos (the folder of bare mirrors), data (the dataset,
    JSONL), rows (its rows), commits (the work tree's three commits)."""
    root, (c0, c1, c2) = make_git(
        {
            "pkg/__init__.py": "",
            "pkg/parser.py": PARSER,
            "pkg/render.py": RENDER,
            "tests/test_parser.py": TESTS,
            "README.md": "widgets: parse headers and render shapes\n",
        },
        {
            "pkg/parser.py": PARSER.replace(
                "    name, _,", "    if not text:\n        return '', ''\n    name, _,"
            )
        },
        {"pkg/render.py": RENDER.replace('in black"', 'in {self.color}"')},
    )
    repos = tmp_path / "repos"
    repos.mkdir()
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(root), str(repos / "acme__widgets.git")],
        check=True,
        env=GIT_ENV,
    )
    rows = [
        {
            "instance_id": "acme__widgets-2",
            "repo": "acme/widgets",
            "base_commit": c1,
            "problem_statement": ISSUES["acme__widgets-2"],
            "patch": _patch(root, c1, c2),
        },
        {
            "instance_id": "acme__widgets-1",
            "repo": "acme/widgets",
            "base_commit": c0,
            "problem_statement": ISSUES["acme__widgets-1"],
            "patch": _patch(root, c0, c1),
        },
        {
            "instance_id": "nobody__missing-1",
            "repo": "nobody/missing",
            "base_commit": c0,
            "problem_statement": "parse_header is broken",
            "patch": _patch(root, c0, c1),
        },
        {
            "instance_id": "acme__widgets-3",
            "repo": "acme/widgets",
            "base_commit": "0123456789abcdef0123456789abcdef01234567",
            "problem_statement": "parse_header is broken",
            "patch": _patch(root, c0, c1),
        },
    ]
    data = tmp_path / "dev.jsonl"
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return {"root": root, "repos": repos, "data": data, "rows": rows, "commits": (c0, c1, c2)}


def jsonl_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL file (results.jsonl), blank lines skipped."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


SLOW_POLICY = '''import os
import time

from acs.policies.default import DefaultPlanner


class Slow(DefaultPlanner):
    """The default planner, except that it sleeps on SLEEP and dies on CRASH."""

    name = "slow"

    def plan(self, issue, history):
        if "SLEEP" in issue:
            time.sleep(60)
        if "CRASH" in issue:
            os._exit(3)
        return super().plan(issue, history)
'''
# Per run. A good run of this world takes well under a second of CPU; the limit leaves room
# for a busy machine, since a run that passes it is recorded as timed out.
RUN_TIMEOUT_S = 10.0
