"""Where the time of a cold first `localize` goes: a profile, not a target (issue 22, item 3).

Each round runs a new process that does what `acs localize --repo R [--commit C] ISSUE` does,
step by step, timing each step, with `ACS_CACHE_DIR` an empty folder (nothing on disk):
import acs, import the CLI's own modules, open the snapshot (the commit, read from git; or the
folder), make every index ready (every file processed), load the learned ranker's model, then
`localize` (its `stats.latency_split_ms`: reading the issue, the policy's planning, the wait
for its tools, ranking, the rest). A second new process then does the same with that cache
folder (the per-file store on disk): its index step reads the store and assembles the
indexes. For a commit, a third new process opens it with the store of a commit
`ACS_BENCH_LATER_BY` (10) first-parent commits earlier: a CI job's new commit. After its
steps, each process opens the snapshot again and makes its indexes ready from the entries
now in memory: that is the assembly alone, and the index step less it is
processing the files (cold) or reading the store (second process). That probe is left out
of the process's time.

The process's time less its steps is the interpreter's start and exit. `python -X importtime`
splits the import (the CLI's, which includes acs) by package. The baseline, measured in the
same run: one `rg` with 8 patterns over the same tree (a git commit is extracted first).

Corpora: the standard library, and a development-set repository at an instance's base
commit with its issue: `ACS_BENCH_INSTANCE` (default `Project-MONAI__MONAI-7549`: 1,347
files, 22 MB, 1,120 of them Python) of `ACS_BENCH_DEVSET` (default
../shared/data/swe_gym_dev.jsonl), found under `ACS_BENCH_MIRRORS` (full-history git
directories as `acs eval --repos` finds them; default acs's clone cache); skipped without it.

    ACS_BENCH_MIRRORS=/work/.mirror python -m pytest benches/bench_cold_start.py -s
    ACS_BENCH_MIRRORS=/work/.mirror python benches/bench_cold_start.py [--rounds 3]

Figures are medians over the rounds of wall times on a machine that may be shared: compare
the parts with one another and with the `rg` run, not across machines.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # corpora.py's helpers, when run as a script

from corpora import EXCLUDE, rg_args, run_rg  # noqa: E402

DEVSET = HERE.parent.parent / "shared" / "data" / "swe_gym_dev.jsonl"
DEFAULT_INSTANCE = "Project-MONAI__MONAI-7549"
STDLIB_ISSUE = "json.loads raises JSONDecodeError for an empty string; see json/decoder.py"
# The baseline's patterns: what a first search of an issue looks for, as one rg run.
RG_PATTERNS = [
    r"raise \w+Error",
    r"def __init__",
    r"class \w+\(",
    r"import os",
    r"TODO",
    r"self\.\w+ = None",
    r"return None",
    r"except Exception",
]

# The process whose steps are timed: argv = path, commit ('' for a folder), issue, excludes.
# Each step's wall time and CPU time (every thread of the process; the engine's are many).
PROFILE = r"""
import json, resource, sys, time
born = time.time()

def cpu_ms():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000

wall, cpu = {}, {"start": cpu_ms()}  # the CPU the interpreter's start-up took
last = (time.perf_counter(), cpu["start"])

def step(name):
    global last
    now = (time.perf_counter(), cpu_ms())
    wall[name], cpu[name] = (now[0] - last[0]) * 1000, now[1] - last[1]
    last = now

import acs
step("import acs")
import acs.cli
step("import acs.cli")
from acs.rank.model import shipped

path, commit, issue, excludes = sys.argv[1], sys.argv[2] or None, sys.argv[3], sys.argv[4:]

def open_repo():
    return acs.Repo.open(path, commit=commit, exclude=excludes)

repo = open_repo()
step("open")
report = repo.index()
step("index")
if shipped() is None:
    raise SystemExit("no shipped ranker model")
