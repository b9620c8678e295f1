"""What every `acs` subcommand shares: the usage error, one-line error printing and exit,
and the index-folder options. `acs.cli` and the subcommand modules (`acs.eval.cli`,
`acs.data.cli`, `acs.mcp.cli`) import this module; it imports none of them, so `acs.cli` can
import the subcommands and nothing imports `acs.cli` back.

Exit status: 0 on success, 2 for bad usage, 1 for a runtime failure; errors are one line
on stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import NoReturn

from .cachedir import index_folder
from .errors import AcsError


class UsageError(AcsError):
    """A command line that cannot be run as written (the message says why)."""


def one_line(message: str) -> str:
    """An error message as one line. The regex crate's messages span several lines: the
    pattern (as the engine wrapped it), a caret under the spot, then `error: <what>`; keep the
    first line and the `error:` line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else message.strip()
    detail = [line[len("error:") :].strip() for line in lines[1:] if line.startswith("error:")]
    return " ".join([lines[0], *(detail or lines[1:])])


# Characters a terminal would act on rather than show: C0 and C1 controls, DEL, bidirectional
# overrides and line separators (a file name can hold any of them), and lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` for a terminal: each unprintable character as its Python escape (`\x1b`)."""
    return _UNPRINTABLE.sub(lambda m: repr(m[0])[1:-1], text)


def fail(message: str, status: int) -> NoReturn:
    """Say `message` on stderr as one printable line and exit with `status`."""
    print(f"acs: {printable(one_line(message))}", file=sys.stderr)
    raise SystemExit(status)


def add_index_cache_args(p: argparse.ArgumentParser) -> None:
    """`--cache-dir DIR` and `--no-cache` (read back by `index_cache`)."""
    p.add_argument(
        "--cache-dir",
        help="acs cache folder, as $ACS_CACHE_DIR: the index goes in its index/ folder "
        "(default: $ACS_CACHE_DIR, else the user cache)",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="keep indexes in memory only, write nothing"
    )


def index_cache(args: argparse.Namespace) -> Path | bool:
    """`--no-cache` (False), the index folder of `--cache-dir DIR` (`DIR/index`, as with
    `ACS_CACHE_DIR=DIR`), or the default index folder (True)."""
    if args.no_cache:
        return False
    return index_folder(args.cache_dir) if args.cache_dir else True
