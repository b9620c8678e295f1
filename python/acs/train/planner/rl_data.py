"""RL data: SWE-bench-format instances (a SWE-Gym-style file or Hub id, or `acs data mine`
output) turned into SkyRL dataset rows, split into train and validation by repository.

Each row holds what SkyRL reads: `prompt` (the planner's first chat messages, rendered by
`acs.llm.prompt.Conversation`, the same code inference uses), `env_class`, `reward_spec`
(the gold files, modules and functions, computed by `acs.task.groundtruth` on the repository
at the base commit) and `extra_info` (repository, commit, instance id, prompt version).

    python -m acs.train.planner.rl_data DATASET --repos MIRRORS --out DIR [--val-fraction 0.1]

Held-out repositories (SWE-bench and the other test sets, `acs.data.heldout`) are refused:
the input is rejected, not filtered, because such a file is a mistake. Development-set
repositories (many are SWE-Gym's) are skipped and counted, as training never reads them.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...data.heldout import check_allowed, is_dev_set
from ...distributed import add_executor_arguments, ordered_map
from ...errors import AcsError, InvalidArgumentError
from ...llm.prompt import PROMPT_VERSION, Conversation, load_prompts
from ...repo import Repo
from ...task.dataset import DatasetError, Instance, load_instances
from ...task.groundtruth import GroundTruth, ground_truth
from ...task.repos import RepositoryMissing, find_repository

__all__ = ["ENV_CLASS", "Built", "build_rows", "check_source", "split_by_repo", "write_parquet"]

ENV_CLASS = "acs-localize"
SEED = 0


@dataclass
class Built:
    """The rows made, and every instance left out, counted by reason."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def check_source(source: str | Path) -> None:
    """Refuse a SWE-bench dataset by its name (its repositories are refused anyway; this
    says why sooner)."""
    if "swe-bench" in str(source).lower().replace("_", "-"):
        raise InvalidArgumentError(
            f"{source} is a SWE-bench dataset: held out for evaluation, never trained on"
        )


def build_rows(
    instances: Iterable[Instance],
    repos_dir: str | Path,
    *,
    max_turns: int = 4,
    prompt_version: str = PROMPT_VERSION,
    executor: str = "local",
    workers: int = 1,
    ray_address: str | None = None,
) -> Built:
    """One row per usable instance, in input order. Raises `InvalidArgumentError` on a
    held-out repository (before any work); skips dev-set repositories, missing repositories,
    unreadable patches and instances whose gold has no file (a patch that only adds files).
    `executor="ray"` builds them as Ray tasks (`acs.distributed.ordered_map`)."""
    todo = list(instances)
    for inst in todo:
        check_allowed(inst.repo, purpose="eval")  # raises for a held-out repository
    version = load_prompts(prompt_version).version  # an unknown version fails here, once
    jobs = [(inst, str(repos_dir), max_turns, version) for inst in todo]
    built = Built()
    for reason, row in ordered_map(
        _build_row, jobs, executor=executor, workers=workers, ray_address=ray_address
    ):
        if row is None:
            built.skip(reason)
        else:
            built.rows.append(row)
    return built


def open_instance(inst: Instance, repos_dir: str | Path) -> tuple[Repo, GroundTruth] | str:
    """The instance's repository at its base commit and its gold, or why an RL/SFT builder
    skips it: a development-set repository, no mirror, an unreadable commit or patch, or gold
    without a file (a patch that only adds files)."""
    if is_dev_set(inst.repo):
        return "development-set repository"
    try:
        repo = Repo.open(find_repository(repos_dir, inst.repo), commit=inst.base_commit)
    except RepositoryMissing:
        return "no repository"
    except AcsError:
        return "base commit unreadable"
    try:
        gold = ground_truth(repo, inst.patch)
    except AcsError:
        return "patch unreadable"
    if not gold.files:
        return "no gold file"
    return repo, gold


def _build_row(job: tuple[Instance, str, int, str]) -> tuple[str, dict[str, Any] | None]:
    """One instance's row, or why there is none (a module-level function: Ray pickles it)."""
    inst, repos_dir, max_turns, version = job
    opened = open_instance(inst, repos_dir)
    if isinstance(opened, str):
        return opened, None
    _, gold = opened
    prompts = load_prompts(version)
    messages = Conversation(prompts, inst.problem_statement, max_turns).messages
    return "", {
        "prompt": messages,
        "env_class": ENV_CLASS,
        "reward_spec": reward_spec(gold),
        "extra_info": {
            "repo": inst.repo,
            "base_commit": inst.base_commit,
            "instance_id": inst.instance_id,
            "prompt_version": prompts.version,
        },
    }


