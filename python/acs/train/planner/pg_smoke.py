"""The RL smoke run: a tiny randomly initialised Qwen3 learns, by policy gradient through the
`acs-localize` environment, to localize a small memorisable set of bugs. It shows that the
plumbing SkyRL trains through carries gradients and that the reward rises; it says nothing
about how good a trained model is.

Everything is the real path, built here because no model or dataset can be downloaded:

1. a git repository `acme/toolkit` with one fix commit per bug (`make_task_set`), turned into
   SkyRL rows by `acs.train.planner.rl_data.build_rows` (the prompt, gold from
   `acs.task.groundtruth`);
2. the default planner's conversations on the same bugs by `acs.train.planner.sft.export`, and the
   same conversations with the answer turn naming a plausible wrong location instead
   (`BUGS`; `with_wrong_answer`), as many of each: the warm start teaches the protocol and
   both answers, so which one to give must be learnt from the reward;
3. a byte-level BPE tokenizer trained on those texts (`acs.llm.scripted.toy_tokenizer`), saved
   so the environment counts tokens with it, and a Qwen3 of random weights sized by `--shape`;
4. a supervised warm start on the conversations (`acs.train.planner.pg.warm_start`), then GRPO steps
   (`acs.train.planner.pg.train`), every rollout through `skyrl_gym.make("acs-localize")`, with the
   policy evaluated on `--eval-samples` rollouts per bug before the first step and after the
   last (`acs.train.planner.pg.evaluate`). `--warm-cache DIR` keeps each warm start and reuses it,
   so arms that compare GRPO settings (docs/rl-settings.md) start from the same policy.

    python -m acs.train.planner.pg_smoke --device cpu --bugs 1     # ~8 min on 2 cores
    python -m acs.train.planner.pg_smoke --device cuda --shape small --steps 200

Needs `pip install 'agentic-code-search[hf,rl]'` (torch, transformers, skyrl-gym).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ...errors import InvalidArgumentError
from ...llm import planlang
from ...llm.errors import require
from ...llm.scripted import toy_tokenizer
from ...task.dataset import Instance
from .pg import LOSS_REDUCTIONS, PgSettings, evaluate, train, warm_start
from .rl_data import build_rows
from .sft import export

__all__ = [
    "BUGS",
    "QWEN3_0_6B",
    "RECIPE",
    "SHAPES",
    "SmokeResult",
    "make_task_set",
    "random_qwen3",
    "run",
    "warm_cache_key",
    "warm_started",
    "with_wrong_answer",
]

REPO = "acme/toolkit"

BASE = {
    "toolkit/__init__.py": '"""Small utilities."""\n',
    "toolkit/csvio.py": (
        "def split_fields(line, sep=','):\n"
        "    return [f.strip() for f in line.split(sep)]\n\n\n"
        "def parse_header(line):\n"
        "    fields = split_fields(line)\n"
        "    return fields[:-1]\n\n\n"
        "def write_row(fields, sep=','):\n"
        "    return sep.join(str(f) for f in fields)\n"
    ),
    "toolkit/cache.py": (
        "class LruCache:\n"
        "    def __init__(self, size):\n"
        "        self.size = size\n"
        "        self.items = {}\n\n"
        "    def get(self, key):\n"
        "        value = self.items.pop(key)\n"
        "        self.items[key] = value\n"
        "        return value\n\n"
        "    def put(self, key, value):\n"
        "        self.items[key] = value\n"
        "        if len(self.items) > self.size:\n"
        "            self.evict()\n\n"
        "    def evict(self):\n"
        "        self.items.pop(list(self.items)[-1])\n"
    ),
    "toolkit/dates.py": (
        "import datetime\n\n\n"
        "def parse_date(text):\n"
        "    return datetime.date.fromisoformat(text)\n\n\n"
        "def days_between(a, b):\n"
        "    return (parse_date(a) - parse_date(b)).days\n"
    ),
    "toolkit/cli.py": (
        "import sys\n\nfrom toolkit.csvio import parse_header\n\n\n"
        "def main(argv=None):\n"
        "    for line in sys.stdin:\n"
        "        print(parse_header(line))\n"
    ),
}

# (issue, path, text before, text after, a plausible wrong location): one fix commit each,
# from the same base. The wrong location is code the issue's words lead to that the fix does
# not touch (the caller, the sibling method, the helper).
BUGS = [
    (
        "parse_header drops the last column of the header line",
        "toolkit/csvio.py",
        "    return fields[:-1]\n",
        "    return fields\n",
        ("toolkit/cli.py", "toolkit/cli.py:main"),
    ),
    (
        "LruCache.evict removes the most recently used entry instead of the oldest one",
        "toolkit/cache.py",
        "list(self.items)[-1]",
        "next(iter(self.items))",
        ("toolkit/cache.py", "toolkit/cache.py:LruCache.get"),
    ),
    (
        "days_between returns a negative count when the first date is the earlier one",
        "toolkit/dates.py",
        "(parse_date(a) - parse_date(b))",
        "(parse_date(b) - parse_date(a))",
        ("toolkit/dates.py", "toolkit/dates.py:parse_date"),
    ),
]

# The GRPO settings that raised the reward here (training/README.md section 6): the CLI's
# defaults and `run`'s.
RECIPE = PgSettings(steps=60, group=16, lr=1e-4)
MAX_SAMPLES = 1024  # per bug, for --group and --eval-samples

# Qwen/Qwen3-0.6B's config.json, less the vocabulary (a random model takes its tokenizer's):
# the shape the GPU benchmarks build with random weights (benches/bench_llm.py, gpu_skyrl.py).
QWEN3_0_6B = dict(
    hidden_size=1024,
    intermediate_size=3072,
    num_hidden_layers=28,
    num_attention_heads=16,
    num_key_value_heads=8,
    head_dim=128,
    max_position_embeddings=40960,
    rope_theta=1_000_000,
    tie_word_embeddings=True,
)
SHAPES = {
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2),
    "small": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=4),
}


def _git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "acs",
        "GIT_AUTHOR_EMAIL": "acs@localhost",
        "GIT_COMMITTER_NAME": "acs",
        "GIT_COMMITTER_EMAIL": "acs@localhost",
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_task_set(repos_dir: Path, bugs: int = len(BUGS)) -> list[Instance]:
    """`repos_dir/acme__toolkit`: a base commit, and one branch per bug with its fix. The
    instances are SWE-bench-shaped (the patch is the fix's diff)."""
    root = repos_dir / REPO.replace("/", "__")
    root.mkdir(parents=True)
    for rel, text in BASE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    base = _git(root, "rev-parse", "HEAD")
    instances = []
    for n, (issue, rel, before, after, _) in enumerate(BUGS[:bugs], start=1):
        _git(root, "checkout", "-q", "-b", f"fix-{n}", base)
        path = root / rel
        path.write_text(path.read_text().replace(before, after))
        _git(root, "commit", "-q", "-am", f"fix {n}")
        patch = _git(root, "diff", base, "HEAD") + "\n"
        instances.append(Instance(f"toolkit-{n}", REPO, base, issue, patch))
    _git(root, "checkout", "-q", "main")
    return instances


def random_qwen3(tokenizer: Any, **shape: Any) -> Any:
    """A Qwen3 of random weights for `tokenizer` (its vocabulary, end and pad tokens);
    `shape` overrides the layer sizes (`SHAPES`)."""
    transformers = require("transformers", "a random Qwen3")
    settings = {
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "max_position_embeddings": 8192,
        "tie_word_embeddings": True,
        **shape,
    }
    config = transformers.Qwen3Config(
        vocab_size=len(tokenizer),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **settings,
    )
    return transformers.Qwen3ForCausalLM(config)


def with_wrong_answer(
    messages: Sequence[Mapping[str, str]], location: tuple[str, str]
) -> list[dict[str, str]]:
    """The conversation with its answer turn replaced by one naming `location` (file,
    function): the same search, the wrong conclusion."""
    path, function = location
    if not messages or messages[-1].get("role") != "assistant":
        raise InvalidArgumentError("the conversation does not end with the model's answer turn")
    out = [dict(m) for m in messages]
    out[-1]["content"] = planlang.format_answer([path], [function]) + "\n"
    return out


@dataclass
class SmokeResult:
    device: str
    shape: str
    parameters: int
    vocab_size: int
    instances: int
    warm_start_reward: float  # the default planner's conversations, as scored by the env
    warm_start_nll: list[float]
    distractors: bool  # the warm start also saw a wrong answer per bug, as often as the right
    before: dict[str, float]  # `pg.evaluate` after the warm start, before any GRPO step
    after: dict[str, float]  # the same, after the last step
    steps: list[dict[str, Any]]
    seconds: float
    cpu_seconds: float  # the process's CPU time, every thread (wall time is noisy on shared cores)

    def reward_curve(self) -> list[float]:
        return [s["reward_mean"] for s in self.steps]

    def summary(self, window: int = 3) -> dict[str, float]:
        curve = self.reward_curve()
        k = max(1, min(window, len(curve) // 2))
        return {
            "reward_before": self.before["reward_mean"],
            "reward_after": self.after["reward_mean"],
            "right_before": self.before["right"],
            "right_after": self.after["right"],
            "reward_first": sum(curve[:k]) / k,
            "reward_last": sum(curve[-k:]) / k,
            "seconds_per_step": sum(s["rollout_s"] + s["update_s"] for s in self.steps)
            / max(len(self.steps), 1),
        }


def warm_cache_key(
    *, device: str, shape: str, bugs: int, seed: int, steps: int, lr: float, distractors: bool
) -> str:
    """The folder name of one warm start in `--warm-cache`: everything that decides its
    weights (the GRPO settings do not)."""
    answers = "right-and-wrong" if distractors else "right"
    return f"{device}-{shape}-bugs{bugs}-seed{seed}-warm{steps}x{lr:g}-{answers}"


def _load_warm_start(cache: Path, workdir: Path, shape: str) -> tuple[Any, Any, list[float]]:
    torch = require("torch", "the RL smoke run")
    transformers = require("transformers", "the RL smoke run")
    try:  # weights_only: a cache file is data, never code to run
        shutil.copytree(cache / "tokenizer", workdir / "tokenizer", dirs_exist_ok=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(workdir / "tokenizer")
        model = random_qwen3(tokenizer, **SHAPES[shape])
        state = torch.load(cache / "model.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        nll = [float(x) for x in json.loads((cache / "nll.json").read_text())]
    except Exception as e:  # a torn or foreign entry: say which, and how to get past it
        raise InvalidArgumentError(
            f"--warm-cache: the entry {str(cache)[-200:]} cannot be loaded "
            f"({type(e).__name__}: {str(e)[:200]}); delete that folder to train it again"
        ) from None
    return model.eval(), tokenizer, nll


def _save_warm_start(cache: Path, workdir: Path, model: Any, nll: Sequence[float]) -> None:
    torch = require("torch", "the RL smoke run")
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copytree(workdir / "tokenizer", cache / "tokenizer", dirs_exist_ok=True)
    (cache / "nll.json").write_text(json.dumps(list(nll)))
    partial = cache / "model.pt.partial"
    torch.save(model.state_dict(), partial)
    partial.replace(cache / "model.pt")  # last: its presence marks a whole entry


def warm_started(
    workdir: Path,
    conversations: Sequence[Sequence[Mapping[str, str]]],
    *,
    shape: str,
    device: str,
    steps: int,
    lr: float,
    cache: Path | None = None,
    log: Any = None,
) -> tuple[Any, Any, list[float]]:
    """The tokenizer trained on the conversations (saved in `workdir/tokenizer`, where the
    environment reads it), and a random Qwen3 warm-started on them: (model, tokenizer,
    NLL per step). With `cache`, a folder holding an earlier warm start is loaded instead
    of retrained, and a new one is saved there, so runs that compare GRPO settings start
    from the same policy (and skip minutes of supervised steps)."""
    if cache is not None and (cache / "model.pt").is_file():
        model, tokenizer, nll = _load_warm_start(cache, workdir, shape)
        return model.to(device), tokenizer, nll
    texts = [m["content"] for c in conversations for m in c] + [planlang.grammar()]
    tokenizer = toy_tokenizer(texts, 2000)
    tokenizer.save_pretrained(workdir / "tokenizer")
    model = random_qwen3(tokenizer, **SHAPES[shape]).to(device)
    nll = warm_start(model, tokenizer, conversations, steps=steps, lr=lr, log=log)
    if cache is not None:
        _save_warm_start(cache, workdir, model, nll)
    return model, tokenizer, nll


def run(
    workdir: Path,
    *,
    device: str = "auto",
    shape: str = "tiny",
    bugs: int = len(BUGS),
    warm_steps: int = 300,
    warm_lr: float = 3e-3,
    distractors: bool = True,
    eval_samples: int = 64,
    settings: PgSettings = RECIPE,
    budget_s: float | None = None,
    warm_cache: Path | None = None,
    log: Any = None,
) -> SmokeResult:
    started, cpu_started = time.perf_counter(), time.process_time()
    torch = require("torch", "the RL smoke run")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(settings.seed)
    repos = workdir / "repos"
    instances = make_task_set(repos, bugs)
    max_turns = 2  # one search turn, then the answer: the shortest whole protocol
    rows = build_rows(instances, repos, max_turns=max_turns).rows
    exported = export(instances, repos, min_reward=0.0, max_turns=max_turns, workers=1)
    conversations = [row["messages"] for row in exported.rows]
    if distractors:  # as often wrong as right: what to answer must come from the reward
        wrong = {inst.instance_id: bug[4] for inst, bug in zip(instances, BUGS, strict=False)}
        conversations += [
            with_wrong_answer(row["messages"], wrong[row["instance_id"]]) for row in exported.rows
        ]
    cache = None
    if warm_cache is not None:
        key = warm_cache_key(
            device=device,
            shape=shape,
            bugs=bugs,
            seed=settings.seed,
            steps=warm_steps,
            lr=warm_lr,
            distractors=distractors,
        )
        cache = warm_cache / key
    model, tokenizer, nll = warm_started(
        workdir,
        conversations,
        shape=shape,
        device=device,
        steps=warm_steps,
        lr=warm_lr,
        cache=cache,
        log=log,
    )
    torch.manual_seed(settings.seed)  # sampling starts alike, warm start loaded or trained
    env_config = {
        "repos_dir": str(repos),
        "max_turns": max_turns,
        "tokenizer": str(workdir / "tokenizer"),
    }
    before = evaluate(model, tokenizer, rows, env_config, settings, samples=eval_samples)
    if log:
        log({"phase": "evaluate", "when": "before", **before})
    steps = train(model, tokenizer, rows, env_config, settings, log=log, budget_s=budget_s)
    after = evaluate(model, tokenizer, rows, env_config, settings, samples=eval_samples)
    if log:
        log({"phase": "evaluate", "when": "after", **after})
    return SmokeResult(
        device=device,
        shape=shape,
        parameters=sum(p.numel() for p in model.parameters()),
        vocab_size=len(tokenizer),
        instances=len(rows),
        warm_start_reward=sum(r["reward"] for r in exported.rows) / max(len(exported.rows), 1),
        warm_start_nll=nll,
        distractors=distractors,
        before=before,
        after=after,
        steps=steps,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m acs.train.planner.pg_smoke", description=__doc__
    )
    parser.add_argument("--device", default="auto", help="cuda, cpu or auto (default)")
    parser.add_argument("--shape", default="tiny", choices=sorted(SHAPES))
    parser.add_argument("--bugs", type=int, default=len(BUGS), help="instances (1-3)")
    # The defaults are the recipe that raised the reward here (training/README.md section 6).
    parser.add_argument("--warm-steps", type=int, default=300, help="supervised steps first")
    parser.add_argument("--warm-lr", type=float, default=3e-3)
    parser.add_argument("--steps", type=int, default=RECIPE.steps, help="GRPO steps")
    parser.add_argument("--group", type=int, default=RECIPE.group, help="samples per prompt")
    parser.add_argument("--lr", type=float, default=RECIPE.lr)
    parser.add_argument(
        "--budget-s",
        type=float,
        help="start no GRPO step after this many seconds of training (the evaluation after "
        "and the figures still come)",
    )
    parser.add_argument("--kl", type=float, default=PgSettings.kl_coef, help="KL coefficient")
    parser.add_argument("--optimizer", default=PgSettings.optimizer, choices=("adamw", "sgd"))
    parser.add_argument(
        "--loss-reduction", default=PgSettings.loss_reduction, choices=LOSS_REDUCTIONS
    )
    parser.add_argument(
        "--no-norm-by-std",
        dest="norm_by_std",
        action="store_false",
        help="advantages not divided by their group's standard deviation (Dr. GRPO)",
    )
    parser.add_argument(
        "--overlong-filter",
        action="store_true",
        help="rollouts cut at the token limit add nothing to the loss (DAPO)",
    )
    parser.add_argument("--temperature", type=float, default=PgSettings.temperature)
    parser.add_argument(
        "--no-distractors",
        dest="distractors",
        action="store_false",
        help="warm-start on the right answers only (default: a wrong one per bug as well)",
    )
    parser.add_argument(
        "--eval-samples", type=int, default=64, help="rollouts per bug before and after"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the figures (JSON) here")
    parser.add_argument("--workdir", help="keep the repository and tokenizer here")
    parser.add_argument(
        "--warm-cache",
        help="keep each warm-started model in this folder and start from it again when the "
        "same seed, shape, bugs and warm-start settings come back (arms that compare GRPO "
        "settings then start from the same policy)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.bugs <= len(BUGS):
        parser.error(f"--bugs must be between 1 and {len(BUGS)}")
    if args.budget_s is not None and not args.budget_s > 0:
        parser.error("--budget-s must be positive")
    # Bounded work: every rollout is an environment and a sampled conversation.
    if not 1 <= args.eval_samples <= MAX_SAMPLES:
        parser.error(f"--eval-samples must be between 1 and {MAX_SAMPLES}")
    if args.group > MAX_SAMPLES:
        parser.error(f"--group must be at most {MAX_SAMPLES}")
    if args.warm_steps < 0 or not args.warm_lr > 0:
        parser.error("--warm-steps must be >= 0 and --warm-lr > 0")
    try:
        settings = PgSettings(
            steps=args.steps,
            group=args.group,
            lr=args.lr,
            seed=args.seed,
            kl_coef=args.kl,
            optimizer=args.optimizer,
            loss_reduction=args.loss_reduction,
            norm_by_std=args.norm_by_std,
            overlong_filter=args.overlong_filter,
            temperature=args.temperature,
        )
    except InvalidArgumentError as e:
        parser.error(str(e))

    def log(record: dict[str, Any]) -> None:
        print(json.dumps(record, default=str), file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="acs-pg-") as scratch:
        workdir = Path(args.workdir) if args.workdir else Path(scratch)
        try:
            result = _run_args(workdir, args, settings, log)
        except InvalidArgumentError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    figures = {**asdict(result), **result.summary()}
    text = json.dumps(figures, indent=2, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(
        json.dumps(
            {
                k: figures[k]
                for k in (
                    "device",
                    "shape",
                    "parameters",
                    "instances",
                    "warm_start_reward",
                    "reward_before",
                    "reward_after",
                    "right_before",
                    "right_after",
                    "reward_first",
                    "reward_last",
                    "seconds_per_step",
                    "seconds",
                    "cpu_seconds",
                )
            }
        )
    )
    return 0


def _run_args(workdir: Path, args: argparse.Namespace, settings: PgSettings, log: Any) -> Any:
    return run(
        workdir,
        device=args.device,
        shape=args.shape,
        bugs=args.bugs,
        warm_steps=args.warm_steps,
        warm_lr=args.warm_lr,
        distractors=args.distractors,
        eval_samples=args.eval_samples,
        settings=settings,
        budget_s=args.budget_s,
        warm_cache=Path(args.warm_cache) if args.warm_cache else None,
        log=log,
    )


if __name__ == "__main__":
    sys.exit(main())
