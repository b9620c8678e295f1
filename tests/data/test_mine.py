"""`acs data mine`: training instances from git history, on real repositories built here with
one crafted commit per filter, each asserted exactly (what is emitted, and every count)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

import orjson
import pytest

from acs.cli import main
from acs.data.filters import LABELS, REASONS
from acs.data.mine import Miner
from acs.errors import InvalidArgumentError
from acs.repo import Repo
from acs.task.dataset import load_instances
from acs.task.groundtruth import ground_truth
from helpers import ROOT
from helpers.repos import GIT_ENV

CORE = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(3))
HEADER = """def parse_header(text):
    name, _, value = text.partition(":")
    return name.strip(), value.strip()


def width():
    return 1
"""


class History:
    """A git repository grown one commit at a time, with fixed names and dates (each commit
    a day after the previous one), so commit ids are the same on every run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.day = 0
        root.mkdir()
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        out = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env={**GIT_ENV, **(env or {})},
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def dates(self) -> dict[str, str]:
        """The next day's date: the first commit is made on 2024-01-02 at midnight UTC."""
        self.day += 1
        stamp = f"{1704067200 + 86400 * self.day} +0000"
        return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}

    def write(self, files: Mapping[str, str | None]) -> None:
        for rel, content in files.items():
            path = self.root / rel
            if content is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)

    def commit(
        self,
        message: str,
        files: Mapping[str, str | None],
        author: tuple[str, str] = ("Ada", "ada@example.com"),
    ) -> str:
        self.write(files)
        self.git("add", "-A")
        env = {**self.dates(), "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]}
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, message: str, files: Mapping[str, str | None]) -> str:
        """A branch with one commit, merged with `--no-ff` and `message`."""
        self.git("checkout", "-q", "-b", branch)
        self.commit(f"work on {branch} in the branch itself", files)
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--no-ff", "-m", message, branch, env=self.dates())
        return self.git("rev-parse", "HEAD")


def modules(n: int, body: str = "x = 1\n") -> dict[str, str]:
    return {f"pkg/m{i:02d}.py": body for i in range(n)}