def reward_spec(gold: GroundTruth) -> dict[str, Any]:
    """A row's `reward_spec`: the gold locations the environment scores the answer against."""
    return {
        "method": "rule",
        "ground_truth": {
            "files": list(gold.files),
            "modules": list(gold.modules),
            "functions": list(gold.functions),
        },
    }


def split_by_repo(
    repos: Iterable[str],
    *,
    val_repos: Sequence[str] = (),
    val_fraction: float = 0.1,
    seed: int = SEED,
) -> tuple[set[str], set[str]]:
    """(train, validation) repositories: `val_repos` when given, else `ceil(fraction * n)`
    repositories drawn with a fixed seed (none when the fraction is 0; never all of them, so
    training keeps at least one)."""
    names = sorted(set(repos))
    if val_repos:
        val = {r for r in names if r.lower() in {v.lower() for v in val_repos}}
    else:
        if not 0 <= val_fraction < 1:
            raise InvalidArgumentError(f"val_fraction must be in [0, 1), got {val_fraction}")
        count = min(math.ceil(val_fraction * len(names)), max(len(names) - 1, 0))
        val = set(random.Random(seed).sample(names, count))
    return set(names) - val, val


def write_parquet(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    """The rows as a parquet file with explicit column types (so an empty list, or a file
    with no row, still has the types SkyRL expects)."""
    import pyarrow as pa  # lazily: installed with `datasets`, needed only here
    import pyarrow.parquet as pq

    strings = pa.list_(pa.string())
    schema = pa.schema(
        [
            ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("env_class", pa.string()),
            (
                "reward_spec",
                pa.struct(
                    [
                        ("method", pa.string()),
                        (
                            "ground_truth",
                            pa.struct(
                                [("files", strings), ("modules", strings), ("functions", strings)]
                            ),
                        ),
                    ]
                ),
            ),
            (
                "extra_info",
                pa.struct(
                    [
                        ("repo", pa.string()),
                        ("base_commit", pa.string()),
                        ("instance_id", pa.string()),
                        ("prompt_version", pa.string()),
                    ]
                ),
            ),
        ]
    )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), str(path))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m acs.train.planner.rl_data",
        description="SkyRL parquet (train and validation, split by repository) from "
        "SWE-bench-format instances: a SWE-Gym-style file or Hub id, or `acs data mine` output",
    )
    parser.add_argument("dataset", help="a .jsonl/.json/.parquet file, a folder, or a Hub id")
    parser.add_argument("--repos", required=True, help="folder of git mirrors (see acs eval)")
    parser.add_argument("--out", required=True, help="writes OUT/train.parquet, validation")
    parser.add_argument("--split", default=None, help="the dataset split (a Hub dataset)")
    parser.add_argument("--val-repos", default="", help="validation repositories, comma-separated")
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--max-turns", type=int, default=4)
    parser.add_argument(
        "--prompt-version",
        default=PROMPT_VERSION,
        help=f"the planner prompt the rows are written with and record (default "
        f"{PROMPT_VERSION}; an older one reproduces the data made with it)",
    )
    parser.add_argument("--limit", type=int, default=None)
    add_executor_arguments(parser)
    args = parser.parse_args(argv)
    try:
        check_source(args.dataset)
        instances = load_instances(args.dataset, split=args.split, limit=args.limit)
        built = build_rows(
            instances,
            args.repos,
            max_turns=args.max_turns,
            prompt_version=args.prompt_version,
            executor=args.executor,
            workers=args.workers,
            ray_address=args.ray_address,
        )
        val_repos = [r.strip() for r in args.val_repos.split(",") if r.strip()]
        train, val = split_by_repo(
            (r["extra_info"]["repo"] for r in built.rows),
            val_repos=val_repos,
            val_fraction=args.val_fraction,
            seed=args.seed,
        )
    except (InvalidArgumentError, DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for reason, n in sorted(built.skipped.items()):
        print(f"skipped ({reason}): {n}")
    splits = {
        name: [r for r in built.rows if r["extra_info"]["repo"] in repos]
        for name, repos in (("train", train), ("validation", val))
    }
    if not splits["train"]:  # an empty train.parquet would only fail later, inside SkyRL
        why = "every usable one is in --val-repos" if built.rows else "none usable"
        print(f"error: no instance to train on ({why}): nothing written", file=sys.stderr)
        return 2
    out = Path(args.out)
    for name, repos in (("train", train), ("validation", val)):
        # Written even with no row, so that no older split's file stays behind.
        write_parquet(splits[name], out / f"{name}.parquet")
        print(f"{name}: {len(splits[name])} instances from {len(repos)} repositories")
    if not val:
        print(
            "validation.parquet has no rows (one repository, or --val-fraction 0): "
            "acs.train.planner.skyrl_main trains without evaluation"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
