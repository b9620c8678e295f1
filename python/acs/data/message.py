"""A commit message as a problem statement: the description without the bookkeeping git and
GitHub add to it.

* Trailers go: `Signed-off-by:`, `Co-authored-by:`, `Reviewed-by:`, `Change-Id:` and their
  kin, `(cherry picked from commit ...)`, `[skip ci]`, reference-only lines (`Fixes #12`,
  `Closes: #3, #4`), HTML comments (PR templates), and the `---------` line GitHub puts
  before a squash's co-authors.
* A squash title's trailing `(#123)` goes (it names the pull request, not the problem).
  GitHub's squash body lists the squashed commits as `* ` items: the items that are review
  bookkeeping (`* fix lint`, `* Apply suggestions from code review`, `* Merge branch 'main'
  into x`, `* Add changelog entry`, pre-commit.ci's autofixes) go with their bodies, and an
  item that repeats the title loses its `* title` line but keeps its body.
* A pull-request merge title (`Merge pull request #N from user/branch`, bors' `Merge #N`)
  goes, and what follows it is the text: GitHub puts the pull request's title and body
  there. Gerrit's `Merge "title" into main` keeps the quoted title. A branch sync
  (`Merge branch 'x'`, `Merge remote-tracking branch ...`, `Merge stable into main`) has
  no text of its own: its diff is another branch's work, so `clean_message` returns "" for
  it, as for a merge with nothing after its title.
"""

from __future__ import annotations

import re

_TRAILER_KEYS = (
    "signed-off-by|co-authored-by|co-developed-by|reviewed-by|acked-by|tested-by|"
    "reported-by|suggested-by|helped-by|requested-by|approved-by|cc|change-id|reviewed-on|"
    "pr-url|pr-close|original-commit|backport-of|git-svn-id|piperorigin-revid|"
    "differential revision|pull request resolved|ghstack-source-id"
)
# Line patterns start with `[ \t]*`, not `\s*`: `\s*` crossed newlines, so at each line
# of a run of blank lines (trailers removed leave them) it scanned to the run's end: quadratic.
_TRAILER = re.compile(rf"^[ \t]*({_TRAILER_KEYS})\s*:.*$", re.I | re.M)
_REF = r"(#\d+|gh-\d+|[\w.-]+/[\w.-]+#\d+|https?://\S+)"
# "Fixes #12", "Closes: #3, #4", "Refs https://...": a line of references only.
_REF_LINE = re.compile(
    rf"^[ \t]*(fix(es|ed)?|close[sd]?|resolve[sd]?|refs?|see|related( to)?|part of|addresses)"
    rf"\s*:?\s*{_REF}([\s,]+(and\s+)?{_REF})*\.?\s*$",
    re.I | re.M,
)
_CHERRY_PICK = re.compile(r"^[ \t]*\(cherry[ -]picked from commit [0-9a-f]+\)\s*$", re.I | re.M)
_SKIP_CI = re.compile(r"\[(skip ci|ci skip|no ci|skip actions|actions skip)\]", re.I)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SEPARATOR = re.compile(r"^[ \t]*-{3,}\s*$", re.M)
_SQUASH_SUFFIX = re.compile(r"\s*\((#\d+)(,\s*#\d+)*\)\s*$")
# A merged pull request: the pull request's title and body follow (GitHub, bors).
_PR_MERGE = re.compile(r"^merge (pull request #\d+ from \S+|#\d+)\s*$", re.I)
# Gerrit: `Merge "<the change's title>" into main`.
_GERRIT_MERGE = re.compile(r'^merge "(.+)" into [\w./-]+$', re.I)
# A branch sync: the message says what was merged, and the diff is another branch's work.
_SYNC_MERGE = re.compile(
    r"^merge ((remote-tracking )?branch(es)? '[^']*'|tags? '[^']*'|commit '[^']*'|"
    r"""[`'"]?[\w./-]+[`'"]? (branch )?into [`'"]?[\w./-]+[`'"]?)""",
    re.I,
)
# A title that says nothing to localize from ("fix", "wip", "Update README.md"): the filters
# reject such a message without a body, and a squash drops such an item.
GENERIC_TITLE = re.compile(
    r"^(fix(es|ed)?|bug ?fix(es)?|hot ?fix|wip|work in progress|update[ds]?|changes?|"
    r"clean ?up|clean-up|cleanups?|refactor(ing|ed)?|tweaks?|typos?|oops|tmp|temp|tests?|"
    r"testing|lint(ing)?|formatting|format|style|pep ?8|docs?|save|stuff|polish|nits?|"
    r"improvements?|fixup|squash|merge|revert|(initial|first) commit|"
    r"fix(es|ed)? (a |the |some |small |minor |more )?(typos?|bugs?|issues?|errors?|"
    r"lint(ing)?|flake8|mypy|ci|build|tests?|typing|types|docs?|formatting|style|pep ?8|"
    r"it|that|this)|"
    r"(minor|small|misc(ellaneous)?|more|various|some)( \w+)? (fix(es)?|changes?|updates?|"
    r"cleanups?|tweaks?|improvements?|edits?|refactor(ing)?|typos?)|"
    r"minor|misc(ellaneous)?|"
    r"update (the )?(docs?|documentation|readme|changelog|tests?|code|files?)|"
    r"(address|addressed|addressing|apply|applied) (the )?(review|pr|code review|"
    r"reviewer'?s?)( comments?| feedback| suggestions?)?|"
    r"(review|pr) (comments?|feedback|suggestions?)|"
    r"apply suggestions? from code review|code review( changes| comments)?|"
    r"(update|create|delete|add|rename|edit) [\w./-]+\.\w+|"  # GitHub's web editor
    r"(fixup|squash|amend)!.*)$",
    re.I,
)
# Squash items that only a review produces (beyond GENERIC_TITLE's).
_SQUASH_NOISE = re.compile(
    r"^\[pre-commit\.ci\]|^apply suggestions? from (code review|@[\w-]+)|"
    r"^(add|added|adds|update|updated|updates|write|fix|fixed)( an?| the)? "
    r"(changelog|changes|news|release notes?|history)(\.\w+)?"
    r"(( \S+)?( entry| entries| fragment| note))?$|"
    r"^(changelog|news|release notes?)( entry| fragment)?$",
    re.I,
)
_SQUASH_ITEM = re.compile(r"^(?=\* )", re.M)
_BORS_TITLE = re.compile(r"^\d+: |\s+r=\S+(\s+a=\S+)?$")
_WORD = re.compile(r"[^\W_]+(?:['.-][^\W_]+)*")


