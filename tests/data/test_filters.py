"""The miner's pure parts: problem statements from commit messages, the kind of each path,
and the message filters."""

from __future__ import annotations

import pytest

from acs.data.filters import Limits, is_bot, message_reason
from acs.data.git import parse_raw_numstat, remote_name
from acs.data.message import clean_message
from acs.data.paths import path_kind


@pytest.mark.parametrize(
    ("message", "statement"),
    [
        ("Fix the parser (#123)\n", "Fix the parser"),
        (
            "Fix the parser (#123)\n\nIt broke.\n\nSigned-off-by: A <a@x>\n",
            "Fix the parser\n\nIt broke.",
        ),
        (
            "Handle tabs\n\n* handle tabs\n\n* add a test\n\n---------\n\n"
            "Co-authored-by: B <b@x>\nReviewed-by: C <c@x>\nChange-Id: I0123abcd\n",
            "Handle tabs\n\n* handle tabs\n\n* add a test",
        ),
        ("Fix X in Y\n\n(cherry picked from commit 0123abc)\n", "Fix X in Y"),
        ("Fix X in Y [skip ci]\n\nFixes #12\nCloses: #3, #4\n", "Fix X in Y"),
        (
            "Fix X in Y\n\nFixes the crash when Y is empty.\n",
            "Fix X in Y\n\nFixes the crash when Y is empty.",
        ),
        (
            "Merge pull request #7 from someone/fix-render\n\nRender colours\n\n"
            "<!-- describe your change -->\nThe renderer ignored colours.\n",
            "Render colours\n\nThe renderer ignored colours.",
        ),
        ("Merge pull request #7 from someone/fix-render\n", ""),
        ("Merge branch 'stable'\n\n* stable:\n  Fix a crash\n", ""),
        ("Merge remote-tracking branch 'upstream/main' into x\n", ""),
        ("Merge `stable` into `main` after the conversion (#3563)\n\nDetails.\n", ""),
        (
            "Merge #42\n\n42: Fix the parser on empty input r=alice a=bob\n",
            "Fix the parser on empty input",
        ),
        (
            'Merge "Add autogenerate support for CHECK" into main\n',
            "Add autogenerate support for CHECK",
        ),
        (
            'Merge "Fix rendering of Column objects in dial…" into main\n',
            "Fix rendering of Column objects in dial",
        ),
        ("Table\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "Table\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
        ("Fix X\n\nbefore\n---\nafter\n", "Fix X\n\nbefore\n---\nafter"),
    ],
)
def test_clean_message(message: str, statement: str) -> None:
    assert clean_message(message) == statement


def test_clean_message_is_linear_in_blank_lines() -> None:
    import time

    # Removed trailers leave a run of blank lines, and each line pattern's leading `\s*` ran
    # to the end of the run: 40,000 trailers took 100 s of CPU, now milliseconds.
    message = "Fix the parser\n\n" + "Signed-off-by: A <a@x>\n" * 40_000 + "\n" * 40_000
    start = time.thread_time()
    assert clean_message(message) == "Fix the parser"
    assert time.thread_time() - start < 5.0  # only the quadratic scan comes near this


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("tests/test_core.py", "test"),
        ("src/pkg/tests/helpers.py", "test"),
        ("pkg/test_core.py", "test"),
        ("pkg/core_test.py", "test"),
        ("conftest.py", "test"),
        ("testing/fixtures.py", "test"),
        ("app/tests.py", "test"),
        ("CHANGES.rst", "changelog"),
        ("docs/changelog.md", "changelog"),
        ("changelog.d/123.bugfix.rst", "changelog"),
        ("news/1234.feature", "changelog"),
        ("HISTORY.md", "changelog"),
        ("docs/index.rst", "docs"),
        ("docs/conf.py", "docs"),
        ("README.md", "docs"),
        ("LICENSE", "docs"),
        ("notes.txt", "docs"),
        ("setup.cfg", "config"),
        ("setup.py", "config"),
        ("pyproject.toml", "config"),
        ("requirements-dev.txt", "config"),
        (".github/workflows/ci.yml", "config"),
        (".pre-commit-config.yaml", "config"),
        ("Makefile", "config"),
        ("pkg/core.py", "source"),
        ("pkg/news.py", "source"),
        ("src/pkg/_speedups.c", "source"),
        ("pkg/templates/page.html", "source"),
        ("pkg/py.typed", "source"),
    ],
)
def test_path_kind(path: str, kind: str) -> None:
    assert path_kind(path) == kind


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("Release 8.1.0", "release"),
        ("release version 8.2.1", "release"),
        ("v2.3.4", "release"),
        ("Prepare for the 2.0 release", "release"),
        ("Bump version to 8.3.dev", "version-bump"),
        ("Bump the github-actions group with 3 updates", "version-bump"),
        ("Bump mypy from 1.4 to 1.5", "version-bump"),
        ("chore(deps): update dependency black to v24", "version-bump"),
        ("update dev dependencies", "version-bump"),
        ("build: bump setuptools to 84.0.0", "version-bump"),
        ("tools(lint): bump ruff to 0.16.4", "version-bump"),
        ("docs: fix typo", "generic-message"),
        ("plugins.twitch: fix the access token request", None),
        ("Start version 2.1 development", "version-bump"),
        ("start version 8.5.0", "version-bump"),
        ("fix", "generic-message"),
        ("WIP", "generic-message"),
        ("Minor fixes.", "generic-message"),
        ("fix typos", "generic-message"),
        ("Update README.md", "generic-message"),
        ("Apply suggestions from code review", "generic-message"),
        ("Address review comments", "generic-message"),
        ("Fix\n\nThe parser crashed on an empty header line.", None),
        ("remove colorama", "short-message"),
        ("tweak renderer output", "short-message"),
        ("Make `TextWrapper` ANSI-aware", None),  # a name from the code: three words will do
        ("Fix crash in parse_header", None),
        ("Bump minimum required Python version to 3.9", None),
        ("Do not trigger a `BytesWarning` under `python -bb`", None),
    ],
)
def test_message_reason(statement: str, reason: str | None) -> None:
    assert message_reason(statement, Limits()) == reason


