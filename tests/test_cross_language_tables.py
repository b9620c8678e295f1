"""Tables written in Python for type checkers and the plan language, pinned to the engine's
own: a kind or tool added, removed or renamed on one side fails here."""

from __future__ import annotations

from typing import get_args

from acs import _core, types
from acs.llm import planlang

RUST_SYMBOL_KINDS = tuple(_core.symbol_kinds())
RUST_TOOLS = tuple(name for name, _ in _core.tool_arguments())


def test_symbol_kinds_are_the_engines():
    assert get_args(types.SymbolKind) == RUST_SYMBOL_KINDS
    assert planlang.KINDS == RUST_SYMBOL_KINDS
    assert planlang.TOOLS["symbols"]["kinds"].values == RUST_SYMBOL_KINDS


def test_tool_names_are_the_engines():
    assert get_args(types.ToolName) == RUST_TOOLS
    assert tuple(planlang.TOOLS) == RUST_TOOLS
    assert tuple(planlang.POSITIONAL) == RUST_TOOLS


def test_tool_arguments_are_the_engines():
    engine = {tool: set(args) for tool, args in _core.tool_arguments()}
    assert {tool: set(spec) for tool, spec in planlang.TOOLS.items()} == engine
