"""The on-disk index: `Repo.index()`, `acs index`, and `localize` reusing the per-file store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import acs
from acs.cachedir import default_index_cache

FILES = {
    "pkg/config.py": "class Config:\n    def load(self, path):\n        return read_yaml(path)\n",
    "pkg/io.py": "def read_yaml(path):\n    return open(path).read()\n",
}


def run_acs(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acs", *args], capture_output=True, text=True, env=env
    )


def test_a_second_open_reuses_what_the_first_one_processed(make_tree, tmp_path: Path) -> None:
    root = make_tree(FILES)
    first = acs.Repo.open(root, index_cache=tmp_path / "packs").index()
    second_repo = acs.Repo.open(root, index_cache=tmp_path / "packs")
    second = second_repo.index()
    # In one process the entries are still in memory; a new process reads them from disk.
    assert (first["source"], second["source"]) == ("built", "memory")
    assert (first["files_processed"], second["files_memory"]) == (2, 2)
    assert second["digest"] == first["digest"]
    assert second_repo.symbols("read_yaml")["symbols"][0]["path"] == "pkg/io.py"
    assert second_repo.index() == second, "later calls tell how the index was made"


def test_without_a_cache_nothing_is_written(make_tree, tmp_path: Path) -> None:
    root = make_tree({**FILES, "pkg/new.py": "def only_in_this_test():\n    pass\n"})
    report = acs.Repo.open(root, index_cache=False).index()
    assert (report["source"], report["files_processed"]) == ("built", 1)
    assert report["path"] is None
    assert acs.Repo.from_files(FILES).index_cache is None


def test_the_default_cache_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACS_CACHE_DIR", str(tmp_path))
    assert default_index_cache() == tmp_path / "index"
    monkeypatch.setenv("ACS_NO_CACHE", "1")
    assert default_index_cache() is None


def test_a_damaged_store_is_ignored_and_files_processed_anew(make_tree, tmp_path: Path) -> None:
    root = make_tree(FILES)
    acs.set_cache_budgets(1 << 30, 0)  # nothing kept in memory: each open is a new process
    try:
        store = Path(acs.Repo.open(root, index_cache=tmp_path / "packs").index()["path"])
        (log,) = store.glob("*.acsfiles")
        log.write_bytes(log.read_bytes()[:100])
        repo = acs.Repo.open(root, index_cache=tmp_path / "packs")
        report = repo.index()
    finally:
        acs.set_cache_budgets(1 << 30, 256 << 20)
    assert (report["source"], report["files_processed"]) == ("built", 2)
    assert repo.symbols("Config")["total"] == 1


def test_localize_reports_index_time_apart_from_search(make_tree, tmp_path: Path) -> None:
    root = make_tree({**FILES, "pkg/yaml_io.py": "def load_yaml_config(path):\n    pass\n"})
    issue = "Config.load fails to read a YAML file"
    cold = acs.localize(acs.Repo.open(root, index_cache=tmp_path / "packs"), issue)
    warm = acs.localize(acs.Repo.open(root, index_cache=tmp_path / "packs"), issue)
    assert (cold["stats"]["index"], warm["stats"]["index"]) == ("built", "memory")
    assert 0 <= warm["stats"]["index_ms"] <= warm["stats"]["latency_ms"]
    assert warm["files"] == cold["files"]


def test_acs_index_builds_then_the_next_process_loads(make_tree, tmp_path: Path) -> None:
    root = make_tree(FILES)
    cache = str(tmp_path / "packs")
    built = run_acs("index", str(root), "--cache-dir", cache, "--format", "json")
    assert built.returncode == 0, built.stderr
    assert orjson.loads(built.stdout)["source"] == "built"
    again = run_acs("index", str(root), "--cache-dir", cache)
    assert again.returncode == 0, again.stderr
    assert "definitions: disk" in again.stdout
    loc = run_acs("localize", "--repo", str(root), "--cache-dir", cache, "read_yaml breaks")
    assert loc.returncode == 0, loc.stderr
    assert orjson.loads(loc.stdout)["stats"]["index"] == "disk"


@pytest.mark.parametrize("args", [["/no/such/repo"], [".", "--commit", "deadbeef"]])
def test_acs_index_fails_cleanly(args: list[str], make_git) -> None:
    if args[0] == ".":
        args = [str(make_git({"a.py": "x = 1\n"})[0]), *args[1:]]
    result = run_acs("index", *args)
    assert result.returncode == 1
    assert result.stderr.startswith("acs: ")
    assert len(result.stderr.strip().splitlines()) == 1
