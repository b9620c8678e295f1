"""Search records for training the ranker: the default planner's search on every instance of
a dataset (the repository read at the instance's base commit), with the gold locations.

A record holds the issue, the turns (tasks and outcomes, as the joiner and the feature
extractor read them) and the ground truth from `acs.task.groundtruth`. Features are computed
from records afterwards (`acs.rank.features`), so a new feature costs a re-read of this file,
not a new search.

    python -m acs.train.ranker.collect DATASET.jsonl --repos MIRRORS --out records.jsonl
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from ...rank.features import flat_symbols
from ...task.dataset import Instance, load_instances, read_json_rows
from ...task.repos import RepositoryMissing, commit_order, find_repository


def compact_outcome(outcome: dict[str, Any]) -> dict[str, Any]:
    """An outcome without the parts the features never read (outlines, matched line text)."""
    out: dict[str, Any] = {k: outcome[k] for k in ("id", "tool", "status") if k in outcome}
    if outcome.get("status") != "ok":
        return out
    if outcome.get("tool") == "outline":  # the definitions, flat, without what no one reads
        result = outcome["result"]
        out["result"] = {"path": result["path"], "symbols": flat_symbols(result["symbols"])}
        return out
    result = dict(outcome["result"])
    if "matches" in result:
        result["matches"] = [
            {k: v for k, v in m.items() if k != "text" and k != "context"}
            for m in result["matches"]
        ]
    out["result"] = result
    return out


def search_record(repo: Any, inst: Instance, labels: Sequence[str] = ()) -> dict[str, Any]:
    """The default planner's search on `inst`, and its gold locations. `labels` are the
    mined instance's (`docs-only`, `config-only`: `acs data mine`)."""
    from ...localize import localize
    from ...task.groundtruth import ground_truth

    gold = ground_truth(repo, inst.patch).to_json()
    t0 = time.perf_counter()
    result = localize(repo, inst.problem_statement, trajectory=True)
    turns = [
        {"tasks": t["tasks"], "outcomes": [compact_outcome(o) for o in t["outcomes"]]}
        for t in result["trajectory"]["turns"]
    ]
    return {
        "instance_id": inst.instance_id,
        "repo": inst.repo,
        "issue": result["trajectory"]["issue"],
        "turns": turns,
        "gold": gold,
        "labels": list(labels),
        "search_ms": round((time.perf_counter() - t0) * 1000, 3),
    }


def _work(args: tuple[str, list[dict[str, Any]]]) -> list[bytes]:
    from ...repo import Repo

    git_dir, rows = args
    out = []
    for row in rows:
        labels = row.pop("labels", ())
        inst = Instance(**row)
        try:
            repo = Repo.open(git_dir, commit=inst.base_commit, index_cache=False)
            out.append(orjson.dumps(search_record(repo, inst, labels)))
        except Exception as e:  # one bad instance must not stop a corpus
            err = {"instance_id": inst.instance_id, "repo": inst.repo, "error": str(e)[:300]}
            out.append(orjson.dumps(err))
    return out


def _chunks(
    instances: Sequence[Instance], repos_dir: Path, size: int, labels: dict[str, list[str]]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Per repository, in commit order (consecutive commits share most files, which the
    worker's content cache keeps), in chunks that several workers can share."""
    by_repo: dict[str, list[Instance]] = defaultdict(list)
    for inst in instances:
        by_repo[inst.repo].append(inst)
    for name, group in sorted(by_repo.items(), key=lambda kv: -len(kv[1])):
        try:
            git_dir = find_repository(repos_dir, name)
        except RepositoryMissing as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        rank = {c: i for i, c in enumerate(commit_order(git_dir, [i.base_commit for i in group]))}
        ordered = sorted(group, key=lambda inst: rank[inst.base_commit])
        for i in range(0, len(ordered), size):
            chunk = [inst.to_json() for inst in ordered[i : i + size]]
            for row in chunk:
                row["labels"] = labels.get(row["instance_id"], [])
            yield str(git_dir), chunk


def dataset_labels(source: str) -> dict[str, list[str]]:
    """Each instance's `labels` where the dataset is a local file that has them (mined)."""
    path = Path(source)
    if path.suffix not in (".jsonl", ".json") or not path.is_file():
        return {}
    return {
        str(row.get("instance_id")): list(row.get("labels") or []) for row in read_json_rows(path)
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m acs.train.ranker.collect", description=__doc__)
    p.add_argument("dataset", help="SWE-bench-format jsonl (acs data mine output, SWE-Gym)")
    p.add_argument("--repos", required=True, help="folder of git mirrors")
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--limit", type=int)
    args = p.parse_args(argv)
    instances = load_instances(args.dataset)[: args.limit]
    labels = dataset_labels(args.dataset)
    done = 0
    t0 = time.perf_counter()
    with open(args.out, "wb") as f, mp.get_context("spawn").Pool(args.workers) as pool:
        for lines in pool.imap_unordered(_work, _chunks(instances, Path(args.repos), 25, labels)):
            for line in lines:
                f.write(line + b"\n")
            done += len(lines)
            print(f"{done}/{len(instances)} {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
