"""Quoting user input back in errors and observations: never more than a short prefix.

A 10 MB pattern or path that fails must not come back whole (it would fill a model's
context, a log line or a JSON-RPC reply); the prefix and the full size are enough to tell
which input it was."""

from __future__ import annotations

# Characters of an input quoted in a message.
EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` if it has at most `limit` characters, else its first `limit` characters and
    how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def quoted(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`repr(value)` for a message, cut like `excerpt` (the repr of a huge string is never
    built: only its prefix is)."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    return excerpt(repr(value), limit)
