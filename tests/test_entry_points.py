"""Every `python -m acs...` command the README, the docs, the training scripts or scripts/ name
starts as a subprocess, and each such module runs its `main` only after all of its top-level
definitions (a `__main__` block above a definition it uses raised NameError under `-m` while
the tests, importing the module, never saw it)."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

SOURCES = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "training").glob("*")]
SOURCES += [p for p in (ROOT / "scripts").glob("*") if p.is_file()]
NAMED = re.compile(r"python3? -m (acs(?:\.[a-z_]+)*)")


def named_modules() -> list[str]:
    found = set()
    for path in SOURCES:
        if path.is_file():
            found.update(NAMED.findall(path.read_text(encoding="utf-8", errors="replace")))
    return sorted(found)


MODULES = named_modules()


def module_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, f"{module} is named but not found"
    if spec.submodule_search_locations:  # a package: its __main__
        return Path(spec.origin).parent / "__main__.py"
    return Path(spec.origin)


def test_the_docs_name_the_training_commands():
    assert {
        "acs",
        "acs.train.planner.rl_data",
        "acs.train.planner.skyrl_main",
        "acs.train.planner.sft",
    } <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_the_main_block_comes_after_every_definition(module):
    tree = ast.parse(module_file(module).read_text(encoding="utf-8"))
    blocks = [
        i
        for i, node in enumerate(tree.body)
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
    ]
    if module_file(module).name == "__main__.py":  # a package's __main__.py is all main
        return
    assert blocks, f"{module} has no `if __name__ == '__main__':` block"
    assert blocks == [len(tree.body) - 1], f"{module}: the __main__ block is not the last statement"


@pytest.mark.parametrize("module", MODULES)
def test_help_runs_as_a_subprocess(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip(), f"{module} --help printed nothing"
