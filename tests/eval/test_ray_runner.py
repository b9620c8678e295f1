"""`acs eval --executor ray`: the same dataset on a local Ray instance gives the same rows as
the local worker processes; the executor is checked as a usage error."""

from __future__ import annotations

import os
import sys

import orjson
import pytest

from acs.cli import main
from acs.eval.runner import evaluate
from acs.task.dataset import Instance
from helpers.eval_world import RUN_TIMEOUT_S, SLOW_POLICY, jsonl_rows

# What a row's outcome is, apart from timings and where its index came from.
SAME = ("status", "error", "prediction", "gold", "metrics", "calibration", "top_k", "fingerprint")


def _outcomes(path):
    return {(r["instance_id"], r["policy"]): {k: r[k] for k in SAME} for r in jsonl_rows(path)}


def test_ray_executor_gives_the_local_rows(world, tmp_path, capsys):
    pytest.importorskip("ray", reason="pip install 'agentic-code-search[ray]'")
    argv = ["eval", str(world["data"]), "--repos", str(world["repos"]), "--no-progress"]
    local, distributed = tmp_path / "local", tmp_path / "ray"
    assert main([*argv, "--out", str(local), "--workers", "2"]) == 0
    assert main([*argv, "--out", str(distributed), "--workers", "2", "--executor", "ray"]) == 0
    capsys.readouterr()
    expected, got = _outcomes(local / "results.jsonl"), _outcomes(distributed / "results.jsonl")
    assert len(got) == 8 and got == expected  # ok rows and both kinds of failure
    assert got[("acme__widgets-1", "default")]["metrics"]["file"]["acc@1"] == 1.0
    row = next(r for r in jsonl_rows(distributed / "results.jsonl") if r["status"] == "ok")
    assert row["latency_ms"] >= 0 and row["open_ms"] > 0 and row["index_source"]
    summary = orjson.loads((distributed / "summary.json").read_bytes())
    assert summary["meta"]["executor"] == "ray"
    assert (
        (distributed / "report.md")
        .read_text()
        .startswith((local / "report.md").read_text().splitlines()[0])
    )


def test_executor_usage_errors(world, tmp_path, capsys):
    argv = ["eval", str(world["data"]), "--repos", str(world["repos"]), "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as e:
        main([*argv, "--executor", "dask"])
    assert e.value.code == 2 and "--executor" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main([*argv, "--ray-address", "auto"])
    assert e.value.code == 2 and "--ray-address needs --executor ray" in capsys.readouterr().err


def test_ray_timeout_and_crash_are_recorded(world, tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="pip install 'agentic-code-search[ray]'")
    (tmp_path / "slowpolicy.py").write_text(SLOW_POLICY)
    # Ray's workers inherit the environment of the local instance, started by the run.
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    good = Instance(**world["rows"][1])
    sleepy = Instance(**{**world["rows"][1], "instance_id": "sleepy", "problem_statement": "SLEEP"})
    crash = Instance(**{**world["rows"][0], "instance_id": "crash", "problem_statement": "CRASH"})
    monkeypatch.syspath_prepend(str(tmp_path))
    rows = evaluate(
        [sleepy, crash, good],
        repos_dir=world["repos"],
        policies=["slowpolicy:Slow"],
        baseline="bm25",
        workers=2,
        timeout_s=RUN_TIMEOUT_S,
        results_path=tmp_path / "r.jsonl",
        progress=False,
        executor="ray",
    )
    by = {(r["instance_id"], r["policy"]): r for r in rows}
    slow = by[("sleepy", "slowpolicy:Slow")]
    assert slow["status"] == "timeout" and "no result after 10 s" in slow["error"]
    assert slow["gold"]["files"] == ["pkg/parser.py"]
    assert by[("sleepy", "bm25")]["status"] == "ok"  # ran again, on a new actor
    died = by[("crash", "slowpolicy:Slow")]
    assert died["status"] == "error" and "worker died" in died["error"]
    assert by[("crash", "bm25")]["status"] == "ok"
    assert by[("acme__widgets-1", "slowpolicy:Slow")]["metrics"]["file"]["acc@1"] == 1.0
    with pytest.raises(Exception, match="unknown executor"):
        evaluate([good], repos_dir=world["repos"], results_path=tmp_path / "x", executor="dask")


def test_missing_ray_is_one_clear_line(world, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    argv = ["eval", str(world["data"]), "--repos", str(world["repos"]), "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as e:
        main([*argv, "--executor", "ray"])
    assert e.value.code == 1 and "pip install 'agentic-code-search[ray]'" in capsys.readouterr().err
