"""Plans from Python: whole plans, streamed tasks, asyncio, and validation errors."""

from __future__ import annotations

import asyncio

import pytest

import acs

FILES = {
    "app/models.py": "class User:\n    def save(self):\n        pass\n\nclass Group:\n    pass\n",
    "app/views.py": "from app.models import User\n\ndef show(user: User):\n    user.save()\n",
}


@pytest.fixture
def repo() -> acs.Repo:
    return acs.Repo.from_files(FILES)


def test_a_plan_runs_with_references_between_tasks(repo):
    report = repo.run_plan(
        {
            "tasks": [
                {"id": 1, "tool": "find_files", "args": {"query": "views"}},
                {
                    "id": 2,
                    "tool": "grep",
                    "args": {"pattern": "User", "paths": ["$1.files[0].path"]},
                },
                {"id": 3, "tool": "read", "args": {"path": "$2.matches[-1].path", "start": 3}},
            ]
        }
    )
    assert report["complete"]
    t1, t2, t3 = report["tasks"]
    assert [t["status"] for t in report["tasks"]] == ["ok", "ok", "ok"]
    assert t2["result"]["counts"] == [2]
    assert t3["result"]["lines"][0] == "def show(user: User):"
    assert t3["deps"] == [2] and t3["started_ms"] >= t2["started_ms"]
    assert all(t["elapsed_ms"] >= 0 for t in (t1, t2, t3))


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ([{"id": 1, "tool": "nope", "args": {}}], "unknown tool `nope`"),
        ([{"id": 1, "tool": "grep", "args": {"pattern": 3}}], "task 1"),
        ([{"id": 2, "tool": "read", "args": {"path": "$9.path"}}], "task 9"),
        (
            [
                {"id": 1, "tool": "read", "args": {"path": "$2.path"}},
                {"id": 2, "tool": "read", "args": {"path": "$1.path"}},
            ],
            "cycle",
        ),
        ({"steps": []}, "expected"),
    ],
)
def test_invalid_plans_are_refused_before_anything_runs(repo, plan, message):
    with pytest.raises(acs.PlanError, match=message):
        repo.run_plan(plan)


def test_failures_stay_local_and_dependents_say_why(repo):
    report = repo.run_plan(
        [
            {"id": 1, "tool": "outline", "args": {"path": "missing.py"}},
            {"id": 2, "tool": "grep", "args": {"pattern": "class"}},
            {"id": 3, "tool": "read", "args": {"path": "$1.path"}},
        ]
    )
    status = {t["id"]: t["status"] for t in report["tasks"]}
    assert status == {1: "error", 2: "ok", 3: "skipped"}
    assert report["tasks"][0]["error"]["kind"] == "file_not_found"
    assert "dependency 1 failed" in report["tasks"][2]["error"]["message"]


def test_streamed_tasks_start_while_the_plan_is_being_written(repo):
    run = repo.start_plan()
    run.submit({"id": 1, "tool": "symbols", "args": {"name": "Use", "mode": "prefix"}})
    first = run.wait(1, timeout=10)
    assert first is not None and first["status"] == "ok"
    run.submit(
        [
            {"id": 2, "tool": "references", "args": {"name": "User"}},
            {"id": 3, "tool": "grep", "args": {"pattern": "save"}},
            {"id": 4, "tool": "grep", "args": {"pattern": "Group"}},
        ]
    )
    report = run.wait_all(timeout=10)
    assert report["complete"] and len(report["tasks"]) == 4
    fused = {t["id"]: t["fused"] for t in report["tasks"]}
    assert fused[3] == fused[4] == 2
    with pytest.raises(acs.PlanError, match="duplicate"):
        run.submit({"id": 2, "tool": "grep", "args": {"pattern": "x"}})
    with pytest.raises(acs.InvalidArgumentError):
        run.wait(42)


def test_waiting_from_asyncio_under_uvloop(repo):
    uvloop = pytest.importorskip("uvloop")

    async def main() -> list[str]:
        run = repo.start_plan()
        run.submit(
            [
                {"id": 1, "tool": "grep", "args": {"pattern": "def"}},
                {"id": 2, "tool": "outline", "args": {"path": "app/models.py"}},
            ]
        )
        one, two = await asyncio.gather(run.wait_async(1), run.wait_async(2))
        report = await run.wait_all_async()
        return [one["status"], two["status"], str(report["complete"])]

    assert uvloop.run(main()) == ["ok", "ok", "True"]
