"""The prompt: versioned text files, the conversation of a run, and the results of each turn
rendered compactly for the model.

The text lives in `acs/prompts/<version>.md` (sections `<!-- section: name -->`), so training
and inference read the same words; a change of wording is a new version, and a trajectory
records the version it was made with. The conversation is built so that every request shares
the longest possible prefix with the one before (prefix caching on the server): the system
prompt is constant, the issue comes once in the first user message, and each turn only
appends the model's own output (verbatim) and the next results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ..echo import quoted
from ..errors import InvalidArgumentError
from ..types import TaskOutcome, Turn

# The model planners' prompt. planner-v1 stays loadable (`load_prompts("planner-v1")`,
# `LlmPolicy(prompt_version=...)`) to reproduce the runs and trajectories made with it.
PROMPT_VERSION = "planner-v3"
CHARS_PER_TOKEN = 3.5  # a conservative average for code and prose with Qwen-style BPE
ISSUE_BUDGET = 1500  # tokens of the issue text shown to the model
TURN_BUDGET = 3000  # tokens of results per turn, all tasks together
BUDGETS = {  # tokens per task result
    "grep": 300,
    "find_files": 100,
    "symbols": 250,
    "outline": 300,
    "read": 500,
    "references": 300,
    "bm25": 250,
    "imports": 150,
}
ERROR_BUDGET = 80
LINE_CHARS = 160  # a result line longer than this is clipped

_SECTION = re.compile(r"^<!-- section: (\w+) -->\n", re.M)
_FIELD = re.compile(r"\{(\w+)\}")
_PLAN_PREFIX = re.compile(r"^invalid plan: task \d+: ")


@dataclass(frozen=True)
class Prompts:
    version: str
    system: str
    first: str
    next: str
    final: str

    def fill(self, template: str, **fields: Any) -> str:
        """`{name}` fields replaced in one pass (braces in the values are left alone)."""
        return _FIELD.sub(lambda m: str(fields.get(m[1], m[0])), template)


def prompt_versions() -> list[str]:
    """The versions shipped in acs/prompts, oldest first."""
    files = (resources.files("acs") / "prompts").iterdir()
    return sorted(f.name.removesuffix(".md") for f in files if f.name.endswith(".md"))


@cache
def load_prompts(version: str = PROMPT_VERSION) -> Prompts:
    """A shipped version's sections. Only a version of acs/prompts is read (a name is never
    made into a path); any other is an `InvalidArgumentError` naming the known ones."""
    known = prompt_versions()
    if version not in known:
        raise InvalidArgumentError(
            # A version name is short: 60 characters of an unknown one say enough.
            f"no prompt version {quoted(version, 60)} in acs/prompts (known: {', '.join(known)})"
        )
    text = (resources.files("acs") / "prompts" / f"{version}.md").read_text("utf-8")
    parts = _SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    missing = {"system", "first", "next", "final"} - sections.keys()
    if missing:
        raise ValueError(f"prompt {version} lacks sections {sorted(missing)}")
    return Prompts(
        version, sections["system"], sections["first"], sections["next"], sections["final"]
    )


def approx_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def clip(text: str, budget: int, what: str = "characters") -> str:
    """`text` cut to about `budget` tokens, the cut marked."""
    limit = int(budget * CHARS_PER_TOKEN)
    if len(text) <= limit:
        return text
    head = text[: limit * 2 // 3]
    tail = text[len(text) - limit // 3 :]
    return f"{head}\n[… {len(text) - len(head) - len(tail)} {what} cut …]\n{tail}"


def _line(text: str, indent: bool = False) -> str:
    text = text.rstrip() if indent else text.strip()
    return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"


def _fit(header: str, lines: list[str], budget: int) -> str:
    """The header and as many lines as fit in `budget` tokens; a cut says how many lines
    were left out."""
    out = [header]
    used = approx_tokens(header)
    for i, line in enumerate(lines):
        cost = approx_tokens(line) + 1
        if used + cost > budget:
            out.append(f"  [… {len(lines) - i} more not shown]")
            break
        out.append("  " + line)
        used += cost
    return "\n".join(out)


def render_outcome(outcome: TaskOutcome, budget: int | None = None) -> str:
    """One task's result for the model: `[id] tool: summary` and indented detail lines."""
    tool: str = outcome.get("tool", "?")  # any string: outcomes may come from a trace file
    head = f"[{outcome.get('id', '?')}] {tool}"
    if outcome.get("status") != "ok":
        error: Mapping[str, Any] = outcome.get("error") or {}
        message = _line(_PLAN_PREFIX.sub("", error.get("message", "failed")))
        status = "skipped" if outcome.get("status") == "skipped" else "error"
        kind = error.get("kind", "")
        detail = f" ({kind})" if kind and kind != "skipped" else ""
        return clip(f"{head}: {status}{detail}: {message}", ERROR_BUDGET)
    budget = budget or BUDGETS.get(tool, 250)
    r = outcome.get("result") or {}
    match tool:
        case "grep":
            more = " (capped)" if r.get("truncated") else ""
            header = f"{head}: {len(r['matches'])} matches in {len(r['files'])} files{more}"
            lines = [
                f"{m['path']}:{m['line']}: {_line(m['text'])}"
                + (f"  [in {m['enclosing']['qualified_name']}]" if m.get("enclosing") else "")
                for m in r["matches"]
            ]
        case "find_files":
            header = f"{head}: {r['total']} files"
            lines = [f"{f['path']} ({f['score']:.0f})" for f in r["files"]]
        case "symbols":
            header = f"{head}: {r['total']} definitions"
            lines = [
                f"{s['path']}:{s['start_line']}-{s['end_line']} {s['kind']} {s['qualified_name']}"
                for s in r["symbols"]
            ]
        case "outline":
            header = f"{head}: {r['path']} ({r['line_count']} lines)"
            lines = list(_outline_lines(r["symbols"], 0))
        case "read":
            header = f"{head}: {r['path']}:{r['start_line']}-{r['end_line']} of {r['total_lines']}"
            width = len(str(r["end_line"]))
            lines = [
                f"{n:>{width}}| {_line(text, indent=True)}"
                for n, text in enumerate(r["lines"], start=r["start_line"])
            ]
        case "references":
            header = f"{head}: {r['total']} uses in {len(r['files'])} files"
            lines = []
            for f in r["files"]:
                lines.append(f"{f['path']} ({f['count']})")
                for g in f["groups"]:
                    d = g.get("enclosing")
                    where = f"in {d['qualified_name']}" if d else "top level"
                    uses = "; ".join(f"{u['line']}: {_line(u['text'])}" for u in g["lines"][:2])
                    lines.append(f"  {where}: {_line(uses)}")
        case "bm25":
            header = f"{head}: {len(r['hits'])} hits"
            lines = [
                f"{h['path']}:{h['start_line']}-{h['end_line']} {h['kind']} {h['qualified_name']}"
                f" ({h['score']:.2f})"
                if "qualified_name" in h
                else f"{h['path']} ({h['score']:.2f})"
                for h in r["hits"]
            ]
        case "imports":
            header = f"{head}: {len(r['files'])} files"
            lines = [
                f"{f['path']} ({'imported by' if f['direction'] == 'imports' else 'imports'} "
                f"{f['via']})"
                for f in r["files"]
            ]
        case _:
            header, lines = head, [_line(str(r))]
    return _fit(header, lines, budget)


