"""`acs.history` and `Repo.history()`: the engine's history index through the bindings:
typed results, as-of semantics (the commit itself and later ones never visible), the store,
partial histories, and bad input as one-line `AcsError`s."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import acs
from acs.errors import InvalidArgumentError, RepositoryError, UnknownCommitError
from acs.history import History, forget
from helpers.repos import git, write_tree


def commit(root: Path, message: str, files: dict[str, str | None]) -> str:
    for rel, content in files.items():
        if content is None:
            (root / rel).unlink()
        else:
            write_tree(root, {rel: content})
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    ids = [
        commit(root, "Initial import", {"pkg/core.py": "a\n", "pkg/util.py": "b\n"}),
        commit(root, "Config loader: read yaml", {"pkg/config.py": "c\n", "pkg/core.py": "a2\n"}),
        commit(root, "Fix yaml config crash", {"pkg/config.py": "c2\n", "tests/t.py": "t\n"}),
        commit(root, "Later work", {"pkg/util.py": "b2\n"}),
    ]
    return root, ids


def test_queries_are_typed_and_see_only_proper_ancestors(
    project: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, ids = project
    fix = ids[2]
    history = History.open(root, fix, index_cache=tmp_path / "cache")
    assert history.as_of == fix
    assert history.visible_commits == 2
    assert history.report["source"] in {"built", "extended", "memory", "disk"}
    assert history.commit(fix) is None and history.commit(ids[3]) is None
    similar = history.similar_fixes("yaml config crash")
    assert [c["commit"] for c in similar["commits"]] == [ids[1]]
    assert {f["path"] for f in similar["files"]} == {"pkg/config.py", "pkg/core.py"}
    activity = history.activity(["pkg/config.py", "tests/t.py"])
    assert activity[0]["commits"] == 1 and activity[0]["last_commit"] == ids[1]
    assert activity[0]["commits_since"] == 0
    assert activity[1] == {
        "path": "tests/t.py",
        "commits": 0,
        "last_commit": None,
        "commits_since": None,
        "seconds_since": None,
    }
    co = history.co_change("pkg/config.py")
    assert co == {"commits": 1, "files": [{"path": "pkg/core.py", "count": 1}]}

    later = History.open(root, "HEAD", index_cache=tmp_path / "cache")
    assert later.report["walked"] <= 1
    assert later.similar_fixes("yaml config crash")["commits"][0]["commit"] == fix
    info = later.commit(fix)
    assert info is not None and info["paths"] == ["pkg/config.py", "tests/t.py"]


def test_repo_history_is_as_of_the_snapshot_commit(
    project: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, ids = project
    repo = acs.Repo.open(root, commit=ids[2], index_cache=tmp_path / "cache")
    history = repo.history()
    assert history is repo.history()
    assert history.as_of == ids[2] and history.visible_commits == 2
    assert (tmp_path / "cache" / "history-v1").is_dir()
    with pytest.raises(InvalidArgumentError, match="not of a git commit"):
        acs.Repo.open(root).history()


def test_the_store_is_read_by_a_new_process(
    project: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, _ = project
    cache = tmp_path / "cache"
    assert History.open(root, index_cache=cache).report["source"] == "built"
    forget(root)
    report = History.open(root, index_cache=cache).report
    assert report["source"] == "disk" and report["walked"] == 0 and report["bytes_read"] > 0
    # Torn: rebuilt, not trusted.
    store = Path(str(report["path"]))
    store.write_bytes(store.read_bytes()[:100])
    forget(root)
    assert History.open(root, index_cache=cache).report["source"] == "built"


def test_partial_and_empty_histories(project: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, ids = project
    obj = root / ".git" / "objects" / ids[0][:2] / ids[0][2:]
    obj.unlink()
    history = History.open(root, index_cache=False)
    assert history.report["missing"] == [ids[0]] and history.report["partial"] == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(UnknownCommitError):
        History.open(empty, index_cache=False)
    with pytest.raises(RepositoryError):
        History.open(tmp_path / "nowhere", index_cache=False)


def test_bad_input_is_a_short_invalid_argument_error(project: tuple[Path, list[str]]) -> None:
    root, _ = project
    history = History.open(root, index_cache=False)
    huge = "x" * 10_000_000
    for call in [
        lambda: history.similar_fixes(b"bytes"),  # type: ignore[arg-type]
        lambda: history.similar_fixes("a", commits=-1),
        lambda: history.similar_fixes("a", files=10**9),
        lambda: history.similar_fixes("a\udc80"),
        lambda: history.co_change([huge, 3]),  # type: ignore[list-item]
        lambda: history.activity(["a"] * 20_000),
        lambda: history.co_change(["a"], limit=True),
        lambda: History.open(root, huge),
    ]:
        with pytest.raises((InvalidArgumentError, UnknownCommitError)) as caught:
            call()
        assert len(str(caught.value)) < 1500  # a prefix of the input, never all of it
    # A huge text is read in part, never refused.
    assert history.similar_fixes("word " * 1_000_000)["documents"] == 3


def test_merge_and_non_utf8_history(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    base = commit(root, "base", {"a.py": "a\n"})
    git(root, "checkout", "-q", "-b", "topic")
    topic = commit(root, "topic widgets", {"b.py": "b\n"})
    git(root, "checkout", "-q", "main")
    commit(root, "main work", {"a.py": "a2\n"})
    git(root, "merge", "-q", "--no-ff", "-m", "merge widgets", "topic")
    (root / "msg").write_bytes(b"caf\xe9 latin\n")
    (root / bytes.fromhex("626164ff2e7079").decode("utf-8", "surrogateescape")).write_text("z")
    git(root, "add", "-A")
    subprocess.run(["git", "rm", "-q", "--cached", "msg"], cwd=root, check=True)
    git(root, "commit", "-q", "-F", "msg")
    commit(root, "tip", {})
    history = History.open(root, index_cache=False)
    report = history.report
    assert report["merges"] == 1 and report["skipped_names"] == 1
    assert [c["commit"] for c in history.similar_fixes("widgets")["commits"]] == [topic]
    assert history.similar_fixes("latin")["files"] == []  # only the unreadable name
    assert history.commit(base) is not None
