"""The symbol index of the whole corpus vs Python's `ast` over the same Python files, and
the latency of a warm lookup. Targets: at least 5x faster than `ast`; a lookup under 1 ms."""

from __future__ import annotations

import ast
import warnings

import acs
from corpora import EXCLUDE


def test_symbol_index_cold(benchmark, corpus):
    """Every file parsed again: a fresh snapshot (opened untimed) and no parse cache."""

    def fresh() -> tuple[tuple[acs.Repo], dict]:
        acs.set_cache_budgets(1 << 30, 0)
        return (acs.Repo.open(corpus, exclude=EXCLUDE),), {}

    try:
        benchmark.extra_info["definitions"] = benchmark.pedantic(
            acs.Repo.index_symbols, setup=fresh, rounds=3, iterations=1
        )
    finally:
        acs.set_cache_budgets(1 << 30, 256 << 20)


def test_python_ast(benchmark, loaded, corpus):
    sources = [(corpus / p).read_bytes() for p in loaded.paths() if p.endswith((".py", ".pyi"))]

    warnings.simplefilter("ignore", SyntaxWarning)
    warnings.simplefilter("ignore", DeprecationWarning)

    def index() -> int:
        count = 0
        for src in sources:
            try:
                tree = ast.parse(src)
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    count += 1
        return count

    benchmark.extra_info["definitions"] = benchmark.pedantic(index, rounds=2, iterations=1)


def test_warm_lookup(benchmark, loaded):
    result = benchmark(loaded.symbols, "JSONDecoder")
    assert result["total"] >= 0


def test_warm_prefix_lookup(benchmark, loaded):
    benchmark(loaded.symbols, "test_", mode="prefix", limit=20)