def build(root: Path) -> tuple[History, dict[str, str]]:
    """One commit per filter, oldest first; returns the commit of each, by name."""
    h = History(root)
    c: dict[str, str] = {}
    c["root"] = h.commit(
        "Initial import of the widgets package",
        {
            "pkg/core.py": CORE,
            "pkg/header.py": HEADER,
            "pkg/util.py": "def helper():\n    return 42\n",
            "docs/index.rst": "Widgets\n=======\n",
            "setup.cfg": "[metadata]\nname = widgets\nversion = 1.1\n",
            "CHANGES.rst": "1.1\n---\n",
            "tests/test_core.py": "def test_f0():\n    pass\n",
            "README.md": "# widgets\n",
            **modules(16),
        },
    )
    c["fix"] = h.commit(
        "Fix parse_header crash on empty header lines\n\n"
        "The parser raised ValueError when a line had no colon.\n\n"
        "Signed-off-by: Ada <ada@example.com>\n"
        "Co-authored-by: Bob <bob@example.com>\n",
        {
            "pkg/header.py": HEADER.replace(
                '    name, _, value = text.partition(":")\n',
                '    if ":" not in text:\n        return text, ""\n'
                '    name, _, value = text.partition(":")\n',
            ),
            "tests/test_core.py": "def test_f0():\n    pass\n\n\ndef test_empty():\n    pass\n",
        },
    )
    c["bot"] = h.commit(
        "Bump requests from 2.0 to 2.1 in the requirements",
        {"pkg/util.py": "def helper():\n    return 43\n"},
        author=("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
    )
    c["release"] = h.commit(
        "Release 1.2.0", {"CHANGES.rst": "1.2\n---\n", "setup.cfg": "[metadata]\nversion = 1.2\n"}
    )
    c["version-bump"] = h.commit(
        "Bump version to 1.3.dev0", {"setup.cfg": "[metadata]\nversion = 1.3.dev0\n"}
    )
    c["generic-message"] = h.commit(
        "Apply suggestions from code review", {"pkg/util.py": "def helper():\n    return 44\n"}
    )
    c["short-message"] = h.commit(
        "tweak renderer output", {"pkg/util.py": "def helper():\n    return 45\n"}
    )
    c["test-only"] = h.commit(
        "Add more tests for header parsing edge cases",
        {"tests/test_core.py": "def test_f0():\n    pass\n\n\ndef test_more():\n    pass\n"},
    )
    c["changelog-only"] = h.commit(
        "Document the header fix in the changelog", {"CHANGES.rst": "1.3\n---\n* header fix\n"}
    )
    c["renames"] = h.commit(
        "Move the helpers into a private module for clarity",
        {"pkg/util.py": None, "pkg/_util.py": "def helper():\n    return 45\n"},
    )
    c["added-only"] = h.commit(
        "Add a new plugin module for colour output",
        {"pkg/colour.py": "RED = 1\n", "tests/test_colour.py": "def test_red():\n    pass\n"},
    )
    c["reformat"] = h.commit(
        "Reformat the code base with black", modules(5, "x = 1  # formatted\n")
    )
    c["too-many-files"] = h.commit(
        "Rename the frobnicate option everywhere in the package", modules(16, "x = 2\n")
    )
    c["too-many-lines"] = h.commit(
        "Rewrite the tokenizer to handle nested quotes properly",
        {"pkg/core.py": "".join(f"y{i} = {i}\n" for i in range(1001))},
    )
    c["docs-only"] = h.commit(
        "Explain the header syntax in the user guide",
        {"docs/index.rst": "Widgets\n=======\n\nHeaders are name: value.\n"},
    )
    c["config-only"] = h.commit(
        "Require Python 3.11 or newer in the package metadata",
        {"setup.cfg": "[metadata]\nversion = 1.3.dev0\npython_requires = >=3.11\n"},
    )
    c["squash"] = h.commit(
        "Handle tabs in header values (#12)\n\n"
        "Tabs around the value were kept.\n\n"
        "(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)\n",
        {"pkg/header.py": HEADER.replace("value.strip()", 'value.strip(" \\t")')},
    )
    c["widen"] = h.commit(
        "Widen headers to the new default width",
        {
            "pkg/header.py": HEADER.replace("value.strip()", 'value.strip(" \\t")').replace(
                "return 1", "return 2"
            )
        },
    )
    c["revert"] = h.commit(
        "Revert the header width change for compatibility",
        {"pkg/header.py": HEADER.replace("value.strip()", 'value.strip(" \\t")')},
    )
    c["repeat"] = h.commit(  # the same change as "widen": a cherry-pick onto this line
        "Backport: widen headers to the new default width",
        {
            "pkg/header.py": HEADER.replace("value.strip()", 'value.strip(" \\t")').replace(
                "return 1", "return 2"
            )
        },
    )
    c["merge-no-text"] = h.merge("stable", "Merge branch 'stable'", {"pkg/_util.py": "z = 1\n"})
    c["pr"] = h.merge(
        "fix-render",
        "Merge pull request #7 from someone/fix-render\n\n"
        "Render colours in the renderer correctly\n\n"
        "The renderer ignored the colour argument.\n",
        {"pkg/colour.py": "RED = 2\n"},
    )
    return h, c


@pytest.fixture
def history(tmp_path: Path) -> tuple[History, dict[str, str]]:
    return build(tmp_path / "widgets")


def mine(path: Path, **kwargs: object) -> tuple[list[dict], Miner]:
    limits = {k: kwargs.pop(k) for k in ("max_instances", "since", "until") if k in kwargs}
    miner = Miner(path, **{"name": "acme/widgets", **kwargs})  # type: ignore[arg-type]
    return list(miner.instances(**limits)), miner  # type: ignore[arg-type]


def counts(**nonzero: int) -> dict[str, int]:
    out = dict.fromkeys(REASONS, 0)
    out.update({k.replace("_", "-"): v for k, v in nonzero.items()})
    return out


def test_one_commit_per_filter(history: tuple[History, dict[str, str]]) -> None:
    h, c = history
    instances, miner = mine(h.root)
    by_commit = {i["commit"]: i for i in instances}
    emitted = [name for name, sha in c.items() if sha in by_commit]
    assert emitted == ["fix", "docs-only", "config-only", "squash", "revert", "repeat", "pr"]
    summary = miner.summary.to_json()
    assert summary["filtered"] == counts(
        root=1,
        merge_no_text=1,
        bot=1,
        release=1,
        version_bump=1,
        generic_message=1,
        short_message=1,
        test_only=1,
        changelog_only=1,
        renames=1,
        added_only=1,
        reformat=1,
        too_many_files=1,
        too_many_lines=1,
        duplicate=1,  # "widen": newest first, its repeat (the same lines) came first
    )
    assert summary["seen"] == len(c) == 22
    assert summary["emitted"] == len(instances) == 7
    assert summary["seen"] == summary["emitted"] + sum(summary["filtered"].values())
    assert summary["labels"] == {"docs-only": 1, "config-only": 1, "docs-config-only": 0}
    assert summary["with_tests"] == 1
    assert [i["labels"] for i in instances if i["labels"]] == [["config-only"], ["docs-only"]]
    # closeness: only "fix" has any signal (three points); the six others none
    assert summary["points"] == {"0": 6, "1": 0, "2": 0, "3": 1, "4": 0, "5": 0, "6": 0}
    assert summary["closeness"] == {
        "long": 0, "names_path": 0, "names_code": 1, "error": 1, "code": 0, "bug_report": 1,
        "traceback": 0, "changelog_line": 0,
    }  # fmt: skip


def test_min_closeness_filters_far_from_issue(history: tuple[History, dict[str, str]]) -> None:
    from acs.data.filters import Limits

    h, c = history
    instances, miner = mine(h.root, limits=Limits(min_closeness=0.5))
    assert [i["commit"] for i in instances] == [c["fix"]]
    summary = miner.summary.to_json()
    # a message check: it comes before the change checks, so the messages that would have
    # failed them (test-only, renames, ...) and are far from an issue count here
    assert summary["filtered"]["far-from-issue"] == 14
    assert summary["filtered"]["test-only"] == summary["filtered"]["duplicate"] == 0
    assert summary["seen"] == summary["emitted"] + sum(summary["filtered"].values())
    assert summary["options"]["min_closeness"] == 0.5


def test_a_github_squash_keeps_its_body_without_review_bookkeeping(tmp_path: Path) -> None:
    h = small_history(tmp_path / "r")
    sha = h.commit(
        "Handle tabs around header values (#12)\n\n"
        "* Handle tabs around header values\n\n"
        "Tabs were kept in the value: ValueError in `width()` later.\n\n"
        "* Apply suggestions from code review\n\n"
        "Co-authored-by: B <b@example.com>\n\n"
        "* [pre-commit.ci] auto fixes from pre-commit.com hooks\n\n"
        "for more information, see https://pre-commit.ci\n\n"
        "* Add a changelog entry\n\n"
        "---------\n\n"
        "Co-authored-by: B <b@example.com>\n"
        "Signed-off-by: A <a@example.com>\n",
        {"pkg/header.py": HEADER.replace("value.strip()", "value.strip(' \\t\\n')")},
    )
    instances, _ = mine(h.root)
    assert instances[0]["commit"] == sha
    assert instances[0]["problem_statement"] == (
        "Handle tabs around header values\n\n"
        "Tabs were kept in the value: ValueError in `width()` later."
    )


def test_newest_first_and_max(history: tuple[History, dict[str, str]]) -> None:
    h, c = history
    instances, miner = mine(h.root, max_instances=2)
    assert [i["commit"] for i in instances] == [c["pr"], c["repeat"]]
    # stopped at the second instance: the merge without text before it was seen too
    assert miner.summary.seen == 3
    assert miner.summary.filtered == counts(merge_no_text=1)


def test_instance_fields_and_trailers(history: tuple[History, dict[str, str]]) -> None:
    h, c = history
    instances, _ = mine(h.root)
    fix = next(i for i in instances if i["commit"] == c["fix"])
    assert fix["instance_id"] == f"acme__widgets-{c['fix'][:12]}"
    assert fix["repo"] == "acme/widgets"
    assert fix["base_commit"] == c["root"]
    assert fix["problem_statement"] == (
        "Fix parse_header crash on empty header lines\n\n"
        "The parser raised ValueError when a line had no colon."
    )
    assert fix["created_at"] == "2024-01-03T00:00:00Z"  # git writes UTC as Z
    assert fix["labels"] == []
    assert re.findall(r"^diff --git a/(\S+)", fix["patch"], re.M) == ["pkg/header.py"]
    assert re.findall(r"^diff --git a/(\S+)", fix["test_patch"], re.M) == ["tests/test_core.py"]
    assert set(fix) == {
        "instance_id", "repo", "base_commit", "problem_statement", "patch", "test_patch",
        "changelog_patch", "created_at", "commit", "labels", "closeness",
    }  # fmt: skip
    # `parse_header`, `ValueError`, "crash": three of the six signals of an issue
    assert fix["closeness"] == {
        "score": 0.5, "words": 18, "chars": len(fix["problem_statement"]), "long": False,
        "names_path": False, "names_code": True, "traceback": False, "error": True,
        "code": False, "bug_report": True, "changelog_line": False,
    }  # fmt: skip


def test_squash_suffix_cherry_pick_line_and_merge_text(
    history: tuple[History, dict[str, str]],
) -> None:
    h, c = history
    instances, _ = mine(h.root)
    text = {i["commit"]: i["problem_statement"] for i in instances}
    assert text[c["squash"]] == "Handle tabs in header values\n\nTabs around the value were kept."
    assert text[c["pr"]] == (
        "Render colours in the renderer correctly\n\nThe renderer ignored the colour argument."
    )
    pr = next(i for i in instances if i["commit"] == c["pr"])
    # a merged pull request is the diff from the first parent: the whole pull request
    assert pr["base_commit"] == h.git("rev-parse", f"{c['pr']}^1")
    assert re.findall(r"^diff --git a/(\S+)", pr["patch"], re.M) == ["pkg/colour.py"]


def test_release_notes_go_to_their_own_diff(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    h.commit("Initial import of the widgets package", {"pkg/header.py": HEADER, "CHANGES.rst": ""})
    fix = h.commit(
        "Widen headers to the new default width",
        {
            "pkg/header.py": HEADER.replace("return 1", "return 2"),
            "CHANGES.rst": "* Headers are wider.\n",
            "tests/test_header.py": "def test_width():\n    pass\n",
        },
    )
    files = re.compile(r"^diff --git a/(\S+)", re.M)
    (instance,), _ = mine(h.root)
    assert instance["commit"] == fix
    assert files.findall(instance["patch"]) == ["pkg/header.py"]
    assert files.findall(instance["changelog_patch"]) == ["CHANGES.rst"]
    assert files.findall(instance["test_patch"]) == ["tests/test_header.py"]
    (kept,), _ = mine(h.root, keep_changelog=True)
    assert files.findall(kept["patch"]) == ["CHANGES.rst", "pkg/header.py"]
    assert kept["changelog_patch"] == ""


def test_a_cherry_pick_is_a_duplicate(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    h.commit("Initial import of the widgets package", {"pkg/header.py": HEADER})
    first = h.commit(
        "Widen headers to the new default width",
        {"pkg/header.py": HEADER.replace("return 1", "return 2")},
    )
    h.commit("Restore the old header width for now", {"pkg/header.py": HEADER})
    pick = h.commit(
        "Widen headers to the new default width again (backport)",
        {"pkg/header.py": HEADER.replace("return 1", "return 2")},
    )
    same_text = h.commit(
        "Restore the old header width for now",
        {"pkg/header.py": HEADER.replace("return 1", "return 3")},
    )
    instances, miner = mine(h.root)
    # newest first: the later copy is kept, the earlier one (same patch; same text) dropped
    assert [i["commit"] for i in instances] == [same_text, pick]
    assert first not in {i["commit"] for i in instances}
    assert miner.summary.filtered == counts(root=1, duplicate=2)


def test_ground_truth_and_load_instances_read_the_output(
    history: tuple[History, dict[str, str]], tmp_path: Path
) -> None:
    h, c = history
    out = tmp_path / "out" / "widgets.jsonl"
    summary = tmp_path / "widgets.summary.json"
    status = main(
        ["data", "mine", str(h.root), "--name", "acme/widgets", "--out", str(out),
         "--summary", str(summary)]
    )  # fmt: skip
    assert status == 0
    loaded = load_instances(out)
    assert len(loaded) == 7
    fix = next(i for i in loaded if i.instance_id.endswith(c["fix"][:12]))
    gold = ground_truth(Repo.open(h.root, commit=fix.base_commit), fix.patch)
    assert gold.files == ("pkg/header.py",)
    assert gold.functions == ("pkg/header.py:parse_header",)
    data = orjson.loads(summary.read_bytes())
    assert data["emitted"] == 7 and data["seen"] == 22
    assert not list(out.parent.glob("*.part"))


def test_cli_options_and_summary_on_stderr(
    history: tuple[History, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h, c = history
    out = tmp_path / "o.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    assert main(
        ["data", "mine", str(h.root), "--name", "acme/widgets", "--out", str(out),
         "--max", "3", "--rejects", str(rejects)]
    ) == 0  # fmt: skip
    assert len(out.read_text().splitlines()) == 3
    err = capsys.readouterr().err
    assert "acme/widgets: 3 instances from 4 commits" in err
    assert "merge-no-text: 1" in err
    rows = [orjson.loads(line) for line in rejects.read_text().splitlines()]
    assert rows == [
        {"commit": c["merge-no-text"], "reason": "merge-no-text", "title": "Merge branch 'stable'"}
    ]


def test_since_and_until_select_by_commit_date(history: tuple[History, dict[str, str]]) -> None:
    h, c = history
    # the root commit is made on January 2nd, "fix" on the 3rd, "bot" on the 4th
    instances, miner = mine(h.root, since="2024-01-02T12:00:00Z", until="2024-01-04T12:00:00Z")
    assert [i["commit"] for i in instances] == [c["fix"]]
    assert miner.summary.seen == 2 and miner.summary.filtered == counts(bot=1)


# -- exclusions -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["django/django", "Pallets/Flask", "ANTONOSIKA/gpt-engineer"])
def test_held_out_repositories_are_refused(tmp_path: Path, name: str) -> None:
    h = History(tmp_path / "r")
    h.commit("Initial import of the package", {"a.py": "x = 1\n"})
    for purpose in ("train", "eval"):
        with pytest.raises(InvalidArgumentError, match="held-out"):
            Miner(h.root, name=name, purpose=purpose)  # type: ignore[arg-type]


def test_held_out_origin_is_refused_whatever_the_name(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    h.commit("Initial import of the package", {"a.py": "x = 1\n"})
    h.git("remote", "add", "origin", "https://github.com/Django/django.git")
    with pytest.raises(InvalidArgumentError, match="held-out"):
        Miner(h.root, name="acme/widgets")
    with pytest.raises(InvalidArgumentError, match="held-out"):
        Miner(h.root)


def test_dev_set_is_refused_for_training_and_allowed_for_eval(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    h.commit("Initial import of the package", {"a.py": "x = 1\n"})
    with pytest.raises(InvalidArgumentError, match="development-set"):
        Miner(h.root, name="getmoto/moto")
    with pytest.raises(InvalidArgumentError, match="development-set"):
        Miner(h.root, name="Python/MyPy", purpose="train")
    assert Miner(h.root, name="getmoto/moto", purpose="eval").repo == "getmoto/moto"


def test_exclude_repos_from_a_list_or_a_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    h = History(tmp_path / "r")
    h.commit("Initial import of the package", {"a.py": "x = 1\n"})
    with pytest.raises(InvalidArgumentError, match="exclude-repos"):
        Miner(h.root, name="acme/widgets", exclude=["ACME/Widgets"])
    listing = tmp_path / "exclude.txt"
    listing.write_text("# never these\nother/thing\nacme/widgets  # ours\n")
    out = tmp_path / "o.jsonl"
    for value in (str(listing), "other/thing,acme/widgets"):
        with pytest.raises(SystemExit) as e:
            main(["data", "mine", str(h.root), "--name", "acme/widgets", "--out", str(out),
                  "--exclude-repos", value])  # fmt: skip
        assert e.value.code == 2
    assert "acme/widgets is in --exclude-repos" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refusals_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    h = History(tmp_path / "r")
    h.commit("Initial import of the package", {"a.py": "x = 1\n"})
    out = tmp_path / "o.jsonl"
    for argv in (
        ["--name", "sympy/sympy"],
        ["--name", "dask/dask"],
        ["--name", "dask/dask", "--purpose", "train"],
        [],  # no origin remote: the name must be given
        ["--name", "not a name"],
    ):
        with pytest.raises(SystemExit) as e:
            main(["data", "mine", str(h.root), "--out", str(out), *argv])
        assert e.value.code == 2, argv
    err = capsys.readouterr().err
    assert "sympy/sympy is a held-out test repository" in err
    assert "dask/dask is a development-set repository" in err
    assert "give --name owner/name" in err
    assert main(["data", "mine", str(h.root), "--out", str(out), "--name", "dask/dask",
                 "--purpose", "eval"]) == 0  # fmt: skip
    for value in ("1.5", "-0.1", "nan"):
        with pytest.raises(SystemExit) as e:
            main(["data", "mine", str(h.root), "--out", str(out), "--name", "a/b",
                  "--min-closeness", value])  # fmt: skip
        assert e.value.code == 2, value
    assert "--min-closeness must be between 0 and 1" in capsys.readouterr().err


def test_name_from_the_origin_remote(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    h.commit("Initial import of the package", {"a.py": "x = 1\n"})
    h.git("remote", "add", "origin", "git@github.com:acme/gadgets.git")
    assert Miner(h.root).repo == "acme/gadgets"


# -- damaged and partial repositories -------------------------------------------------------


def test_a_shallow_clone_survives(history: tuple[History, dict[str, str]], tmp_path: Path) -> None:
    h, c = history
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "3", f"file://{h.root}", str(clone)],
        env=GIT_ENV,
        check=True,
    )
    instances, miner = mine(clone)
    # three first-parent commits: the PR merge, the text-less merge, and "repeat" at the cut
    # (its parent is not in the clone)
    assert [i["commit"] for i in instances] == [c["pr"]]
    assert miner.summary.seen == 3
    assert miner.summary.filtered == counts(merge_no_text=1, parent_missing=1)


def test_a_missing_object_is_unreadable_and_mining_goes_on(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    h.commit(
        "Initial import of the widgets package", {"pkg/header.py": HEADER, "pkg/tok.py": "x\n"}
    )
    lost = h.commit(
        "Widen headers to the new default width",
        {"pkg/header.py": HEADER.replace("return 1", "return 2")},
    )
    h.commit(
        "Handle tabs around header values properly",
        {"pkg/header.py": HEADER.replace("return 1", "return 2").replace("value.strip()", "v")},
    )
    final = h.commit(
        "Tokenize quoted strings in the tokenizer helper",
        {"pkg/tok.py": "def tokens(s):\n    return s.split()\n"},
    )
    # delete the blob "lost" wrote: neither its diff nor the next one can be read
    blob = h.git("rev-parse", f"{lost}:pkg/header.py")
    (h.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    instances, miner = mine(h.root)
    assert [i["commit"] for i in instances] == [final]
    assert miner.summary.filtered == counts(root=1, unreadable=2)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        main(["data", "mine", str(tmp_path), "--name", "a/b", "--out", str(tmp_path / "o")])
    assert e.value.code == 1


# -- the card and the held-out list ---------------------------------------------------------


def test_card_tables_sum_the_summaries(
    history: tuple[History, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h, _ = history
    for name in ("acme/widgets", "acme/gadgets"):
        owner, repo = name.split("/")
        assert main(
            ["data", "mine", str(h.root), "--name", name, "--out",
             str(tmp_path / f"{owner}__{repo}.jsonl"),
             "--summary", str(tmp_path / f"{owner}__{repo}.summary.json")]
        ) == 0  # fmt: skip
    repos = tmp_path / "repos.txt"
    repos.write_text("acme/widgets  # widgets\nacme/gadgets  # gadgets\n")
    capsys.readouterr()
    assert main(["data", "card", str(tmp_path), "--repos-file", str(repos)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    # the last column: the mean closeness score, 3 points of 6 on one instance of 7
    assert lines[2] == "| acme/widgets | widgets | 22 | 7 | 1 | 1 | 1 | 0 | 0.07 |"
    assert lines[3] == "| acme/gadgets | gadgets | 22 | 7 | 1 | 1 | 1 | 0 | 0.07 |"
    assert lines[4] == "| **total** (2) | | 44 | 14 | 2 | 2 | 2 | 0 | 0.07 |"
    assert "| closeness signal (of 14 scored instances) | instances | share |" in lines
    assert "| names_code | 2 | 14.3% |" in lines and "| long | 0 | 0.0% |" in lines
    assert "| 0 | 12 | 85.7% |" in lines and "| 3 | 2 | 14.3% |" in lines
    assert "| *emitted* | 14 | 31.8% |" in lines
    assert "| duplicate | 2 | 4.5% |" in lines
    reasons = [line for line in lines if line.startswith("| ") and "%" in line]
    assert len(reasons) == 1 + len(REASONS) + 8 + 7  # and the closeness signals and points
    assert LABELS == ("docs-only", "config-only", "docs-config-only")


def test_developers_md_lists_exactly_the_held_out_and_dev_repositories() -> None:
    from acs.data.heldout import DEV_SET, HELD_OUT

    text = (ROOT / "DEVELOPERS.md").read_text(encoding="utf-8")
    held, _, dev = text.partition("## Development set")
    held = held.partition("## Held-out repositories")[2]
    dev = dev.partition("\n## ")[0]
    names = re.compile(r"`([\w.-]+/[\w.-]+)`")
    assert sorted(names.findall(held)) == sorted(HELD_OUT)
    assert sorted(names.findall(dev)) == sorted(DEV_SET)
    assert len(HELD_OUT) == len({n.lower() for n in HELD_OUT}) == 41
    assert len(DEV_SET) == 10


def test_data_mine_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["data", "mine", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--exclude-repos" in out and "--purpose" in out
    assert "65,536" in out and "--force" in out  # the message cap and the overwrite rule


def test_the_training_repositories_may_all_be_mined_for_training() -> None:
    from acs.data.cli import read_domains
    from acs.data.heldout import check_allowed

    text = (ROOT / "training" / "repos.txt").read_text(encoding="utf-8")
    domains = read_domains(text)
    # issue 23: at least 100 repositories, each once, each with its domain
    assert len(domains) >= 100 and all(domains.values())
    assert len({name.lower() for name in domains}) == len(domains)
    for name in domains:
        check_allowed(name, purpose="train")  # neither held out nor in the development set


# -- hostile repositories and outputs (issue 20) --------------------------------------------


def small_history(root: Path) -> History:
    h = History(root)
    h.commit("Initial import of the widgets package", {"pkg/header.py": HEADER})
    h.commit(
        "Handle tabs around header values properly",
        {"pkg/header.py": HEADER.replace("value.strip()", "value.strip(' \\t')")},
    )
    return h


def commit_from_file(h: History, message: str, files: Mapping[str, str]) -> None:
    """A commit whose message is too long for a command line."""
    h.write(files)
    h.git("add", "-A")
    path = h.root.parent / "message.txt"
    path.write_text(message)
    h.git("commit", "-q", "-F", str(path), env=h.dates())


def run_mine(root: Path, out: Path, *extra: str) -> int:
    argv = ["data", "mine", str(root), "--name", "acme/widgets", "--out", str(out), *extra]
    try:
        return main(argv)
    except SystemExit as e:
        return int(e.code or 0)


def test_an_empty_repository_says_it_has_no_commits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = History(tmp_path / "empty")
    out = tmp_path / "o.jsonl"
    assert run_mine(h.root, out) == 1
    err = capsys.readouterr().err
    assert "has no commits" in err and "cannot write" not in err
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_a_huge_commit_message_is_cut_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from acs.data.mine import MAX_MESSAGE_CHARS

    h = small_history(tmp_path / "r")
    huge = "Handle quoted header values in the parser\n\n" + "the parser drops a quote " * 400_000
    commit_from_file(h, huge, {"pkg/header.py": HEADER.replace("return 1", "return 2")})
    # rejected (test-only), with a 1 MB title
    commit_from_file(h, "x" * 1_000_000, {"tests/test_x.py": "def test(): pass\n"})
    out, rejects, summary = tmp_path / "o.jsonl", tmp_path / "rej.jsonl", tmp_path / "s.json"
    assert run_mine(h.root, out, "--rejects", str(rejects), "--summary", str(summary)) == 0
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(huge) > 10_000_000 and len(rows) == 2
    statement = rows[0]["problem_statement"]
    assert (
        statement.startswith("Handle quoted header values") and len(statement) <= MAX_MESSAGE_CHARS
    )
    assert orjson.loads(summary.read_bytes())["truncated"] == 1
    assert "problem statements cut to 65,536 characters: 1" in capsys.readouterr().err
    titles = [orjson.loads(line)["title"] for line in rejects.read_bytes().splitlines()]
    assert max(len(t) for t in titles) <= 200


def test_out_refuses_a_file_it_did_not_write_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = small_history(tmp_path / "r")
    out = tmp_path / "notes.txt"
    out.write_text("my notes\n")
    assert run_mine(h.root, out) == 2
    assert "is not an earlier acs data mine instances file" in capsys.readouterr().err
    assert out.read_text() == "my notes\n"
    assert run_mine(h.root, out, "--force") == 0
    assert orjson.loads(out.read_bytes().splitlines()[0])["repo"] == "acme/widgets"
    # an earlier output is replaced as it is, and so is an empty file
    assert run_mine(h.root, out) == 0
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    assert run_mine(h.root, empty) == 0 and empty.read_bytes()


@pytest.mark.parametrize("flag", ["--rejects", "--summary"])
def test_rejects_and_summary_refuse_a_foreign_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    h = small_history(tmp_path / "r")
    other = tmp_path / "other.json"
    other.write_text('{"mine": true}\n')
    out = tmp_path / "o.jsonl"
    assert run_mine(h.root, out, flag, str(other)) == 2
    assert f"{flag} {other} exists" in capsys.readouterr().err
    assert other.read_text() == '{"mine": true}\n' and not out.exists()


@pytest.mark.parametrize("target", ["pkg/header.py", ".git/config", ".git/new.jsonl"])
def test_out_never_writes_the_mined_repository_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    h = small_history(tmp_path / "r")
    path = h.root / target
    before = path.read_bytes() if path.exists() else None
    assert run_mine(h.root, path, "--force") == 2
    assert "of the mined repository" in capsys.readouterr().err
    assert (path.read_bytes() if path.exists() else None) == before


def test_out_may_be_an_untracked_path_of_the_work_tree(tmp_path: Path) -> None:
    # Mining reads commits, never the work tree: an output there changes nothing mined.
    h = small_history(tmp_path / "r")
    out = h.root / "data" / "widgets.jsonl"
    assert run_mine(h.root, out) == 0
    assert len(out.read_bytes().splitlines()) == 1


def test_a_file_named_like_the_partial_output_is_left_alone(tmp_path: Path) -> None:
    h = small_history(tmp_path / "r")
    out = tmp_path / "o.jsonl"
    stray = tmp_path / "o.jsonl.part"
    stray.write_text("not ours\n")
    assert run_mine(h.root, out) == 0
    assert stray.read_text() == "not ours\n"


def test_mine_sh_mines_every_listed_repository_and_passes_min_closeness(tmp_path: Path) -> None:
    import os
    import sys

    mirrors = tmp_path / "mirrors"
    (mirrors / "acme+widgets").mkdir(parents=True)
    _, c = build(mirrors / "acme+widgets" / "repo")  # a work tree where a mirror goes: git -C
    repos = tmp_path / "repos.txt"
    repos.write_text("# header\nacme/widgets  # widgets\n")
    out = tmp_path / "out"
    env = {
        **GIT_ENV,
        "REPOS": str(repos),
        "ACS": f"{sys.executable} -m acs",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")]),
    }
    for extra, commits in (([], 7), (["--min-closeness", "0.5"], 1)):
        subprocess.run(
            [str(ROOT / "training" / "mine.sh"), str(mirrors), str(out), "--jobs", "1", *extra],
            env=env,
            check=True,
            capture_output=True,
        )
        rows = [orjson.loads(line) for line in (out / "train.jsonl").read_bytes().splitlines()]
        assert len(rows) == commits, extra
        summary = orjson.loads((out / "acme__widgets.summary.json").read_bytes())
        assert summary["options"]["min_closeness"] == (0.5 if extra else 0.0)
        assert "| closeness points | instances | share |" in (out / "card.md").read_text()
    assert [r["commit"] for r in rows] == [c["fix"]]
