"""`acs data`: mine training instances from git history, and tabulate mining summaries.

acs data mine REPO --out FILE [--name OWNER/NAME] [--since DATE] [--until DATE] [--max N]
              [--exclude-repos FILE_OR_LIST] [--purpose train|eval] [--summary FILE]
              [--rejects FILE] [--keep-changelog] [--min-words N] [--max-files N]
              [--max-lines N] [--min-closeness F] [--rev REV] [--force]
acs data card SUMMARY_OR_DIR... [--repos-file FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from ..cli_common import UsageError
from ..errors import AcsError, InvalidArgumentError
from .defaults import MAX_FILES, MAX_LINES, MAX_MESSAGE_CHARS, MIN_WORDS
from .heldout import PURPOSES, parse_repo_list

if TYPE_CHECKING:  # the miner and its filters load when `acs data mine` runs, not at `acs ...`
    from .git import Commit
    from .mine import Miner

MAX_TITLE_CHARS = 200  # of a rejected commit's title in --rejects


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "data",
        help="mine training instances from git history; tabulate mining summaries",
        description="Training data from git history (see docs/data.md).",
    )
    data_sub = p.add_subparsers(dest="data_command", required=True)

    m = data_sub.add_parser(
        "mine",
        help="SWE-bench-format instances from a repository's commits and merged pull requests",
        description="Walk the first-parent history of a git repository (newest first) and "
        "write one SWE-bench-format instance per usable commit: its message (the first "
        f"{MAX_MESSAGE_CHARS:,} characters) is the problem "
        "statement, its diff from the first parent the patch (non-test files), test_patch and "
        "changelog_patch (release notes). "
        "Held-out repositories are refused, and development-set ones unless --purpose eval. "
        "An existing output file is replaced only when it is an earlier output of acs data "
        "mine (or with --force), never when it is in the mined repository's git directory or "
        "a file git tracks there.",
    )
    m.add_argument("repo", metavar="REPO", help="a git work tree or git directory (bare too)")
    m.add_argument("--out", required=True, metavar="FILE", help="the instances (.jsonl)")
    m.add_argument(
        "--force",
        action="store_true",
        help="replace output files that are not earlier outputs of acs data mine",
    )
    m.add_argument("--name", metavar="OWNER/NAME", help="default: from remote.origin.url")
    m.add_argument("--rev", default="HEAD", help="walk the history of this revision (HEAD)")
    m.add_argument("--since", metavar="DATE", help="only commits after DATE (git's formats)")
    m.add_argument("--until", metavar="DATE", help="only commits before DATE")
    m.add_argument("--max", type=int, metavar="N", help="stop after N instances")
    m.add_argument(
        "--exclude-repos",
        metavar="FILE_OR_LIST",
        help="repositories never to mine: a file (one owner/name a line, # comments) or a "
        "comma-separated list",
    )
    m.add_argument("--purpose", choices=PURPOSES, default="train", help="default: train")
    m.add_argument("--summary", metavar="FILE", help="also write the summary here (JSON)")
    m.add_argument(
        "--rejects",
        metavar="FILE",
        help="also write every rejected commit here (.jsonl: commit, reason, title), to audit "
        "the filters",
    )
    m.add_argument(
        "--min-words", type=int, default=MIN_WORDS, help=f"shortest message (default {MIN_WORDS})"
    )
    m.add_argument(
        "--max-files",
        type=int,
        default=MAX_FILES,
        help=f"most non-test files changed (default {MAX_FILES})",
    )
    m.add_argument(
        "--max-lines",
        type=int,
        default=MAX_LINES,
        help=f"most changed lines in non-test files (default {MAX_LINES})",
    )
    m.add_argument(
        "--min-closeness",
        type=float,
        default=0.0,
        metavar="F",
        help="drop instances whose message scores below F (0 to 1) on closeness to an issue "
        "(default 0: keep all; each instance carries its score, to weight by)",
    )
    m.add_argument(
        "--keep-changelog",
        action="store_true",
        help="keep release notes (CHANGES.rst, news fragments) in patch instead of changelog_patch",
    )
    m.set_defaults(func=cmd_mine)

    c = data_sub.add_parser(
        "card",
        help="Markdown tables (per repository, per filter) from mining summaries",
        description="Print the data card's tables from `acs data mine --summary` files.",
    )
    c.add_argument("summaries", nargs="+", help="summary files, or folders of *.summary.json")
    c.add_argument(
        "--repos-file", metavar="FILE", help="owner/name  # domain lines: order and domains"
    )
    c.set_defaults(func=cmd_card)
    return p


def exclude_list(value: str | None) -> set[str]:
    """`--exclude-repos`: a file of names when such a file exists, else a list."""
    if not value:
        return set()
    path = Path(value)
    if path.is_file():
        return parse_repo_list(path.read_text(encoding="utf-8"))
    return parse_repo_list(value)


def cmd_mine(args: argparse.Namespace) -> int:
    for flag, value in (
        ("--max", args.max),
        ("--min-words", args.min_words),
        ("--max-files", args.max_files),
        ("--max-lines", args.max_lines),
    ):
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be at least 1")
    if not 0.0 <= args.min_closeness <= 1.0:  # NaN too
        raise UsageError("--min-closeness must be between 0 and 1")
    try:
        exclude = exclude_list(args.exclude_repos)
    except OSError as e:
        raise UsageError(f"cannot read {args.exclude_repos}: {e.strerror}") from e
    from .filters import Limits
    from .mine import Miner

    limits = Limits(
        min_words=args.min_words,
        max_files=args.max_files,
        max_lines=args.max_lines,
        min_closeness=args.min_closeness,
    )
    try:
        miner = Miner(
            args.repo,
            name=args.name,
            purpose=args.purpose,
            exclude=exclude,
            limits=limits,
            keep_changelog=args.keep_changelog,
        )
    except InvalidArgumentError as e:
        raise UsageError(str(e)) from e
    out = Path(args.out)
    check_outputs(args, miner)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial, part_file = _open_partial(out)
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror or e}") from e
    try:
        with part_file as f, _rejects_file(args.rejects) as rejects:

            def on_reject(commit: Commit, reason: str) -> None:
                if rejects is not None:
                    title = commit.message.strip().split("\n", 1)[0][:MAX_TITLE_CHARS]
                    row = {"commit": commit.sha, "reason": reason, "title": title}
                    rejects.write(orjson.dumps(row) + b"\n")

            for instance in miner.instances(
                rev=args.rev,
                since=args.since,
                until=args.until,
                max_instances=args.max,
                on_reject=on_reject,
            ):
                f.write(orjson.dumps(instance) + b"\n")
        os.replace(partial, out)
    except AcsError:  # the repository's error (RepositoryError is an OSError too)
        partial.unlink(missing_ok=True)
        raise
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {out}: {e.strerror or e}") from e
    except BaseException:  # no half-written file that looks like a result
        partial.unlink(missing_ok=True)
        raise
    summary = miner.summary
    if args.summary:
        try:
            Path(args.summary).write_bytes(
                orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2) + b"\n"
            )
        except OSError as e:
            raise UsageError(f"cannot write {args.summary}: {e.strerror or e}") from e
    print(summary.format(), file=sys.stderr)
    return 0


def check_outputs(args: argparse.Namespace, miner: Miner) -> None:
    """Refuse, before any work, an output path that is not ours to write (`outputs`)."""
    from .outputs import Kind, check_output

    outputs: tuple[tuple[str, str | None, Kind], ...] = (
        ("--out", args.out, "instances"),
        ("--rejects", args.rejects, "rejects"),
        ("--summary", args.summary, "summary"),
    )
    for flag, path, kind in outputs:
        if path:
            try:
                check_output(Path(path), kind, git=miner.git, force=args.force, flag=flag)
            except InvalidArgumentError as e:
                raise UsageError(str(e)) from e


def _open_partial(out: Path) -> tuple[Path, IO[bytes]]:
    """A new file beside `out` to write into before it replaces `out`: a name of its own
    (`.NAME.PID.part`, created exclusively), so nothing already there is overwritten."""
    for attempt in itertools.count():
        partial = out.with_name(f".{out.name}.{os.getpid()}.{attempt}.part")
        try:
            return partial, open(partial, "xb")
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def _rejects_file(path: str | None) -> contextlib.AbstractContextManager[IO[bytes] | None]:
    return open(path, "wb") if path else contextlib.nullcontext()


def cmd_card(args: argparse.Namespace) -> int:
    from .card import card, read_summaries

    try:
        summaries = read_summaries(args.summaries)
        domains = (
            read_domains(Path(args.repos_file).read_text(encoding="utf-8"))
            if args.repos_file
            else {}
        )
    except OSError as e:
        raise UsageError(f"cannot read {e.filename}: {e.strerror}") from e
    except ValueError as e:
        raise UsageError(str(e)) from e
    sys.stdout.write(card(summaries, domains))
    return 0


def read_domains(text: str) -> dict[str, str]:
    """`owner/name  # domain` lines: each repository's domain, in file order."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, _, comment = line.partition("#")
        if name.strip():
            out[name.strip()] = comment.strip()
    return out
