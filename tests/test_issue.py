"""Reading issues: what the model-free planner gets out of an issue text."""

from __future__ import annotations

from acs.issue import Frame, is_code_identifier, parse_issue

TRACEBACK = """\
Saving fails:

```
Traceback (most recent call last):
  File "/home/me/venv/lib/python3.11/site-packages/pkg/io/writer.py", line 88, in save
    self._write_rows(rows)
  File "pkg/io/writer.py", line 120, in _write_rows
    raise ValueError("bad row")
ValueError: bad row
```
"""


def test_python_tracebacks_give_frames_errors_and_messages():
    s = parse_issue(TRACEBACK)
    assert s.frames == [
        Frame("/home/me/venv/lib/python3.11/site-packages/pkg/io/writer.py", 88, "save"),
        Frame("pkg/io/writer.py", 120, "_write_rows"),
    ]
    assert s.errors == ["ValueError"]
    assert s.messages == ["bad row"]
    assert "_write_rows" in s.identifiers and "save" in s.identifiers
    # Prose of the traceback is not taken for code.
    assert "Traceback" not in s.identifiers and "recent" not in s.identifiers


def test_other_languages_frames():
    s = parse_issue("at parseConfig (src/config/load.ts:42:7)\npanic at src/main.rs:10:5")
    assert Frame("src/config/load.ts", 42, "parseConfig") in s.frames
    assert Frame("src/main.rs", 10) in s.frames


def test_identifiers_dotted_names_and_modules():
    s = parse_issue(
        "Calling `DataFrame.to_csv` after `self.reset_index()` breaks "
        "dask.dataframe.core; see read_csv_kwargs and MyHTTPClient."
    )
    assert s.identifiers[:3] == ["DataFrame.to_csv", "DataFrame", "to_csv"]
    assert "reset_index" in s.identifiers
    assert "read_csv_kwargs" in s.identifiers and "MyHTTPClient" in s.identifiers
    assert s.modules == ["dask.dataframe.core"]


def test_plain_english_is_not_code():
    for word in ["Hello", "works", "the", "URL", "GitHub", "it"]:
        assert not is_code_identifier(word), word
    for word in ["load_settings", "DataFrame", "parseHTTP", "__init__", "MAX_SIZE"]:
        assert is_code_identifier(word), word


def test_paths_with_and_without_folders():
    s = parse_issue("The bug is in moto/s3/models.py (and maybe setup.cfg), not ./docs/index.rst.")
    assert s.paths == ["moto/s3/models.py", "setup.cfg", "docs/index.rst"]


def test_links_quoted_strings_and_flags():
    s = parse_issue(
        'See https://github.com/org/repo/issues/12. The message "could not find config" '
        "appears with `--no-cache` and -v."
    )
    assert "github" not in s.identifiers and "org" not in s.identifiers
    assert s.strings == ["could not find config"]
    assert s.flags == ["--no-cache"]


def test_an_issue_with_nothing_in_it():
    s = parse_issue("It does not work, please help.")
    assert (s.identifiers, s.paths, s.frames, s.errors, s.strings) == ([], [], [], [], [])
