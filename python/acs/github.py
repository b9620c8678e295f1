"""`acs localize --format github`: a localization as GitHub Actions output.

Workflow commands on stdout (`::notice file=...,line=...::...`) put an annotation on each
likely location (the confident functions, and confident files none of whose functions is
confident), and a Markdown table of both ranked lists goes to the job summary
(`$GITHUB_STEP_SUMMARY`) when the runner provides one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .localize import LocalizeResult

TITLE = "acs: likely location"


def _escape_data(text: str) -> str:
    """A workflow command's message: GitHub decodes %25, %0D and %0A back."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A property value (`file=`, `title=`): `:` and `,` would end it early."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _notice(path: str, message: str, line: int | None = None, end: int | None = None) -> str:
    props = [f"file={_escape_property(path)}"]
    if line is not None:
        props.append(f"line={line}")
    if end is not None:
        props.append(f"endLine={end}")
    props.append(f"title={_escape_property(TITLE)}")
    return f"::notice {','.join(props)}::{_escape_data(message)}"


def annotation_lines(result: LocalizeResult, prefix: str = "") -> Iterator[str]:
    """One `::notice` per likely location, best first. `prefix` is the repository's folder
    relative to the workspace, since GitHub resolves `file=` from the workspace root."""
    annotated_files = set()
    for fn in result["functions"]:
        if fn.get("confident", True):
            annotated_files.add(fn["path"])
            message = f"{fn['name']} ({fn['kind']}), score {fn['score']:.2f}"
            yield _notice(prefix + fn["path"], message, fn["start_line"], fn["end_line"])
    for f in result["files"]:
        if f.get("confident", True) and f["path"] not in annotated_files:
            yield _notice(prefix + f["path"], f"file, score {f['score']:.2f}")


def workspace_prefix(repo: str) -> str:
    """`repo`'s folder relative to the workspace (`$GITHUB_WORKSPACE`, else the current
    folder) with a trailing `/`, or "" when it is the workspace itself or outside it."""
    root = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    try:
        relative = os.path.relpath(os.path.abspath(repo), os.path.abspath(root))
    except ValueError:  # another drive (Windows)
        return ""
    if relative == "." or relative == ".." or relative.startswith(".." + os.sep):
        return ""
    return relative.replace(os.sep, "/") + "/"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(result: LocalizeResult, issue: str) -> str:
    """The job summary: the issue's first line, then each ranked list as a table."""
    title = issue.strip().splitlines()[0] if issue.strip() else ""
    lines = [f"### acs: where to look for “{_cell(title[:120])}”", ""]
    lines += ["| score | confident | file |", "|---:|:---:|---|"]
    for f in result["files"]:
        mark = "✓" if f.get("confident", True) else ""
        lines.append(f"| {f['score']:.2f} | {mark} | `{_cell(f['path'])}` |")
    lines += ["", "| score | confident | function | lines |", "|---:|:---:|---|---|"]
    for fn in result["functions"]:
        mark = "✓" if fn.get("confident", True) else ""
        where = f"`{_cell(fn['path'])}`: `{_cell(fn['name'])}`"
        lines.append(
            f"| {fn['score']:.2f} | {mark} | {where} | {fn['start_line']}-{fn['end_line']} |"
        )
    stats = result["stats"]
    lines += ["", f"{stats['latency_ms']:.0f} ms, {stats['tool_calls']} tool calls", ""]
    return "\n".join(lines)


def write_step_summary(markdown: str) -> bool:
    """Append to `$GITHUB_STEP_SUMMARY` when set; False when not on a runner."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as f:
        f.write(markdown + "\n")
    return True
