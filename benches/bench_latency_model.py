"""The RL reward's tool costs (`acs.train.planner.latency_model`), measured and fitted.

Every engine tool runs a deterministic suite of calls on snapshots of several sizes (the
standard library, some of its folders, and `ACS_BENCH_REPO` when set), each call alone in a
plan on an indexed snapshot (as the RL environment holds them), `ROUNDS` rounds interleaved;
a call's cost is the process CPU time it took (every engine thread's, plus the plan's round
trip from Python), the least of the rounds. CPU time, not wall time: on a training node
whose cores are shared by the rollouts and the inference server, a call's latency is the
work it does, and CPU time hardly moves with the load of the machine that measures it (on
2 cores at a load average of 8-10, wall time was twice the CPU time, and two runs agreed
within 5% on the constants that weigh: grep's per MB and per regex, references' per MB,
symbols' per definition; the cheap tools' fixed costs, tens of microseconds, within 2x).

Per tool, non-negative least squares on the work of `latency_model.work` gives `fixed_ms`,
`per_unit_ms`, `per_item_ms` and `per_regex_ms`, weighted by 1 / (time + 1 ms) (relative
error above a millisecond, absolute below); R^2, the median relative error and the mean
absolute error say how well the line fits.

    python benches/bench_latency_model.py --out python/acs/train/planner/latency_costs.json
    python -m pytest benches/bench_latency_model.py     # the fit, figures in extra_info

The first command is how the shipped file was made (it records the machine, the date and
the command); run it on the training node's hardware for its own constants, and point the
reward at that file (`RewardConfig(latency_costs="path.json")`, the env's
`reward: {latency_costs: path.json}`).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Index packs go to a private folder, never the user's cache (as benches/conftest.py).
os.environ.setdefault("ACS_CACHE_DIR", tempfile.mkdtemp(prefix="acs-bench-cache-"))

import numpy as np
import pytest

import acs
from acs.train.planner.latency_model import COSTS_PATH, TOOL_NAMES, RepoStats, work

ROUNDS = 5
EXCLUDE = ["site-packages"]
# Folders of the standard library opened as snapshots of their own: small to large, few big
# files to many small ones, so that per-file and per-byte costs are told apart.
STDLIB_PARTS = ("json", "email", "asyncio", "unittest", "encodings", "idlelib", "test")
HERE = Path(__file__).resolve().parent
COMMAND = "python benches/bench_latency_model.py --out python/acs/train/planner/latency_costs.json"


@dataclass(frozen=True)
class Sample:
    """One call: its tool, its work, its least CPU time over the rounds."""

    snapshot: str
    tool: str
    args: dict[str, Any]
    units: float
    items: float
    regexes: float
    ms: float


def snapshots() -> list[tuple[str, Path]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = [("stdlib", stdlib)]
    found += [(f"stdlib/{p}", stdlib / p) for p in STDLIB_PARTS if (stdlib / p).is_dir()]
    if extra := os.environ.get("ACS_BENCH_REPO"):
        found.append((Path(extra).name, Path(extra)))
    return found


def open_indexed(root: Path) -> acs.Repo:
    repo = acs.Repo.open(root, exclude=EXCLUDE)
    repo.index()  # as the RL environment opens a repository: every index ready
    return repo


# -- the suite ----------------------------------------------------------------------------------


def suite(repo: acs.Repo) -> list[dict[str, Any]]:
    """The calls measured on one snapshot, made from its own files and definitions (so the
    same on every machine with the same Python)."""
    paths = [p for p in repo.paths() if p.endswith(".py")] or repo.paths()
    files = paths[:: max(1, len(paths) // 24)][:24]
    names = _names(repo, files)
    folders = _folders(paths)
    calls: list[tuple[str, dict[str, Any]]] = []
    calls += _grep_calls(names, folders)
    calls += _reference_calls(names, folders)
    calls += _find_files_calls(files, folders)
    calls += _symbol_calls(names)
    calls += [("outline", {"path": p}) for p in files]
    calls += _read_calls(files, names)
    calls += _bm25_calls(names)
    calls += [("imports", {"paths": files[i : i + n]}) for n in (1, 3, 8) for i in range(0, 24, 6)]
    return [{"id": 1, "tool": tool, "args": args} for tool, args in calls]


def _names(repo: acs.Repo, files: Sequence[str]) -> list[str]:
    """Distinct definition names of `files` (top level and one below), in file order."""
    seen: dict[str, None] = {}
    for path in files:
        for node in repo.outline(path)["symbols"]:
            for d in [node, *node.get("children", [])]:
                if len(d["name"]) >= 4 and not d["name"].startswith("__"):
                    seen.setdefault(d["name"], None)
    return list(seen)[:: max(1, len(seen) // 12)][:12]


def _folders(paths: Sequence[str]) -> list[str]:
    tops = sorted({p.split("/")[0] for p in paths if "/" in p})
    return tops[:: max(1, len(tops) // 3)][:3]


HEAVY = ["self", r"def \w+\(", "return", "import"]


def _grep_calls(
    names: Sequence[str], folders: Sequence[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    scopes: list[dict[str, Any]] = [{}, {"include": ["*.py"]}]
    scopes += [{"paths": [f]} for f in folders]
    for scope, (n, name) in itertools.product(scopes, enumerate(names[:6])):
        yield "grep", {"pattern": name, "fixed_strings": True, **scope}
        if n < 2:
            yield "grep", {"pattern": rf"\b{name}\(", "enclosing": True, **scope}
    for scope, (n, pattern) in itertools.product(scopes, enumerate(HEAVY)):
        yield "grep", {"pattern": pattern, "max_results": (20, 200, 1000, 4000)[n], **scope}
    for scope in scopes[:3]:  # several patterns in one pass
        yield "grep", {"patterns": list(names[:4]), "fixed_strings": True, **scope}
        yield "grep", {"patterns": [rf"class \w*{names[0][:3]}", *HEAVY[:2]], **scope}


def _reference_calls(
    names: Sequence[str], folders: Sequence[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for n, name in enumerate([*names, *HEAVY[::2]]):
        yield "references", {"name": name, "max_results": (20, 100, 500)[n % 3]}
    for name in names[:3]:
        yield "references", {"name": name, "include": ["*.py"]}


def _find_files_calls(
    files: Sequence[str], folders: Sequence[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for n, path in enumerate(files[:8]):
        yield "find_files", {"query": Path(path).stem, "limit": (5, 50)[n % 2]}
    for glob in ["**/*.py", "**/test_*.py", *(f"{f}/**" for f in folders)]:
        yield "find_files", {"glob": glob, "limit": 500}


def _symbol_calls(names: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name in names:
        yield "symbols", {"name": name}
        yield "symbols", {"name": name[:3], "mode": "prefix", "limit": 100}
        yield "symbols", {"name": name[:-1] + "x", "mode": "fuzzy", "limit": 20}
    for name in names[:4]:
        yield "symbols", {"name": f"^{name[:4]}", "mode": "regex", "limit": 100}
        yield "symbols", {"name": rf"^{name[:2]}\w*$", "mode": "regex", "limit": 100}
        yield "symbols", {"name": name.lower(), "ignore_case": True}


def _read_calls(files: Sequence[str], names: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for n, path in enumerate(files):
        start = 1 + 37 * n
        yield "read", {"path": path, "start": start, "end": start + (10, 60, 400)[n % 3]}
    yield "read", {"path": files[0], "max_lines": 2000}


def _bm25_calls(names: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    words = [w for name in names for w in name.split("_") if w]
    for n, size in enumerate([2, 4, 8, 16, 32]):
        query = " ".join(itertools.islice(itertools.cycle(words), n, n + size))
        for level, limit in (("file", 20), ("function", 50)):
            yield "bm25", {"query": query, "level": level, "limit": limit}


# -- measuring ----------------------------------------------------------------------------------


def measure(
    name: str, repo: acs.Repo, tasks: Sequence[dict[str, Any]], rounds: int
) -> list[Sample]:
    """Each call alone in a plan, timed in process CPU time (every engine thread's),
    `rounds` rounds over the whole suite (interleaved, so a burst of load spreads over many
    calls instead of one call's every round)."""
    times: list[list[float]] = [[] for _ in tasks]
    outcomes: list[dict[str, Any]] = []
    for r in range(rounds):
        for i, task in enumerate(tasks):
            started = time.process_time()
            outcome = repo.run_plan([task])["tasks"][0]
            times[i].append((time.process_time() - started) * 1000)
            if outcome["status"] != "ok":
                raise RuntimeError(f"{task}: {outcome.get('error')}")
            if r == 0:
                outcomes.append(outcome)
    stats = RepoStats.of(repo)
    samples = []
    for task, outcome, ms in zip(tasks, outcomes, times, strict=True):
        done = work(task["tool"], task["args"], outcome["result"], stats)
        # The least CPU time of the rounds: contention (cache, scheduling) only adds to it.
        samples.append(Sample(name, task["tool"], task["args"], *done, min(ms)))
    return samples


# -- fitting ------------------------------------------------------------------------------------


# A call's error is weighted by 1 / (time + this): relative above a millisecond, absolute
# below it, where a difference is far under the cost of one decoded token (about 4 ms).
NOISE_FLOOR_MS = 1.0


@dataclass(frozen=True)
class Fit:
    fixed_ms: float
    per_unit_ms: float
    per_item_ms: float
    per_regex_ms: float
    r2: float  # of the times themselves (unweighted)
    median_relative_error: float
    mean_absolute_error_ms: float
    samples: int


def nonnegative_least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact NNLS for a handful of columns: the best unconstrained fit over every subset of
    columns whose coefficients all come out non-negative (a cost is never negative)."""
    best, best_error = np.zeros(x.shape[1]), float(np.sum(y**2))
    for size in range(1, x.shape[1] + 1):
        for cols in itertools.combinations(range(x.shape[1]), size):
            coef, *_ = np.linalg.lstsq(x[:, cols], y, rcond=None)
            if np.all(coef >= 0):
                error = float(np.sum((x[:, cols] @ coef - y) ** 2))
                if error < best_error:
                    best, best_error = np.zeros(x.shape[1]), error
                    best[list(cols)] = coef
    return best


def fit(samples: Sequence[Sample]) -> Fit:
    ms = np.array([s.ms for s in samples])
    x = np.array([[1.0, s.units, s.items, s.regexes] for s in samples])
    weight = 1.0 / (ms + NOISE_FLOOR_MS)
    coef = nonnegative_least_squares(x * weight[:, None], ms * weight)
    predicted = x @ coef
    residual = float(np.sum((ms - predicted) ** 2))
    total = float(np.sum((ms - ms.mean()) ** 2))
    return Fit(
        *(float(c) for c in coef),
        r2=1.0 - residual / total if total > 0 else 1.0,
        median_relative_error=float(np.median(np.abs(predicted - ms) / np.maximum(ms, 0.001))),
        mean_absolute_error_ms=float(np.mean(np.abs(predicted - ms))),
        samples=len(samples),
    )


def fit_all(samples: Sequence[Sample]) -> dict[str, Fit]:
    return {tool: fit([s for s in samples if s.tool == tool]) for tool in TOOL_NAMES}


def run_suite(rounds: int) -> tuple[list[Sample], list[dict[str, Any]]]:
    samples: list[Sample] = []
    corpora = []
    for name, root in snapshots():
        repo = open_indexed(root)
        stats = RepoStats.of(repo)
        corpora.append(
            {
                "name": name,
                "files": stats.files,
                "bytes": stats.bytes,
                "definitions": stats.definitions,
            }
        )
        samples += measure(name, repo, suite(repo), rounds)
    return samples, corpora


def costs_file(
    fits: dict[str, Fit], corpora: list[dict[str, Any]], rounds: int, load: Sequence[float]
) -> dict[str, Any]:
    stdlib = corpora[0]
    return {
        "about": "Tool costs of the RL reward's latency model (acs.train.planner.latency_model, "
        "docs/reward.md): call_ms = fixed_ms + per_unit_ms * units + per_item_ms * items "
        "+ per_regex_ms * regexes.",
        "command": COMMAND,
        "date": datetime.date.today().isoformat(),
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "system": f"{platform.system()} {platform.release()} {platform.machine()}",
            "python": platform.python_version(),
            "acs": acs.__version__,
            "load_average": [round(x, 2) for x in load],  # 1 min, before and after
        },
        "method": f"each call alone in a plan on an indexed snapshot, its process CPU time "
        f"(engine threads and the round trip from Python), least of {rounds} interleaved "
        f"rounds; non-negative least squares weighted by 1 / (time + {NOISE_FLOOR_MS:g} ms)",
        "corpora": corpora,
        "reference_repo": {k: stdlib[k] for k in ("files", "bytes", "definitions")},
        "tools": {
            tool: {
                "unit": UNITS[tool],
                "fixed_ms": round(f.fixed_ms, 6),
                "per_unit_ms": round(f.per_unit_ms, 6),
                "per_item_ms": round(f.per_item_ms, 6),
                "per_regex_ms": round(f.per_regex_ms, 6),
                "fit": {
                    "r2": round(f.r2, 4),
                    "median_relative_error": round(f.median_relative_error, 4),
                    "mean_absolute_error_ms": round(f.mean_absolute_error_ms, 4),
                    "samples": f.samples,
                },
            }
            for tool, f in fits.items()
        },
    }


UNITS = {
    "grep": "MB scanned (files_searched x mean file bytes)",
    "references": "MB of the snapshot",
    "find_files": "thousand paths of the snapshot",
    "symbols": "thousand definitions (fuzzy and regex modes only)",
    "outline": "thousand lines of the file",
    "read": "thousand lines of the file",
    "bm25": "thousand documents x query words",
    "imports": "files asked about",
}


def _load_average() -> float:
    """The last minute's load average (0 where the system has none: Windows)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(fits: dict[str, Fit]) -> str:
    rows = [
        "| tool | unit | fixed ms | ms per unit | ms per item | ms per regex | R^2 "
        "| median rel. error | mean abs. error ms | calls |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool, f in fits.items():
        rows.append(
            f"| {tool} | {UNITS[tool]} | {f.fixed_ms:.4f} | {f.per_unit_ms:.4f} "
            f"| {f.per_item_ms:.5f} | {f.per_regex_ms:.2f} | {f.r2:.3f} "
            f"| {f.median_relative_error:.0%} | {f.mean_absolute_error_ms:.3f} | {f.samples} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the fitted costs here (JSON)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--samples", type=Path, help="write every measured call here (JSON)")
    args = parser.parse_args(argv)
    load_before = _load_average()
    samples, corpora = run_suite(args.rounds)
    fits = fit_all(samples)
    print(table(fits))
    if args.samples:
        args.samples.write_text(json.dumps([s.__dict__ for s in samples], indent=1))
    if args.out:
        data = costs_file(fits, corpora, args.rounds, [load_before, _load_average()])
        args.out.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


# -- pytest-benchmark ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def measured(request) -> list[Sample]:
    quick = request.config.getoption("benchmark_disable", False)  # scripts/test: one round
    return run_suite(rounds=1 if quick else 3)[0]


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_tool_cost_fit(benchmark, measured, tool: str) -> None:
    """Each tool's fitted line and its quality in `extra_info`; the benchmark times the
    tool's suite on the standard library, one round."""
    f = fit([s for s in measured if s.tool == tool])
    benchmark.extra_info.update(f.__dict__)
    repo = _stdlib()
    tasks = [t for t in suite(repo) if t["tool"] == tool]
    benchmark.pedantic(lambda: [repo.run_plan([t]) for t in tasks], rounds=1, iterations=1)
    costs = (f.fixed_ms, f.per_unit_ms, f.per_item_ms, f.per_regex_ms)
    assert f.samples >= 10 and all(c >= 0 for c in costs)


def test_shipped_costs_cover_every_tool() -> None:
    """The shipped file names every tool of the engine with this suite's units."""
    shipped = json.loads(COSTS_PATH.read_text("utf-8"))
    assert set(shipped["tools"]) == set(TOOL_NAMES) == {t for t, _ in acs.tool_arguments()}
    assert {t: v["unit"] for t, v in shipped["tools"].items()} == UNITS
    assert shipped["command"] == COMMAND


_STDLIB: list[acs.Repo] = []


def _stdlib() -> acs.Repo:
    if not _STDLIB:
        _STDLIB.append(open_indexed(snapshots()[0][1]))
    return _STDLIB[0]


if __name__ == "__main__":
    sys.exit(main())
