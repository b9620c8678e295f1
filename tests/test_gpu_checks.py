"""`scripts/gpu-checks`, the one prepared call a GPU session makes (the model benchmark, the
RL smoke on CUDA, a SkyRL GRPO launch through train.sh), run here end to end with `--dry-run`
(CPU, tiny shapes), so that a session lent a GPU for 15 minutes does not spend them on a broken
script; and its SkyRL stage's pieces (`benches/gpu_skyrl.py`): the documented command, the
dataset and model it builds, its SKIPPED line, its time limits, and the reading of SkyRL's
logged metrics."""

from __future__ import annotations

import importlib.util
import json
import os
import pprint
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers import ROOT

pytest.importorskip("torch", reason="torch not installed (pip install 'agentic-code-search[hf]')")
pytest.importorskip("transformers", reason="pip install 'agentic-code-search[hf]'")
pytest.importorskip("skyrl_gym", reason="the RL extra: pip install 'agentic-code-search[rl]'")

SCRIPT = ROOT / "scripts" / "gpu-checks"
HELPER = ROOT / "benches" / "gpu_skyrl.py"
DEVICE_CALL_S = 600  # the device tool stops a command at 10 minutes


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gpu_skyrl = load(HELPER, "gpu_skyrl")


def run(*args: str, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=environ, capture_output=True, text=True, timeout=900
    )


def documented_command() -> str:
    """The SkyRL stage's command as the script's header writes it."""
    header = SCRIPT.read_text().split("\nset -uo pipefail", 1)[0]
    block = re.search(r"^#\s+(ACS_MODEL=W/model .*?)\n#\n", header, re.MULTILINE | re.DOTALL)
    assert block, "the header documents no ACS_MODEL=W/model training/train.sh command"
    return " ".join(line.lstrip("#").strip() for line in block.group(1).splitlines())


# -- the script end to end ---------------------------------------------------------------------


def test_the_dry_run_writes_every_figure_the_gpu_run_writes(tmp_path: Path) -> None:
    pytest.importorskip("pytest_benchmark", reason="pip install 'agentic-code-search[test]'")
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
    # The SkyRL stage: its data and model built, the documented command, what train.sh runs
    # (the data step, then skyrl_main on the three presets and the stage's overrides), and
    # the one line that says why it does not launch here.
    out = done.stdout
    assert f"$ {documented_command()}\n" in out
    assert "dataset: 6 instances; model: tiny" in out
    assert re.search(
        r"train\.sh runs: \S+ -m acs\.train\.planner\.rl_data \S+/data/instances\.jsonl", out
    )
    launch = re.search(
        r"train\.sh runs: env .* -m acs\.train\.planner\.skyrl_main (.*)$", out, re.M
    )
    assert launch, out[-3000:]
    presets = [f"@{ROOT}/training/configs/{n}.args" for n in ("base", "1gpu", "grpo")]
    assert launch.group(1).split() == [*presets, *gpu_skyrl.OVERRIDES]
    assert re.search(r"^== SkyRL GRPO: SKIPPED: no CUDA device here", out, re.MULTILINE)
    # ... and the figures side by side, bench_llm.py's at least.
    assert "== figures" in out and "bench_llm decode, batch 1, eager" in out


def test_an_unknown_option_is_refused(tmp_path: Path) -> None:
    done = run("--fast", out=tmp_path)
    assert done.returncode == 2 and "usage: scripts/gpu-checks" in done.stderr
    assert not any(tmp_path.iterdir())


# -- time ------------------------------------------------------------------------------------


def plan(**env: str) -> dict[str, dict[str, int]]:
    """`--plan`'s limits: {case: {stage: seconds}} for the two cases it prints."""
    done = subprocess.run(
        ["bash", str(SCRIPT), "--plan"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    cases: dict[str, dict[str, int]] = {}
    for line in done.stdout.splitlines():
        if not line.startswith(" "):
            case = "launches" if "can launch" in line else "skipped"
            cases[case] = {}
        else:
            stage, seconds = line.split()[:2]
            cases[case][stage] = int(seconds)
    assert set(cases) == {"launches", "skipped"}, done.stdout
    return cases


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"ACS_GPU_SKYRL_S": "900"},
        {"ACS_GPU_BENCH_S": "900", "ACS_GPU_SMOKE_S": "900"},
        {"ACS_GPU_STAGES": "skyrl", "ACS_GPU_SKYRL_S": "480"},
    ],
    ids=["defaults", "greedy-skyrl", "greedy-others", "skyrl-alone"],
)
def test_the_stage_limits_add_up_to_one_device_call(env: dict[str, str]) -> None:
    for case, limits in plan(**env).items():
        stages = {k: v for k, v in limits.items() if k != "total"}
        assert sum(stages.values()) == limits["total"] <= 570 < DEVICE_CALL_S, (case, limits)


