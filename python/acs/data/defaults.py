"""The mining limits' defaults, apart from the filters that apply them, so that `acs --help`
and the parser can name them without compiling the filters' regular expressions (a cold
`acs localize` imports the `data` subcommand's parser)."""

from __future__ import annotations

from ..issue import MAX_ISSUE_CHARS

__all__ = ["MAX_FILES", "MAX_LINES", "MAX_MESSAGE_CHARS", "MIN_WORDS"]

MIN_WORDS = 4  # shortest commit message that can be a problem statement
MAX_FILES = 15  # most non-test files a fix may change
MAX_LINES = 1000  # most changed lines in non-test files
# A commit message is read up to this many characters (cut at a line or word end): what
# `localize` reads of an issue. A 10 MB message made a 10 MB problem statement.
MAX_MESSAGE_CHARS = MAX_ISSUE_CHARS
