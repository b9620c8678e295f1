"""The distribution's name: acs installs as `agentic-code-search` (`acs` on PyPI is another
project's), while the import package and the command stay `acs`. Read from the installed
metadata, so the same tests hold for the editable install and for the built wheel."""

from __future__ import annotations

import importlib.metadata as md
import json
import re

DISTRIBUTION = "agentic-code-search"


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[;<>=!~@(]", requirement, maxsplit=1)[0].lower()


def test_the_acs_package_is_installed_by_our_distribution():
    assert md.metadata(DISTRIBUTION)["Name"] == DISTRIBUTION
    direct = json.loads(md.distribution(DISTRIBUTION).read_text("direct_url.json") or "{}")
    if not direct.get("dir_info", {}).get("editable"):  # an editable install lists no files
        assert md.packages_distributions()["acs"] == [DISTRIBUTION]


def test_no_requirement_names_the_other_acs():
    """An extra that pulls in `acs[...]` would install Azure Container Service's tools from
    PyPI: every extra that builds on another names this distribution."""
    requirements = md.requires(DISTRIBUTION) or []
    names = {_requirement_name(r) for r in requirements}
    assert "acs" not in names, [r for r in requirements if _requirement_name(r) == "acs"]
    assert any(_requirement_name(r) == DISTRIBUTION for r in requirements)  # e.g. hf -> llm


def test_the_command_is_still_acs():
    scripts = {ep.name: ep.value for ep in md.distribution(DISTRIBUTION).entry_points}
    assert scripts.get("acs") == "acs.cli:main"
