"""What the installed package carries: the planner's prompt files and the shipped ranker, read
from wherever `acs` is imported (site-packages when CI tests the wheel, `ACS_TEST_INSTALLED=1`).
"""

from __future__ import annotations

import os
import sysconfig
from importlib import resources
from pathlib import Path

import pytest

import acs
from acs.llm.prompt import PROMPT_VERSION, load_prompts
from acs.rank.model import shipped


def test_prompt_files_ship_with_the_package():
    names = [p.name for p in (resources.files("acs") / "prompts").iterdir()]
    assert f"{PROMPT_VERSION}.md" in names
    prompts = load_prompts()
    assert prompts.version == PROMPT_VERSION
    assert all([prompts.system, prompts.first, prompts.next, prompts.final])


def test_the_shipped_ranker_loads():
    model = shipped()
    assert model is not None, "acs/rank/models/ranker.json is missing from the package"
    result = acs.localize(
        acs.Repo.from_files({"a.py": "def parse():\n    raise ValueError('bad')\n"}),
        "parse raises ValueError 'bad'",
    )
    assert result["files"][0]["path"] == "a.py"


@pytest.mark.skipif(os.environ.get("ACS_TEST_INSTALLED") != "1", reason="testing a source tree")
def test_acs_is_imported_from_the_installed_package():
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert Path(acs.__file__).resolve().is_relative_to(site), acs.__file__