def test_by_default_every_stage_gets_time_and_the_skyrl_stage_its_own() -> None:
    cases = plan()
    launches, skipped = cases["launches"], cases["skipped"]
    assert launches["skyrl"] == 240 and launches["bench"] >= 120 and launches["smoke"] >= 120
    assert "skyrl" not in skipped  # a stage that cannot launch leaves its time to the others
    assert skipped["bench"] > launches["bench"] and skipped["smoke"] > launches["smoke"]


def test_a_stage_that_runs_out_of_time_says_which(tmp_path: Path) -> None:
    # The GPU run (no --dry-run) on this CPU machine, its first stage given one second.
    done = run(out=tmp_path, ACS_GPU_ENV_S="1", ACS_GPU_STAGES="skyrl")
    assert "== env: ran out of its 1 s" in done.stdout, done.stdout[-2000:]
    assert "== SkyRL GRPO: SKIPPED" in done.stdout  # and the next stage still reports


def test_the_gpu_run_without_cuda_skips_the_skyrl_stage_with_its_reason(tmp_path: Path) -> None:
    done = run(out=tmp_path, ACS_GPU_STAGES="skyrl")
    lines = [line for line in done.stdout.splitlines() if line.startswith("== SkyRL GRPO: SKIP")]
    assert lines and all("no CUDA device here" in line for line in lines), done.stdout[-2000:]


# -- the SkyRL stage's pieces -------------------------------------------------------------------


def test_the_documented_command_is_the_stage_command(tmp_path: Path) -> None:
    work = gpu_skyrl.Work(tmp_path)
    shown = gpu_skyrl.shown(gpu_skyrl.train_command(work), work)
    assert f"ACS_MODEL=W/model {shown}" == documented_command()


