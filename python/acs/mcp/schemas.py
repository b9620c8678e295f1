"""JSON schemas of the tools' arguments, and the check that a call's arguments fit them.

The server checks arguments itself rather than leaving it to the SDK (1.x validates with
jsonschema, 2.x's low-level server does not), so a model gets the same one-line message
under either. Every string has a `maxLength` and every list a `maxItems`, and all arguments
together are measured against `MAX_ARGUMENTS_CHARS`, before any work: an oversized argument
is refused with its size, never quoted back whole."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..echo import echo, quoted
from ..errors import InvalidArgumentError
from ..toolspec import TOOL_SPECS, ArgSpec
from .limits import MAX_ARGUMENTS_CHARS, MAX_GLOBS, MAX_NAME_CHARS, MAX_PATH_CHARS

Schema = dict[str, Any]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def string(description: str, *, max_length: int = MAX_NAME_CHARS, **extra: Any) -> Schema:
    return {"type": "string", "description": description, "maxLength": max_length, **extra}


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


def strings(
    description: str, *, max_items: int = MAX_GLOBS, max_length: int = MAX_PATH_CHARS
) -> Schema:
    return {
        "type": "array",
        "items": {"type": "string", "maxLength": max_length},
        "maxItems": max_items,
        "description": description,
    }


def choice(description: str, values: list[str], *, default: str) -> Schema:
    return {"type": "string", "enum": values, "description": description, "default": default}


def obj(properties: Mapping[str, Schema], required: list[str]) -> Schema:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": required,
        "additionalProperties": False,
    }


def engine_argument(arg: ArgSpec, **override: Any) -> Schema:
    """The schema of one engine argument, from the engine's description of it (type, values,
    default, help); the server's own caps (`maxLength`, `maxItems`, the integer bounds a
    model may ask for) apply on top, and `override` replaces any key (a smaller default
    sized for a model's context, say)."""
    schema: Schema
    match arg.type:
        case "str":
            schema = string(arg.help)
        case "int":
            # The engine's integers are unsigned: 0 is the least any accepts.
            schema = {"type": "integer", "description": arg.help, "minimum": arg.minimum or 0}
            if arg.maximum is not None:
                schema["maximum"] = arg.maximum
        case "bool":
            schema = boolean(arg.help, default=arg.default)
        case "strs":
            schema = strings(arg.help)
        case "enum":
            schema = choice(arg.help, list(arg.values), default=arg.default)
        case "enums":
            schema = strings(arg.help)
            schema["items"]["enum"] = list(arg.values)
    # An empty string is no default: the engine refuses it (`name`, `path`: required).
    if arg.type in ("str", "int") and arg.default not in (None, ""):
        schema["default"] = arg.default
    return {**schema, **override}


def engine_arguments(
    tool: str, *, left_out: Mapping[str, str], **overrides: Mapping[str, Any]
) -> dict[str, Schema]:
    """The schemas of every argument of engine tool `tool`, but those in `left_out` (each
    with the reason the server offers it another way), `overrides` applied by name. An
    argument added to the engine appears here without an edit; a name here the engine does
    not know is an error at import."""
    spec = TOOL_SPECS[tool]
    unknown = sorted((set(left_out) | set(overrides)) - set(spec))
    if unknown:
        raise ValueError(f"{tool}: the engine has no argument(s) {unknown}")
    return {
        name: engine_argument(arg, **overrides.get(name, {}))
        for name, arg in spec.items()
        if name not in left_out
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
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        raise InvalidArgumentError(
            f"argument {name!r}: {len(value):,} characters, over the cap of {schema['maxLength']:,}"
        )
    if isinstance(value, list) and len(value) > schema.get("maxItems", len(value)):
        raise InvalidArgumentError(
            f"argument {name!r}: {len(value):,} items, over the cap of {schema['maxItems']:,}"
        )
    if "enum" in schema and value not in schema["enum"]:
        options = ", ".join(map(str, schema["enum"]))
        raise InvalidArgumentError(f"argument {name!r}: {quoted(value)} is not one of: {options}")
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
    size = json_chars(arguments, MAX_ARGUMENTS_CHARS)
    if size > MAX_ARGUMENTS_CHARS:
        raise InvalidArgumentError(
            f"the arguments hold over {MAX_ARGUMENTS_CHARS:,} characters, the cap of one call"
        )
    properties: dict[str, Schema] = schema["properties"]
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        names = ", ".join(echo(n, 40) for n in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        known = ", ".join(properties)
        raise InvalidArgumentError(f"unknown argument(s) {names}{more} (known: {known})")
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


def json_chars(value: Any, budget: int) -> int:
    """About the characters of `value` as JSON (strings, keys and one per number, list item
    or member), counted until the count passes `budget`: a huge value costs no more than the
    budget to measure."""
    count = 0
    stack = [value]
    while stack and count <= budget:
        item = stack.pop()
        if isinstance(item, str):
            count += len(item) + 2
        elif isinstance(item, dict):
            count += 2 + sum(len(k) + 4 for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            count += 2 + len(item)
            stack.extend(item)
        else:
            count += 4
    return count
