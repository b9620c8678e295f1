"""The SkyRL GRPO stage of `scripts/gpu-checks`: a real launch through `training/train.sh`
(SkyRL 0.4, vLLM + FSDP, the `1gpu` and `grpo` presets) for a handful of steps on a dataset and
a model built on the spot, because the GPU machine has no network:

* a git repository with three fix commits
  (`acs.train.planner.pg_smoke.make_task_set`), each instance listed twice (6 rows: 3 steps
  of 2 prompts), as `instances.jsonl`: `train.sh` turns it into parquet itself, through
  `python -m acs.train.planner.rl_data`;
* a Qwen3-0.6B-shaped model of random weights (Qwen/Qwen3-0.6B's layer sizes, bfloat16) with a
  byte-level BPE tokenizer (`acs.llm.scripted.toy_tokenizer`). The vocabulary is the
  tokenizer's (2,000 tokens, not Qwen's 151,936): vLLM samples over the model's vocabulary and
  must decode every id it samples. Random weights write no valid plan, so the reward is about 0:
  the stage checks the plumbing and measures speed, not learning.

It prints SkyRL's own per-step figures (its console logger: `reward/avg_raw_reward`,
`timing/step`, `timing/generate`, `trainer/tokens_per_second_per_gpu`,
`vllm/train/generation_throughput_tok_s`) and writes them to `OUT/skyrl_grpo.json`, the whole
log to `OUT/skyrl_grpo.log`.

    python benches/gpu_skyrl.py run --work DIR --out OUT [--budget-s S] [key=value ...]
    python benches/gpu_skyrl.py run --dry-run --work DIR --shape tiny   # build, print, no launch
    python benches/gpu_skyrl.py check     # can this Python launch it? (exit 3 and why if not)
    python benches/gpu_skyrl.py report OUT   # these figures next to bench_llm.py's

`run` skips (exit 0, one `SKIPPED` line saying what is missing and how to provide it) unless
this Python has CUDA and SkyRL 0.4's GPU stack. Stdlib only at import: `check` runs on any
Python; the rest needs acs (python/ on PYTHONPATH), torch and transformers.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib.metadata
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
TRAIN_SH = ROOT / "training" / "train.sh"
STAGE = "SkyRL GRPO"

STEPS = 3
COPIES = 2  # each bug listed this often: 3 bugs x 2 = 6 rows = STEPS batches of BATCH prompts
BATCH = 2
SAMPLES = 4
# On top of base.args, 1gpu.args and grpo.args (later arguments win). Evaluation and
# checkpoints are off (no time for them); one HF export at the last step checks the path
# the README serves from. vLLM runs eager: its compile and CUDA-graph capture would take a
# minute of the stage's budget (ACS_GPU_SKYRL_ARGS=generator.inference_engine.enforce_eager=false
# measures the graphs).
OVERRIDES = (
    "trainer.epochs=1",
    f"trainer.max_training_steps={STEPS}",
    f"trainer.train_batch_size={BATCH}",
    f"trainer.policy_mini_batch_size={BATCH}",
    f"generator.n_samples_per_prompt={SAMPLES}",
    "trainer.eval_interval=-1",
    "trainer.eval_before_train=false",
    "trainer.ckpt_interval=-1",
    f"trainer.hf_save_interval={STEPS}",
    "generator.inference_engine.enforce_eager=true",
    "trainer.run_name=acs-gpu-check",
)

# Model shapes: Qwen3-0.6B's (as benches/bench_llm.py builds it), or pg_smoke's tiny one.
SHAPE_NAMES = ("qwen3-0.6b", "tiny")


def shape_of(name: str) -> dict[str, Any]:
    from acs.train.planner.pg_smoke import QWEN3_0_6B, SHAPES

    return dict(QWEN3_0_6B) if name == "qwen3-0.6b" else dict(SHAPES[name])


VOCAB = 2000

# What `skyrl[fsdp]` 0.4.0 pins (its metadata), for the message when SkyRL itself is absent.
FSDP_PINS = {
    "skyrl": "==0.4.*",
    "skyrl-gym": "==0.4.*",
    "vllm": "==0.30.0",
    "flash-attn": "==2.8.3",
    "torch": "==2.13.0",
    "ray": "==2.57.0",
}
# `vllm==0.30.0; sys_platform == "linux" and extra == "fsdp"` in skyrl's Requires-Dist.
PIN = re.compile(r'([A-Za-z0-9_.-]+)\s*(==[^;\s]+)\s*;.*extra == "(fsdp|skyrl-train)"')
# The modules the launch imports that a partial install lacks (flash-attn: SkyRL's FSDP
# model wrapper imports it at module level).
IMPORTS = (
    "vllm",
    "flash_attn",
    "ray",
    "skyrl_gym",
    "skyrl.train.entrypoints.main_base",
    "skyrl.backends.skyrl_train.workers.fsdp.fsdp_worker",
)
HOW_TO_PROVIDE = (
    "to provide it: ACS_GPU_SKYRL_PYTHON=/path/to/bin/python, a Python 3.12 environment made "
    "where pip reaches PyPI (training/README.md section 1: uv pip install "
    "'skyrl[fsdp]==0.4.*' skyrl-gym orjson); this checkout's python/ is put on its PYTHONPATH. "
    "The device tool cannot carry it: it carries 64 MiB, and this stack (torch 2.13 with its "
    "CUDA libraries ~2.6 GB, vllm 0.30.0 315 MB, flash-attn 2.8.3 built for that torch (no "
    "PyPI wheel), flashinfer) is over 3 GB"
)

# SkyRL's console logger (skyrl/train/utils/tracking.py, ConsoleLogger.log): loguru's
# `Step N: ` then `pprint.pformat(metrics)`, floats as '%.4f' strings, each line prefixed by
# Ray with the task's name when it comes from a worker, and coloured.
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
RAY_PREFIX = re.compile(r"^\([^()]*pid=\d+[^()]*\) ")
STEP_LINE = re.compile(r"\bStep (\d+): *$")
STOPPED = re.compile(r"^error: the SkyRL run stopped: .*$", re.MULTILINE)

REWARD = "reward/avg_raw_reward"
STEP_S = "timing/step"
GENERATE_S = "timing/generate"
TRAIN_S = "timing/train_critic_and_policy"
TRAIN_TPS = "trainer/tokens_per_second_per_gpu"
VLLM_TPS = "vllm/train/generation_throughput_tok_s"
GENERATED = "generate/avg_assistant_tokens"  # per sequence, before any step-wise merge
SEQUENCES = ("generate/num_seq_before_merge", "generate/batch_num_seq")


# -- the stack check --------------------------------------------------------------------------


def installed(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _pins() -> dict[str, str]:
    """The versions to report against: skyrl's own pins (its `fsdp` and `skyrl-train` extras)
    when it is installed, else 0.4.0's."""
    pins = dict(FSDP_PINS)
    requirements = (importlib.metadata.requires("skyrl") or []) if installed("skyrl") else []
    for requirement in requirements:
        m = PIN.match(requirement)
        if m and m.group(1).lower() in pins:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def _satisfies(version: str, spec: str) -> bool:
    wanted = spec.removeprefix("==")
    if wanted.endswith(".*"):
        return version.startswith(wanted[:-1])
    return version.split("+")[0] == wanted


