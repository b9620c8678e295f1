"""The MCP server's parts that need no SDK: naming a repository, seeing a tree change, and
checking a call's arguments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acs.errors import InvalidArgumentError, RepositoryError
from acs.mcp.schemas import with_defaults
from acs.mcp.tools import BY_NAME
from acs.mcp.workspace import resolve, root_at, tree_signature


def test_a_repository_is_named_by_name_or_path_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "a")
    a, b = root_at(str(tmp_path / "a")), root_at(str(tmp_path / "link"), "bee")
    assert resolve([a], None) is a
    assert resolve([a, b], "a") is a and resolve([a, b], "bee") is b
    assert resolve([a, b], str(tmp_path / "link")) is b  # as given
    assert resolve([a], str(tmp_path / "a" / ".")) is a
    for outside in (str(tmp_path), "/", str(tmp_path / "a" / ".."), "b", ""):
        with pytest.raises(InvalidArgumentError, match="unknown repository"):
            resolve([a], outside)
    with pytest.raises(InvalidArgumentError, match="'repo' is required"):
        resolve([a, b], None)
    with pytest.raises(RepositoryError, match="--repo PATH"):
        resolve([], None)
    with pytest.raises(RepositoryError, match="not a directory"):
        root_at(str(tmp_path / "missing"))


def test_the_signature_changes_with_edits_new_and_deleted_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    paths = ["pkg/a.py"]
    before = tree_signature(str(tmp_path), paths)
    assert tree_signature(str(tmp_path), paths) == before
    os.utime(tmp_path / "pkg" / "a.py", ns=(1, 1))  # same size, another mtime
    edited = tree_signature(str(tmp_path), paths)
    assert edited != before
    (tmp_path / "pkg" / "b.py").write_text("y = 2\n")  # a new file: its folder's mtime
    added = tree_signature(str(tmp_path), paths)
    assert added != edited
    (tmp_path / "pkg" / "a.py").unlink()
    assert tree_signature(str(tmp_path), paths) != added


def test_arguments_are_checked_and_completed() -> None:
    schema = BY_NAME["grep"].schema
    args = with_defaults(schema, {"pattern": ["a", "b"], "limit": 5})
    assert args["limit"] == 5 and args["offset"] == 0 and args["include"] is None
    assert args["case"] == "sensitive"
    for bad, message in [
        ({}, "'pattern' is required"),
        ({"pattern": 1}, "expected string or array, got integer"),
        ({"pattern": ["a", 2]}, r"'pattern\[1\]': expected string, got integer"),
        ({"pattern": "a", "limit": True}, "expected integer, got boolean"),
        ({"pattern": "a", "limit": 501}, r"outside \[1, 500\]"),
        ({"pattern": "a", "case": "loud"}, "not one of"),
        ({"pattern": "a", "regex": "b"}, "unknown argument"),
    ]:
        with pytest.raises(InvalidArgumentError, match=message):
            with_defaults(schema, bad)
