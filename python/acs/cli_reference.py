"""The command-line reference page of the documentation site (`docs/cli.md`), generated from
the argument parser by the same walk as the shell completion scripts (`acs.completion`), so
the page lists exactly the commands and options `acs` accepts.

`python -m acs.cli_reference` prints the page, `--write` writes it into `docs/`;
tests/test_docs.py fails while the committed page differs from what the parser gives.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from acs.completion import Command, Option, command_tree, walk

PAGE = Path("docs") / "cli.md"
HELP = ["-h", "--help"]  # every command has it; the page says so once

HEADER = """\
# CLI reference

<!-- Generated from the argument parser by `python -m acs.cli_reference --write`
(python/acs/cli_reference.py); tests/test_docs.py fails while this page is stale. -->

Every command and option `acs` accepts, as its argument parser defines them (`acs COMMAND
--help` prints the same; every command takes `-h`/`--help`). The [command
line](command-line.md) page says what the commands are for, the options most of them share,
and the exit statuses.
"""


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"`` {text} ``"


def _value(option: Option) -> str:
    if option.choices:
        return " ".join(_code(c) for c in option.choices)
    return _code(option.metavar) if option.takes_value else ""


def _flags(option: Option) -> str:
    flags = ", ".join(_code(f) for f in option.flags)
    return flags + " (repeatable)" if option.repeatable else flags


def _table(first: str, rows: list[Option], name: Callable[[Option], str]) -> list[str]:
    lines = [f"| {first} | value | default | description |", "|---|---|---|---|"]
    for row in rows:
        default = _code(row.default) if row.default else ""
        lines.append(f"| {name(row)} | {_value(row)} | {default} | {_cell(row.help)} |")
    return lines


def _section(command: Command) -> list[str]:
    title = " ".join(command.path)
    lines = [f"## `{title}`", ""]
    if command.help:
        lines += [_cell(command.help), ""]
    if command.subcommands:
        names = ", ".join(f"[`{s.path[-1]}`](#{_anchor(s)})" for s in command.subcommands)
        lines += [f"Subcommands: {names}.", ""]
    if command.arguments:
        lines += _table("argument", command.arguments, lambda o: _code(o.flags[0]))
        lines.append("")
    options = [o for o in command.options if o.help != argparse.SUPPRESS and o.flags != HELP]
    if options:
        lines += _table("option", options, _flags)
        lines.append("")
    return lines


def _anchor(command: Command) -> str:
    """The id mkdocs' table of contents gives the heading `` `acs data mine` ``."""
    return "-".join(command.path)


def markdown(parser: argparse.ArgumentParser) -> str:
    lines = [HEADER]
    for command in walk(command_tree(parser)):
        lines += _section(command)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    from acs.cli import build_parser

    cli = argparse.ArgumentParser(
        prog="python -m acs.cli_reference",
        description="Print the CLI reference page generated from acs's argument parser.",
    )
    cli.add_argument(
        "--write", action="store_true", help=f"write it to {PAGE} (run from the repository root)"
    )
    args = cli.parse_args(argv)
    page = markdown(build_parser())
    if args.write:
        PAGE.write_text(page, encoding="utf-8")
        print(f"wrote {PAGE}")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
