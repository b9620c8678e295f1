"""End-to-end localization with the default planner: warm (indexes built) and cold (open the
repository, build the indexes, localize), on an issue-like text over the corpus."""

from __future__ import annotations

import acs
from conftest import EXCLUDE

ISSUE = """json.loads raises JSONDecodeError "Expecting value" for an empty document, but
JSONDecoder.raw_decode should report the position of the first bad character.
See json/decoder.py."""


def test_localize_warm(benchmark, loaded):
    acs.localize(loaded, ISSUE)
    result = benchmark(acs.localize, loaded, ISSUE)
    assert result["files"][0]["path"] == "json/decoder.py"


def test_localize_cold(benchmark, corpus):
    def cold() -> str:
        acs.set_cache_budgets(1 << 30, 0)  # no parse shared with earlier runs
        try:
            repo = acs.Repo.open(corpus, exclude=EXCLUDE)
            return acs.localize(repo, ISSUE)["files"][0]["path"]
        finally:
            acs.set_cache_budgets(1 << 30, 256 << 20)

    assert benchmark.pedantic(cold, rounds=2, iterations=1) == "json/decoder.py"
