"""JSON schemas of the tools' arguments, and the check that a call's arguments fit them.

The server checks arguments itself rather than leaving it to the SDK (1.x validates with
jsonschema, 2.x's low-level server does not), so a model gets the same one-line message
under either."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidArgumentError

Schema = dict[str, Any]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def integer(description: str, *, default: int, minimum: int, maximum: int) -> Schema:
    return {
        "type": "integer",
        "description": description,
        "default": default,
        "minimum": minimum,
        "maximum": maximum,
    }


def boolean(description: str, *, default: bool) -> Schema:
    return {"type": "boolean", "description": description, "default": default}


def strings(description: str) -> Schema:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def choice(description: str, values: list[str], *, default: str) -> Schema:
    return {"type": "string", "enum": values, "description": description, "default": default}


def obj(properties: Mapping[str, Schema], required: list[str]) -> Schema:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": required,
        "additionalProperties": False,
    }


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return next((n for n, t in _JSON_TYPES.items() if isinstance(value, t)), type(value).__name__)


def _check(name: str, value: Any, schema: Schema) -> None:
    expected = schema.get("type")
    allowed = expected if isinstance(expected, list) else [expected] if expected else []
    if allowed and not any(_fits(value, t) for t in allowed):
        want = " or ".join(allowed)
        raise InvalidArgumentError(f"argument {name!r}: expected {want}, got {_kind(value)}")
    if "enum" in schema and value not in schema["enum"]:
        options = ", ".join(map(str, schema["enum"]))
        raise InvalidArgumentError(f"argument {name!r}: {value!r} is not one of: {options}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidArgumentError(
                f"argument {name!r}: {value} is outside [{low}, {high}]"
                if high is not None
                else f"argument {name!r}: {value} is below {low}"
            )
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(f"{name}[{i}]", item, schema["items"])


def _fits(value: Any, json_type: str) -> bool:
    if json_type in ("integer", "number") and isinstance(value, bool):
        return False
    if json_type == "null":
        return value is None
    return isinstance(value, _JSON_TYPES[json_type])


def with_defaults(schema: Schema, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """`arguments` checked against an object `schema` (unknown names, missing required ones,
    types, enums, bounds), every property present: the schema's default, else None."""
    arguments = dict(arguments or {})
    properties: dict[str, Schema] = schema["properties"]
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        known = ", ".join(properties)
        raise InvalidArgumentError(f"unknown argument(s) {', '.join(unknown)} (known: {known})")
    for name in schema.get("required", []):
        if arguments.get(name) is None:
            raise InvalidArgumentError(f"argument {name!r} is required")
    for name, value in arguments.items():
        if value is not None:
            _check(name, value, properties[name])
    for name, prop in properties.items():
        if arguments.get(name) is None:
            arguments[name] = prop.get("default")
    return arguments