def stack_problems() -> tuple[list[str], list[str]]:
    """(what stops the launch, what is only off SkyRL's pins) in this Python."""
    fatal, notes = [], []
    if not (3, 12) <= sys.version_info[:2] < (3, 15):
        here = ".".join(map(str, sys.version_info[:3]))
        fatal.append(f"Python {here} (SkyRL 0.4 needs >= 3.12, < 3.15)")
    for dist, spec in _pins().items():
        version = installed(dist)
        if version is None:
            fatal.append(f"{dist}{spec} (not installed)")
        elif not _satisfies(version, spec):
            target = fatal if dist == "skyrl" else notes  # acs's presets are for 0.4
            target.append(f"{dist}{spec} ({version} installed)")
    if fatal:
        return fatal, notes
    for module in IMPORTS:
        try:
            __import__(module)
        except Exception as e:  # any failure to import is a reason to skip
            first = (str(e).strip().splitlines() or [""])[0][:200]
            fatal.append(f"import {module} fails ({type(e).__name__}: {first})")
    return fatal, notes


def cuda_problem() -> str | None:
    try:
        import torch
    except ImportError:
        return "no torch here, so no CUDA"
    if not torch.cuda.is_available():
        return "no CUDA device here (torch.cuda.is_available() is False)"
    return None


