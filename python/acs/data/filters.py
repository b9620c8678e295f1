"""Which commits make training instances, and why the others do not.

Each check returns the name of the first reason that rejects a commit (the summary counts
each commit once, under that reason), or None. The message checks run before any diff is
read; the change checks need the list of changed files and their line counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .defaults import MAX_FILES, MAX_LINES, MIN_WORDS
from .git import Change
from .message import GENERIC_TITLE, body_of, title_of, words
from .paths import Kind, path_kind

# Every reason, in the order the miner checks them (the summary lists them in this order).
REASONS = (
    "root",  # no parent: the first commit
    "parent-missing",  # the parent is not in the repository (shallow or partial clone)
    "unreadable",  # a git call on this commit failed (missing objects, say)
    "merge-no-text",  # a merge whose message says only what was merged
    "bot",  # authored by a bot
    "release",  # a release commit
    "version-bump",  # a version or dependency bump
    "generic-message",  # "fix", "wip", "minor fixes", "Update README.md", ...
    "short-message",  # fewer than `min_words` words (one fewer with a name from the code)
    "far-from-issue",  # a closeness score below `min_closeness` (`closeness.py`)
    "test-only",  # no non-test file changed
    "changelog-only",  # release notes only
    "renames",  # pure renames, or a mass rename
    "added-only",  # no existing non-test file edited: only added, deleted or binary files
    "reformat",  # a formatter run over many files
    "too-many-files",  # more than `max_files` non-test files
    "too-many-lines",  # more than `max_lines` changed lines in non-test files
    "duplicate",  # same problem statement or same patch as an instance already emitted
)
LABELS = ("docs-only", "config-only", "docs-config-only")

REFORMAT_MIN_FILES = 5  # a formatter's name in a message is a reformat only with this many
MASS_RENAME = 5  # this many renamed files is a reorganisation, not a fix

_BOT = re.compile(
    r"\[bot\]|\bbot@|dependabot|renovate|pre-commit-ci|github-actions|greenkeeper|pyup[-.]?bot|"
    r"pyup\.io|snyk-bot|imgbot|allcontributors|all-contributors|weblate|transifex|mergify|"
    r"codecov|deepsource|restyled|whitesource|semantic-release|auto-?update",
    re.I,
)
_RELEASE = re.compile(
    r"^(release|releasing|released|prepare|preparing|prep|cut|tag|tagging|publish)\b"
    r"[^a-z]*(for |the |a |new |version |release |to )*v?\d+(\.\d+)+|"
    r"^(prepare|preparing|prep)( for)?( the)?( [\w.-]+)? release\b|"
    r"^v?\d+(\.\d+)+([abc]|rc|\.?dev|\.?post)?\d*( release[sd]?)?\.?$|"
    r"^release v?\d|^release( notes)?( for)? v?\d|^(changelog|changes|release notes) for v?\d|"
    r"^(release|new release|version)\.?$",
    re.I,
)
_VERSION_BUMP = re.compile(
    r"^(bump|bumped|bumping|increment|incremented|update|updated|set|change|changed)"
    r"( the)?( package| dev| development| project| app)? version\b|"
    r"^version bump|^bump the [\w.-]+ group\b|^bump (up )?to v?\d|^bump v?\d+(\.\d+)+|"
    r"^bump [\w.\[\]/-]+ (from [\w.+-]+ )?to v?\d|^bump [\w.\[\]/-]+ from [\w.+-]+ to|"
    r"^(chore|build|ci)\(deps(-dev)?\)|"
    r"^(back to|start(ing)?|begin|open|reopen)( the)? ([\w.-]+ ){0,2}(development|dev)\b|"
    r"^start(ing)? (version |v)?\d+(\.\d+)+|"
    r"^post[- ]?release|"
    r"^(update|updated|upgrade|upgraded|pin|unpin|bump)( the)? (all )?(dev |development |"
    r"test |docs? |build |ci )?(dependencies|deps|"
    r"requirements|pinned versions|lock ?file|pre-commit hooks?)\b",
    re.I,
)
AREA_PREFIX = re.compile(r"^[\w.-]+(\([\w./ -]+\))?!?:\s+")
# `code`, CamelCase, snake_case, dotted.names, call()
IDENTIFIER = re.compile(
    r"`[^`\s]+`|\b[a-z]+[A-Z]\w*|\b[A-Z][a-z0-9]+[A-Z]\w*|\b\w+_\w+|"
    r"\b[A-Za-z_]\w*\.[A-Za-z_]\w*|\b\w+\(\)"
)
_TOOLS = (
    r"black|isort|autopep8|autoflake|yapf|pyupgrade|prettier|ruff|flake8|pre-commit|"
    r"codespell|docformatter|clang-format|pylint"
)
_REFORMAT = re.compile(
    r"\b(re-?format(s|ted|ting)?|blacken(ed|ing)?|auto-?format(s|ted|ting)?|"
    r"pre-commit autoupdate|\[pre-commit\.ci\]|code ?style|coding style|"
    r"trailing whitespace|whitespace (fix|fixes|cleanup|changes))\b|"
    rf"\b(run|ran|running|apply|applied|applying|adopt|adopted|enable|enabled|upgrade|"
    rf"upgraded|update|updated|bump|bumped|switch to|migrate to) (the )?({_TOOLS})\b|"
    rf"\b({_TOOLS})( format(ting)?| fix(es)?| changes| cleanup| autofix(es)?| rules?)\b|"
    r"\bformat(ted)? (with|using|by) \w+",
    re.I,
)


@dataclass(frozen=True)
class Limits:
    min_words: int = MIN_WORDS
    max_files: int = MAX_FILES
    max_lines: int = MAX_LINES
    min_closeness: float = 0.0  # keep every instance: the score is written for weighting


# A person merging a bot's pull request: the merge says so, not its author.
_BOT_MESSAGE = re.compile(
    r"^merge pull request #\d+ from \S*(dependabot|renovate|pre-commit-ci|pyup|greenkeeper)|"
    r"^\[pre-commit\.ci\]|^\[bot\]",
    re.I | re.M,
)


def is_bot(author_name: str, author_email: str, message: str = "") -> bool:
    """A bot's commit: by its author, or by a message only bots write (a merged Dependabot
    or pre-commit.ci pull request)."""
    return bool(_BOT.search(f"{author_name} <{author_email}>") or _BOT_MESSAGE.search(message))


def message_reason(statement: str, limits: Limits) -> str | None:
    """Why a (cleaned) message cannot be a problem statement, or None."""
    # "build: bump setuptools to 84", "docs(api): fix typo": with the area prefix and without
    full_title = title_of(statement)
    title = AREA_PREFIX.sub("", full_title)
    if _RELEASE.search(title) or _RELEASE.search(full_title):
        return "release"
    if _VERSION_BUMP.search(title) or _VERSION_BUMP.search(full_title):
        return "version-bump"
    bare_title = title.strip().rstrip(".!:").strip()
    if GENERIC_TITLE.match(bare_title) and len(words(body_of(statement))) < limits.min_words:
        return "generic-message"
    # A name from the code is the strongest clue there is: with one, a word fewer will do.
    needed = limits.min_words - 1 if IDENTIFIER.search(statement) else limits.min_words
    if len(words(statement)) < needed:
        return "short-message"
    return None


def change_reason(statement: str, changes: Sequence[Change], limits: Limits) -> str | None:
    """Why a commit's changed files make no localization task, or None."""
    kinds = [path_kind(c.path) for c in changes]
    code = [(c, k) for c, k in zip(changes, kinds, strict=True) if k != "test"]
    if not code:
        return "test-only" if changes else "added-only"
    if all(k == "changelog" for _, k in code):
        return "changelog-only"
    renames = [c for c, _ in code if c.status == "R"]
    if len(renames) >= MASS_RENAME or all(c.status == "R" and not c.lines for c, _ in code):
        return "renames"
    if not any(c.is_edit and k != "changelog" for c, k in code):
        return "added-only"
    if len(code) >= REFORMAT_MIN_FILES and _REFORMAT.search(statement):
        return "reformat"
    if len(code) > limits.max_files:
        return "too-many-files"
    if sum(c.lines for c, _ in code) > limits.max_lines:
        return "too-many-lines"
    return None


def labels(changes: Sequence[Change]) -> list[str]:
    """`docs-only`, `config-only` or `docs-config-only` when no source file changed (tests and
    release notes aside); otherwise none."""
    kinds: set[Kind] = {path_kind(c.path) for c in changes} - {"test", "changelog"}
    if not kinds or "source" in kinds:
        return []
    if kinds == {"docs"}:
        return ["docs-only"]
    if kinds == {"config"}:
        return ["config-only"]
    return ["docs-config-only"]