def test_the_skip_line_when_cuda_is_absent(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    check = subprocess.run(
        [sys.executable, str(HELPER), "check"], env=env, capture_output=True, text=True
    )
    assert check.returncode == 3
    first = check.stdout.splitlines()[0]
    assert first.startswith("== SkyRL GRPO: SKIPPED: no CUDA device here")
    args = ["run", "--work", str(tmp_path / "w"), "--out", str(tmp_path / "out")]
    skipped = subprocess.run(
        [sys.executable, str(HELPER), *args], env=env, capture_output=True, text=True
    )
    assert skipped.returncode == 0 and first in skipped.stdout.splitlines()
    assert not (tmp_path / "w" / "model").exists()  # nothing built for a launch that cannot be


def test_a_missing_stack_is_named_with_how_to_provide_it() -> None:
    lines = gpu_skyrl.skip_lines(None, ["vllm==0.30.0 (not installed)"])
    assert lines[0] == (
        f"== SkyRL GRPO: SKIPPED: {sys.executable} lacks SkyRL 0.4's GPU stack: "
        "vllm==0.30.0 (not installed)"
    )
    assert "ACS_GPU_SKYRL_PYTHON=" in lines[1] and "64 MiB" in lines[1]
    assert gpu_skyrl.skip_lines(None, []) == []


def test_the_stack_check_names_each_missing_piece_here() -> None:
    fatal, _ = gpu_skyrl.stack_problems()
    if sys.version_info < (3, 12):
        assert fatal[0].startswith(f"Python {sys.version_info[0]}.{sys.version_info[1]}.")
    for dist in ("vllm", "flash-attn"):  # neither installs on a CPU machine
        assert any(f.startswith(f"{dist}==") and "not installed" in f for f in fatal), fatal


def test_the_dataset_is_one_batch_a_step_through_rl_data(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="rl_data writes parquet")
    import pyarrow.parquet as pq

    work = gpu_skyrl.Work(tmp_path)
    assert gpu_skyrl.build_dataset(work) == gpu_skyrl.STEPS * gpu_skyrl.BATCH
    # What train.sh runs on a fresh data folder.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    cmd = [sys.executable, "-m", "acs.train.planner.rl_data", str(work.data / "instances.jsonl")]
    cmd += ["--repos", str(work.repos), "--out", str(work.data)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "train: 6 instances from 1 repositories" in done.stdout
    rows = pq.read_table(work.data / "train.parquet").to_pylist()
    assert len(rows) == gpu_skyrl.STEPS * gpu_skyrl.BATCH
    assert len({r["extra_info"]["instance_id"] for r in rows}) == len(rows)
    assert all(r["reward_spec"]["ground_truth"]["functions"] for r in rows)


def test_the_model_is_qwen3_0_6b_shaped_as_bench_llm_measures(monkeypatch) -> None:
    monkeypatch.setenv("ACS_BENCH_LLM_DEVICE", "cpu")  # bench_llm skips itself without CUDA
    bench = load(ROOT / "benches" / "bench_llm.py", "bench_llm_shapes")
    qwen = dict(bench.SHAPES["qwen3-0.6b"])
    assert qwen.pop("vocab_size") == 151936
    assert gpu_skyrl.shape_of("qwen3-0.6b") == qwen


def test_the_saved_model_loads_with_its_tokenizer(tmp_path: Path) -> None:
    import torch
    import transformers

    work = gpu_skyrl.Work(tmp_path)
    params = gpu_skyrl.build_model(work, "tiny", "cpu")
    tokenizer = transformers.AutoTokenizer.from_pretrained(work.model)
    model = transformers.AutoModelForCausalLM.from_pretrained(work.model)
    assert model.config.vocab_size == len(tokenizer) and params == model.num_parameters()
    assert model.config.architectures == ["Qwen3ForCausalLM"]
    # The 0.6B shape, counted without its weights.
    from acs.train.planner.pg_smoke import random_qwen3

    with torch.device("meta"):
        big = random_qwen3(tokenizer, **gpu_skyrl.shape_of("qwen3-0.6b"))
    assert 0.4e9 < big.num_parameters() < 0.5e9  # Qwen3-0.6B less its 151,936-token embedding


# -- SkyRL's logged metrics ---------------------------------------------------------------------


def console_block(step: int, metrics: dict[str, Any], prefix: str = "") -> list[str]:
    """What SkyRL's ConsoleLogger prints for one step (floats as '%.4f' strings, pformat),
    through loguru's coloured format and Ray's per-worker prefix."""
    shown = {k: f"{v:.4f}" if isinstance(v, float) else v for k, v in metrics.items()}
    lines = [
        f"{prefix}\x1b[32m2026-12-06 10:00:00.000\x1b[0m | \x1b[1mINFO    \x1b[0m | "
        f"skyrl.train.utils.tracking:log:189 - \x1b[1mStep {step}: "
    ]
    body = pprint.pformat(shown).splitlines()
    body[-1] += "\x1b[0m"
    return lines + [prefix + line for line in body]


STEP_METRICS = {
    "reward/avg_raw_reward": 0.25,
    "timing/step": 20.0,
    "timing/generate": 8.0,
    "timing/train_critic_and_policy": 6.0,
    "trainer/tokens_per_second_per_gpu": 30000.0,
    "vllm/train/generation_throughput_tok_s": 2500.0,
    "generate/avg_assistant_tokens": 400.0,
    "generate/batch_num_seq": 20,
    "trainer/global_step": 1,
    **{f"environment/metric_{n:02d}": 0.5 for n in range(30)},  # a block of many lines
}


def test_the_metrics_reader_reads_skyrl_console_blocks_among_other_lines() -> None:
    ray = "(run_experiment pid=4242) "
    other = "(FSDPPolicyWorkerBase pid=77) "
    first = console_block(1, STEP_METRICS, ray)
    second = console_block(2, {**STEP_METRICS, "timing/step": 10.0, "reward/avg_raw_reward": 0.5})
    interleaved = [first[0], other + "Step 9: ", first[1], other + "loss 0.1", *first[2:]]
    reader = gpu_skyrl.MetricsReader()
    done = [reader.feed(line + "\n") for line in ["noise {", *interleaved, *second]]
    assert [d for d in done if d is not None] == [1, 2]
    assert (
        reader.steps[1]["timing/step"] == 20.0 and reader.steps[1]["generate/batch_num_seq"] == 20
    )
    figures = [gpu_skyrl.step_figures(n, reader.steps[n]) for n in (1, 2)]
    assert figures[0]["rollout_tokens_per_s"] == 400.0 * 20 / 8.0
    assert figures[0]["vllm_generation_tokens_per_s"] == 2500.0
    summary = gpu_skyrl.summarize(figures)
    assert summary["seconds"] == 10.0 and summary["reward"] == 0.5  # the first step left out
    assert summary["reward_mean_all_steps"] == 0.375 and summary["steps"] == 2


def test_a_step_without_a_metric_shows_a_dash() -> None:
    figures = gpu_skyrl.step_figures(3, {"timing/step": 5.0})
    assert figures["reward"] is None and figures["rollout_tokens_per_s"] is None
    assert "reward -," in gpu_skyrl.step_line(figures)


@pytest.mark.skyrl
def test_the_metrics_reader_reads_skyrl_own_console_logger(tmp_path: Path) -> None:
    # SkyRL's Tracking(console) as its Ray workers configure loguru, then Ray's prefix.
    code = (
        "import json, sys\n"
        "from skyrl.train.utils.utils import configure_ray_worker_logging\n"
        "from skyrl.train.utils.tracking import Tracking\n"
        "configure_ray_worker_logging()\n"
        "Tracking('acs', 'run', backend='console').log(json.loads(sys.argv[1]), step=2)\n"
        "from loguru import logger; logger.complete()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(STEP_METRICS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reader = gpu_skyrl.MetricsReader()
    for line in (done.stdout + done.stderr).splitlines():
        reader.feed(f"(run_experiment pid=1) {line}\n")
    assert reader.steps[2] == pytest.approx(STEP_METRICS)


@pytest.mark.skyrl
def test_the_stage_command_launches_through_train_sh_up_to_the_gpus(tmp_path: Path) -> None:
    # The stage's own command and environment, on a fresh data folder, with SkyRL 0.4 and no
    # GPU: the data is built through rl_data, SkyRL validates the overrides, Ray starts, the
    # dataset loads, and the run stops at the GPU placement group, which the stage reports.
    work = gpu_skyrl.Work(tmp_path / "w")
    gpu_skyrl.build_dataset(work)
    gpu_skyrl.build_model(work, "tiny", "cpu")
    env = gpu_skyrl.launch_env(work, tmp_path / "hf")
    env["SKYRL_RAY_PG_TIMEOUT_IN_S"] = "5"  # SkyRL's wait for GPUs that will not come
    log = tmp_path / "skyrl_grpo.log"
    done = gpu_skyrl.launch(gpu_skyrl.train_command(work), env, log, deadline_s=800)
    text = log.read_text()
    assert "train: 6 instances from 1 repositories" in text, text[-4000:]
    assert done.exit_code == 1 and done.steps == [], text[-4000:]
    assert done.stopped and "Failed to create placement group" in done.stopped


def _gone(pid: int) -> bool:
    """Whether a process has ended (no longer there, or a zombie its new parent will reap)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_launch_past_its_deadline_is_stopped_with_its_children(tmp_path: Path) -> None:
    # As Ray's processes under train.sh: a child of the launched command is stopped too.
    pids = tmp_path / "pids"
    script = f"sleep 300 & echo $! > {pids}; echo started; wait"
    log = tmp_path / "log"
    done = gpu_skyrl.launch(["-c", script], dict(os.environ), log, deadline_s=1)
    assert done.exit_code is None and "started" in log.read_text()
    child = int(pids.read_text())
    for _ in range(100):  # SIGTERM was sent; give it up to 10 s to land
        if _gone(child):
            break
        time.sleep(0.1)
    assert _gone(child)


def test_a_run_cut_at_its_limit_reports_it_and_exits_124(tmp_path: Path, capsys) -> None:
    import argparse

    cut = gpu_skyrl.Launch(exit_code=None, seconds=200.0, tail=["vllm: loading"])
    cut.steps = [gpu_skyrl.step_figures(1, STEP_METRICS)]
    args = argparse.Namespace(shape="tiny", budget_s=240)
    work = gpu_skyrl.Work(tmp_path / "w")
    assert gpu_skyrl.finish(cut, work, tmp_path, ["train.sh"], args, 1000) == 124
    out = capsys.readouterr().out
    assert "== SkyRL GRPO: ran out of its 240 s (ACS_GPU_SKYRL_S) after 1 of 3 steps" in out
    figures = json.loads((tmp_path / "skyrl_grpo.json").read_text())
    assert figures["timed_out"] and figures["summary"]["reward"] == 0.25
    assert "skyrl grpo reward" in "\n".join(
        label for label, _ in gpu_skyrl.report_rows(None, figures)
    )


def test_a_long_log_is_cut_to_what_the_device_tool_brings_back(tmp_path: Path) -> None:
    log = tmp_path / "skyrl_grpo.log"
    log.write_bytes(b"start\n" + b"x" * 5000 + b"\nStep 3: {}\n")
    gpu_skyrl.cap_log(log, limit=1000)
    text = log.read_text()
    assert len(text) <= 1000 and text.startswith("start\n") and text.endswith("Step 3: {}\n")
    assert "bytes cut by gpu_skyrl.py" in text
    small = tmp_path / "small.log"
    small.write_text("short\n")
    gpu_skyrl.cap_log(small, limit=1000)
    assert small.read_text() == "short\n"