def skip_lines(cuda: str | None, fatal: Sequence[str]) -> list[str]:
    """Why the stage does not launch (`== SkyRL GRPO: SKIPPED: ...`, one line) and how to
    provide what is missing (a second line), or nothing when it can launch."""
    reasons = ([cuda] if cuda else []) + (
        [f"{sys.executable} lacks SkyRL 0.4's GPU stack: {', '.join(fatal)}"] if fatal else []
    )
    if not reasons:
        return []
    return [f"== {STAGE}: SKIPPED: {'; '.join(reasons)}"] + (
        [f"   {HOW_TO_PROVIDE}"] if fatal else []
    )


def stack_report() -> bool:
    """Prints why the stage cannot launch (its SKIPPED line first) and the versions off
    SkyRL's pins; whether it can launch."""
    fatal, notes = stack_problems()
    lines = skip_lines(cuda_problem(), fatal)
    for line in lines + [f"note: {n}: skyrl[fsdp] 0.4 pins another" for n in notes]:
        print(line)
    return not lines


def check() -> int:
    if not stack_report():
        return 3
    print(f"== {STAGE}: {sys.executable} has CUDA and SkyRL {installed('skyrl')}'s GPU stack")
    return 0


# -- the dataset and the model ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Work:
    """The stage's folders under one work directory."""

    root: Path

    @property
    def repos(self) -> Path:
        return self.root / "repos"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"


def build_dataset(work: Work) -> int:
    """`work.repos` (the git repository) and `work.data/instances.jsonl`; the row count."""
    from acs.train.planner.pg_smoke import make_task_set

    instances = make_task_set(work.repos)
    rows = [
        dataclasses.replace(inst, instance_id=f"{inst.instance_id}-{copy}")
        for copy in range(1, COPIES + 1)
        for inst in instances
    ]
    work.data.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row.to_json()) + "\n" for row in rows)
    (work.data / "instances.jsonl").write_text(text, encoding="utf-8")
    return len(rows)


def build_model(work: Work, shape: str, device: str) -> int:
    """A Qwen3 of random weights and its tokenizer saved in `work.model`; its parameter count."""
    import torch

    from acs.llm.prompt import load_prompts
    from acs.llm.scripted import toy_tokenizer
    from acs.train.planner.pg_smoke import BASE, BUGS, random_qwen3

    texts = [load_prompts().system, *(bug[0] for bug in BUGS), *BASE.values()]
    tokenizer = toy_tokenizer(texts, VOCAB)
    tokenizer.save_pretrained(work.model)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    with torch.device(device):
        model = random_qwen3(tokenizer, **shape_of(shape)).to(dtype)
    model.save_pretrained(work.model)
    params = sum(p.numel() for p in model.parameters())
    del model  # the GPU is vLLM's and FSDP's from here
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return params


# -- the command ------------------------------------------------------------------------------


def train_command(work: Work, extra: Sequence[str] = ()) -> list[str]:
    """The stage's `train.sh` argument list (its environment: `launch_env`)."""
    return [
        str(TRAIN_SH),
        "--preset",
        "1gpu",
        "--algo",
        "grpo",
        "--run-dir",
        str(work.run_dir),
        str(work.data),
        str(work.repos),
        *OVERRIDES,
        *extra,
    ]


def launch_env(work: Work, hf_home: Path) -> dict[str, str]:
    """train.sh's environment: this Python, acs from this checkout, the model folder, a private
    local Ray, nothing fetched from the Hub, Ray's log deduplication off (it would fold the
    metrics' lines)."""
    python = str(ROOT / "python")
    path = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "PYTHONPATH": f"{python}:{path}" if path else python,
        "ACS_MODEL": str(work.model),
        "HF_HOME": str(hf_home),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "RAY_DEDUP_LOGS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("RAY_ADDRESS", None)
    return env


def shown(command: Sequence[str], work: Work) -> str:
    """The command as the script's header documents it: the work directory written `W`."""
    text = " ".join(shlex.quote(a) for a in command)
    return text.replace(str(work.root), "W").replace(str(ROOT) + "/", "")


# -- SkyRL's logged metrics -------------------------------------------------------------------


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


