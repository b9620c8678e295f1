"""BM25 over the corpus: building the file and function indexes, and a warm query with an
issue-length text (the localization agent's first lexical signal)."""

from __future__ import annotations

import pytest

import acs
from corpora import EXCLUDE

ISSUE = (
    "json.decoder raises JSONDecodeError 'Expecting value' when parsing an empty string "
    "with raw_decode; object_pairs_hook is ignored for nested objects"
)


@pytest.mark.parametrize("level", ["file", "function"])
def test_bm25_index_build(benchmark, corpus, level):
    def fresh() -> tuple[tuple[acs.Repo], dict]:
        repo = acs.Repo.open(corpus, exclude=EXCLUDE)
        repo.index_symbols()  # the function level needs it; not what is measured here
        return (repo,), {}

    benchmark.pedantic(lambda r: r.bm25(ISSUE, level=level), setup=fresh, rounds=2)


@pytest.mark.parametrize("level", ["file", "function"])
def test_bm25_warm_query(benchmark, loaded, level):
    loaded.bm25(ISSUE, level=level)
    result = benchmark(loaded.bm25, ISSUE, level=level)
    assert result["hits"]