@pytest.mark.parametrize(
    ("name", "email", "bot"),
    [
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", True),
        ("pre-commit-ci[bot]", "66853113+pre-commit-ci[bot]@users.noreply.github.com", True),
        ("renovate", "bot@renovateapp.com", True),
        ("github-actions", "41898282+github-actions[bot]@users.noreply.github.com", True),
        ("Weblate (bot)", "hosted@weblate.org", True),
        ("Ada Lovelace", "ada@example.com", False),
        ("Roberto Botella", "rb@example.com", False),
    ],
)
def test_is_bot(name: str, email: str, bot: bool) -> None:
    assert is_bot(name, email) is bot


@pytest.mark.parametrize(
    ("message", "bot"),
    [
        (
            "Merge pull request #1549 from org/pre-commit-ci-update-config\n\n[pre-commit.ci] x",
            True,
        ),
        ("Merge pull request #12 from org/dependabot/pip/requests-2.32\n\nBump requests", True),
        ("[pre-commit.ci] auto fixes from pre-commit.com hooks", True),
        ("Merge pull request #12 from someone/fix-render\n\nRender colours", False),
    ],
)
def test_a_bot_by_its_message(message: str, bot: bool) -> None:
    assert is_bot("Ada", "ada@example.com", message) is bot


def test_parse_raw_numstat() -> None:
    out = (
        ":100644 100644 bdc955b 8835708 M\0bin\0:000000 100644 0000000 3e75765 A\0n.py\0"
        ":100644 000000 45b983b 0000000 D\0y.py\0"
        ":100644 100644 9405325 f3ec2c2 R066\0x.py\0z.py\0"
        "-\t-\tbin\0" "1\t0\tn.py\0" "0\t1\ty.py\0" "1\t0\t\0x.py\0z.py\0"
    )  # fmt: skip
    changes = parse_raw_numstat(out)
    assert [(c.status, c.old_path, c.new_path, c.lines, c.binary, c.is_edit) for c in changes] == [
        ("M", "bin", "bin", 0, True, False),
        ("A", None, "n.py", 1, False, False),
        ("D", "y.py", None, 1, False, False),
        ("R", "x.py", "z.py", 1, False, True),
    ]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://github.com/pallets/click.git", "pallets/click"),
        ("git@github.com:pallets/click.git", "pallets/click"),
        ("ssh://git@github.com/pallets/click", "pallets/click"),
        ("/srv/mirrors/pallets/click/", "pallets/click"),
        ("click", None),
        (None, None),
    ],
)
def test_remote_name(url: str | None, name: str | None) -> None:
    assert remote_name(url) == name


