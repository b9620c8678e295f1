"""Reading an issue the way an engineer skims one: the code identifiers, file paths, module
names, stack-trace frames, error messages, quoted strings and flags it mentions. The
model-free planner turns these signals into searches.

    >>> s = parse_issue('`DataFrame.to_csv` fails in pandas/io/formats/csvs.py')
    >>> s.identifiers[:2], s.paths
    (['DataFrame.to_csv', 'DataFrame'], ['pandas/io/formats/csvs.py'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice

# Extensions that make a token a file path even without a slash.
CODE_EXTENSIONS = (
    "py pyi pyx pxd js jsx mjs cjs ts tsx go rs java kt scala c h cc cpp hpp cs rb php "
    "swift m mm sh bash zsh toml yaml yml json cfg ini md rst txt sql proto"
).split()

_EXT = "|".join(sorted(CODE_EXTENSIONS, key=len, reverse=True))
_PATH = re.compile(rf"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:{_EXT}))(?![\w/])")
_SLASH_PATH = re.compile(r"(?<![\w/.:-])((?:[\w.-]+/){1,}[\w.-]+)(?![\w/])")
# Every pattern here sees user text, so each must run in linear time: a match may only start
# where a token starts (a lookbehind), inner repeats may not overlap what follows them, and a
# line number has at most 9 digits (int() refuses numbers of over 4,300 digits).
_LINE_NO = r"(\d{1,9})(?!\d)"
_PY_FRAME = re.compile(rf'File "([^"\n]+)", line {_LINE_NO}(?:, in ([\w<>.]+))?')
# Left-anchored: without the lookbehind a run of 20,000 dots was retried at every offset.
_GENERIC_FRAME = re.compile(rf"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:{_EXT})):{_LINE_NO}(?::\d+)?")
_JS_FRAME = re.compile(rf"at ([\w.$<>]+) \(([^():\n]+\.(?:{_EXT})):{_LINE_NO}(?::\d+)?\)")
_BACKTICKS = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.S)
_QUOTED = re.compile(r"""(?<![\w])(["'])([^"'\n]{6,200})\1""")
# `[ \t]`, not `\s`: a `\s*` at a line start runs over every following blank line.
_ERROR_LINE = re.compile(
    r"^[ \t]*((?:\w+\.)*[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt))(?::[ \t]*(.+))?$",
    re.M,
)
# A tool's diagnostic: `file.py:12: error: message`, `error: message`, `ERROR: message`.
_DIAGNOSTIC = re.compile(
    r"^[^\n]*?\b(?:error|warning|Error|ERROR|WARNING|FAILED)[ \t]*:[ \t]*(.{8,})$", re.M
)
_DOTTED = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(\))?(?![\w])")
_WORD = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)(?![\w])")
_URL = re.compile(r"https?://\S+|www\.\S+")
_FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)(?:[= ][^\s]+)?")

# Issue text past this many characters is not read (parsed, or searched with BM25): a real
# issue is a few KB; a 20 MB paste would cost seconds in every step after this one.
MAX_ISSUE_CHARS = 64 * 1024
# Frames read from each kind of trace: enough for any real trace, and bounds the matching of
# generic `file:line` frames against the others (quadratic in their number).
MAX_FRAMES = 200
# Longer tokens are not identifiers, paths or modules (a 40 KB word is noise, not a name).
MAX_TOKEN_CHARS = 256

# Dotted tokens that are prose, not code.
_PROSE_DOTTED = {"e.g", "i.e", "etc.etc", "vs.", "a.k.a", "et.al"}
_COMMON_CAMEL = {"GitHub", "JavaScript", "TypeScript", "PyPI", "MacOS", "iOS", "YouTube", "PyTorch"}


@dataclass(frozen=True)
class Frame:
    """One stack-trace frame: a path as the trace printed it, a line, maybe a function."""

    path: str
    line: int
    function: str | None = None


@dataclass(frozen=True)
class IssueSignals:
    """What an issue mentions, each list in order of first appearance, without repeats."""

    identifiers: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    # The first line: an issue's title says in a few words what is wrong.
    title: str = ""


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _short(items: list[str]) -> list[str]:
    return [item for item in items if len(item) <= MAX_TOKEN_CHARS]


def is_code_identifier(word: str) -> bool:
    """snake_case, CamelCase, camelCase, dunder or ALL_CAPS names: words that look like code
    rather than English."""
    if len(word) < 3 or word in _COMMON_CAMEL:
        return False
    if "_" in word.strip("_") or word.startswith("__"):
        return True
    inner_upper = any(c.isupper() for c in word[1:])
    has_lower = any(c.islower() for c in word)
    return inner_upper and has_lower


def _strip_receiver(dotted: str) -> str:
    """`self.x.y` -> `x.y`: the receiver names no definition."""
    head, _, rest = dotted.partition(".")
    return rest if head in ("self", "cls", "this") else dotted


def truncate_issue(text: str) -> tuple[str, bool]:
    """The first `MAX_ISSUE_CHARS` characters of `text` (cut at a line or word end when one
    is near), and whether anything was cut."""
    if len(text) <= MAX_ISSUE_CHARS:
        return text, False
    cut = text[:MAX_ISSUE_CHARS]
    end = max(cut.rfind("\n"), cut.rfind(" "))
    return (cut[:end] if end > MAX_ISSUE_CHARS - 1024 else cut), True


