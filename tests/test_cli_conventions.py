"""The command line's conventions: `--version`, `localize --format github` and `--fail-under`
for CI, and shell completion scripts that shells actually load."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import acs
from acs import github
from acs.version import build_info

LANGUAGES = ["python", "javascript", "typescript", "tsx", "go", "rust", "java"]


def acs_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acs", *args], capture_output=True, text=True, env=env
    )


# -- --version -----------------------------------------------------------------------------


def test_version_names_acs_the_engine_build_and_every_grammar():
    out = acs_cli("--version")
    assert out.returncode == 0, out.stderr
    first, engine, grammars = out.stdout.splitlines()
    assert first == f"acs {acs.__version__}"
    assert engine.startswith(f"engine: acs-core {acs.__version__} (")
    assert re.search(r"\b(release|debug)\b", engine), engine
    for language in LANGUAGES:
        assert re.search(rf"\b{language} \d+\.\d+\.\d+ \(ABI 1[3-5]\)", grammars), language
    assert re.match(r"tree-sitter \d+\.\d+\.\d+; grammars: ", grammars)


def test_build_info_is_what_the_build_embedded():
    info = build_info()
    assert info["version"] == acs.__version__
    assert info["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", info["commit"])
    assert info["rustc"] is not None and info["rustc"].startswith("rustc ")
    assert [g["language"] for g in info["grammars"]] == LANGUAGES
    by_language = {g["language"]: g for g in info["grammars"]}
    # TypeScript and TSX are two grammars of one crate.
    assert by_language["tsx"]["crate"] == by_language["typescript"]["crate"]
    assert by_language["tsx"]["version"] == by_language["typescript"]["version"]


# -- --format github, --fail-under -----------------------------------------------------------


@pytest.fixture
def project(make_tree):
    return make_tree(
        {
            "pkg/parser.py": "def parse_header(text):\n    raise ValueError('bad header')\n",
            "pkg/other.py": "def unrelated():\n    return 0\n",
        }
    )


ISSUE = "parse_header raises ValueError 'bad header' on an empty header"


def test_github_format_annotates_likely_locations_relative_to_the_workspace(project, tmp_path):
    summary = tmp_path / "summary.md"
    env = {
        **dict(os.environ),
        "GITHUB_WORKSPACE": str(project.parent),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    out = acs_cli("localize", "--repo", str(project), "--format", "github", ISSUE, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines and all(line.startswith("::notice file=") for line in lines)
    best = f"::notice file={project.name}/pkg/parser.py,line=1,endLine=2,"
    assert lines[0].startswith(best), lines[0]
    assert "::parse_header (function), score 0." in lines[0]
    text = summary.read_text()
    assert text.startswith("### acs: where to look for “parse_header raises")
    assert re.search(r"\| 0\.\d\d \| ✓ \| `pkg/parser\.py` \|", text), text


def test_github_format_appends_to_the_job_summary(project, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {**dict(os.environ), "GITHUB_STEP_SUMMARY": str(summary)}
    for _ in range(2):
        out = acs_cli("localize", "--repo", str(project), "--format", "github", ISSUE, env=env)
        assert out.returncode == 0, out.stderr
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert text.count("### acs: where to look") == 2


def test_github_format_without_a_runner_prints_only_annotations(project, tmp_path):
    env = {k: v for k, v in dict(os.environ).items() if not k.startswith("GITHUB_")}
    out = acs_cli("localize", "--repo", str(project), "--format", "github", ISSUE, env=env)
    assert out.returncode == 0, out.stderr
    assert all(line.startswith("::notice ") for line in out.stdout.splitlines())


def test_annotations_escape_what_would_end_a_property_or_message():
    result = {
        "files": [{"path": "a,b:c%.py", "score": 0.9, "confident": True}],
        "functions": [],
        "lines": [],
        "stats": {},
    }
    (line,) = github.annotation_lines(result)  # type: ignore[arg-type]
    assert line == ("::notice file=a%2Cb%3Ac%25.py,title=acs%3A likely location::file, score 0.90")


def test_annotations_mark_confident_functions_then_files_without_one():
    result = {
        "files": [
            {"path": "a.py", "score": 0.9, "confident": True},
            {"path": "b.py", "score": 0.7, "confident": True},
            {"path": "c.py", "score": 0.1, "confident": False},
        ],
        "functions": [
            {
                "path": "a.py",
                "name": "A.run",
                "kind": "method",
                "start_line": 3,
                "end_line": 9,
                "score": 0.8,
                "confident": True,
            },
            {
                "path": "c.py",
                "name": "g",
                "kind": "function",
                "start_line": 1,
                "end_line": 2,
                "score": 0.05,
                "confident": False,
            },
        ],
        "lines": [],
        "stats": {},
    }
    lines = list(github.annotation_lines(result, "sub/"))  # type: ignore[arg-type]
    assert [line.split(",")[0] for line in lines] == [
        "::notice file=sub/a.py",
        "::notice file=sub/b.py",
    ]
    assert ",line=3,endLine=9," in lines[0]


@pytest.mark.parametrize(("threshold", "status"), [("0", 0), ("1", 1)])
def test_fail_under_exits_1_when_the_best_file_scores_below(project, threshold, status):
    out = acs_cli("localize", "--repo", str(project), "--fail-under", threshold, ISSUE)
    assert out.returncode == status, out.stderr
    assert out.stdout.startswith("{")  # the result is still written
    if status:
        assert re.fullmatch(
            r"acs: the best file scores 0\.\d{3}, under --fail-under 1\n", out.stderr
        )


def test_fail_under_when_nothing_is_found(make_tree):
    empty = make_tree({"README": "nothing here\n"})
    out = acs_cli("localize", "--repo", str(empty), "--fail-under", "0.1", "zzqx unrelated")
    assert out.returncode == 1
    assert out.stderr == "acs: no file found, under --fail-under 0.1\n"


@pytest.mark.parametrize("bad", ["-0.1", "1.5", "nan"])
def test_fail_under_outside_0_1_is_bad_usage(project, bad):
    out = acs_cli("localize", "--repo", str(project), f"--fail-under={bad}", ISSUE)
    assert out.returncode == 2
    assert "--fail-under must be a number in [0, 1]" in out.stderr


# -- completion ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scripts(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("completion")
    paths = {}
    for shell in ("bash", "zsh", "fish"):
        out = acs_cli("completion", shell)
        assert out.returncode == 0, out.stderr
        paths[shell] = folder / f"acs.{shell}"
        paths[shell].write_text(out.stdout)
    return paths


def _bash_complete(script: Path, line: str) -> list[str]:
    """What bash offers after `line` (a trailing space: a new, empty word)."""
    program = f"""
