"""The missing-package messages name the extra that installs the package: `acs.extras`'s table
against the extras the distribution declares (pyproject.toml in a checkout, the installed
metadata otherwise), every module the code asks the table about, and every install hint
written out in the package's source."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import acs
from acs.extras import DISTRIBUTION, PROVIDERS, extra_for, install_hint

PACKAGE = Path(acs.__file__).parent
PYPROJECT = PACKAGE.parent.parent / "pyproject.toml"

# `pip install 'agentic-code-search[hf,rl]'`, `uv pip install -e '/path/to/acs[rl]'`: the extras
# named.
WRITTEN_HINT = re.compile(rf"pip install[^\n]*?[\s'\"/]{re.escape(DISTRIBUTION)}\[([\w,-]+)\]")


@cache
def declared_extras() -> dict[str, frozenset[str]]:
    """Extra -> the (canonical) names of the requirements it lists itself."""
    if PYPROJECT.is_file():
        project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
        assert project["name"] == DISTRIBUTION, "acs.extras.DISTRIBUTION is not pyproject's name"
        listed = project["optional-dependencies"].items()
        return {
            extra: frozenset(canonicalize_name(Requirement(r).name) for r in reqs)
            for extra, reqs in listed
        }
    out: dict[str, set[str]] = {}
    for line in requires(DISTRIBUTION) or []:  # the wheel stage: no pyproject at hand
        req = Requirement(line)
        for extra in re.findall(r"extra == ['\"]([\w-]+)['\"]", str(req.marker or "")):
            out.setdefault(extra, set()).add(canonicalize_name(req.name))
    return {extra: frozenset(names) for extra, names in out.items()}


def source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_each_modules_extra_lists_the_package_that_brings_it() -> None:
    extras = declared_extras()
    for module, provider in PROVIDERS.items():
        assert provider.extra in extras, f"{module}: no extra {provider.extra!r}"
        assert canonicalize_name(provider.requirement) in extras[provider.extra], (
            f"{module}: the {provider.extra!r} extra does not list {provider.requirement}"
        )


def test_every_module_the_code_asks_about_is_in_the_table() -> None:
    asked = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if name in {"require", "install_hint", "extra_for"} and isinstance(first, ast.Constant):
                asked.append((path.relative_to(PACKAGE), first.value))
    assert len(asked) > 10, asked  # the scan sees the calls
    unknown = [(str(p), m) for p, m in asked if m.partition(".")[0] not in PROVIDERS]
    assert unknown == [], "modules acs.extras.PROVIDERS lacks"


def mentioned(text: str) -> set[str]:
    """The table's modules a text names, as imported or as distributed (`skyrl-gym`); a name
    inside a longer one (`transformers_backend`, `skyrl-gym` for `skyrl`) does not count."""
    return {
        module
        for module in PROVIDERS
        for spelling in {module, module.replace("_", "-")}
        if re.search(rf"(?<![\w.-]){re.escape(spelling)}(?![\w-])", text)
    }


def test_every_written_hint_names_the_extra_of_the_packages_beside_it() -> None:
    # A hint and the packages it is about are written on its line or the line before.
    extras = declared_extras()
    hints = []
    for path in source_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            for match in WRITTEN_HINT.finditer(line):
                named = set(match.group(1).split(","))
                where = f"{path.relative_to(PACKAGE)}:{i + 1}"
                assert named <= extras.keys(), f"{where}: no extra {named - extras.keys()}"
                window = "\n".join(lines[max(i - 1, 0) : i + 1])
                wrong = {m: extra_for(m) for m in mentioned(window) if extra_for(m) not in named}
                assert not wrong, f"{where}: names {named}, not the extra of {wrong}"
                hints.append(where)
    assert hints  # the docstrings' hints are seen


@pytest.mark.parametrize(
    ("module", "extra"),
    [("torch", "hf"), ("transformers", "hf"), ("xgrammar", "hf"), ("httpx", "llm")],
)
def test_a_missing_model_package_names_its_extra(
    module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from acs.llm.errors import MissingDependencyError, require

    monkeypatch.setitem(sys.modules, module, None)  # `import MODULE` now fails
    with pytest.raises(MissingDependencyError) as caught:
        require(module, "the transformers backend")
    assert str(caught.value) == (
        f"the transformers backend needs the `{module}` package: "
        f"pip install '{DISTRIBUTION}[{extra}]'"
    )
    assert install_hint(module) == f"pip install '{DISTRIBUTION}[{extra}]'"


def test_no_hint_sends_users_to_the_other_acs() -> None:
    """`acs` on PyPI is another project (Azure Container Service tools): `pip install
    'acs[hf]'` would install it. Every hint names this distribution."""
    other = re.compile(r"pip install[^\n]*?[\s'\"]acs\[")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in source_files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if other.search(line)
    ]
    assert not offenders, offenders
