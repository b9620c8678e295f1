"""The training data builders on Ray (`--executor ray`, `acs.distributed.ordered_map`): on a
local Ray instance they give exactly the rows the local threads give, in input order, and
their command lines take the executor options."""

from __future__ import annotations

import json
import operator
from pathlib import Path

import pytest

from acs.distributed import ordered_map, ray_session
from acs.errors import InvalidArgumentError
from acs.task.dataset import Instance
from acs.train.planner import rl_data, sft
from helpers.repos import repo_with_fix

ray = pytest.importorskip("ray", reason="pip install 'agentic-code-search[ray]'")

BEFORE = {
    "pkg/io.py": "class Reader:\n    def read(self):\n        return 1\n",
    "pkg/cli.py": "from pkg.io import Reader\n\n\ndef main():\n    return Reader().read()\n",
}
FIX = {"pkg/io.py": BEFORE["pkg/io.py"].replace("return 1", "return 2")}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Instance]]:
    repos = tmp_path_factory.mktemp("ray") / "repos"
    instances = []
    for name in ("widgets", "gadgets", "gizmos"):
        base, patch = repo_with_fix(repos / f"acme__{name}", BEFORE, FIX)
        issue = "Reader.read returns 1 instead of 2"
        instances.append(Instance(f"{name}-1", f"acme/{name}", base, issue, patch))
    missing = Instance("nowhere-1", "acme/nowhere", "0" * 40, "x", instances[0].patch)
    return repos, [*instances, missing]


@pytest.fixture(scope="module")
def session():
    with ray_session(num_cpus=2) as connected:
        yield connected
    assert not ray.is_initialized()  # the session this test started is shut down


def test_ordered_map_keeps_input_order_on_ray(session) -> None:
    items = list(range(12))  # (a library function: Ray workers cannot import test modules)
    assert ordered_map(operator.neg, items, executor="ray", workers=2) == [-x for x in items]
    assert session.is_initialized()  # a session already connected is left connected


def test_rl_rows_on_ray_are_the_local_rows(session, world) -> None:
    repos, instances = world
    local = rl_data.build_rows(instances, repos, workers=2)
    distributed = rl_data.build_rows(instances, repos, executor="ray", workers=2)
    assert len(local.rows) == 3 and local.skipped == {"no repository": 1}
    assert distributed.rows == local.rows and distributed.skipped == local.skipped


def test_sft_export_on_ray_is_the_local_export(session, world) -> None:
    repos, instances = world
    local = sft.export(instances, repos, min_reward=0.0)
    distributed = sft.export(instances, repos, min_reward=0.0, executor="ray", workers=2)
    # Messages, rewards, their terms (the latency is modelled, not timed) and ids agree.
    assert [r["instance_id"] for r in local.rows] == ["widgets-1", "gadgets-1", "gizmos-1"]
    assert distributed.rows == local.rows
    assert distributed.skipped == local.skipped == {"no repository": 1}


def test_the_commands_take_the_executor(session, world, tmp_path) -> None:
    repos, instances = world
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(i.to_json()) + "\n" for i in instances))
    out = tmp_path / "out"
    argv = [str(data), "--repos", str(repos), "--out", str(out), "--executor", "ray"]
    assert rl_data.main([*argv, "--workers", "2", "--val-fraction", "0.4"]) == 0
    assert (out / "train.parquet").is_file() and (out / "validation.parquet").is_file()
    sft_out = tmp_path / "sft.jsonl"
    assert (
        sft.main([str(data), "--repos", str(repos), "--out", str(sft_out), "--executor", "ray"])
        == 0
    )
    assert len(sft_out.read_text().splitlines()) == 3


def test_bad_executor_options_are_clear_errors(world) -> None:
    repos, instances = world
    with pytest.raises(InvalidArgumentError, match="executor must be one of"):
        rl_data.build_rows(instances, repos, executor="dask")
    with pytest.raises(InvalidArgumentError, match="ray_address needs executor='ray'"):
        sft.export(instances, repos, ray_address="auto")
