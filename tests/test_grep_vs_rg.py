"""Property test: on generated trees, grep finds exactly the lines `rg` finds (same flags),
and, for patterns both dialects read alike, the lines Python's `re` finds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import acs
from helpers.repos import write_tree

RG = shutil.which("rg")
pytestmark = pytest.mark.skipif(RG is None, reason="rg not installed (pip install ripgrep)")

WORDS = ["foo", "Foo", "FOO", "bar", "foobar", "bar_baz", "x1", "café", "naïve", "def", "self"]
PUNCT = [" ", " ", "  ", ".", "(", ")", ":", "_", "-", "\t", "=", "'"]
PATTERNS = [
    "foo",
    "Foo",
    "bar",
    "foo.?bar",
    r"\bbar\w*",
    r"[A-Z]\w+",
    "^def",
    "x1$",
    r"f(o)+",
    "café",
    r"\(self\)",
    "baz|naïve",
    r"\d",
]

line = st.lists(st.sampled_from(WORDS + PUNCT), max_size=12).map("".join)
content = st.tuples(st.lists(line, max_size=12), st.sampled_from(["\n", "\r\n"])).map(
    lambda t: t[1].join(t[0]) + ("\n" if t[0] else "")
)
names = st.sampled_from(["a.py", "b.txt", "sub/c.py", "sub/deep/d.md", ".hidden.py", "e.log"])
trees = st.dictionaries(names, content, min_size=1, max_size=6)
ignores = st.sampled_from(["", "*.log\n", "sub/deep/\n", "*.txt\n!b.txt\n"])
flags = st.fixed_dictionaries(
    {
        "case": st.sampled_from(["sensitive", "insensitive", "smart"]),
        "word": st.booleans(),
        "fixed_strings": st.booleans(),
    }
)


def rg_lines(root: Path, pattern: str, opts: dict) -> set[tuple[str, int]]:
    args = [RG, "--no-config", "--no-require-git", "-n", "-H", "--no-heading", "--color=never"]
    args += {"sensitive": ["-s"], "insensitive": ["-i"], "smart": ["-S"]}[opts["case"]]
    args += ["-w"] * opts["word"] + ["-F"] * opts["fixed_strings"]
    env = {
        **os.environ,
        "HOME": str(root),
        "XDG_CONFIG_HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    out = subprocess.run(
        [*args, "-e", pattern, "."], cwd=root, capture_output=True, env=env, check=False
    )
    assert out.returncode in (0, 1), out.stderr
    found = set()
    for raw in out.stdout.decode("utf-8", "replace").splitlines():
        path, num, _ = raw.split(":", 2)
        found.add((path.removeprefix("./"), int(num)))
    return found


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees, ignore=ignores, pattern=st.sampled_from(PATTERNS), opts=flags)
def test_grep_matches_ripgrep(tree, ignore, pattern, opts):
    with tempfile.TemporaryDirectory() as tmp:
        root = write_tree(Path(tmp), {**tree, ".gitignore": ignore})
        repo = acs.Repo.open(root)
        got = repo.grep(pattern, max_results=100_000, **opts)
        ours = {(m["path"], m["line"]) for m in got["matches"]}
        assert ours == rg_lines(root, pattern, opts)


@settings(max_examples=60, deadline=None)
@given(tree=trees, pattern=st.sampled_from([p for p in PATTERNS if p != r"\d"]))
def test_grep_matches_python_re(tree, pattern):
    # \d differs (Unicode digits in both, but Python's re has no (?-u)); skip it here.
    repo = acs.Repo.from_files(tree)
    ours = {(m["path"], m["line"]) for m in repo.grep(pattern, max_results=100_000)["matches"]}
    regex = re.compile(pattern)
    expected = {
        (path, i)
        for path, text in tree.items()
        for i, ln in enumerate(text.split("\n"), start=1)
        if regex.search(ln)
    }
    assert ours == expected


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tree=trees,
    patterns=st.lists(st.sampled_from(PATTERNS), min_size=2, max_size=5, unique=True),
    opts=flags,
)
def test_patterns_searched_together_match_ripgrep_one_by_one(tree, patterns, opts):
    with tempfile.TemporaryDirectory() as tmp:
        root = write_tree(Path(tmp), tree)
        got = acs.Repo.open(root).grep(patterns, max_results=100_000, **opts)
        for i, pattern in enumerate(patterns):
            ours = {(m["path"], m["line"]) for m in got["matches"] if m["pattern"] == i}
            assert ours == rg_lines(root, pattern, opts), pattern
