"""The package's modules import one another without cycles: read from the source (every
import, function-local ones too), so a cycle hidden inside a function still counts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import acs
from acs._moved import MOVED

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


def test_every_old_path_of_a_moved_module_imports_the_module_at_its_new_path(recwarn):
    """Modules that moved (`acs.eval.dataset` to `acs.task`, `acs.plan` to `acs.execution`,
    the planner's training to `acs.train.planner`, ...): scripts that import an old name get
    the very same module, with a DeprecationWarning naming where it went."""
    import importlib
    import sys
    import warnings

    warnings.simplefilter("always")
    for old, new in MOVED.items():
        if new.startswith("acs.train.planner.skyrl_") and sys.version_info < (3, 12):
            continue  # SkyRL's modules need Python >= 3.12 and its packages; their import fails
        sys.modules.pop(old, None)
        moved = importlib.import_module(old)
        assert moved is importlib.import_module(new), old
        assert moved.__name__ == new and moved.__spec__.name == new, old  # the real module
        warned = [str(w.message) for w in recwarn if issubclass(w.category, DeprecationWarning)]
        assert f"{old} moved to {new}" in warned, old
    assert "acs.eval.metrics" in MOVED and "acs.planner" in MOVED and "acs.train.env" in MOVED


def test_the_deprecation_warning_points_at_the_importing_line(tmp_path):
    script = tmp_path / "old_script.py"
    script.write_text("import warnings\nwarnings.simplefilter('always')\nimport acs.plan\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert f"{script}:3: DeprecationWarning: acs.plan moved to acs.execution" in out.stderr


def test_an_old_module_path_still_runs_with_python_m():
    out = subprocess.run(
        [sys.executable, "-m", "acs.train.rl_data", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "usage: python -m acs.train.planner.rl_data" in out.stdout
    assert "run python -m acs.train.planner.rl_data" in out.stderr


def test_names_of_the_ranker_training_module_still_import_from_acs_train_ranker(recwarn):
    import warnings

    from acs.train.ranker import fit

    warnings.simplefilter("always")
    from acs.train.ranker import cross_fit

    assert cross_fit is fit.cross_fit
    assert any("moved to acs.train.ranker.fit.cross_fit" in str(w.message) for w in recwarn)
    with pytest.raises(ImportError):
        from acs.train.ranker import no_such_name  # noqa: F401


def test_a_moved_path_never_shadows_a_module_that_exists():
    """The old-path finder is consulted after the real ones: every new path is a real file."""
    from importlib.util import find_spec

    from acs._moved import MovedFinder

    for old, new in MOVED.items():
        spec = find_spec(new)
        assert spec is not None and spec.origin and spec.origin.endswith(".py"), new
        assert not isinstance(spec.loader, MovedFinder)
        stale = PACKAGE.parent / (old.replace(".", "/") + ".py")
        assert not stale.exists(), f"{stale} is left: the old path would shadow the table"


def test_nothing_in_acs_imports_an_old_path():
    graph = import_graph()
    old = set(MOVED)
    users = {m: sorted(graph[m] & old) for m in graph if graph[m] & old and m not in old}
    assert users == {}, users