step("model")
result = acs.localize(repo, issue)
step("localize")
# The probe, left out of the process's time: the same snapshot again, its indexes assembled
# from the entries now in memory, then freed.
probe = open_repo()
step("probe: open")
memory = probe.index()
step("probe: assemble")
del probe
step("probe: free")
print(json.dumps({
    "born": born,
    "wall": wall,
    "cpu": cpu,
    "split": result["stats"]["latency_split_ms"],
    "source": report["source"],
    "files_processed": report["files_processed"],
    "files_disk": report["files_disk"],
    "probe_source": memory["source"],
}))
"""


@dataclass
class Corpus:
    name: str
    path: str
    commit: str  # '' for a folder
    issue: str
    excludes: tuple[str, ...] = ()


def stdlib_corpus() -> Corpus:
    path = sysconfig.get_paths()["stdlib"]
    return Corpus("stdlib", path, "", STDLIB_ISSUE, tuple(EXCLUDE))


def devset_corpus() -> Corpus | None:
    """The development-set instance's repository at its base commit, with its issue; None
    without the dataset, the instance or its repository."""
    from acs.task.dataset import load_instances
    from acs.task.repos import DEFAULT_CACHE, RepositoryMissing, find_repository

    data = Path(os.environ.get("ACS_BENCH_DEVSET", DEVSET))
    instance = os.environ.get("ACS_BENCH_INSTANCE", DEFAULT_INSTANCE)
    if not data.is_file():
        return None
    found = load_instances(data, instances=[instance])
    if not found:
        return None
    inst = found[0]
    try:
        git_dir = find_repository(os.environ.get("ACS_BENCH_MIRRORS", DEFAULT_CACHE), inst.repo)
    except RepositoryMissing:
        return None
    return Corpus(inst.instance_id, str(git_dir), inst.base_commit, inst.problem_statement)


# -- measuring --------------------------------------------------------------------------------


def run_profile(corpus: Corpus, cache: str) -> dict:
    """One new process's steps, with `cache` as its acs cache folder: the child's own figures
    plus the interpreter's start and exit (wall and CPU) measured from here."""
    command = [sys.executable, "-c", PROFILE, corpus.path, corpus.commit, corpus.issue]
    command += list(corpus.excludes)
    env = {**os.environ, "ACS_CACHE_DIR": cache}
    env.pop("ACS_NO_CACHE", None)
    cpu_before = children_cpu_ms()
    spawned = time.time()
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    whole_ms = (time.perf_counter() - start) * 1000
    assert out.returncode == 0, out.stderr[-2000:]
    profile = json.loads(out.stdout)
    wall, cpu = profile["wall"], profile["cpu"]
    wall["start"] = (profile["born"] - spawned) * 1000
    wall["exit"] = whole_ms - sum(wall.values())
    cpu["exit"] = children_cpu_ms() - cpu_before - sum(cpu.values())
    return profile


def children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


# The rows of the table: (label, the child's step or a part of localize's split).
FILL = {"built": "index: process the files", "disk": "index: read the store"}
SPLIT_ROWS = [
    ("· read the issue", "issue"),
    ("· search: planning", "plan"),
    ("· search: tools", "tools"),
    ("· ranking", "rank"),
    ("· the rest", "rest"),
]


def breakdown(profile: Mapping, clock: str) -> dict[str, float]:
    """A process's time by part, in ms of `clock` ('wall' or 'cpu'). The top-level parts add
    up to the whole process (the probe left out); the `·` parts to `localize`, wall only."""
    steps = profile[clock]
    assemble = min(steps["probe: assemble"], steps["index"])
    parts = {
        "interpreter start": steps["start"],
        "import acs (and its imports)": steps["import acs"],
        "import acs.cli (the CLI's own)": steps["import acs.cli"],
        "open the snapshot": steps["open"],
        FILL[profile["source"]]: steps["index"] - assemble,
        "index: assemble the indexes": assemble,
        "load the ranker's model": steps["model"],
        "localize": steps["localize"],
        "interpreter exit": steps["exit"],
    }
    parts["whole process"] = sum(parts.values())
    if clock == "wall":
        split = dict(profile["split"])
        # What localize's own split leaves out: its argument checks and its result's edges.
        rest = steps["localize"] - sum(split.values()) + split.pop("index") + split["other"]
        split["rest"] = rest
        parts.update((label, split[key]) for label, key in SPLIT_ROWS)
    return parts


def rg_baseline_ms(corpus: Corpus, rg: str, rounds: int = 3) -> dict[str, float]:
    """The quickest of `rounds` runs of one rg with the 8 patterns over the corpus's tree:
    its wall and CPU ms."""
    with tempfile.TemporaryDirectory(prefix="acs-cold-start-tree-") as scratch:
        tree = Path(corpus.path)
        if corpus.commit:  # the commit's tree, as files (not timed)
            tree = Path(scratch)
            archive = subprocess.run(
                ["git", "--git-dir", corpus.path, "archive", corpus.commit],
                capture_output=True,
                check=True,
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tree, filter="data")
        args = rg_args(rg) + [a for p in RG_PATTERNS for a in ("-e", p)] + ["."]
        runs = []
        for _ in range(rounds):
            cpu_before, start = children_cpu_ms(), time.perf_counter()
            run_rg(args, tree)
            wall = (time.perf_counter() - start) * 1000
            runs.append({"wall": wall, "cpu": children_cpu_ms() - cpu_before})
        return min(runs, key=lambda r: r["wall"])


# "import time: SELF | CUMULATIVE | NAME", NAME indented two spaces a level below the top.
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$")


