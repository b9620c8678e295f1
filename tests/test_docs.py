"""The README is a front page and the documentation site (mkdocs.yml, docs/) stays true to the
code: the CLI reference is the parser's, every JSON Schema is shown, the README's links and the
layout block name what exists. `mkdocs build --strict` (scripts/test) checks the site's own
links and anchors."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from pathlib import Path

import pytest

from acs.cli import build_parser
from acs.cli_reference import markdown
from helpers import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
SOURCE_TREE = (ROOT / "crates").is_dir() and (ROOT / ".git").exists()


def test_the_cli_reference_page_is_what_the_parser_gives() -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert page == markdown(build_parser()), (
        "docs/cli.md is stale: run `python -m acs.cli_reference --write` from the repository root"
    )


def test_the_cli_reference_lists_every_command_option_and_choice() -> None:
    parser = argparse.ArgumentParser(prog="acs", description="Top.")
    sub = parser.add_subparsers(dest="command")
    find = sub.add_parser("find", help="find | things")
    find.add_argument("query", help="what to find")
    find.add_argument("--kind", choices=["a", "b"], default="a", help="which kind")
    find.add_argument("--glob", action="append", metavar="GLOB", help="only these")
    find.add_argument("--min", type=float, default=0.0)
    find.add_argument("--secret", help=argparse.SUPPRESS)
    page = markdown(parser)
    assert "## `acs find`" in page and "[`find`](#acs-find)" in page
    assert "find \\| things" in page  # a | in a help text stays inside its table cell
    assert "| `query` | `QUERY` |  | what to find |" in page
    assert "| `--kind` | `a` `b` | `a` | which kind |" in page
    assert "| `--glob` (repeatable) | `GLOB` |  | only these |" in page
    assert "| `--min` | `MIN` | `0.0` |  |" in page  # a zero default is still said
    assert "--secret" not in page and "| `-h`, `--help` |" not in page


def test_the_schemas_page_shows_every_schema_file() -> None:
    page = (DOCS / "schemas.md").read_text(encoding="utf-8")
    for schema in sorted((DOCS / "schema").glob("*.json")):
        assert f'--8<-- "docs/schema/{schema.name}"' in page, schema.name
        assert f"(schema/{schema.name})" in page, schema.name


def test_the_readme_is_a_front_page_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250, "the README is a front page: move details to docs/"
    two = text.partition("## Two commands")[2].partition("\n## ")[0]
    assert re.search(r"^scripts/demo\b", two, re.M) and re.search(r"^scripts/test\b", two, re.M)
    if not SOURCE_TREE:  # the wheel stage copies the tests and docs, not the scripts
        return
    for script in ("scripts/demo", "scripts/test"):
        assert os.access(ROOT / script, os.X_OK), script
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _anchors(page: Path) -> set[str]:
    """GitHub's ids of a Markdown page's headings (lower case, punctuation dropped)."""
    ids = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M):
        ids.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return ids


def test_the_readme_links_name_files_and_headings_that_exist() -> None:
    links = re.findall(r"\]\(([^)#\s]*)(?:#([\w-]+))?\)", README.read_text(encoding="utf-8"))
    local = [(path, anchor) for path, anchor in links if not re.match(r"\w+:", path)]
    assert len(local) > 20
    for path, anchor in local:
        target = ROOT / path if path else README
        assert target.is_file(), f"README links to {path}, which does not exist"
        if anchor:
            assert anchor in _anchors(target), f"README links to {path}#{anchor}: no such heading"


def test_the_readme_links_every_documentation_page() -> None:
    text = README.read_text(encoding="utf-8")
    for page in sorted(DOCS.glob("*.md")):
        if page.name not in ("index.md", "changelog.md", "developers.md", "training.md"):
            assert f"(docs/{page.name}" in text, f"the README does not link docs/{page.name}"


def _layout_block() -> str:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    return text.partition("## Repository layout")[2].partition("```\n")[2].partition("```")[0]


@pytest.mark.skipif(not SOURCE_TREE, reason="the source tree is not beside the tests")
def test_the_layout_block_matches_the_tree() -> None:
    named = [line.split()[0] for line in _layout_block().splitlines() if line[:1].strip()]
    for path in named:
        assert (ROOT / path).exists(), f"the layout names {path}, which does not exist"
    listed = {path.rstrip("/") for path in named}
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for folder in sorted({f.split("/")[0] for f in files if "/" in f}):
        assert any(path.split("/")[0] == folder for path in listed), f"{folder}/ not in layout"
    package = ROOT / "python" / "acs"
    for sub in sorted(p for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert f"python/acs/{sub.name}" in listed, f"python/acs/{sub.name}/ not in the layout"


def _shell_lines(text: str) -> list[str]:
    """The lines of a page's shell (and CI YAML) code blocks."""
    lines, language = [], None
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            language = None if language is not None else line.strip("` ") or "text"
        elif language in ("bash", "sh", "yaml"):
            lines.append(line)
    return lines


def _documented_invocations() -> list[tuple[str, str]]:
    """(page, command line) for every `acs ...` command in a code block of the README or docs."""
    found = []
    for page in [README, *sorted(DOCS.glob("*.md"))]:
        for line in _shell_lines(page.read_text(encoding="utf-8")):
            for part in re.split(r"\||;|&&|<\(|\$\(", line.partition(" #")[0]):
                words = part.replace(")", " ").split()
                if words[:1] == ["acs"]:
                    found.append((page.name, " ".join(words)))
    return found


def test_the_documented_commands_and_options_exist() -> None:
    from acs.completion import command_tree

    tree = command_tree(build_parser())
    invocations = _documented_invocations()
    assert len(invocations) > 30
    for page, line in invocations:
        command, words = tree, line.split()[1:]
        while words and (sub := {s.path[-1]: s for s in command.subcommands}.get(words[0])):
            command, words = sub, words[1:]
        assert command is not tree or words[:1] == ["--version"], f"{page}: {line}"
        known = {flag for option in command.options for flag in option.flags}
        for word in words:
            flag = word.split("=")[0].strip("[]")
            if flag.startswith("--"):
                assert flag in known, f"{page}: `{line}`: {' '.join(command.path)} has no {flag}"
