"""Checks of the arguments the Python API hands to the engine, shared by `acs.Repo` and
`acs.history`: each returns the value the engine can take, or raises a one-line
`InvalidArgumentError` naming the argument (never echoing a long value)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InvalidArgumentError
from .execution import describe_conversion_error


def invalid(what: str, message: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"invalid argument: {what}: {message}")


def kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def text(value: Any, what: str) -> str:
    """A string argument that must cross into Rust as UTF-8."""
    if not isinstance(value, str):
        raise invalid(what, f"expected a string, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise invalid(what, describe_conversion_error(e)) from None
    return value


def strings(value: Any, what: str, *, none: bool = True) -> list[Any]:
    """A list argument: one string stands for itself (not for its characters), None (when
    `none`) for none; the engine checks the items."""
    if value is None and none:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise invalid(what, f"expected a list of strings, got {type(value).__name__}")
    return list(value)


def os_path(value: Any, what: str, expected: str = "a path", *, utf8: bool = False) -> str:
    """A path argument (str, bytes or os.PathLike) as a str the OS can take back: bytes are
    decoded as the OS does, and a lone surrogate that no file name can hold is refused (so
    is any undecodable byte when `utf8`: the engine reads that path as text)."""
    try:
        path = os.fsdecode(value)
    except TypeError:
        raise invalid(what, f"expected {expected}, got {kind(value)}") from None
    try:
        if utf8:
            path.encode("utf-8")
        else:
            os.fsencode(path)
    except UnicodeEncodeError as e:
        raise invalid(what, describe_conversion_error(e)) from None
    return path