@dataclass
class ImportProfile:
    total_ms: float
    self_ms: list[tuple[str, float]]  # (module of acs or other package, self ms), largest first
    # (module from outside acs, the acs module that first imports it, its cumulative ms)
    outside: list[tuple[str, str, float]]


def import_breakdown(rounds: int = 3) -> ImportProfile:
    """`python -X importtime -c 'import acs.cli'`, the quickest of `rounds` runs: its total;
    the self time of each module of acs and of each other top-level package; and what each
    module from outside acs that an acs module imports costs with its own imports."""
    runs = []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import acs.cli"],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(import_profile(out.stderr.splitlines()))
    return min(runs, key=lambda r: r.total_ms)


def import_profile(lines: Iterable[str]) -> ImportProfile:
    rows = [m.groups() for line in lines if (m := IMPORT_LINE.match(line))]
    # importtime prints a module after its imports: the subtree of `acs.cli` is the run of
    # lines up to its own (interpreter start-up modules come before it, at the top level).
    end = next(i for i, r in enumerate(rows) if r[3] == "acs.cli" and not r[2])
    begin = end
    while begin > 0 and rows[begin - 1][2]:
        begin -= 1
    groups: dict[str, float] = {}
    outside = []
    importers: list[tuple[int, str]] = []  # (depth, module) of the lines still open
    for self_us, cumulative_us, indent, name in reversed(rows[begin : end + 1]):
        groups[_group(name)] = groups.get(_group(name), 0.0) + int(self_us) / 1000
        depth = len(indent) // 2
        while importers and importers[-1][0] >= depth:
            importers.pop()
        importer = importers[-1][1] if importers else ""
        if _is_acs(importer) and not _is_acs(name):
            outside.append((name, importer, int(cumulative_us) / 1000))
        importers.append((depth, name))
    return ImportProfile(
        total_ms=int(rows[end][1]) / 1000,
        self_ms=sorted(groups.items(), key=lambda kv: -kv[1]),
        outside=sorted(outside, key=lambda t: -t[2]),
    )


def _is_acs(module: str) -> bool:
    return module == "acs" or module.startswith("acs.")


def _group(module: str) -> str:
    """acs's modules one by one (its engine, `acs._core`, among them), any other package
    as a whole."""
    if _is_acs(module):
        return module
    top = module.split(".")[0]
    kind = "stdlib" if top in sys.stdlib_module_names else "third-party"
    return f"{top} ({kind}, whole package)"


# -- the table --------------------------------------------------------------------------------


def median_breakdown(profiles: Sequence[Mapping], clock: str) -> dict[str, float]:
    parts = [breakdown(p, clock) for p in profiles]
    return {k: statistics.median(p[k] for p in parts) for k in parts[0]}


# A later commit: the store holds this many first-parent commits before the corpus's commit.
LATER_BY = int(os.environ.get("ACS_BENCH_LATER_BY", "10"))


def profile_rounds(corpus: Corpus, rounds: int) -> dict[str, list[dict]]:
    """Per round: a cold process (an empty cache folder), then one from the store it left;
    for a commit, also one opening it with the store of a commit `LATER_BY` earlier (made
    by a process not timed): what a CI job sees for a new commit."""
    runs: dict[str, list[dict]] = {"cold": [], "store": [], "later": []}
    earlier = replace(corpus, commit=f"{corpus.commit}~{LATER_BY}") if corpus.commit else None
    with tempfile.TemporaryDirectory(prefix="acs-cold-start-") as scratch:
        for n in range(rounds):
            cache = f"{scratch}/{n}"
            os.mkdir(cache)
            runs["cold"].append(run_profile(corpus, cache))
            runs["store"].append(run_profile(corpus, cache))
            if earlier is not None:
                os.mkdir(cache := f"{scratch}/{n}-later")
                run_profile(earlier, cache)
                runs["later"].append(run_profile(corpus, cache))
    cold, stored = runs["cold"], runs["store"]
    assert all(p["source"] == "built" and p["files_disk"] == 0 for p in cold), cold
    assert all(p["source"] == "disk" and p["files_processed"] == 0 for p in stored), stored
    assert all(p["files_disk"] > 0 for p in runs["later"]), runs["later"]
    assert all(p["probe_source"] == "memory" for p in cold + stored + runs["later"])
    return {kind: found for kind, found in runs.items() if found}


ROWS = [
    "interpreter start",
    "import acs (and its imports)",
    "import acs.cli (the CLI's own)",
    "open the snapshot",
    *FILL.values(),
    "index: assemble the indexes",
    "load the ranker's model",
    "localize",
    *(label for label, _ in SPLIT_ROWS),
    "interpreter exit",
    "whole process",
]


