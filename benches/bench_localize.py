"""End-to-end localization with the default planner, on an issue-like text over the corpus:
warm (indexes in memory), cold (open the repository, build the indexes, localize), and a
cold start that finds the index saved on disk (a new snapshot, as a new process has),
in process and as a whole `acs localize` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import acs
from corpora import EXCLUDE

ISSUE = """json.loads raises JSONDecodeError "Expecting value" for an empty document, but
JSONDecoder.raw_decode should report the position of the first bad character.
See json/decoder.py."""


def test_localize_warm(benchmark, loaded):
    acs.localize(loaded, ISSUE)
    result = benchmark(acs.localize, loaded, ISSUE)
    assert result["files"][0]["path"] == "json/decoder.py"


def test_localize_warm_hand_ranked(benchmark, loaded):
    """The same search ranked by the hand-weighted joiner: the baseline for what the learned
    ranker adds to a warm localize (target: at most 5 ms at the median)."""
    acs.localize(loaded, ISSUE, policy="hand")
    result = benchmark(acs.localize, loaded, ISSUE, policy="hand")
    assert result["files"][0]["path"] == "json/decoder.py"


def test_localize_cold(benchmark, corpus):
    def cold() -> str:
        acs.set_cache_budgets(1 << 30, 0)  # no parse shared with earlier runs
        try:
            repo = acs.Repo.open(corpus, exclude=EXCLUDE, index_cache=False)
            return acs.localize(repo, ISSUE)["files"][0]["path"]
        finally:
            acs.set_cache_budgets(1 << 30, 256 << 20)

    assert benchmark.pedantic(cold, rounds=2, iterations=1) == "json/decoder.py"


def test_localize_cold_from_disk_index(benchmark, corpus, tmp_path_factory):
    packs = tmp_path_factory.mktemp("packs")
    acs.Repo.open(corpus, exclude=EXCLUDE, index_cache=packs).index()  # `acs index`

    def cold() -> str:
        acs.set_cache_budgets(1 << 30, 0)
        try:
            repo = acs.Repo.open(corpus, exclude=EXCLUDE, index_cache=packs)
            result = acs.localize(repo, ISSUE)
            assert result["stats"]["index"] == "disk"
            return result["files"][0]["path"]
        finally:
            acs.set_cache_budgets(1 << 30, 256 << 20)

    assert benchmark.pedantic(cold, rounds=5, iterations=1) == "json/decoder.py"


def test_localize_command_with_disk_index(benchmark, corpus, tmp_path_factory):
    """The whole `acs localize` process: interpreter start, import, open, load, localize."""
    packs = tmp_path_factory.mktemp("packs")
    acs.Repo.open(corpus, exclude=EXCLUDE, index_cache=packs).index()
    command = [sys.executable, "-m", "acs", "localize", "--repo", str(corpus)]
    command += [f"--exclude={g}" for g in EXCLUDE] + ["--cache-dir", str(packs), ISSUE]

    def run() -> str:
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        return out.stdout

    stdout = benchmark.pedantic(run, rounds=3, iterations=1)
    assert '"index":"disk"' in stdout
    assert Path("json/decoder.py").as_posix() in stdout
