"""Reading the definitions tool results name. Every tool names a definition in one shape
(`acs.types.Definition`); this module says where each tool puts it, so that readers (the
joiner, the ranker's features, the model planner's evidence) need not know."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .types import Definition

Key = tuple[str, str]
Span = tuple[str, int, int]


def key(d: Mapping[str, Any]) -> Key:
    """How readers tell definitions apart: (path, qualified name)."""
    return d["path"], d["qualified_name"]


def span(d: Mapping[str, Any]) -> Span:
    """A definition's kind and lines, as the rankers keep them."""
    return d["kind"], d["start_line"], d["end_line"]


def named(tool: str, result: Mapping[str, Any]) -> Iterator[Definition]:
    """Every definition `result` (of `tool`) names, in result order: symbols, outline nodes
    (parents before children), function-level BM25 hits, grep's and references' enclosing
    definitions."""
    match tool:
        case "symbols":
            yield from result["symbols"]
        case "outline":
            yield from outline_nodes(result["symbols"])
        case "bm25":
            yield from (h for h in result["hits"] if "qualified_name" in h)
        case "grep":
            yield from (m["enclosing"] for m in result["matches"] if "enclosing" in m)
        case "references":
            for f in result["files"]:
                yield from (g["enclosing"] for g in f["groups"] if "enclosing" in g)


def outline_nodes(nodes: Sequence[Mapping[str, Any]]) -> Iterator[Any]:
    """An outline's nodes, each before the nodes nested in it."""
    for node in nodes:
        yield node
        yield from outline_nodes(node.get("children", ()))