class MetricsReader:
    """Collects the metric dictionaries SkyRL's console logger prints, line by line, from a
    log where other processes' lines may interleave (each Ray worker's lines carry its own
    prefix, so a block is followed by its prefix)."""

    def __init__(self) -> None:
        self.steps: dict[int, dict[str, Any]] = {}
        self._open: dict[str, tuple[int, list[str]]] = {}

    def feed(self, raw: str) -> int | None:
        """Reads one line; returns the step number when it completes a step's metrics."""
        line = ANSI.sub("", raw.rstrip("\r\n"))
        m = RAY_PREFIX.match(line)
        prefix = m.group(0) if m else ""
        body = line[len(prefix) :]
        if prefix in self._open:
            step, block = self._open[prefix]
            block.append(body)
            text = "\n".join(block).strip()
            if not text.startswith("{"):
                del self._open[prefix]  # not a metrics block after all
            elif text.count("{") == text.count("}"):
                del self._open[prefix]
                try:
                    metrics = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    return None
                if isinstance(metrics, dict):
                    self.steps[step] = {str(k): _number(v) for k, v in metrics.items()}
                    return step
            return None
        if s := STEP_LINE.search(body):
            self._open[prefix] = (int(s.group(1)), [])
        return None


def step_figures(step: int, metrics: dict[str, Any]) -> dict[str, Any]:
    """One training step's reward, seconds and tokens/s from SkyRL's metric names."""

    def get(key: str) -> float | None:
        value = metrics.get(key)
        return float(value) if isinstance(value, int | float) else None

    figures: dict[str, Any] = {
        "step": step,
        "reward": get(REWARD),
        "seconds": get(STEP_S),
        "generate_s": get(GENERATE_S),
        "train_s": get(TRAIN_S),
        "train_tokens_per_s_per_gpu": get(TRAIN_TPS),
        "vllm_generation_tokens_per_s": get(VLLM_TPS),
    }
    per_sequence = get(GENERATED)
    sequences = next((v for k in SEQUENCES if (v := get(k)) is not None), None)
    generate_s = figures["generate_s"]
    figures["rollout_tokens_per_s"] = (
        per_sequence * sequences / generate_s
        if per_sequence is not None and sequences is not None and generate_s
        else None
    )
    return figures


