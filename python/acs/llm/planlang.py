"""The plan language a model writes: one task per line, so each task can run as soon as its
line is complete.

    1. symbols(name="JSONDecoder", kinds=["class"])
    2. grep(pattern="Expecting value", fixed_strings=True)
    3. outline(path="$1.symbols[0].path")
    end

A line is `N. tool(arg=value, ...)`: N numbers the task (`"$N..."` in a later string refers
to its result, as in any plan), values are Python literals (double-quoted strings, integers,
`True`/`False`, lists of strings). `end` closes the plan for this turn; the model then sees
the results and writes the next one. The final answer is one line, best first:

    answer(files=["json/decoder.py"], functions=["json/decoder.py:JSONDecoder.raw_decode"])

Why calls rather than one JSON object per line: about 40% fewer characters (decoding time
is the model's cost), and small code models write Python calls more reliably than nested
JSON. `grammar()` (EBNF, for vLLM's `structured_outputs.grammar`, enforced by xgrammar) and
`regex()` describe exactly the canonical form, argument names and enumerated values included,
so a constrained model cannot write an unparsable plan.

The parser is tolerant, for unconstrained models: it takes the output in chunks as it
streams (`PlanParser.feed`), emits each task when its line ends, and turns whatever it cannot
read (prose, a truncated last line, a malformed call) into an `Invalid` item, which the policy
reports to the model in its next turn. It also accepts single quotes, `true`/`false`, a bare
`$1.path` reference, a missing `N.`, a positional first argument and a string where a list
is expected. Unknown tools and argument names are left to the engine, which refuses them with
a message naming the known ones.

Caps, far above what planners write (the prompt asks for at most 5 files and 10 functions; a
512-token turn holds about 35 lines): a plan holds at most `MAX_PLAN_TASKS` tasks (the
engine's cap; the line past it is refused and the plan ends there, so the model stops
writing), a line at most `MAX_LINE_CHARS` characters (checked before it is parsed), an answer
at most `MAX_ANSWER_ENTRIES` files and as many functions. Messages quote at most a short
prefix of what the model wrote (`acs.echo`).
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..echo import echo
from ..errors import AcsError
from ..toolspec import TOOL_SPECS

# --- the tools' arguments, as the model may write them ---------------------------------


@dataclass(frozen=True)
class Arg:
    """The type of one argument: str, int, bool, strs (list of str), enum, enums."""

    kind: str
    values: tuple[str, ...] = ()


# The engine's symbol kinds, in its order (tests pin this to `_core.symbol_kinds()`).
KINDS = tuple(TOOL_SPECS["symbols"]["kinds"].values)

# Every tool and argument the engine accepts, from the engine's own description of them
# (`acs.toolspec`): an argument added in Rust is in the grammar without an edit here.
TOOLS: dict[str, dict[str, Arg]] = {
    tool: {name: Arg(a.type, a.values) for name, a in args.items()}
    for tool, args in TOOL_SPECS.items()
}
# The argument a positional value stands for: `symbols("Foo")` is `symbols(name="Foo")`.
POSITIONAL = {
    "grep": "pattern",
    "find_files": "query",
    "symbols": "name",
    "outline": "path",
    "read": "path",
    "references": "name",
    "bm25": "query",
    "imports": "paths",
}
END = "end"

# --- what the parser emits ---------------------------------------------------------------


@dataclass
class Call:
    """A task line. `number` is what the model wrote (None when it wrote none)."""

    line: int
    number: int | None
    tool: str
    args: dict[str, Any]
    text: str


@dataclass
class Answer:
    """The final answer: files best first; functions as `path:Qualified.name` (or a bare name)."""

    line: int
    files: list[str]
    functions: list[str]
    text: str


@dataclass
class Invalid:
    """A line that is not a task: the message is shown to the model next turn."""

    line: int
    text: str
    message: str
    tool: str | None = None


@dataclass
class End:
    line: int


Item = Call | Answer | Invalid | End


class ParseError(AcsError, ValueError):
    """A plan line that cannot be read; the parser turns it into an `Invalid` item."""


# --- the line parser -------------------------------------------------------------------

# The `N.` before a task, matched at the start of a stripped line. It matches a prefix only:
# a trailing `(.*?)\s*$` retried `\s*$` at every character (9.5 s on a line of spaces).
_NUMBER = re.compile(r"(?:[-*]\s+)?(?:(?:task\s*)?(\d+)\s*[.):]\s*)?", re.I)
MAX_NUMBER_DIGITS = 9  # a task number or id; int() refuses strings of over 4,300 digits
_END = re.compile(r"^(?:end|<?end_of_plan>?|end\(\)|done)\.?$", re.I)
_CALL = re.compile(r"^([A-Za-z_]\w*)\s*\(")
_FENCE = re.compile(r"^```\w*$")
_BARE_REF = re.compile(r"\$\d+(?:\.\w+|\[(?:-?\d+|\*)\])*")
_JSON_NAMES = {"true": True, "false": False, "null": None, "none": None}
# Tasks in one plan: the engine's `MAX_PLAN_TASKS` (crates/acs-core/src/limits.rs), which
# refuses a larger batch; here the line past it is refused before anything is submitted.
MAX_PLAN_TASKS = 256
# Characters of one line, checked before it is parsed: Python's parser takes seconds and
# gigabytes on a 10 MB literal (an answer listing 10**6 files took 5.5 s and 1.4 GB).
MAX_LINE_CHARS = 64 * 1024
MAX_ANSWER_ENTRIES = 100  # files, and functions, in one answer


def parse_line(text: str, line: int = 0) -> Item | None:
    """One line of model output: a task, the answer, the end marker, an invalid line, or
    None for a line to skip (blank, a code fence)."""
    stripped = text.strip()
    if not stripped or _FENCE.match(stripped):
        return None
    if len(stripped) > MAX_LINE_CHARS:
        return Invalid(
            line,
            stripped,
            f"the line has {len(stripped):,} characters: at most {MAX_LINE_CHARS:,} "
            "(the cap on a plan line)",
        )
    m = _NUMBER.match(stripped)
    assert m is not None  # every part of it is optional
    body = stripped[m.end() :]
    if m[1] and len(m[1].lstrip("0")) > MAX_NUMBER_DIGITS:
        return Invalid(line, stripped, f"the task number has over {MAX_NUMBER_DIGITS} digits")
    number = int(m[1]) if m[1] else None
    if _END.match(body):
        return End(line)
    call = _CALL.match(body)
    if call is None:
        return Invalid(
            line,
            stripped,
            "not a task: write `N. tool(arg=value, ...)`, `end`, or "
            "`answer(files=[...], functions=[...])`",
        )
    name = call[1]
    try:
        return _call(line, number, name, body, stripped)
    except ParseError as e:
        return Invalid(line, stripped, str(e), tool=name)
    except Exception as e:  # whatever a model writes, it gets an observation, not a crash
        return Invalid(line, stripped, f"cannot read the call: {echo(str(e))}", tool=name)


def _call(line: int, number: int | None, name: str, body: str, stripped: str) -> Item:
    try:
        positional, args = _arguments(body)
    except ParseError as e:
        raise ParseError(f"cannot read the call: {e}") from e
    if name == "answer":
        try:
            files = _strings(args.pop("files", positional[0] if positional else []), "files")
            functions = _strings(
                args.pop("functions", positional[1] if len(positional) > 1 else []), "functions"
            )
        except ParseError as e:
            return Invalid(line, stripped, str(e), tool=name)
        for what, entries in (("files", files), ("functions", functions)):
            if len(entries) > MAX_ANSWER_ENTRIES:
                message = (
                    f"the answer lists {len(entries):,} {what}: at most {MAX_ANSWER_ENTRIES} "
                    "(the cap on answer entries); give the best few"
                )
                return Invalid(line, stripped, message, tool=name)
        return Answer(line, files, functions, stripped)
    spec = TOOLS.get(name)
    if positional:
        key = POSITIONAL.get(name)
        if key is None or key in args or len(positional) > 1:
            return Invalid(line, stripped, 'give arguments by name, e.g. `name="value"`', tool=name)
        args[key] = positional[0]
    if spec is not None:
        args = {k: _coerce(v, spec[k]) if k in spec else v for k, v in args.items()}
    return Call(line, number, name, args, stripped)


def _arguments(body: str) -> tuple[list[Any], dict[str, Any]]:
    """The positional and keyword values of `tool(...)`, as Python literals."""
    node = _parse_expression(_quote_bare_references(body))
    if node is None:
        if body.count("(") > body.count(")") or body.count('"') % 2:
            raise ParseError("it is incomplete (cut off?)")
        raise ParseError("it is not of the form `tool(arg=value, ...)` with literal values")
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ParseError("expected one call `tool(arg=value, ...)`")
    positional = [_literal(a) for a in node.args]
    keywords: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise ParseError("`**` is not allowed")
        keywords[kw.arg] = _literal(kw.value)
    return positional, keywords


def _parse_expression(text: str) -> ast.expr | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes such as "\w" in a pattern
            return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return None


def _quote_bare_references(body: str) -> str:
    r"""`read(path=$1.files[0].path)` -> `read(path="$1.files[0].path")` (outside strings),
    and inside strings every escape kept literally except a backslash, quotes, `\n` and `\t`:
    a model writes regexes (`"\bfoo\b"`, `"\w+"`), which Python would read as a backspace or
    reject (`"\N"`), although the plan grammar allows them."""
    out, i, quote = [], 0, ""
    while i < len(body):
        ch = body[i]
        if quote:
            if ch == "\\":
                escaped = body[i + 1 : i + 2]
                if escaped in _KEPT_ESCAPES:
                    out.append(ch + escaped)
                    i += 2
                elif m := _CHAR_ESCAPE.match(body, i):  # what `format_value` writes
                    out.append(_char_literal(chr(int(m[1] or m[2], 16))))
                    i = m.end()
                else:
                    out.append("\\\\")
                    i += 1
                continue
            out.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            out.append(ch)
        elif ch == "$" and (m := _BARE_REF.match(body, i)):
            out.append(f'"{m[0]}"')
            i = m.end()
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


# Escapes read as Python reads them. `\xNN` and `\uDNNN` are read only for the characters
# `format_value` escapes (controls, lone surrogates): other `\x..` and `\u....` are left to
# the engine, since a model writes them in regexes.
_KEPT_ESCAPES = ("\\", '"', "'", "n", "t", "r")
_CHAR_ESCAPE = re.compile(r"\\x([01][0-9a-fA-F]|7[fF])|\\u([dD][89a-fA-F][0-9a-fA-F]{2})")


def _char_literal(ch: str) -> str:
    """A control character or lone surrogate, as Python source that ast can read (which
    refuses NUL bytes, surrogates, and a raw carriage return inside a string)."""
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def _literal(node: ast.expr) -> Any:
    match node:
        case ast.Constant(value=value) if isinstance(value, str | int | float | bool | None):
            return value
        case ast.Name(id=name) if name.lower() in _JSON_NAMES:
            return _JSON_NAMES[name.lower()]
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_literal(e) for e in elts]
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=int(value))):
            return -value
        case ast.Dict(keys=keys, values=values) if all(k is not None for k in keys):
            return {_literal(k): _literal(v) for k, v in zip(keys, values, strict=True)}  # type: ignore[arg-type]
    raise ParseError(f"`{echo(ast.unparse(node))}` is not a literal value (quote strings)")


def _coerce(value: Any, arg: Arg) -> Any:
    """Forgive the usual slips: a string for a list of strings, "True" for True, "10" for 10."""
    if arg.kind in ("strs", "enums") and isinstance(value, str):
        return [value]
    if arg.kind == "int" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if arg.kind == "bool" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _strings(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ParseError(f"`{what}` must be a list of strings")
    return [v.strip() for v in value if v.strip()]


# --- the streaming parser ---------------------------------------------------------------


@dataclass
class PlanParser:
    """Feed the model's output as it streams; get each item as soon as its line is complete.
    After `end` or `answer(...)` the plan is `done` and further text is ignored; so it is
    after the line past `MAX_PLAN_TASKS` tasks, which becomes an `Invalid` item saying so."""

    done: bool = False
    lines: int = 0
    tasks: int = 0  # items that become tasks: calls and invalid lines
    _buffer: str = ""
    _thinking: bool = False
    _kept: list[str] = field(default_factory=list)

    def feed(self, chunk: str) -> list[Item]:
        if self.done:
            return []
        if "\n" not in chunk:
            self._buffer += chunk
            return []
        # Split once: cutting one line at a time off the buffer copied the rest each time.
        lines = (self._buffer + chunk).split("\n")
        self._buffer = lines.pop()
        return self._read(lines)

    def _read(self, lines: list[str]) -> list[Item]:
        """Complete lines, until the plan is done (the rest stay unread in the buffer)."""
        items: list[Item] = []
        for i, line in enumerate(lines):
            if self.done:
                self._buffer = "\n".join([*lines[i:], self._buffer])
                break
            self._kept.append(line + "\n")
            items.extend(self._line(line))
        return items

    def close(self) -> list[Item]:
        """The stream ended: parse what is left of the last line. A last line that does not
        parse was cut off (the token limit, a broken connection)."""
        rest, self._buffer = self._buffer, ""
        if self.done or not rest.strip():
            return []
        self._kept.append(rest)
        return [
            Invalid(i.line, i.text, "the line is incomplete (the output was cut off)", i.tool)
            if isinstance(i, Invalid)
            else i
            for i in self._line(rest)
        ]

    def output(self) -> str:
        """The text read so far, up to the line that ended the plan: the model's turn as it
        goes into the conversation."""
        return "".join(self._kept) + ("" if self.done else self._buffer)

    def _line(self, line: str) -> list[Item]:
        self.lines += 1
        # Thinking, should a server leave it on: skipped.
        if self._thinking or line.lstrip().startswith("<think>"):
            self._thinking = "</think>" not in line
            if self._thinking:
                return []
            line = line.split("</think>", 1)[1]
        item = parse_line(line, self.lines)
        if item is None:
            return []
        if isinstance(item, Call | Invalid):
            self.tasks += 1
            if self.tasks > MAX_PLAN_TASKS:
                self.done = True
                message = (
                    f"over {MAX_PLAN_TASKS} tasks (the cap on tasks per plan): "
                    "this line and the rest were not run"
                )
                return [Invalid(item.line, item.text, message)]
        if isinstance(item, End | Answer):
            self.done = True
        return [item]


def parse_plan(text: str) -> list[Item]:
    """A whole output at once (tests, trajectories)."""
    parser = PlanParser()
    return parser.feed(text) + parser.close()


# --- writing the canonical form ------------------------------------------------------------


# Characters a string value cannot hold raw on a plan line: the line and quote delimiters,
# controls (a NUL, a carriage return: Python's parser refuses or splits on them) and lone
# surrogates (not encodable). `parse_line` reads each escape back (`_CHAR_ESCAPE`).
_ESCAPED = re.compile(r'[\\"\x00-\x1f\x7f\ud800-\udfff]')
_NAMED_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(m: re.Match[str]) -> str:
    ch = m[0]
    return _NAMED_ESCAPES.get(ch) or _char_literal(ch)


def format_value(value: Any) -> str:
    """A value as the canonical plan line writes it; `parse_line` reads it back exactly."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return '"' + _ESCAPED.sub(_escape, value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def format_task(number: int, tool: str, args: dict[str, Any]) -> str:
    inner = ", ".join(f"{k}={format_value(v)}" for k, v in args.items() if v is not None)
    return f"{number}. {tool}({inner})"


