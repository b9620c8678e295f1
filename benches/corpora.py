"""What the benchmarks share (conftest.py holds the fixtures): the corpora, the paths they
leave out, and the `rg` baseline's command line. Benchmarks import these from here, never from
conftest.py."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

EXCLUDE = ["site-packages"]


def corpora() -> list[Path]:
    found = [Path(sysconfig.get_paths()["stdlib"])]
    if extra := os.environ.get("ACS_BENCH_REPO"):
        found.append(Path(extra))
    return found


def rg_args(rg: str) -> list[str]:
    # Same rules as acs: gitignore outside git, no config, skip site-packages.
    return [rg, "--no-config", "--no-require-git", "-g", "!site-packages", "--no-messages"]


def run_rg(args: list[str], cwd: Path) -> int:
    out = subprocess.run(args, cwd=cwd, capture_output=True, check=False)
    assert out.returncode in (0, 1), out.stderr[:500]
    return out.stdout.count(b"\n")
