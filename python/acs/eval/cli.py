"""`acs eval`: evaluate policies on a dataset of issues, or compare two runs.

acs eval DATASET --repos DIR [--policy NAME]... [--no-baseline] [--limit N]
         [--instances ID,...] [--repo OWNER/NAME] [--split S] [--workers N] [--timeout S]
         [--top-k N] [--out DIR] [--no-resume] [--clone [--clone-dir DIR]] [--no-index-cache]
         [--executor local|ray [--ray-address ADDR]] [--no-progress]
acs eval --compare DIR_A DIR_B
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..cli_common import UsageError, fail
from ..errors import InvalidArgumentError
from ..extras import install_hint
from ..policies import policy_factory

DEFAULT_OUT = Path("eval-runs")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "eval",
        help="evaluate localization on a dataset of issues, or compare two runs",
        description="Evaluate policies (and the BM25 baseline) on SWE-bench-style instances, "
        "each repository read from git at its base commit; or compare two runs.",
    )
    p.add_argument("dataset", nargs="?", help="a .jsonl/.json/.parquet file or a Hub dataset id")
    p.add_argument("--repos", metavar="DIR", help="folder holding the git repositories")
    p.add_argument(
        "--policy",
        action="append",
        metavar="NAME",
        help="policy to evaluate (repeatable; default: default), or module:Class",
    )
    p.add_argument("--no-baseline", action="store_true", help="do not run the BM25 baseline")
    p.add_argument("--limit", type=int, metavar="N", help="the first N instances (after filters)")
    p.add_argument("--instances", metavar="ID,...", help="only these instance ids")
    p.add_argument("--repo", metavar="OWNER/NAME", help="only this repository's instances")
    p.add_argument("--split", help="dataset split (Hub datasets; default: test, or the only one)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument(
        "--timeout", type=float, default=120.0, metavar="S", help="seconds per run (default 120)"
    )
    p.add_argument(
        "--top-k", type=int, default=10, help="files to rank, functions twice as many (default 10)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help=f"results, summary, report, plots (default {DEFAULT_OUT}/NAME): a new or empty "
        "folder, or an earlier run's to resume it",
    )
    p.add_argument("--no-resume", action="store_true", help="start over instead of resuming")
    p.add_argument("--clone", action="store_true", help="clone missing repositories from GitHub")
    p.add_argument(
        "--clone-dir", metavar="DIR", help="where clones go (default ~/.cache/acs/repos)"
    )
    p.add_argument(
        "--no-index-cache",
        action="store_true",
        help="keep indexes in memory only (default: read and feed the per-file store in the "
        "on-disk index cache, see ACS_CACHE_DIR)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="where the workers run: local processes (default), or Ray actors "
        f"({install_hint('ray')}; on a local Ray instance of --workers CPUs unless "
        "--ray-address)",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="an existing Ray cluster (with --executor ray; its nodes must see --repos at the "
        "same path)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--compare", nargs=2, metavar=("DIR_A", "DIR_B"), help="compare two runs (--out folders)"
    )
    p.set_defaults(func=cmd_eval)
    return p


def default_out(dataset: str) -> Path:
    stem = Path(dataset).stem if Path(dataset).exists() else dataset
    return DEFAULT_OUT / (re.sub(r"[^A-Za-z0-9_.-]+", "__", stem).strip("_") or "run")


def cmd_eval(args: argparse.Namespace) -> int:
    from ..task.dataset import DatasetError, load_instances
    from .report import ReportError, compare, write_report
    from .results import RESULTS
    from .rundir import RunDirError, claim_run_dir
    from .runner import evaluate, run_policies

    if args.compare:
        if args.dataset or args.repos:
            raise UsageError("--compare takes two run folders, no dataset or --repos")
        try:
            sys.stdout.write(compare(*args.compare))
        except ReportError as e:
            fail(str(e), 1)
        return 0
    if not args.dataset:
        raise UsageError("give a dataset (file or Hub id), or --compare DIR_A DIR_B")
    if not args.repos:
        raise UsageError("--repos DIR is required: the folder holding the git repositories")
    if not Path(args.repos).is_dir():
        raise UsageError(f"--repos {args.repos}: no such folder")
    for flag, value in (
        ("--limit", args.limit),
        ("--workers", args.workers),
        ("--top-k", args.top_k),
    ):
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.ray_address and args.executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    if args.executor == "ray":
        from ..distributed import import_ray

        try:
            import_ray()
        except InvalidArgumentError as e:
            fail(str(e), 1)
    policies = args.policy or ["default"]
    baseline = None if args.no_baseline else "bm25"
    try:
        for name in run_policies(policies, baseline):
            policy_factory(name)
    except InvalidArgumentError as e:
        raise UsageError(str(e)) from e
    wanted = [i.strip() for i in args.instances.split(",") if i.strip()] if args.instances else None

    try:
        instances = load_instances(
            args.dataset, split=args.split, limit=args.limit, instances=wanted, repo=args.repo
        )
    except DatasetError as e:
        fail(str(e), 1)
    if not instances:
        fail(f"no instance of {args.dataset} matches the filters", 1)
    out = Path(args.out) if args.out else default_out(args.dataset)
    try:
        claim_run_dir(out)
    except RunDirError as e:
        raise UsageError(str(e)) from e
    except OSError as e:
        fail(f"cannot write results in {out}: {e.strerror or e}", 1)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    try:
        rows = evaluate(
            instances,
            repos_dir=args.repos,
            policies=policies,
            baseline=baseline,
            workers=args.workers,
            timeout_s=args.timeout,
            results_path=out / RESULTS,
            resume=not args.no_resume,
            progress=not args.no_progress,
            top_k=args.top_k,
            clone=args.clone,
            clone_dir=args.clone_dir,
            index_cache=not args.no_index_cache,
            executor=args.executor,
            ray_address=args.ray_address,
        )
    except OSError as e:
        fail(f"cannot write results in {out}: {e.strerror or e}", 1)
    meta = {
        "dataset": args.dataset,
        "split": args.split,
        "filters": {"limit": args.limit, "instances": wanted, "repo": args.repo},
        "repos": str(args.repos),
        "policies": list(policies),
        "baseline": baseline,
        "top_k": args.top_k,
        "workers": args.workers,
        "executor": args.executor,
        "timeout_s": args.timeout,
        "index_cache": not args.no_index_cache,
        "started": started,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    try:
        write_report(rows, out, baseline=baseline, meta=meta)
    except OSError as e:
        fail(f"cannot write the report in {out}: {e.strerror or e}", 1)
    sys.stdout.write((out / "report.md").read_text(encoding="utf-8"))
    print(f"acs: wrote {out}/ (results.jsonl, summary.json, report.md, plots)", file=sys.stderr)
    return 0
