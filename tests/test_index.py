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


def _damage_loose_object(root: Path, rev: str) -> str:
    """Cut the loose object `rev` names to its first 10 bytes; its id."""
    blob = subprocess.run(
        ["git", "rev-parse", rev], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    path = root / ".git" / "objects" / blob[:2] / blob[2:]
    head = path.read_bytes()[:10]
    path.unlink()  # objects are read-only; their folder is not
    path.write_bytes(head)
    return blob


def test_a_damaged_git_object_is_named_not_silently_left_out(make_git, tmp_path: Path) -> None:
    # Contents no other test loads: none is in this process's content cache.
    unique = {
        path: f"{text}# {path} in test_a_damaged_git_object\n" for path, text in FILES.items()
    }
    root, _ = make_git(unique)
    blob = _damage_loose_object(root, "HEAD:pkg/io.py")
    repo = acs.Repo.open(root, commit="HEAD", index_cache=False)
    assert repo.paths() == ["pkg/config.py"]
    stats = repo.stats
    assert stats["skipped_unreadable"] == 1
    (unreadable,) = stats["unreadable"]
    assert unreadable["path"] == "pkg/io.py"
    assert unreadable["reason"].startswith(f"damaged object {blob}")

    cache = str(tmp_path / "cache")
    index = run_acs("index", str(root), "--commit", "HEAD", "--cache-dir", cache)
    assert index.returncode == 0, index.stderr
    assert index.stdout.startswith("1 files")
    (warning,) = [line for line in index.stderr.splitlines() if "could not be read" in line]
    assert warning.startswith("acs: warning: 1 file could not be read")
    assert "pkg/io.py (damaged object" in warning

    loc = run_acs(
        "localize", "--repo", str(root), "--commit", "HEAD", "--cache-dir", cache, "read_yaml"
    )
    assert loc.returncode == 0, loc.stderr
    assert orjson.loads(loc.stdout)["stats"]["unreadable_files"] == 1
    assert "pkg/io.py" in loc.stderr


def test_the_unreadable_warning_is_capped_with_a_count() -> None:
    from acs.cli import unreadable_warning

    listed = [
        {"path": f"m{i}.py" + "x" * 500, "reason": "damaged " + "y" * 500} for i in range(100)
    ]
    stats = {"skipped_unreadable": 250, "unreadable": listed}
    warning = unreadable_warning(stats)
    assert warning is not None
    assert warning.startswith("250 files could not be read")
    assert warning.endswith(", and 245 more")
    assert warning.count(".py") == 5
    assert len(warning) < 1200
    assert unreadable_warning({**stats, "skipped_unreadable": 0, "unreadable": []}) is None


def test_cache_dir_and_acs_cache_dir_name_the_same_folder(make_tree, tmp_path: Path) -> None:
    import os

    root = make_tree({**FILES, "pkg/cache_dir_test.py": "def cache_dir_test():\n    pass\n"})
    cache = tmp_path / "cache"
    by_flag = run_acs("index", str(root), "--cache-dir", str(cache), "--format", "json")
    assert by_flag.returncode == 0, by_flag.stderr
    report = orjson.loads(by_flag.stdout)
    assert report["path"] == str(cache / "index" / "files-v1")
    env = {**os.environ, "ACS_CACHE_DIR": str(cache)}
    by_env = run_acs("index", str(root), "--format", "json", env=env)
    assert by_env.returncode == 0, by_env.stderr
    assert orjson.loads(by_env.stdout)["source"] == "disk"
    assert orjson.loads(by_env.stdout)["path"] == report["path"]


def test_a_store_written_by_cache_dir_before_stays_warm(make_tree, tmp_path: Path) -> None:
    # Contents no other test has: this process writes every entry, none is in its memory.
    root = make_tree({"pkg/earlier.py": "def earlier_layout_only_here():\n    pass\n"})
    cache = tmp_path / "cache"
    # What `--cache-dir DIR` wrote before: the store directly in DIR/files-v1.
    acs.Repo.open(root, index_cache=cache).index()
    assert (cache / "files-v1").is_dir()
    again = run_acs("index", str(root), "--cache-dir", str(cache), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert orjson.loads(again.stdout)["source"] == "disk"
    assert not (cache / "files-v1").exists() and (cache / "index" / "files-v1").is_dir()


@pytest.mark.parametrize("value", ["500M", "abc", "nan", "-1", "1e3", "2048.0", "²", "x" * 10_000])
def test_a_malformed_cache_budget_is_a_clear_error(make_tree, tmp_path: Path, value: str) -> None:
    import os

    from acs.cachedir import max_cache_bytes
    from acs.errors import InvalidArgumentError

    root = make_tree(FILES)
    env = {**os.environ, "ACS_CACHE_MAX_MB": value}
    result = run_acs("index", str(root), "--cache-dir", str(tmp_path / "c"), env=env)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("acs: ACS_CACHE_MAX_MB must be a whole number of megabytes")
    assert value[:20] in line and len(line) < 200
    os.environ["ACS_CACHE_MAX_MB"] = value
    try:
        with pytest.raises(InvalidArgumentError, match="ACS_CACHE_MAX_MB"):
            max_cache_bytes()
    finally:
        del os.environ["ACS_CACHE_MAX_MB"]


@pytest.mark.parametrize(("value", "mb"), [("", 2048), ("0", 0), (" 64 ", 64), ("0100", 100)])
def test_a_well_formed_cache_budget_is_taken(monkeypatch, value: str, mb: int) -> None:
    from acs.cachedir import max_cache_bytes

    monkeypatch.setenv("ACS_CACHE_MAX_MB", value)
    assert max_cache_bytes() == mb << 20
