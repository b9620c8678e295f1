"""The engine's tools and their arguments, as the engine describes them (`_core.tool_specs()`,
from `crates/acs-core/src/tools/spec.rs`): the one description that the plan language's
`TOOLS`, the MCP input schemas and the tests pinning `Repo`'s typed keyword defaults derive
from. An argument added in Rust appears here, and so in each of those, without a Python edit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, cast

from . import _core

ArgType = Literal["str", "int", "bool", "strs", "enum", "enums"]


@dataclass(frozen=True)
class ArgSpec:
    """One argument of a tool: its JSON type (and the values of an enumeration), the engine's
    default (None where it has none), a one-line help and the engine's limits."""

    name: str
    type: ArgType
    values: tuple[str, ...]
    default: Any
    help: str
    minimum: int | None = None
    maximum: int | None = None  # largest integer, or most characters of each string
    max_items: int | None = None


def _arg(raw: Mapping[str, Any]) -> ArgSpec:
    return ArgSpec(
        name=raw["name"],
        type=cast(ArgType, raw["type"]),
        values=tuple(raw["values"]),
        default=raw["default"],
        help=raw["help"],
        minimum=raw["minimum"],
        maximum=raw["maximum"],
        max_items=raw["max_items"],
    )


def _load() -> Mapping[str, Mapping[str, ArgSpec]]:
    return MappingProxyType(
        {
            tool["name"]: MappingProxyType({a["name"]: _arg(a) for a in tool["arguments"]})
            for tool in _core.tool_specs()
        }
    )


# Tool name -> argument name -> its spec, in the engine's order.
TOOL_SPECS: Mapping[str, Mapping[str, ArgSpec]] = _load()