def table(columns: Mapping[str, Mapping[str, float]], rg: Mapping[str, float]) -> str:
    """Markdown: a row per part, a column per (process, clock); ms, then the ratio to rg."""
    names = list(columns)
    lines = ["| part (ms, median) | " + " | ".join(names) + " |"]
    lines.append("|---|" + "---:|" * len(names))
    for row in ROWS:
        if not any(row in col for col in columns.values()):
            continue
        cells = [f"{col[row]:.0f}" if row in col else "" for col in columns.values()]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    ratios = [f"{c['whole process'] / rg[n.split()[-1]]:.1f}x" for n, c in columns.items()]
    label = f"vs one rg, 8 patterns ({rg['wall']:.0f} ms wall, {rg['cpu']:.0f} ms CPU)"
    lines.append(f"| {label} | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def import_table(profile: ImportProfile, top: int = 12) -> str:
    """Markdown: the largest groups' self time, the sums by kind, and the costliest imports
    from outside acs."""
    total = profile.total_ms
    kinds = {"acs": 0.0, "stdlib": 0.0, "third-party": 0.0}
    for name, ms in profile.self_ms:
        kinds["acs" if _is_acs(name) else name.split("(")[1].split(",")[0]] += ms
    sums = ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in kinds.items())
    lines = [f"`python -X importtime -c 'import acs.cli'`: {total:.0f} ms ({sums} self)."]
    lines += ["", "| module or package | self ms | share |", "|---|---:|---:|"]
    for name, ms in profile.self_ms[:top]:
        lines.append(f"| {name} | {ms:.0f} | {100 * ms / total:.0f}% |")
    rest = sum(ms for _, ms in profile.self_ms[top:])
    others = len(profile.self_ms) - top
    lines.append(f"| {others} others | {rest:.0f} | {100 * rest / total:.0f}% |")
    lines += ["", "| imported from outside acs | by | with its imports, ms |", "|---|---|---:|"]
    for name, importer, ms in profile.outside[:top]:
        lines.append(f"| {name} | {importer} | {ms:.0f} |")
    return "\n".join(lines)


def report(corpus: Corpus, rg: str, rounds: int) -> tuple[str, dict]:
    rg_ms = rg_baseline_ms(corpus, rg)
    runs = profile_rounds(corpus, rounds)
    columns = {
        f"{kind} {clock}": median_breakdown(profiles, clock)
        for kind, profiles in runs.items()
        for clock in ("wall", "cpu")
    }
    later = f"; later: a new process, the store of the commit {LATER_BY} before" * ("later" in runs)
    text = (
        f"### {corpus.name} ({rounds} rounds; cold: a new process, nothing on disk; store: "
        f"a new process, the cold one's store on disk{later})\n\n" + table(columns, rg_ms)
    )
    return text, {"rg_ms": _rounded(rg_ms), **{k: _rounded(v) for k, v in columns.items()}}


def _rounded(values: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in values.items()}


# -- pytest-benchmark -------------------------------------------------------------------------


def corpora() -> list[Corpus | None]:
    return [stdlib_corpus(), devset_corpus()]


@pytest.fixture(scope="module", params=["stdlib", "devset"])
def corpus(request) -> Corpus:
    found = stdlib_corpus() if request.param == "stdlib" else devset_corpus()
    if found is None:
        pytest.skip(
            f"no {os.environ.get('ACS_BENCH_INSTANCE', DEFAULT_INSTANCE)}: set "
            "ACS_BENCH_DEVSET and ACS_BENCH_MIRRORS (git directories, as acs eval --repos)"
        )
    return found


def test_cold_start_profile(benchmark, corpus, rg, capsys):
    """The cold and the store processes of a round, timed together; `extra_info` holds each
    one's breakdown and the rg baseline."""
    rounds = int(os.environ.get("ACS_BENCH_ROUNDS", "3"))
    text, info = benchmark.pedantic(report, args=(corpus, rg, rounds), rounds=1, iterations=1)
    benchmark.extra_info.update(info)
    with capsys.disabled():
        print("\n" + text)


def test_import_profile(benchmark, capsys):
    profile = benchmark.pedantic(import_breakdown, rounds=1, iterations=1)
    benchmark.extra_info.update(
        total_ms=round(profile.total_ms, 1),
        self_ms=dict(profile.self_ms[:12]),
        outside={name: ms for name, _, ms in profile.outside[:12]},
    )
    with capsys.disabled():
        print("\n" + import_table(profile))


def main() -> None:
    import argparse
    import shutil

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rg = shutil.which("rg")
    if rg is None:
        raise SystemExit("rg not installed (pip install ripgrep)")
    for found in corpora():
        if found is None:
            print("(no development-set repository: set ACS_BENCH_MIRRORS)\n")
            continue
        print(report(found, rg, args.rounds)[0] + "\n", flush=True)
    print(import_table(import_breakdown()))


if __name__ == "__main__":
    main()