source {script}
read -ra COMP_WORDS <<< "$LINE"
[[ $LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
_acs
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    out = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, env={"LINE": line}
    )
    assert out.returncode == 0, out.stderr
    return [w for w in out.stdout.split("\n") if w]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_script_registers_a_completion_for_acs(scripts):
    out = subprocess.run(
        ["bash", "-c", f"source {scripts['bash']} && complete -p acs"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "complete -o default -F _acs acs"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize(
    ("line", "offered"),
    [
        (
            "acs ",
            ["demo", "plan", "localize", "index", "tool", "eval", "data", "mcp", "completion"],
        ),
        ("acs lo", ["localize"]),
        ("acs --v", ["--version"]),
        ("acs localize --fa", ["--fail-under"]),
        ("acs localize --format ", ["json", "text", "github"]),
        ("acs data m", ["mine"]),
        ("acs data mine --pur", ["--purpose"]),
        (
            "acs tool --repo . ",
            ["grep", "find_files", "symbols", "outline", "read", "references", "bm25", "imports"],
        ),
        ("acs completion ", ["bash", "zsh", "fish"]),
        ("acs localize --repo ", []),  # a value: bash falls back to file names
    ],
)
def test_bash_completes_subcommands_options_and_choices(scripts, line, offered):
    assert _bash_complete(scripts["bash"], line) == offered


def _run_shell(argv: list[str], home: Path) -> str:
    """`argv`'s stdout, run without the user's shell configuration."""
    out = subprocess.run(
        argv, capture_output=True, text=True, env={"HOME": str(home), "PATH": "/usr/bin:/bin"}
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(shutil.which("zsh") is None, reason="no zsh")
def test_zsh_script_registers_the_bash_completion(scripts, tmp_path):
    program = f"source {scripts['zsh']} && print -r -- ${{_comps[acs]}}"
    out = _run_shell(["zsh", "-f", "-c", program], tmp_path)
    assert out.strip() == "_bash_complete -o default -F _acs"


@pytest.mark.skipif(shutil.which("fish") is None, reason="no fish")
@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("acs lo", {"localize"}),
        ("acs data ", {"mine", "card"}),
        ("acs localize --format ", {"json", "text", "github"}),
        ("acs localize --fail", {"--fail-under"}),
    ],
)
def test_fish_completes_subcommands_options_and_choices(scripts, tmp_path, line, offered):
    program = f"source {scripts['fish']}; complete -C '{line}'"
    out = _run_shell(["fish", "--no-config", "-c", program], tmp_path)
    assert {row.split("\t")[0] for row in out.splitlines()} == offered


def test_unknown_shell_is_bad_usage():
    out = acs_cli("completion", "tcsh")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_a_reader_that_leaves_early_gets_no_traceback():
    """`acs --version | head -1`: the pipe closes before acs writes; `--version` prints while
    the arguments are parsed, so that too is inside the closed-pipe handling."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before acs starts
    try:
        done = subprocess.run(
            [sys.executable, "-m", "acs", "--version"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert done.returncode == 1
