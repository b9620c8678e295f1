"""The RL data builder: SkyRL parquet rows from instances on real git repositories, with the
gold of `acs.task.groundtruth`, the planner's own prompt, a split by repository, and held-out
repositories refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import acs
from acs.errors import InvalidArgumentError
from acs.llm.prompt import Conversation, load_prompts
from acs.task.dataset import Instance
from acs.task.groundtruth import ground_truth
from acs.train.planner import rl_data
from helpers.repos import repo_with_fix

pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow comes with `datasets`")

BEFORE = {
    "pkg/io.py": "class Reader:\n    def read(self):\n        return 1\n\n\ndef f():\n    pass\n",
    "pkg/util.py": "X = 1\n",
}
AFTER = {
    "pkg/io.py": "class Reader:\n    def read(self):\n        return 2\n\n\ndef f():\n    pass\n",
    "pkg/util.py": "X = 2\n",
}


def make_repo(repos: Path, name: str) -> Instance:
    """A repository `acme/<name>` under `repos` (the `owner__name` layout) with one fix
    commit; the instance of that fix."""
    root = repos / f"acme__{name}"
    base, patch = repo_with_fix(root, BEFORE, AFTER)
    return Instance(f"acme__{name}-1", f"acme/{name}", base, "Reader.read returns 1", patch)


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path, list[Instance]]:
    repos = tmp_path / "repos"
    instances = [make_repo(repos, n) for n in ("widgets", "gadgets", "gizmos")]
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(i.to_json()) + "\n" for i in instances))
    return data, repos, instances


def test_cli_writes_skyrl_parquet_with_gold_from_acs_eval(dataset, tmp_path) -> None:
    # Run as training/train.sh runs it (`python -m`): a module-level name defined below the
    # `__main__` block once made every such run fail while in-process calls passed.
    data, repos, instances = dataset
    out = tmp_path / "out"
    args = [str(data), "--repos", str(repos), "--out", str(out), "--val-fraction", "0.3"]
    env = {**os.environ, "PYTHONPATH": str(Path(acs.__file__).parent.parent)}
    run = subprocess.run(
        [sys.executable, "-m", "acs.train.planner.rl_data", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    train = pq.read_table(out / "train.parquet")
    val = pq.read_table(out / "validation.parquet")
    assert train.column_names == ["prompt", "env_class", "reward_spec", "extra_info"]
    assert (train.num_rows, val.num_rows) == (2, 1)  # ceil(0.3 * 3) = 1 repository
    rows = train.to_pylist() + val.to_pylist()
    by_id = {i.instance_id: i for i in instances}
    for row in rows:
        inst = by_id[row["extra_info"]["instance_id"]]
        assert row["env_class"] == "acs-localize"
        assert row["extra_info"]["repo"] == inst.repo
        assert row["extra_info"]["base_commit"] == inst.base_commit
        root = repos / inst.repo.replace("/", "__")
        gold = ground_truth(acs.Repo.open(root, commit=inst.base_commit), inst.patch)
        assert row["reward_spec"] == {
            "method": "rule",
            "ground_truth": {
                "files": list(gold.files),
                "modules": list(gold.modules),
                "functions": list(gold.functions),
            },
        }
        assert gold.functions == ("pkg/io.py:Reader.read",)
        # The prompt is the planner's own first messages, word for word.
        expected = Conversation(load_prompts(), inst.problem_statement, 4).messages
        assert row["prompt"] == expected
    assert "train: 2 instances from 2 repositories" in run.stdout


def test_no_repository_in_both_splits(dataset) -> None:
    _, _, instances = dataset
    repos = [i.repo for i in instances] * 3
    for fraction in (0.1, 0.5, 0.9):
        train, val = rl_data.split_by_repo(repos, val_fraction=fraction, seed=7)
        assert not train & val and train | val == set(repos)
        assert train and val  # at least one each, never all in validation
    assert rl_data.split_by_repo(repos, val_fraction=0.5) == rl_data.split_by_repo(
        repos, val_fraction=0.5
    )  # a fixed seed: the same split every time
    train, val = rl_data.split_by_repo(repos, val_repos=["ACME/gizmos"])
    assert val == {"acme/gizmos"} and train == {"acme/widgets", "acme/gadgets"}
    assert rl_data.split_by_repo(repos, val_fraction=0.0)[1] == set()


def test_held_out_repositories_are_refused(dataset, tmp_path, capsys) -> None:
    _, repos, instances = dataset
    swe_bench = Instance("django__django-1", "django/django", "0" * 40, "bug", "")
    with pytest.raises(InvalidArgumentError, match="held-out"):
        rl_data.build_rows([instances[0], swe_bench], repos)
    data = tmp_path / "swe.jsonl"
    data.write_text(json.dumps(swe_bench.to_json()) + "\n")
    assert rl_data.main([str(data), "--repos", str(repos), "--out", str(tmp_path / "o")]) == 2
    assert "held-out" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    with pytest.raises(InvalidArgumentError, match="SWE-bench"):
        rl_data.check_source("princeton-nlp/SWE-bench_Lite")


def test_dev_set_and_unusable_instances_are_skipped_and_counted(dataset) -> None:
    _, repos, instances = dataset
    moto = Instance("getmoto__moto-1", "getmoto/moto", "0" * 40, "bug", "")
    missing = Instance("acme__nothere-1", "acme/nothere", "0" * 40, "bug", "")
    added_only = Instance(
        "acme__widgets-2",
        "acme/widgets",
        instances[0].base_commit,
        "add a file",
        "diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n"
        "@@ -0,0 +1 @@\n+x = 1\n",
    )
    built = rl_data.build_rows([instances[0], moto, missing, added_only], repos)
    assert [r["extra_info"]["instance_id"] for r in built.rows] == [instances[0].instance_id]
    assert built.skipped == {
        "development-set repository": 1,
        "no repository": 1,
        "no gold file": 1,
    }


def test_an_empty_split_still_has_the_column_types(tmp_path) -> None:
    rl_data.write_parquet([], tmp_path / "empty.parquet")
    table = pq.read_table(tmp_path / "empty.parquet")
    assert table.num_rows == 0
    assert str(table.schema.field("prompt").type) == (
        "list<element: struct<role: string, content: string>>"
    )


def test_one_repository_gives_an_empty_validation_split_and_says_so(dataset, tmp_path, capsys):
    # SkyRL cannot load a parquet file with no row: the launch (acs.train.planner.skyrl_main) leaves
    # it out and trains without evaluation, and the builder says so.
    data, repos, _ = dataset
    one = tmp_path / "one.jsonl"
    one.write_text(data.read_text().splitlines()[0] + "\n")
    out = tmp_path / "out"
    assert rl_data.main([str(one), "--repos", str(repos), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "validation: 0 instances" in printed
    assert "validation.parquet has no rows" in printed and "without evaluation" in printed
    assert pq.read_table(out / "validation.parquet").num_rows == 0  # no older split stays
    assert pq.read_table(out / "train.parquet").num_rows == 1


def test_nothing_to_train_on_is_an_error_and_writes_nothing(dataset, tmp_path, capsys) -> None:
    data, repos, instances = dataset
    out = tmp_path / "out"
    every = ",".join(i.repo for i in instances)
    args = [str(data), "--repos", str(repos), "--out", str(out), "--val-repos", every]
    assert rl_data.main(args) == 2
    assert "no instance to train on (every usable one is in --val-repos)" in capsys.readouterr().err
    unusable = tmp_path / "unusable.jsonl"
    unusable.write_text(json.dumps({**instances[0].to_json(), "repo": "acme/nothere"}) + "\n")
    assert rl_data.main([str(unusable), "--repos", str(repos), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no instance to train on (none usable)" in err
    assert not out.exists()


def test_rows_are_written_in_and_record_the_prompt_version(dataset) -> None:
    _, repos, instances = dataset
    inst = instances[0]
    for asked, version in ((None, "planner-v3"), ("planner-v1", "planner-v1")):
        options = {"prompt_version": asked} if asked else {}
        (row,) = rl_data.build_rows([inst], repos, **options).rows
        assert row["extra_info"]["prompt_version"] == version
        expected = Conversation(load_prompts(version), inst.problem_statement, 4).messages
        assert row["prompt"] == expected


def test_an_unknown_prompt_version_is_a_one_line_error(dataset, tmp_path, capsys) -> None:
    data, repos, _ = dataset
    out = tmp_path / "out"
    args = [str(data), "--repos", str(repos), "--out", str(out), "--prompt-version", "v" * 10**6]
    assert rl_data.main(args) == 2
    err = capsys.readouterr().err
    assert "no prompt version" in err and "known: planner-v1, planner-v2" in err
    assert len(err) < 400 and not out.exists()
