"""Run the benchmarks and print the figures the README quotes, as ratios against the
baselines measured in the same run.

    python benches/report.py                 # full run (100,000-file scale tree)
    ACS_BENCH_SCALE_FILES=20000 python benches/report.py
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", str(HERE), f"--benchmark-json={out}"],
            check=True,
        )
        return json.loads(out.read_text())


# (label, benchmark, compared with, how to read the ratio): the ratio is
# median(compared with) / median(benchmark), so "how many times slower the baseline is".
GREP_ROWS = [
    ("fused grep, 8 patterns, loaded", "test_fused_grep_loaded", None, ""),
    (
        "`rg` x8 sequential",
        "test_rg_eight_sequential",
        "test_fused_grep_loaded",
        "x slower than fused grep (target >= 10)",
    ),
    (
        "Python `re` x8, loaded",
        "test_python_re_loaded",
        "test_fused_grep_loaded",
        "x slower than fused grep",
    ),
    ("open + fused grep", "test_open_and_fused_grep", None, ""),
    (
        "`rg` once with 8 `-e`",
        "test_rg_single_run_eight_patterns",
        "test_open_and_fused_grep",
        "x: rg time / (open + grep) time (target >= 1)",
    ),
]
ROWS = [
    ("symbol index, cold", "test_symbol_index_cold", None, ""),
    (
        "Python `ast` parse + walk",
        "test_python_ast",
        "test_symbol_index_cold",
        "x slower than the index (target >= 5)",
    ),
    ("warm exact lookup", "test_warm_lookup", None, "target < 1 ms"),
    ("warm prefix lookup", "test_warm_prefix_lookup", None, ""),
    ("plan of 8 tasks, concurrent", "test_plan_of_eight_concurrent", None, ""),
    (
        "same 8 tasks one by one",
        "test_eight_tasks_one_by_one",
        "test_plan_of_eight_concurrent",
        "x slower than the plan",
    ),
    ("open at commit, cold", "test_open_at_commit_cold", None, ""),
    ("open at commit, warm cache", "test_open_at_commit_warm", None, ""),
    (
        "`git worktree add`",
        "test_git_worktree_add",
        "test_open_at_commit_cold",
        "x slower than a cold open",
    ),
    ("open directory", "test_open_directory", None, ""),
    ("localize, warm (indexes built)", "test_localize_warm", None, "target < 300 ms"),
    (
        "localize, cold start, index on disk (open + load + localize)",
        "test_localize_cold_from_disk_index",
        "test_localize_cold",
        "x the time of a first build; target < 2 s",
    ),
    (
        "`acs localize` process, index on disk",
        "test_localize_command_with_disk_index",
        None,
        "target < 2 s",
    ),
    ("localize, first build (open + index + localize)", "test_localize_cold", None, ""),
]
BOUNDARY_ROWS = [
    ("result as JSON bytes + orjson", "test_result_as_json_bytes", None, ""),
    (
        "result as Python objects (pythonize)",
        "test_result_as_python_objects",
        "test_result_as_json_bytes",
        "x the time of JSON bytes",
    ),
]


def main() -> None:
    data = run()
    medians: dict[tuple[str, str], float] = {}
    extra: dict[tuple[str, str], dict] = {}
    for b in data["benchmarks"]:
        key = (b["name"].split("[")[0], b.get("param") or "scale")
        medians[key] = b["stats"]["median"]
        extra[key] = b["extra_info"]

    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cpus")

    def table(rows: list, param: str) -> None:
        for label, name, versus, note in rows:
            t = medians.get((name, param))
            if t is None:
                continue
            ratio = note
            if versus and (versus, param) in medians:
                ratio = f"{t / medians[(versus, param)]:.1f}{note}"
            shown = f"{t * 1e6:.1f} µs" if t < 1e-3 else f"{t * 1000:.1f} ms"
            print(f"| {label} | {shown} | {ratio} |")

    header = "| measurement | median | ratio |\n|---|---:|---|"
    for corpus in sorted({c for _, c in medians if c != "scale" and "-" not in c}):
        for pattern_set in ("issue", "heavy"):
            print(f"\n### {corpus}, grep, `{pattern_set}` patterns\n{header}")
            table(GREP_ROWS, f"{corpus}-{pattern_set}")
        print(f"\n### {corpus}, symbols, plans, opening\n{header}")
        table(ROWS, corpus)
        for size in ("small", "large"):
            print(f"\n### {corpus}, crossing into Python, {size} result\n{header}")
            table(BOUNDARY_ROWS, f"{corpus}-{size}")

    if ("test_scale_open", "scale") in medians:
        print("\n### scale: generated tree\n| measurement | median |\n|---|---:|")
        for label, name in [
            ("open", "test_scale_open"),
            ("grep, 4 patterns", "test_scale_grep"),
            ("symbol index, cold", "test_scale_symbol_index"),
            ("symbol lookup, warm", "test_scale_symbol_lookup"),
        ]:
            t = medians[(name, "scale")]
            print(f"| {label} | {f'{t * 1e6:.1f} µs' if t < 1e-3 else f'{t * 1000:.1f} ms'} |")
        mem = extra[("test_scale_peak_memory", "scale")]
        print(
            f"\n{mem['files']} files, {mem['bytes'] / 1e6:.0f} MB of source. Resident memory added "
            f"by acs: {mem['open_rss_over_source']:.2f}x the source after open, "
            f"{mem['final_rss_over_source']:.2f}x after grep and the symbol index "
            f"({mem['defs']} definitions), {mem['peak_rss_over_source']:.2f}x at peak."
        )


if __name__ == "__main__":
    main()