# -- GitHub squash bodies (issue 23) --------------------------------------------------------

SQUASH = """Preserve blank lines before a closing fmt: on comment (#5300)

* Preserve blank lines before a closing fmt: on comment

The blank run lives in the prefix of the following comment.

* Add CHANGES.md entry

* Apply suggestion from @cobaltt7

* [pre-commit.ci] auto fixes from pre-commit.com hooks

for more information, see https://pre-commit.ci

* Merge branch 'main' into fix-blank-lines

* fix lint

* Handle a nested fmt: off region too

---------

Co-authored-by: cobalt <61329810+cobaltt7@users.noreply.github.com>
"""


@pytest.mark.parametrize(
    ("message", "statement"),
    [
        (
            SQUASH,
            "Preserve blank lines before a closing fmt: on comment\n\n"
            "The blank run lives in the prefix of the following comment.\n\n"
            "* Handle a nested fmt: off region too",
        ),
        # the first item repeats the title with its own (#N): its body stays
        (
            "Fix crash on f-strings (#5311)\n\n* Fix crash on f-strings (#4511)\n\nIt crashed.\n",
            "Fix crash on f-strings\n\nIt crashed.",
        ),
        # only noise: the title alone
        (
            "Fix crash on f-strings (#5311)\n\n* wip\n\n* Update CHANGES.rst\n",
            "Fix crash on f-strings",
        ),
        # an item that only mentions the history is no changelog entry
        (
            "Speed up the log (#9)\n\n* Fix the history view\n",
            "Speed up the log\n\n* Fix the history view",
        ),
        # not a squash (no `(#N)`): a list written by hand stays as it is
        ("Handle tabs\n\n* wip\n\n* add a test\n", "Handle tabs\n\n* wip\n\n* add a test"),
    ],
)
def test_squash_items_lose_review_bookkeeping(message: str, statement: str) -> None:
    assert clean_message(message) == statement


# -- closeness to an issue (issue 23) -------------------------------------------------------

ISSUE_LIKE = """Crash in `parse_header` when a header line has no colon

Parsing a header file fails with a traceback instead of skipping the line:

    >>> parse_header("broken")
    Traceback (most recent call last):
      File "src/widgets/header.py", line 12, in parse_header
    ValueError: not enough values to unpack (expected 2, got 0)

Expected the line to be ignored, as the docs of header.py say.
"""


@pytest.mark.parametrize(
    ("statement", "true", "points"),
    [
        (
            ISSUE_LIKE,
            {"long", "names_path", "names_code", "error", "code", "bug_report", "traceback"},
            6,
        ),
        ("Add support for TOML configuration files", {"changelog_line"}, 0),
        ("Add support for TOML\n\nUsers asked for it.", set(), 0),
        # a path names code too (`core.py` is a dotted name)
        ("Fix the parser crash in src/pkg/core.py", {"names_path", "names_code", "bug_report"}, 3),
        ("Raise KeyError for a missing section", {"names_code", "error", "bug_report"}, 3),
        ("Document the `--strict` flag\n\n```\nacs --strict\n```", {"names_code", "code"}, 2),
        ("Explain v1.2 in the guide, for example", set(), 0),  # a version is no path
        ("docs: add a page about plugins", {"changelog_line"}, 0),
    ],
)
def test_closeness_signals(statement: str, true: set[str], points: int) -> None:
    from acs.data.closeness import SIGNALS, closeness

    c = closeness(statement)
    flags = {k for k, v in c.to_json().items() if v is True}
    assert flags == true
    assert c.points == points == len(true & set(SIGNALS))
    assert c.score == round(points / 6, 3)
    assert c.to_json()["words"] == c.words > 0 and c.chars == len(statement)


def test_closeness_is_linear_in_a_huge_statement() -> None:
    import time

    from acs.data.closeness import closeness

    # Each pattern is anchored or bounded: a 64 KiB message of one long line, of blank lines
    # or of indented lines costs milliseconds (a backtracking pattern would cost minutes).
    for text in ("a" * 65_536, "x\n" + " " * 65_536, "    x\n" * 10_000, "a/" * 30_000 + ".py"):
        start = time.thread_time()
        closeness(text)
        assert time.thread_time() - start < 5.0
