"""The `acs` command line: its own commands (demo, plan, localize, index, tool, completion)
and the subcommands of `acs.eval.cli`, `acs.data.cli` and `acs.mcp.cli`, which share
`acs.cli_common` with it and never import this module.

Exit status: 0 on success, 2 for bad usage, 1 for a runtime failure; errors are one line
on stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import sysconfig
import threading
import time
from typing import Any, NoReturn

import orjson

from . import completion, github
from .cli_common import (
    UsageError,
    add_index_cache_args,
    fail,
    index_cache,
    one_line,
    printable,
)
from .data import cli as data_cli
from .errors import AcsError, InvalidArgumentError
from .eval import cli as eval_cli
from .localize import LocalizeResult, localize
from .mcp import cli as mcp_cli
from .policies import REGISTRY, make_policy, policy_spec
from .policies.base import Policy
from .repo import Repo
from .toolspec import TOOL_SPECS
from .types import IndexReport, OpenStats, RunReport, TaskOutcome
from .version import version_text

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"  # acs.llm.DEFAULT_BASE_URL (not imported here)


def _read_json(source: str) -> Any:
    try:
        if source == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as f:
                data = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {source}: {e.strerror}") from e
    try:
        return orjson.loads(data)  # bytes: invalid UTF-8 is a JSON error, not a traceback
    except orjson.JSONDecodeError as e:
        raise UsageError(f"{source} is not valid JSON: {e}") from e


def _text(raw: str) -> str:
    """Text from the command line, where undecodable bytes arrive as lone surrogates: as
    valid UTF-8, each such byte replaced."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _open(args: argparse.Namespace, path: str | None = None) -> Repo:
    return Repo.open(
        path or args.repo,
        commit=None if args.commit is None else _text(args.commit),
        exclude=[_text(g) for g in args.exclude or ()],
        index_cache=index_cache(args),
    )


def _index(repo: Repo) -> IndexReport:
    """Index `repo`, saying so on stderr when it takes more than a second."""
    progress = threading.Timer(1.0, lambda: print("acs: indexing…", file=sys.stderr))
    progress.start()
    try:
        report = repo.index()
    finally:
        progress.cancel()
    if report["warning"]:
        print(f"acs: warning: {report['warning']}", file=sys.stderr)
    if unreadable := unreadable_warning(repo.stats):
        print(f"acs: warning: {printable(unreadable)}", file=sys.stderr)
    return report


