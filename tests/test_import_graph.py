"""The package's modules import one another without cycles: read from the source (every
import, function-local ones too), so a cycle hidden inside a function still counts."""

from __future__ import annotations

import ast
from pathlib import Path

import acs

PACKAGE = Path(acs.__file__).parent

# Cycles known to remain, each with its reason. An entry fails the test once it is gone, so
# the list only shrinks.
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def module_names() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the acs modules it imports. Importing an ancestor package is left out: the
    package is always initialised first, so it closes no cycle."""
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    above = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*above, *([node.module] if node.module else [])])
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(
                t for t in targets if t in modules and t != name and not name.startswith(t + ".")
            )
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, edges = work[-1]
            child = next(edges, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_the_scan_sees_function_local_imports():
    graph = import_graph()
    assert "acs.eval.ray_runner" in graph["acs.eval.runner"]  # imported inside evaluate()
    assert "acs.eval.runner" not in graph["acs.eval.ray_runner"]  # it extends the scheduler
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]


def test_no_import_cycles_but_the_known_ones():
    found = cycles(import_graph())
    assert [sorted(c) for c in found if c not in KNOWN_CYCLES] == []
    for cycle in KNOWN_CYCLES:
        assert cycle in found, f"{sorted(cycle)} is no cycle now: drop it from KNOWN_CYCLES"


def test_subcommands_and_the_report_depend_downward():
    graph = import_graph()
    for sub in ("acs.eval.cli", "acs.data.cli", "acs.mcp.cli", "acs.mcp.server"):
        assert "acs.cli" not in graph[sub], sub
    assert "acs.eval.runner" not in graph["acs.eval.report"]


def test_the_old_eval_paths_of_the_task_modules_still_import(recwarn):
    """`acs.eval.dataset` and its siblings moved to `acs.task`: scripts that import the old
    names get the same module, with a DeprecationWarning."""
    import importlib
    import sys

    for name in ("dataset", "repos", "patch", "groundtruth", "metrics"):
        sys.modules.pop(f"acs.eval.{name}", None)
        old = importlib.import_module(f"acs.eval.{name}")
        assert old is importlib.import_module(f"acs.task.{name}")
    moved = [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
    assert len(moved) == 5
    assert "acs.eval.metrics moved to acs.task.metrics" in str(moved[-1].message)


def test_nothing_in_acs_imports_the_old_task_paths():
    graph = import_graph()
    old = {f"acs.eval.{n}" for n in ("dataset", "repos", "patch", "groundtruth", "metrics")}
    users = {m: sorted(graph[m] & old) for m in graph if graph[m] & old and m not in old}
    assert users == {}, users