def summarize(steps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The medians over the steps after the first (which pays for warm-ups), or the first."""
    later = list(steps[1:]) or list(steps)
    out: dict[str, Any] = {"steps": len(steps)}
    for key in (
        "reward",
        "seconds",
        "generate_s",
        "train_s",
        "rollout_tokens_per_s",
        "vllm_generation_tokens_per_s",
        "train_tokens_per_s_per_gpu",
    ):
        values = [s[key] for s in later if s.get(key) is not None]
        out[key] = statistics.median(values) if values else None
    rewards = [s["reward"] for s in steps if s.get("reward") is not None]
    out["reward_mean_all_steps"] = statistics.fmean(rewards) if rewards else None
    return out


def _fmt(value: float | None, unit: str = "", digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


def step_line(f: dict[str, Any]) -> str:
    return (
        f"skyrl step {f['step']}: reward {_fmt(f['reward'], digits=3)}, "
        f"{_fmt(f['seconds'], ' s', 1)} a step (generate {_fmt(f['generate_s'], ' s', 1)}, "
        f"train {_fmt(f['train_s'], ' s', 1)}), rollouts {_fmt(f['rollout_tokens_per_s'])} tok/s, "
        f"vLLM {_fmt(f['vllm_generation_tokens_per_s'])} tok/s, "
        f"train {_fmt(f['train_tokens_per_s_per_gpu'])} tok/s/GPU"
    )


# -- the launch -------------------------------------------------------------------------------


@dataclasses.dataclass
class Launch:
    exit_code: int | None = None  # None: cut at the deadline
    seconds: float = 0.0
    first_step_s: float | None = None  # from the launch to the first step's metrics
    steps: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    metrics: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)
    stopped: str | None = None  # skyrl_main's one-line reason for a failed run
    tail: list[str] = dataclasses.field(default_factory=list)


def _pump(stream: TextIO, log: TextIO, reader: MetricsReader, launch: Launch, t0: float) -> None:
    for raw in stream:
        log.write(raw)
        log.flush()
        launch.tail = [*launch.tail[-59:], ANSI.sub("", raw.rstrip())]
        step = reader.feed(raw)
        if step is not None:
            figures = step_figures(step, reader.steps[step])
            launch.steps.append(figures)
            if launch.first_step_s is None:
                launch.first_step_s = time.monotonic() - t0
            print(step_line(figures), flush=True)


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM to the launch's whole process group (Ray's processes too), SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def launch(
    command: Sequence[str], env: dict[str, str], log_path: Path, deadline_s: float
) -> Launch:
    """Runs `command` (its own process group), the output to `log_path`, each step's figures
    printed as they come; stopped at `deadline_s` seconds."""
    result, reader = Launch(), MetricsReader()
    t0 = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            ["bash", *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        assert proc.stdout is not None
        pump = threading.Thread(target=_pump, args=(proc.stdout, log, reader, result, t0))
        pump.start()
        try:
            result.exit_code = proc.wait(timeout=max(deadline_s, 1.0))
        except subprocess.TimeoutExpired:
            _stop(proc)
        pump.join(timeout=30)
    result.seconds = time.monotonic() - t0
    result.metrics = reader.steps
    stopped = STOPPED.findall("\n".join(result.tail))
    result.stopped = stopped[-1] if stopped else None
    return result


# -- the stage --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    work = Work(Path(args.work).resolve())
    work.root.mkdir(parents=True, exist_ok=True)
    command = train_command(work, args.overrides)
    print(f"$ ACS_MODEL=W/model {shown(command, work)}")
    print(f"  (W: {work.root})")
    if args.dry_run:
        return dry_run(work, command, args.shape)
    if not stack_report():
        return 0
    rows = build_dataset(work)
    params = build_model(work, args.shape, "cuda")
    print(f"dataset: {rows} instances; model: {args.shape}, {params / 1e6:.0f}M parameters, random")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    hf_home = work.root / "hf-home"
    # What is left of the budget, less the time to stop Ray and write the figures.
    deadline = args.budget_s - (time.monotonic() - t0) - 25
    done = launch(command, launch_env(work, hf_home), out / "skyrl_grpo.log", deadline)
    return finish(done, work, out, command, args, params)


def dry_run(work: Work, command: Sequence[str], shape: str) -> int:
    """Builds the dataset and the model as the GPU run does, prints what train.sh would run
    (`train.sh --dry-run`), and says whether this Python could launch it."""
    rows = build_dataset(work)
    params = build_model(work, shape, "cpu")
    print(f"dataset: {rows} instances; model: {shape}, {params / 1e6:.1f}M parameters, random")
    env = launch_env(work, work.root / "hf-home")
    dry = [command[0], "--dry-run", *command[1:]]
    done = subprocess.run(["bash", *dry], env=env, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        print(f"  train.sh runs: {line}")
    if done.returncode:
        print(done.stderr.strip(), file=sys.stderr)
        return done.returncode
    if stack_report():
        print(f"== {STAGE}: could launch here (without --dry-run)")
    return 0


LOG_LIMIT = 15 << 20  # the device tool brings back files of at most 16 MiB


def cap_log(path: Path, limit: int = LOG_LIMIT) -> None:
    """Keeps the log's first and last bytes within `limit` (the figures' lines are in its
    second half, the start-up in its first), a line saying what was cut between them."""
    size = path.stat().st_size if path.is_file() else 0
    if size <= limit:
        return
    data = path.read_bytes()
    head, tail = data[: limit // 4], data[-(limit - limit // 4) + 200 :]
    cut = f"\n[... {size - len(head) - len(tail):,} bytes cut by gpu_skyrl.py ...]\n"
    path.write_bytes(head + cut.encode() + tail)


def finish(
    done: Launch,
    work: Work,
    out: Path,
    command: Sequence[str],
    args: argparse.Namespace,
    params: int,
) -> int:
    cap_log(out / "skyrl_grpo.log")
    exports = sorted(p.name for p in (work.run_dir / "exports").glob("global_step_*"))
    figures = {
        "command": f"ACS_MODEL=W/model {shown(command, work)}",
        "shape": args.shape,
        "parameters": params,
        "budget_s": args.budget_s,
        "exit_code": done.exit_code,
        "timed_out": done.exit_code is None,
        "seconds": round(done.seconds, 1),
        "first_step_s": done.first_step_s,
        "stopped": done.stopped,
        "hf_exports": exports,
        "steps": done.steps,
        "summary": summarize(done.steps),
        "metrics": {str(k): v for k, v in sorted(done.metrics.items())},
    }
    (out / "skyrl_grpo.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(summary_line(figures))
    if done.exit_code is None:
        print(
            f"== {STAGE}: ran out of its {args.budget_s} s (ACS_GPU_SKYRL_S) after "
            f"{len(done.steps)} of {STEPS} steps; the log's end:"
        )
        print("\n".join(done.tail[-25:]))
        return 124
    if done.exit_code != 0 or len(done.steps) < STEPS:
        print(f"== {STAGE}: FAILED (exit {done.exit_code}, {len(done.steps)} of {STEPS} steps)")
        print("\n".join(done.tail[-40:]))
        return 1
    return 0


def summary_line(figures: dict[str, Any]) -> str:
    s = figures["summary"]
    return (
        f"skyrl grpo: {s['steps']} steps in {figures['seconds']} s "
        f"(launch to the first step's figures {_fmt(figures['first_step_s'], ' s', 0)}); "
        f"median a step after the first: {_fmt(s['seconds'], ' s', 1)}, reward "
        f"{_fmt(s['reward'], digits=3)}, rollouts {_fmt(s['rollout_tokens_per_s'])} tok/s, "
        f"vLLM {_fmt(s['vllm_generation_tokens_per_s'])} tok/s, train "
        f"{_fmt(s['train_tokens_per_s_per_gpu'])} tok/s/GPU; HF exports: "
        f"{', '.join(figures['hf_exports']) or 'none'}"
    )


# -- the figures side by side -----------------------------------------------------------------


def report_rows(
    bench: dict[str, Any] | None, skyrl: dict[str, Any] | None
) -> list[tuple[str, str]]:
    """(label, value) rows: bench_llm.py's transformers figures (batch 1), then SkyRL's."""
    rows: list[tuple[str, str]] = []
    for b in (bench or {}).get("benchmarks", []):
        info, name = b.get("extra_info", {}), b.get("name", "")
        mode = info.get("mode", "?")
        if name.startswith("test_llm_decode_throughput"):
            rows.append(
                (
                    f"bench_llm decode, batch 1, {mode}",
                    f"{_fmt(info.get('decode_tokens_per_s'))} tok/s",
                )
            )
        elif name.startswith("test_llm_time_to_plan"):
            median = b.get("stats", {}).get("median")
            ms = None if median is None else median * 1000
            rows.append((f"bench_llm time to a plan, {mode}", _fmt(ms, " ms")))
        elif name.startswith("test_llm_localize_turn"):
            rows.append(
                (f"bench_llm whole localization, {mode}", _fmt(info.get("latency_ms"), " ms"))
            )
    if skyrl:
        s = skyrl["summary"]
        rollouts = f"{BATCH * SAMPLES} rollouts a step"
        rows += [
            ("skyrl grpo steps done", f"{s['steps']} of {STEPS} (exit {skyrl['exit_code']})"),
            ("skyrl grpo reward (random weights: ~0)", _fmt(s["reward"], digits=3)),
            ("skyrl grpo seconds a step", _fmt(s["seconds"], " s", 1)),
            (
                f"skyrl grpo vLLM generation ({rollouts})",
                f"{_fmt(s['vllm_generation_tokens_per_s'])} tok/s",
            ),
            (
                "skyrl grpo rollout tokens / generate time",
                f"{_fmt(s['rollout_tokens_per_s'])} tok/s",
            ),
            (
                "skyrl grpo policy update (FSDP)",
                f"{_fmt(s['train_tokens_per_s_per_gpu'])} tok/s/GPU",
            ),
            ("skyrl grpo launch to first step", _fmt(skyrl["first_step_s"], " s")),
        ]
    return rows


def report(out: Path) -> int:
    def load(name: str) -> dict[str, Any] | None:
        path = out / name
        return json.loads(path.read_text()) if path.is_file() else None

    rows = report_rows(load("bench_llm.json"), load("skyrl_grpo.json"))
    if rows:
        print("== figures (bench_llm.py: transformers, one request; SkyRL: vLLM + FSDP)")
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            print(f"  {label:<{width}}  {value}")
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benches/gpu_skyrl.py", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="what", required=True)
    go = sub.add_parser("run", help="build the data and the model, launch train.sh, the figures")
    go.add_argument("--work", required=True, help="a work directory (repos, data, model, run)")
    go.add_argument("--out", default=".", help="writes skyrl_grpo.json and skyrl_grpo.log here")
    go.add_argument("--shape", choices=sorted(SHAPE_NAMES), default="qwen3-0.6b")
    go.add_argument("--budget-s", type=int, default=240, help="the whole stage's time limit")
    go.add_argument("--dry-run", action="store_true", help="build and print, launch nothing")
    go.add_argument("overrides", nargs="*", help="more key=value overrides (they come last)")
    sub.add_parser("check", help="whether this Python can launch the stage (exit 3 if not)")
    rep = sub.add_parser("report", help="the figures of OUT side by side")
    rep.add_argument("out")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.what == "check":
        return check()
    if args.what == "report":
        return report(Path(args.out))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
