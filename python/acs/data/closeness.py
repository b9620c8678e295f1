"""How close a problem statement is to an issue: a few signals a reader can check by eye,
computed from the text alone, written into each mined instance (`closeness`) and counted in
the summary, so training can filter (`acs data mine --min-closeness`) or weight by it.

A commit message is written by the fixer after the fix, and is usually a one-line changelog
entry; an issue describes a symptom at length, often with a traceback, code and the file or
name where it showed. The signals, each worth one point of `score` (points / 6):

* `long`: at least `LONG_WORDS` words (a title and a body, as an issue has).
* `names_path`: names a file (`src/pkg/core.py`, `setup.cfg`).
* `names_code`: names code (`` `x` ``, `snake_case`, `CamelCase`, `a.b`, `f()`).
* `error`: a traceback, an exception name (`KeyError`) or an `error:` line.
* `code`: a fenced or indented block of code, or a `>>>` prompt.
* `bug_report`: describes a symptom (crash, fails, wrong, expected, instead of, ...).

`traceback` and `changelog_line` (a title alone that starts with a change verb: `Add X`,
`Remove Y`) are reported beside them but are not points of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .filters import AREA_PREFIX, IDENTIFIER
from .message import body_of, title_of, words

SIGNALS = ("long", "names_path", "names_code", "error", "code", "bug_report")
# What a summary counts of its emitted instances: each signal, and each number of points.
COUNTED = (*SIGNALS, "traceback", "changelog_line")
POINTS = tuple(str(n) for n in range(len(SIGNALS) + 1))
LONG_WORDS = 40

_EXTENSIONS = (
    r"py|pyi|pyx|pxd|c|h|cc|cpp|hpp|rs|js|ts|jsx|tsx|css|html|jinja2?|j2|toml|cfg|ini|ya?ml|"
    r"json|rst|md|txt|sh|bat|ps1|sql|xml|in"
)
_PATH = re.compile(rf"(?<![\w@/.-])(?:[\w.-]+/)*[\w-]+\.(?:{_EXTENSIONS})(?![\w/-])", re.I)
_TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|^\s*File \"[^\"\n]+\", line \d+", re.M
)
_ERROR = re.compile(
    r"\b[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt)\b|^\s*(?:E\s{2,}|error:|fatal:)",
    re.M,
)
_CODE = re.compile(r"^\s*```|^\s*>>> |^(?: {4}|\t)\S.*\n(?: {4}|\t)\S", re.M)
_SYMPTOM = re.compile(
    r"\b(bugs?|crash(es|ed|ing)?|broken|breaks|fails?|failed|failing|failures?|wrong(ly)?|"
    r"incorrect(ly)?|unexpected(ly)?|regressions?|expected|instead of|hangs?|hanging|"
    r"segfaults?|leaks?|does ?n[o']t|did ?n[o']t|can ?n[o']t|cannot|won'?t|"
    r"no longer|not work(ing|s)?|reproduce|traceback|errors?|exceptions?|raises?|raised)\b",
    re.I,
)
_CHANGE_VERB = re.compile(
    r"^(add|adds|added|remove|removes|removed|drop|drops|dropped|support|use|uses|update|"
    r"updates|bump|refactor|rename|move|allow|allows|enable|implement|introduce|improve|"
    r"deprecate|document|make|replace|switch|convert|simplify|clean|expose|extend|"
    r"speed up|optimi[sz]e)\b",
    re.I,
)


@dataclass(frozen=True)
class Closeness:
    words: int
    chars: int
    names_path: bool
    names_code: bool
    traceback: bool
    error: bool
    code: bool
    bug_report: bool
    changelog_line: bool

    @property
    def long(self) -> bool:
        return self.words >= LONG_WORDS

    @property
    def points(self) -> int:
        return sum(bool(getattr(self, signal)) for signal in SIGNALS)

    @property
    def score(self) -> float:
        return round(self.points / len(SIGNALS), 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "words": self.words,
            "chars": self.chars,
            "long": self.long,
            "names_path": self.names_path,
            "names_code": self.names_code,
            "traceback": self.traceback,
            "error": self.error,
            "code": self.code,
            "bug_report": self.bug_report,
            "changelog_line": self.changelog_line,
        }


def closeness(statement: str) -> Closeness:
    """The issue-likeness signals of a (cleaned) problem statement."""
    traceback = bool(_TRACEBACK.search(statement))
    title = AREA_PREFIX.sub("", title_of(statement))
    return Closeness(
        words=len(words(statement)),
        chars=len(statement),
        names_path=bool(_PATH.search(statement)),
        names_code=bool(IDENTIFIER.search(statement)),
        traceback=traceback,
        error=traceback or bool(_ERROR.search(statement)),
        code=bool(_CODE.search(statement)),
        bug_report=bool(_SYMPTOM.search(statement)),
        changelog_line=not body_of(statement) and bool(_CHANGE_VERB.match(title)),
    )
