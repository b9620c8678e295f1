"""The tests mirror the code: a test file sits at the top of tests/ (the package's top-level
modules, and suites that cut across it) or in the folder of tests/ named like the package of
python/acs it tests (tests/rank/ for acs.rank, tests/train/planner/ for acs.train.planner).
What tests share lives in tests/helpers/; no test module imports another test module or a
conftest.py (a conftest holds fixtures and hooks, which pytest hands to the tests itself)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import acs
from helpers import ROOT

TESTS = ROOT / "tests"
PACKAGE = Path(acs.__file__).parent
HELPERS = "helpers"


def is_test_module(name: str) -> bool:
    """Whether a dotted module name names a test module or a conftest (`test_x`, `conftest`,
    `tests.eval.test_runner`)."""
    last = name.rpartition(".")[2]
    return last == "conftest" or last.startswith(("test_", "bench_"))


def imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) for every import in a module, function-local ones too; a relative import
    is named with its dots (`.test_x`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.append((node.lineno, base))
            # `from . import test_x`, `from tests import conftest`: the names are modules.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def imports_of_test_modules(tests: Path) -> list[str]:
    """`path:line imports module` for each import of a test module or a conftest."""
    return [
        f"{path.relative_to(tests)}:{line} imports {module}"
        for path in sorted(tests.rglob("*.py"))
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if is_test_module(module)
    ]


def misplaced_files(tests: Path, package: Path) -> list[str]:
    """Python files of tests/ outside the layout: a test file in a folder that mirrors no
    package of acs, or a module that is neither a test file, a conftest nor a helper."""
    out = []
    for path in sorted(tests.rglob("*.py")):
        rel = path.relative_to(tests)
        folder = rel.parent
        if folder.parts[:1] == (HELPERS,):
            continue
        if not (path.name.startswith("test_") or path.name == "conftest.py"):
            out.append(f"{rel}: neither a test file nor a conftest (helpers go in tests/helpers/)")
        elif folder.parts and not (package / folder).is_dir():
            out.append(f"{rel}: tests/{folder}/ mirrors no package of acs (acs/{folder}/)")
    return out


def test_no_test_module_imports_another_test_module_or_a_conftest() -> None:
    found = imports_of_test_modules(TESTS)
    assert not found, f"import shared helpers from tests/helpers/ instead: {found}"


def test_every_test_file_sits_where_its_package_is() -> None:
    assert not misplaced_files(TESTS, PACKAGE)
    assert list(TESTS.glob("*/**/test_*.py")), "no test in a package's folder: is TESTS right?"


def test_tests_has_no_packages_to_shadow_real_ones() -> None:
    # tests/mcp/__init__.py would make `mcp` (the MCP SDK) resolve to the tests' folder.
    inits = [p.relative_to(TESTS) for p in TESTS.rglob("__init__.py")]
    assert inits == [Path(HELPERS, "__init__.py")], inits


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from test_eval import world\n", True),
        ("from conftest import GIT_ENV\n", True),
        ("import conftest\n", True),
        ("def f():\n    from tests.eval.test_runner import SLOW\n", True),
        ("from . import test_x\n", True),
        ("from .conftest import make\n", True),
        ("from helpers.repos import git\n", False),
        ("from acs.task.patch import parse_patch\n", False),
    ],
)
def test_the_import_check_sees_test_module_imports(tmp_path: Path, source: str, bad: bool) -> None:
    (tmp_path / "test_a.py").write_text(source)
    assert bool(imports_of_test_modules(tmp_path)) is bad


def test_the_layout_check_sees_misplaced_files(tmp_path: Path) -> None:
    package = tmp_path / "acs"
    for folder in ("rank", "train/planner"):
        (package / folder).mkdir(parents=True)
    tests = tmp_path / "tests"
    good = ["test_cli.py", "conftest.py", "rank/test_model.py", "train/planner/test_env.py"]
    good += ["helpers/repos.py", "helpers/__init__.py"]
    bad = ["ranking/test_model.py", "planner/test_env.py", "world.py", "rank/shared.py"]
    for rel in good + bad:
        (tests / rel).parent.mkdir(parents=True, exist_ok=True)
        (tests / rel).write_text("")
    assert {line.partition(":")[0] for line in misplaced_files(tests, package)} == set(bad)