def unreadable_warning(stats: OpenStats, shown: int = 5) -> str | None:
    """One line naming the first `shown` files the snapshot could not read (a damaged git
    object, a permission denied), with why and how many more; None when there are none."""
    count = stats["skipped_unreadable"]
    if not count:
        return None
    named = [f"{_cut(u['path'], 120)} ({_cut(u['reason'], 80)})" for u in stats["unreadable"]]
    more = count - min(shown, len(named))
    tail = f", and {more} more" if more else ""
    files = "file" if count == 1 else "files"
    return (
        f"{count} {files} could not be read and are not searched: {', '.join(named[:shown])}{tail}"
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


DEMO_ISSUE = """json.loads("") raises JSONDecodeError "Expecting value: line 1 column 1 (char 0)"
It should say that the document is empty. JSONDecoder.raw_decode gives the same message."""


def demo_plan() -> list[dict[str, Any]]:
    """Eight searches an agent might issue for a JSON-decoding bug report."""
    return [
        {"id": 1, "tool": "symbols", "args": {"name": "JSONDecoder", "kinds": ["class"]}},
        {"id": 2, "tool": "grep", "args": {"pattern": "Expecting value", "include": ["*.py"]}},
        {"id": 3, "tool": "grep", "args": {"pattern": "def raw_decode", "include": ["*.py"]}},
        {"id": 4, "tool": "grep", "args": {"pattern": r"class \w+Error\(ValueError\)"}},
        {"id": 5, "tool": "find_files", "args": {"query": "json/decoder"}},
        {"id": 6, "tool": "outline", "args": {"path": "$5.files[0].path"}},
        {
            "id": 7,
            "tool": "read",
            "args": {"path": "$1.symbols[0].path", "symbol": "JSONDecoder.raw_decode"},
        },
        {"id": 8, "tool": "references", "args": {"name": "JSONDecodeError", "include": ["json/*"]}},
    ]


def _summary(task: TaskOutcome) -> str:
    return printable(_summary_text(task))


def _summary_text(task: TaskOutcome) -> str:
    if task["status"] != "ok":
        return one_line(task["error"]["message"])
    r = task["result"]
    match task["tool"]:
        case "grep":
            first = r["matches"][0] if r["matches"] else None
            where = f" first {first['path']}:{first['line']}" if first else ""
            return f"{len(r['matches'])} matches in {len(r['files'])} files{where}"
        case "symbols":
            locs = [f"{s['path']}:{s['start_line']} {s['qualified_name']}" for s in r["symbols"]]
            return f"{r['total']} definitions: " + ", ".join(locs[:3])
        case "find_files":
            return ", ".join(f["path"] for f in r["files"][:3])
        case "outline":
            return f"{r['path']}: " + ", ".join(n["name"] for n in r["symbols"][:6])
        case "read":
            return f"{r['path']}:{r['start_line']}-{r['end_line']} | {r['lines'][0].strip()}"
        case "references":
            return f"{r['total']} uses in {len(r['files'])} files"
        case "imports":
            return f"{len(r['files'])} files: " + ", ".join(f["path"] for f in r["files"][:3])
    return ""


def print_report(report: RunReport) -> None:
    for t in report["tasks"]:
        fused = f" (fused x{t['fused']})" if t["fused"] > 1 else ""
        print(
            f"  [{t['id']}] {t['tool']:<10} {t['status']:<7} {t['elapsed_ms']:7.2f} ms"
            f"{fused}  {_summary(t)}"
        )
    print(f"  plan finished in {report['elapsed_ms']:.2f} ms")


def cmd_demo(args: argparse.Namespace) -> int:
    path = args.repo or sysconfig.get_paths()["stdlib"]
    # The standard library folder also holds installed packages; leave them out of the demo.
    exclude = args.exclude or ([] if args.repo else ["site-packages"])
    t0 = time.perf_counter()
    commit = None if args.commit is None else _text(args.commit)
    exclude = [_text(g) for g in exclude]
    repo = Repo.open(path, commit=commit, exclude=exclude, index_cache=index_cache(args))
    opened = (time.perf_counter() - t0) * 1000
    s = repo.stats
    print(f"opened {path}: {s['files']} files, {s['bytes'] / 1e6:.1f} MB in {opened:.0f} ms")
    report = _index(repo)
    how = {"built": "built (and saved)", "disk": "loaded from disk", "memory": "in memory"}
    hint = " (run the demo again: a new process loads it)" if report["source"] == "built" else ""
    print(
        f"index of {report['symbols']} definitions {how[report['source']]} "
        f"in {report['elapsed_ms']:.0f} ms{hint}"
    )
    print("\nplan: 8 tasks (3 greps fused into one pass; 6 and 7 wait for 5 and 1)")
    print_report(repo.run_plan(demo_plan()))
    issue = DEMO_ISSUE if not args.repo else "error handling when the input is empty"
    print(f"\nlocalize: {issue.splitlines()[0]}")
    print_locations(localize(repo, issue, top_k=5, top_k_functions=10, explain=True))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    plan = _read_json(args.plan)
    if not isinstance(plan, list | dict):
        kind = "null" if plan is None else type(plan).__name__
        source = "stdin" if args.plan == "-" else args.plan
        raise UsageError(f'{source}: a plan is {{"tasks": [...]}} or a list of tasks, not {kind}')
    report = _open(args).run_plan(plan)
    if args.format == "json":
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        print_report(report)
    return 0


def cmd_tool(args: argparse.Namespace) -> int:
    try:
        tool_args = orjson.loads(_text(args.args))
    except orjson.JSONDecodeError as e:
        raise UsageError(f"arguments are not valid JSON: {e}") from e
    if not isinstance(tool_args, dict):
        kind = "null" if tool_args is None else type(tool_args).__name__
        raise UsageError(f'arguments are a JSON object ({{"name": value, ...}}), not {kind}')
    result = _open(args).call(args.tool, tool_args)
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def _issue_text(args: argparse.Namespace) -> str:
    if args.issue_file and args.issue not in (None, "-"):
        raise UsageError("give the issue as text or with --issue-file, not both")
    if args.issue_file:
        try:
            with open(args.issue_file, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            raise UsageError(f"cannot read issue file {args.issue_file}: {e.strerror}") from e
    elif args.issue in (None, "-"):
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    else:
        text = _text(args.issue)
    if not text.strip():
        raise UsageError("the issue text is empty")
    return text


CONFIDENT_END = "---- confident above ----"


def print_locations(result: LocalizeResult) -> None:
    """The ranked files, then the ranked functions, best first, with their scores and why;
    a line marks where each list's confident set ends."""
    why = result.get("why", {})
    rows: list[tuple[bool, str]] = []
    for f in result["files"]:
        reason = f"  ({why[f['path']]})" if f["path"] in why else ""
        rows.append((f.get("confident", True), f"{f['score']:.2f}  {f['path']}{reason}"))
    _print_ranked("files", rows)
    rows = []
    for fn in result["functions"]:
        span = f"{fn['start_line']}-{fn['end_line']}"
        label = f"{fn['path']}:{fn['name']}"
        reason = f"  ({why[label]})" if label in why else ""
        rows.append((fn.get("confident", True), f"{fn['score']:.2f}  {label}:{span}{reason}"))
    _print_ranked("functions", rows)
    s = result["stats"]
    print(f"({s['latency_ms']:.0f} ms, {s['turns']} turn(s), {s['tool_calls']} tool calls)")


def _print_ranked(title: str, rows: list[tuple[bool, str]]) -> None:
    """`rows` (confident, text) under `title`, the separator before the first row that is not
    confident (the confident set is a prefix of the ranked list)."""
    sure = sum(c for c, _ in rows)
    print(f"{title}: {len(rows)}, {sure} confident")
    marked = False
    for confident, text in rows:
        if not confident and not marked:
            print(f"  {CONFIDENT_END}")
            marked = True
        print(printable(f"  {text}"))


def policy_from_args(args: argparse.Namespace) -> Policy | str:
    """`--policy` and, for the model planners, their options (see `add_model_args`)."""
    options = {
        "model": args.model,
        "base_url": args.base_url,
        "api_key": args.api_key,
        "timeout": args.llm_timeout,
        "constrain": args.constrain,
        "device": args.device,
    }
    try:
        spec = policy_spec(args.policy)  # an unknown name is bad usage, found before opening
    except InvalidArgumentError as e:
        raise UsageError(str(e)) from e
    given = [k for k, v in options.items() if v is not None and k not in spec.options]
    if given:
        takers = "|".join(n for n, s in REGISTRY.items() if set(given) <= set(s.options))
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in given)
        raise UsageError(f"{flags} only apply to --policy {takers}")
    if not spec.options:
        return str(args.policy)
    return make_policy(args.policy, max_turns=args.max_turns, **options)


def cmd_localize(args: argparse.Namespace) -> int:
    if args.top_k < 1 or args.top_k_functions < 1 or args.max_turns < 1:
        raise UsageError("--top-k, --top-k-functions and --max-turns must be at least 1")
    if not 0 <= args.min_score <= 1:  # also false for nan
        raise UsageError(f"--min-score must be a number in [0, 1], got {args.min_score}")
    if not 0 < args.budget_ms < math.inf:  # also false for nan
        raise UsageError(f"--budget-ms must be a finite number > 0, got {args.budget_ms}")
    if args.fail_under is not None and not 0 <= args.fail_under <= 1:
        raise UsageError(f"--fail-under must be a number in [0, 1], got {args.fail_under}")
    issue = _issue_text(args)
    policy = policy_from_args(args)  # before opening: a missing extra fails fast
    repo = _open(args)
    _index(repo)
    result = localize(
        repo,
        issue,
        policy=policy,
        top_k=args.top_k,
        top_k_functions=args.top_k_functions,
        min_score=args.min_score,
        max_turns=args.max_turns,
        budget_ms=args.budget_ms,
        trajectory=bool(args.trace),
        explain=args.format == "text",
    )
    for warning in result.get("warnings", []):
        print(f"acs: warning: {warning}", file=sys.stderr)
    trace = result.pop("trajectory", None)
    if args.trace:
        try:
            with open(args.trace, "wb") as f:
                f.write(orjson.dumps(trace, option=orjson.OPT_INDENT_2))
        except OSError as e:
            fail(f"cannot write trace {args.trace}: {e.strerror}", 1)
    if args.format == "json":
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    elif args.format == "github":
        print_github(result, issue, args.repo)
    else:
        print_locations(result)
    return _fail_under_status(result, args.fail_under)


def print_github(result: LocalizeResult, issue: str, repo: str) -> None:
    """Annotations on stdout, the Markdown summary into the job summary when there is one."""
    for line in github.annotation_lines(result, github.workspace_prefix(repo)):
        print(printable(line))
    try:
        github.write_step_summary(github.summary_markdown(result, issue))
    except OSError as e:
        fail(f"cannot write the job summary: {e.strerror}", 1)


def _fail_under_status(result: LocalizeResult, threshold: float | None) -> int:
    """1 (said on stderr) when `--fail-under` is given and the best file scores below it."""
    if threshold is None:
        return 0
    best = result["files"][0]["score"] if result["files"] else None
    if best is not None and best >= threshold:
        return 0
    found = "no file found" if best is None else f"the best file scores {best:.3f}"
    print(f"acs: {found}, under --fail-under {threshold:g}", file=sys.stderr)
    return 1


def cmd_completion(args: argparse.Namespace) -> int:
    sys.stdout.write(completion.script(args.shell, build_parser()))
    return 0


class _VersionAction(argparse.Action):
    """`--version`: acs, the engine's build and the grammars; computed only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show versions and exit", **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        print(version_text())
        parser.exit()


def cmd_index(args: argparse.Namespace) -> int:
    repo = _open(args, args.path)
    report = _index(repo)
    if args.format == "json":
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        where = printable(report["path"] or "memory only")
        print(
            f"{len(repo)} files, {report['symbols']} definitions: {report['source']} in "
            f"{report['elapsed_ms']:.0f} ms ({report['bytes'] / 1e6:.1f} MB, {where})"
        )
    return 0


def add_model_args(p: argparse.ArgumentParser) -> None:
    """The options of the model planners (`--policy vllm|openai|transformers`)."""
    g = p.add_argument_group("model planners (--policy vllm, openai, transformers)")
    g.add_argument(
        "--model",
        help="model name on the server (default: the first it serves), or for transformers a "
        "local directory or Hub id ($ACS_LLM_MODEL)",
    )
    g.add_argument(
        "--base-url",
        help=f"OpenAI-compatible endpoint (default {DEFAULT_BASE_URL}, $ACS_LLM_BASE_URL)",
    )
    g.add_argument("--api-key", help="bearer token ($ACS_LLM_API_KEY, $OPENAI_API_KEY)")
    g.add_argument(
        "--llm-timeout", type=float, help="seconds one model request may take (default 30)"
    )
    g.add_argument(
        "--constrain",
        choices=["grammar", "regex", "none"],
        help="constrained decoding of the plan language (default: grammar for vllm, none for "
        "openai and transformers)",
    )
    g.add_argument("--device", help="transformers: cuda, cpu, ... (default: cuda if present)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acs", description="Agentic code search.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)

    def repo_args(p: argparse.ArgumentParser, required: bool | None = True) -> None:
        if required is not None:
            p.add_argument("--repo", required=required, help="repository directory or git dir")
        p.add_argument("--commit", help="read this commit from git instead of the work tree")
        p.add_argument(
            "--exclude", action="append", metavar="GLOB", help="leave these paths out (repeatable)"
        )
        add_index_cache_args(p)

    demo = sub.add_parser("demo", help="open a repository and run an 8-task plan")
    repo_args(demo, required=False)
    demo.set_defaults(func=cmd_demo)

    plan = sub.add_parser("plan", help="run a plan (JSON file, or - for stdin)")
    repo_args(plan)
    plan.add_argument("plan", help="plan file ({'tasks': [...]} or a list), or -")
    plan.add_argument("--format", choices=["json", "text"], default="json")
    plan.set_defaults(func=cmd_plan)

    loc = sub.add_parser("localize", help="files, functions and lines an issue's fix must edit")
    repo_args(loc)
    loc.add_argument("issue", nargs="?", help="issue text, or - (default) to read stdin")
    loc.add_argument("--issue-file", help="read the issue text from this file")
    loc.add_argument("--top-k", type=int, default=10, help="files to rank (default 10)")
    loc.add_argument(
        "--top-k-functions", type=int, default=20, help="functions to rank (default 20)"
    )
    loc.add_argument(
        "--min-score",
        type=float,
        default=0.0,
        help="leave out files and functions scoring below this, in [0, 1] (default 0)",
    )
    loc.add_argument(
        "--format",
        choices=["json", "text", "github"],
        default="json",
        help="json (default), text, or github: GitHub Actions annotations and job summary",
    )
    loc.add_argument(
        "--fail-under",
        type=float,
        metavar="SCORE",
        help="exit with status 1 when the best file scores below SCORE, in [0, 1]",
    )
    loc.add_argument("--max-turns", type=int, default=4)
    loc.add_argument("--budget-ms", type=float, default=60_000)
    loc.add_argument(
        "--policy",
        default="default",
        help="default, bm25, a model planner: vllm, openai (an OpenAI-compatible server), "
        "transformers (a local model), or module:Class for your own",
    )
    loc.add_argument("--trace", help="write the run's trajectory (JSON) to this file")
    add_model_args(loc)
    loc.set_defaults(func=cmd_localize)

    index = sub.add_parser("index", help="build (or load) a repository's on-disk index now")
    index.add_argument("path", help="repository directory or git dir")
    repo_args(index, required=None)
    index.add_argument("--format", choices=["json", "text"], default="text")
    index.set_defaults(func=cmd_index)

    tool = sub.add_parser("tool", help="run one tool with JSON arguments")
    repo_args(tool)
    tool.add_argument(
        "tool",
        choices=list(TOOL_SPECS),
    )
    tool.add_argument("args", help='JSON arguments, e.g. \'{"pattern": "TODO"}\'')
    tool.set_defaults(func=cmd_tool)

    eval_cli.add_parser(sub)
    data_cli.add_parser(sub)
    mcp_cli.add_parser(sub)

    shell = sub.add_parser("completion", help="print a shell completion script")
    shell.add_argument("shell", choices=completion.SHELLS)
    shell.set_defaults(func=cmd_completion)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        # Parsing runs actions too (`--version` prints), so it may meet a closed pipe.
        args = parser.parse_args(argv)
        status: int = args.func(args)
        return status
    except UsageError as e:
        fail(str(e), 2)
    except AcsError as e:
        fail(str(e), 1)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:  # `acs ... | head`: the reader left; nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 1
    except Exception as e:  # a bug: still one line, never a traceback
        fail(f"internal error ({type(e).__name__}: {e}); please report it", 1)


if __name__ == "__main__":
    raise SystemExit(main())