def parse_issue(text: str) -> IssueSignals:
    """Extract the signals of an issue text (its first `MAX_ISSUE_CHARS` characters).

    Cached: the planner and the ranker of one run share one parse; treat the result as
    read-only."""
    return _parse_issue(truncate_issue(text)[0])


@lru_cache(maxsize=8)
def _parse_issue(text: str) -> IssueSignals:
    text = _URL.sub(" ", text)  # links name hosts and pages, not code
    prose = _FENCE.sub(" ", text)
    # Inline code spans are deliberate mentions: every word in them counts. Fenced blocks
    # (tracebacks, logs, examples) count only for words that look like code.
    spans = [m.group(1).strip() for m in _BACKTICKS.finditer(prose)]

    frames: list[Frame] = []
    for m in islice(_PY_FRAME.finditer(text), MAX_FRAMES):
        frames.append(Frame(m.group(1), int(m.group(2)), m.group(3)))
    for m in islice(_JS_FRAME.finditer(text), MAX_FRAMES):
        frames.append(Frame(m.group(2), int(m.group(3)), m.group(1)))
    framed = {f.path for f in frames}
    traced = list(frames)
    for m in islice(_GENERIC_FRAME.finditer(text), MAX_FRAMES):
        if m.group(1) not in framed and not any(f.path.endswith(m.group(1)) for f in traced):
            frames.append(Frame(m.group(1), int(m.group(2))))

    paths = [m.group(1) for m in _PATH.finditer(text)]
    paths += [
        m.group(1) for m in _SLASH_PATH.finditer(text) if "." in m.group(1).rsplit("/", 1)[-1]
    ]
    paths = _unique(
        [p.strip("./") if p.startswith("./") else p for p in paths + [f.path for f in frames]]
    )
    paths = [p for p in paths if not p.startswith(("http", "www."))]

    errors, messages = [], []
    for m in _ERROR_LINE.finditer(text):
        errors.append(m.group(1).rsplit(".", 1)[-1])
        if m.group(2):
            messages.append(m.group(2).strip())
    messages.extend(m.group(1).strip() for m in _DIAGNOSTIC.finditer(text))

    dotted_all = [_strip_receiver(m.group(1)) for m in _DOTTED.finditer(text)]
    path_like = {p for p in paths} | {p.rsplit("/", 1)[-1] for p in paths}
    dotted = [
        d
        for d in dotted_all
        if d.lower() not in _PROSE_DOTTED
        and d not in path_like
        and not any(d.endswith("." + ext) for ext in CODE_EXTENSIONS)
    ]
    modules = _unique([d for d in dotted if d.islower() and "." in d])

    identifiers: list[str] = []
    for d in dotted:
        identifiers.append(d)
        identifiers.extend(part for part in d.split(".") if is_code_identifier(part))
    code_words = {m.group(1) for m in _WORD.finditer("\n".join(spans))}
    for m in _WORD.finditer(text):
        w = m.group(1)
        if is_code_identifier(w) or (w in code_words and len(w) >= 3 and not w.isdigit()):
            identifiers.append(w)
    identifiers.extend(f.function for f in frames if f.function and not f.function.startswith("<"))
    identifiers.extend(errors)

    strings = [m.group(2) for m in _QUOTED.finditer(prose) if not _PATH.fullmatch(m.group(2))]
    flags = [m.group(1) for m in _FLAG.finditer(text) if len(m.group(1)) > 2]

    return IssueSignals(
        identifiers=_short(_unique(identifiers)),
        paths=_short(paths),
        modules=_short(modules),
        frames=frames,
        errors=_unique(errors),
        messages=_unique(messages),
        strings=_unique(strings),
        flags=_unique(flags),
        title=next((line.strip() for line in text.splitlines() if line.strip()), "")[:300],
    )


# A quoted value opens and closes on a non-word side, so `can't` is no quote.
# Bounded, so that a line of unclosed quotes or `<` is not scanned again from each one.
_QUOTED_PART = re.compile(
    r"""(?<!\w)(["'`])[^\n]{0,200}?\1(?!\w)|<[^<>\n]{0,200}>|\b0x[0-9a-f]+\b|\b\d+(?:\.\d+)*\b"""
)


def message_fragments(message: str, *, min_words: int = 3) -> list[str]:
    """The literal pieces of an error message, longest first: what lies between the values
    a program interpolates into it (quoted names, numbers, addresses), which the source code
    spells as placeholders. `'Returning Any from function declared to return "T"'` gives
    `Returning Any from function declared to return`.

    >>> message_fragments('No overload variant of "gather" matches argument type "Foo[T]"')
    ['No overload variant of', 'matches argument type']
    >>> message_fragments("can't convert 'int' object to str implicitly")
    ['object to str implicitly']
    """
    pieces = [p.strip(" :,.;()[]{}") for p in _QUOTED_PART.split(message) if p]
    pieces = [p for p in pieces if p not in {'"', "'", "`"}]
    kept = [p for p in pieces if len(p.split()) >= min_words and len(p) >= 12]
    return sorted(_unique(kept), key=len, reverse=True)
