"""Input quoted back in an error or an observation, at most a short prefix of it: a 10 MB
pattern or a 2 MB line of model text must not come back whole (it would fill a model's
context, a log line or a JSON-RPC reply); the prefix and the size tell which input it was.
The engine's errors do the same in Rust (`Echo` in `crates/acs-core/src/error.rs`), with
the same limit and form."""

from __future__ import annotations

ECHO_CHARS = 200  # characters of an input quoted back


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` itself when short; else its first `limit` characters, `…`, and its size.

    >>> echo("x" * 1000, 5)
    'xxxxx… (1,000 characters)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def quoted(value: object, limit: int = ECHO_CHARS) -> str:
    """`repr(value)` cut like `echo` (of a long string only the prefix's repr is built).

    >>> quoted("ab" * 300, 4)
    "'abab'… (600 characters)"
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    return echo(repr(value), limit)
