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

_JSON_TYPES: Mapping[ArgType, str] = {
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "strs": "array",
    "enum": "string",
    "enums": "array",
}


def _argument_schema(arg: ArgSpec) -> dict[str, Any]:
    json_type = _JSON_TYPES[arg.type]
    schema: dict[str, Any] = {
        # An argument whose default is null takes null, as the engine's `Option` does.
        "type": json_type if arg.default is not None else [json_type, "null"],
        "description": arg.help,
    }
    if arg.type == "enum":
        schema["enum"] = list(arg.values)
    if arg.type in ("strs", "enums"):
        schema["items"] = {"type": "string"}
        if arg.type == "enums":
            schema["items"]["enum"] = list(arg.values)
        if arg.maximum is not None:
            schema["items"]["maxLength"] = arg.maximum
        if arg.max_items is not None:
            schema["maxItems"] = arg.max_items
    if arg.type == "str" and arg.maximum is not None:
        schema["maxLength"] = arg.maximum
    if arg.type == "int":
        schema["minimum"] = arg.minimum or 0
        if arg.maximum is not None:
            schema["maximum"] = arg.maximum
    if arg.default is not None:
        schema["default"] = arg.default
    return schema


def arguments_schema() -> dict[str, Any]:
    """The JSON Schema of every tool's arguments (`acs tool TOOL ARGS`, a plan task's `args`),
    generated from the engine's spec: `docs/schema/tool-arguments.json` is this, written by
    `scripts/gen-tool-schema` (a test checks the committed file is current)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://acs.invalid/schema/tool-arguments.json",
        "title": "acs tool arguments",
        "description": "The arguments of each tool (`acs tool TOOL ARGS`, `Repo.call`, a plan "
        "task's `args`), by tool name in `$defs`. Generated from the engine's tool spec by "
        "scripts/gen-tool-schema: do not edit.",
        "$defs": {
            tool: {
                "type": "object",
                "properties": {name: _argument_schema(a) for name, a in args.items()},
                "additionalProperties": False,
            }
            for tool, args in TOOL_SPECS.items()
        },
    }