def _outline_lines(nodes: Sequence[Mapping[str, Any]], depth: int) -> Iterator[str]:
    for n in nodes:
        yield f"{'  ' * depth}{n['start_line']}-{n['end_line']} {n['kind']} {n['name']}"
        yield from _outline_lines(n.get("children", ()), depth + 1)


def render_turn(turn: Turn, budget: int = TURN_BUDGET) -> str:
    """A turn's results, in the order the tasks were written. Past the turn's budget, the
    remaining results shrink to their first line; past twice the budget they are only
    counted (2,000 error lines made a 2.5 MB observation). A negative budget only counts them
    (a context nearly full: acs.train.planner.env)."""
    if budget < 0:
        return _not_shown(turn.outcomes) if turn.outcomes else "(no results)"
    parts: list[str] = []
    used = 0
    for i, outcome in enumerate(turn.outcomes):
        if used > 2 * budget:
            parts.append(_not_shown(turn.outcomes[i:]))
            break
        text = render_outcome(outcome)
        if used + approx_tokens(text) > budget:
            text = text.split("\n", 1)[0] + "  [details cut: turn budget]"
        parts.append(text)
        used += approx_tokens(text)
    return "\n".join(parts) if parts else "(no results)"


def _not_shown(outcomes: Sequence[TaskOutcome]) -> str:
    """One line for the results past the turn's budget: how many, and the last failure
    among them (the line that stopped a plan at its cap comes last)."""
    failed = [o for o in outcomes if o.get("status") != "ok"]
    line = f"[… {len(outcomes)} more results not shown (turn budget): {len(failed)} failed]"
    if failed:
        line += "\nlast failure: " + render_outcome(failed[-1])
    return line


@dataclass
class Conversation:
    """The chat messages of one run, grown turn by turn."""

    prompts: Prompts
    issue: str
    max_turns: int
    messages: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        issue = clip(self.issue.strip(), ISSUE_BUDGET, "characters of the issue")
        self.messages = [
            {"role": "system", "content": self.prompts.system},
            {
                "role": "user",
                "content": self.prompts.fill(
                    self.prompts.first, issue=issue, max_turns=self.max_turns
                ),
            },
        ]

    def answered(self, output: str) -> None:
        """The model's output of the turn, verbatim."""
        self.messages.append({"role": "assistant", "content": output})

    def results(
        self, turn: Turn, *, number: int, next_id: int, final: bool, budget: int = TURN_BUDGET
    ) -> None:
        """The results of the last turn (in `budget` tokens, `render_turn`'s) and what to
        write next (`number` is the turn about to be written, from 1)."""
        template = self.prompts.final if final else self.prompts.next
        content = self.prompts.fill(
            template,
            results=render_turn(turn, budget),
            turn=number,
            max_turns=self.max_turns,
            next_id=next_id,
        )
        self.messages.append({"role": "user", "content": content})