def format_answer(files: list[str], functions: list[str]) -> str:
    return f"answer(files={format_value(files)}, functions={format_value(functions)})"


# --- constrained decoding -------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    """What a backend may enforce for one turn: the EBNF grammar (vLLM `structured_outputs:
    {"grammar": ...}`, xgrammar) or the equivalent regular expression (`{"regex": ...}`)."""

    grammar: str
    regex: str
    final: bool


@cache
def constraint(final: bool = False) -> Constraint:
    """A plan turn (tasks, then `end` or the answer), or the final turn (the answer only)."""
    return Constraint(grammar(final), regex(final), final)


def _ebnf_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def grammar(final: bool = False) -> str:
    """EBNF (xgrammar / GBNF dialect) of a turn's output in the canonical form."""
    rules = [
        "root ::= answer" if final else "root ::= task* (end | answer)",
        'task ::= num ". " call "\\n"',
        "num ::= [1-9] [0-9]? [0-9]?",
        'end ::= "end\\n"',
        'answer ::= "answer(files=" strs ", functions=" strs ")\\n"',
        'str ::= "\\"" ([^"\\\\\\n\\r] | "\\\\" [^\\n\\r])* "\\""',
        'strs ::= "[" (str (", " str)*)? "]"',
        "int ::= [0-9] [0-9]? [0-9]? [0-9]? [0-9]? [0-9]?",
        'bool ::= "True" | "False"',
    ]
    calls = []
    for tool, spec in TOOLS.items():
        calls.append(f'"{tool}(" {tool}_arg (", " {tool}_arg)* ")"')
        alternatives = [
            f"{_ebnf_literal(name + '=')} {_ebnf_value(arg)}" for name, arg in spec.items()
        ]
        rules.append(f"{tool}_arg ::= " + " | ".join(alternatives))
    rules.insert(2, "call ::= " + " | ".join(calls))
    return "\n".join(rules) + "\n"


def _ebnf_value(arg: Arg) -> str:
    if arg.kind in ("str", "int", "bool", "strs"):
        return arg.kind
    choice = "(" + " | ".join(_ebnf_literal(f'"{v}"') for v in arg.values) + ")"
    if arg.kind == "enum":
        return choice
    return f'"[" ({choice} (", " {choice})*)? "]"'


_RE_STR = r'"(?:[^"\\\n\r]|\\[^\n\r])*"'
_RE_STRS = rf"\[(?:{_RE_STR}(?:, {_RE_STR})*)?\]"


def regex(final: bool = False) -> str:
    """The same language as `grammar`, as one regular expression (no lookaround)."""
    answer = rf"answer\(files={_RE_STRS}, functions={_RE_STRS}\)\n"
    if final:
        return answer
    calls = []
    for tool, spec in TOOLS.items():
        arg = "(?:" + "|".join(f"{name}={_regex_value(a)}" for name, a in spec.items()) + ")"
        calls.append(rf"{tool}\({arg}(?:, {arg})*\)")
    task = r"[1-9][0-9]{0,2}\. (?:" + "|".join(calls) + r")\n"
    return rf"(?:{task})*(?:end\n|{answer})"


def _regex_value(arg: Arg) -> str:
    match arg.kind:
        case "str":
            return _RE_STR
        case "int":
            return "[0-9]{1,6}"
        case "bool":
            return "(?:True|False)"
        case "strs":
            return _RE_STRS
    choice = "(?:" + "|".join(f'"{v}"' for v in arg.values) + ")"
    return choice if arg.kind == "enum" else rf"\[(?:{choice}(?:, {choice})*)?\]"