def is_merge_title(title: str) -> bool:
    """A title that only says what was merged: it describes no change."""
    title = _SQUASH_SUFFIX.sub("", title.strip())
    return bool(_PR_MERGE.match(title) or _SYNC_MERGE.match(title))


def clean_message(message: str) -> str:
    """The commit message as a problem statement: title and body, bookkeeping removed (see
    the module docstring). A merge title is dropped and the text after it kept."""
    text = message.replace("\r\n", "\n").replace("\r", "\n").strip()
    title, _, body = text.partition("\n")
    title = _SKIP_CI.sub("", title)
    squash = bool(_SQUASH_SUFFIX.search(title))
    title = _SQUASH_SUFFIX.sub("", title).strip()
    if m := _GERRIT_MERGE.match(title):
        title = m[1].rstrip("…").strip()
    elif _SYNC_MERGE.match(title):
        return ""
    if _PR_MERGE.match(title):
        title, _, body = _HTML_COMMENT.sub("", body).strip().partition("\n")
        title = _BORS_TITLE.sub("", title).strip()
    for pattern in (_HTML_COMMENT, _TRAILER, _REF_LINE, _CHERRY_PICK, _SKIP_CI):
        body = pattern.sub("", body)
    body = _SEPARATOR.sub("", body) if not _has_content_after_separator(body) else body
    if squash:
        body = _clean_squash_items(title, body)
    body = re.sub(r"\n[ \t]*(\n[ \t]*)+", "\n\n", body).strip()
    return f"{title}\n\n{body}" if body else title


def _clean_squash_items(title: str, body: str) -> str:
    """A GitHub squash body (`* ` items, one per squashed commit, each its title and body)
    without the review bookkeeping items, and without a `* title` line that repeats the
    squash's title (its body stays)."""
    head, *items = _SQUASH_ITEM.split(body)
    kept = []
    for item in items:
        first, _, rest = item[2:].partition("\n")
        first = first.strip()
        bare = first.rstrip(".!:").strip()
        if GENERIC_TITLE.match(bare) or _SQUASH_NOISE.match(bare) or is_merge_title(first):
            continue
        kept.append(rest if _same_words(first, title) else item)
    return head + "".join(kept)


def _same_words(item_title: str, title: str) -> bool:
    item_title = _SQUASH_SUFFIX.sub("", item_title)
    return [w.lower() for w in words(item_title)] == [w.lower() for w in words(title)]


def title_of(statement: str) -> str:
    return statement.split("\n", 1)[0].strip()


def body_of(statement: str) -> str:
    return statement.partition("\n")[2].strip()


def words(text: str) -> list[str]:
    """The words of a text (letters and digits; `don't`, `v1.2` and `pre-commit` are one)."""
    return _WORD.findall(text)


def _has_content_after_separator(body: str) -> bool:
    """A `---` line followed by text is a Markdown rule or a table, not GitHub's separator."""
    parts = _SEPARATOR.split(body)
    return len(parts) > 1 and bool(parts[-1].strip())
