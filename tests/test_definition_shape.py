"""Every tool names a definition in one shape (`acs.types.Definition`): each tool's
definition-bearing results, produced by the engine, have exactly its fields (plus the
result's own), agree with `symbols` on the same definition, and are what `acs.definitions`
reads. A tool that drifted back to a spelling of its own fails here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

import acs
from acs import definitions
from acs.types import Definition

FIELDS = set(Definition.__annotations__)

SOURCE = {
    "pkg/config.py": (
        "class Settings:\n"
        "    def load(self, path):\n"
        "        def check(p):\n"
        "            return read_settings(p)\n"
        "        return check(path)\n"
        "\n"
        "def read_settings(path):\n"
        "    return open(path).read()\n"
    ),
    "pkg/main.py": "from pkg.config import read_settings\n\nread_settings('x')\n",
}


@pytest.fixture(scope="module")
def repo() -> acs.Repo:
    return acs.Repo.from_files(SOURCE)


def outline_nodes(nodes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in nodes:
        out.append(n)
        out.extend(outline_nodes(n.get("children", ())))
    return out


# tool -> (arguments, the definitions its result names, the fields a definition result adds)
CASES: dict[str, tuple[dict[str, Any], Callable[[Any], list[dict[str, Any]]], set[str]]] = {
    "symbols": ({"name": "read_settings"}, lambda r: r["symbols"], {"language"}),
    "outline": ({"path": "pkg/config.py"}, lambda r: outline_nodes(r["symbols"]), {"children"}),
    "bm25": (
        {"query": "read settings", "level": "function"},
        lambda r: r["hits"],
        {"score"},
    ),
    "grep": (
        {"pattern": "read_settings", "enclosing": True},
        lambda r: [m["enclosing"] for m in r["matches"] if "enclosing" in m],
        set(),
    ),
    "references": (
        {"name": "read_settings"},
        lambda r: [g["enclosing"] for f in r["files"] for g in f["groups"] if "enclosing" in g],
        set(),
    ),
}


@pytest.mark.parametrize("tool", sorted(CASES))
def test_each_tool_names_definitions_in_the_one_shape(repo, tool):
    args, found, extra = CASES[tool]
    result = repo.call(tool, args)
    defs = found(result)
    assert defs, "the case must name some definitions"
    for d in defs:
        assert FIELDS <= set(d), d
        assert set(d) - FIELDS <= extra, d
        assert isinstance(d["name"], str) and isinstance(d["qualified_name"], str)
        assert d["qualified_name"].endswith(d["name"])
        assert 1 <= d["start_line"] <= d["end_line"]
        # the same definition as `symbols` finds it, field for field
        (same,) = [
            s
            for s in repo.symbols(d["qualified_name"], include=[d["path"]])["symbols"]
            if s["start_line"] == d["start_line"]
        ]
        assert {k: d[k] for k in FIELDS} == {k: same[k] for k in FIELDS}
    assert list(definitions.named(tool, result)) == defs


def test_results_inside_a_definition_hold_it_only_as_enclosing(repo):
    grep = repo.grep("read_settings", enclosing=True)
    assert {frozenset(m) for m in grep["matches"]} == {
        frozenset({"pattern", "path", "line", "column", "text", "enclosing"}),
        frozenset({"pattern", "path", "line", "column", "text"}),  # module level
    }
    groups = [g for f in repo.references("read_settings")["files"] for g in f["groups"]]
    shapes = {frozenset(g) for g in groups}
    assert shapes == {frozenset({"enclosing", "lines"}), frozenset({"lines"})}
    nested = [g["enclosing"]["qualified_name"] for g in groups if "enclosing" in g]
    assert nested == ["Settings.load.check", "read_settings"]


def test_file_level_bm25_hits_name_no_definition(repo):
    hits = repo.bm25("read settings")["hits"]
    assert hits and all(set(h) == {"path", "score"} for h in hits)
    assert list(definitions.named("bm25", {"hits": hits})) == []
