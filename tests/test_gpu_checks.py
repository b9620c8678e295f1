"""`scripts/gpu-checks`, the one prepared call a GPU session makes (the model benchmark and the
RL smoke on CUDA), run here end to end with `--dry-run` (CPU, tiny shapes), so that a session
lent a GPU for 15 minutes does not spend them on a broken script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="torch not installed (pip install 'acs[hf]')")
pytest.importorskip("transformers", reason="pip install 'acs[hf]'")
pytest.importorskip("skyrl_gym", reason="the RL extra: pip install 'acs[rl]'")
pytest.importorskip("pytest_benchmark", reason="pip install 'acs[test]'")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu-checks"


def run(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=900
    )


def test_the_dry_run_writes_every_figure_the_gpu_run_writes(tmp_path: Path) -> None:
    done = run("--dry-run", out=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    env = (tmp_path / "env.txt").read_text()
    assert "torch" in env and "transformers" in env and "engine: acs-core" in env
    bench = json.loads((tmp_path / "bench_llm.json").read_text())
    names = {b["name"].split("[")[0] for b in bench["benchmarks"]}
    assert names == {
        "test_llm_decode_throughput",
        "test_llm_time_to_plan",
        "test_llm_localize_turn",
    }
    smoke = json.loads((tmp_path / "pg_smoke.json").read_text())
    assert smoke["device"] == "cpu" and len(smoke["steps"]) == 1
    assert {"reward_mean", "right"} <= smoke["before"].keys() <= smoke["after"].keys()
    assert '"phase": "rl"' in done.stdout  # the curve is printed as it goes


def test_an_unknown_option_is_refused(tmp_path: Path) -> None:
    done = run("--fast", out=tmp_path)
    assert done.returncode == 2 and "usage: scripts/gpu-checks" in done.stderr
    assert not any(tmp_path.iterdir())
