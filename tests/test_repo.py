"""The Python API of a repository snapshot: opening, the six tools, and their errors."""

from __future__ import annotations

import threading
import time

import pytest

import acs

SOURCE = {
    "pkg/config.py": (
        "import os\n"
        "\n"
        "class Settings:\n"
        "    def load(self, path):\n"
        "        return open(path).read()\n"
        "\n"
        "def load_settings(path):\n"
        "    return Settings().load(path)\n"
    ),
    "pkg/cli.py": "from pkg.config import load_settings\n\ndef main():\n    load_settings('x')\n",
    "tests/test_config.py": "from pkg.config import Settings\n",
    "README.md": "Call load_settings(path).\n",
}


@pytest.fixture
def repo(make_tree) -> acs.Repo:
    return acs.Repo.open(make_tree(SOURCE))


def test_open_directory_lists_sorted_paths(repo):
    assert repo.paths() == ["README.md", "pkg/cli.py", "pkg/config.py", "tests/test_config.py"]
    assert len(repo) == 4
    assert repo.stats["files"] == 4
    assert repo.origin["kind"] == "directory"


def test_grep_attributes_each_match_to_its_pattern(repo):
    r = repo.grep(["class Settings", "def main"])
    assert [(m["pattern"], m["path"], m["line"]) for m in r["matches"]] == [
        (1, "pkg/cli.py", 3),
        (0, "pkg/config.py", 3),
    ]
    assert r["counts"] == [1, 1]


def test_grep_options(repo):
    assert len(repo.grep("settings", case="insensitive", include=["*.py"])["matches"]) == 6
    assert repo.grep("load", word=True)["counts"] == [2]  # load( and .load(
    assert repo.grep("open(path)", fixed_strings=True)["matches"][0]["line"] == 5
    m = repo.grep("def load\\(", context=1)["matches"][0]
    assert m["before"] == ["class Settings:"] and m["after"] == ["        return open(path).read()"]


def test_grep_many_fuses_and_reports_failures_in_place(repo):
    ok, bad = repo.grep_many([{"patterns": ["main"]}, {"patterns": ["(oops"]}])
    assert ok["files"][0]["path"] == "pkg/cli.py"
    assert isinstance(bad, acs.InvalidPatternError)


def test_find_files_ranks_names_above_fragments(repo):
    r = repo.find_files("config")
    assert [f["path"] for f in r["files"]] == ["pkg/config.py", "tests/test_config.py"]
    assert [f["path"] for f in repo.find_files(glob="pkg/*.py")["files"]] == [
        "pkg/cli.py",
        "pkg/config.py",
    ]


def test_read_by_range_and_past_the_end(repo):
    r = repo.read("pkg/config.py", 3, 4)
    assert r["lines"] == ["class Settings:", "    def load(self, path):"]
    assert (r["start_line"], r["end_line"], r["total_lines"]) == (3, 4, 8)
    tail = repo.read("pkg/config.py", 8, 100)
    assert tail["lines"] == ["    return Settings().load(path)"]
    assert repo.read("pkg/config.py", 50)["lines"] == []


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r: r.grep("(unclosed"), acs.InvalidPatternError),
        (lambda r: r.grep("x", include=["a["]), acs.InvalidPatternError),
        (lambda r: r.read("../../etc/passwd"), acs.PathOutsideRepoError),
        (lambda r: r.read("/etc/passwd"), acs.PathOutsideRepoError),
        (lambda r: r.read("pkg/missing.py"), acs.PathNotFoundError),
        (lambda r: r.read("pkg/config.py", 0), acs.InvalidArgumentError),
        (lambda r: r.read("pkg/config.py", 5, 2), acs.InvalidArgumentError),
        (lambda r: r.read("pkg/config.py", symbol="Nope.nope"), acs.SymbolNotFoundError),
        (lambda r: r.outline("nowhere.py"), acs.PathNotFoundError),
        (lambda r: r.symbols(""), acs.InvalidArgumentError),
        (lambda r: r.symbols("(", mode="regex"), acs.InvalidPatternError),
        (lambda r: r.find_files(), acs.InvalidArgumentError),
        (lambda r: r.call("grep", {"patern": "x"}), acs.InvalidArgumentError),
        (lambda r: r.call("nope", {}), acs.InvalidArgumentError),
    ],
)
def test_bad_input_raises_a_specific_acs_error(repo, call, error):
    with pytest.raises(error) as info:
        call(repo)
    assert isinstance(info.value, acs.AcsError)
    assert str(info.value)


def test_errors_are_also_builtin_exception_types(repo):
    with pytest.raises(ValueError):
        repo.grep("(")
    with pytest.raises(LookupError):
        repo.read("missing.py")


def test_opening_bad_sources_fails_cleanly(tmp_path, make_git):
    with pytest.raises(acs.RepositoryError):
        acs.Repo.open(tmp_path / "absent")
    with pytest.raises(acs.RepositoryError):
        acs.Repo.open(tmp_path, commit="HEAD")  # not a git repository
    root, _ = make_git({"a.py": "x = 1\n"})
    with pytest.raises(acs.UnknownCommitError):
        acs.Repo.open(root, commit="deadbeef" * 5)


def test_git_commits_open_without_checkout(make_git):
    root, ids = make_git({"a.py": "v = 1\n"}, {"a.py": "v = 2\n", "b.py": "w = 3\n"})
    old = acs.Repo.open(root, commit=ids[0])
    new = acs.Repo.open(root, commit="main")
    assert old.read("a.py")["lines"] == ["v = 1"]
    assert new.paths() == ["a.py", "b.py"]
    assert new.origin["commit"] == ids[1]


def test_binary_non_utf8_and_huge_lines(make_tree):
    root = make_tree(
        {
            "blob.bin": b"\x00\x01binary needle",
            "latin.txt": b"caf\xe9 needle\n",
            "huge.js": "a" * 1_000_000 + " needle\n",
        }
    )
    repo = acs.Repo.open(root)
    assert repo.paths() == ["huge.js", "latin.txt"]
    hits = repo.grep("needle")["matches"]
    assert hits[0]["path"] == "huge.js" and len(hits[0]["text"]) <= 302
    assert hits[1]["text"] == "caf\ufffd needle"


def test_empty_repository(make_tree):
    repo = acs.Repo.open(make_tree({}))
    assert len(repo) == 0
    assert repo.grep("x")["matches"] == []
    assert repo.find_files("x")["files"] == []
    assert repo.symbols("x")["symbols"] == []


def test_calls_release_the_gil(make_tree):
    """A slow engine call on one thread must not stop Python code on another."""
    root = make_tree({f"f{i}.txt": ("lorem ipsum dolor sit amet\n" * 400) for i in range(400)})
    repo = acs.Repo.open(root)
    ticks = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0)

    spinner = threading.Thread(target=spin)
    spinner.start()
    before = ticks
    for _ in range(20):
        repo.grep(r"\b(\w+)um\s+d\w+r\b", max_results=100_000)
    done.set()
    spinner.join()
    assert ticks - before > 20


def test_bm25_ranks_files_and_functions_against_free_text(repo):
    files = repo.bm25("settings are not loaded from the path", limit=2)
    assert files["hits"][0]["path"] == "pkg/config.py"
    assert files["documents"] == 4
    funcs = repo.bm25("load_settings ignores the path", level="function", include=["pkg/*"])
    top = funcs["hits"][0]
    assert (top["name"], top["kind"], top["start_line"]) == ("load_settings", "function", 7)
    with pytest.raises(acs.InvalidArgumentError):
        repo.bm25("   ")
