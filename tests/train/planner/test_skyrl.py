"""SkyRL 0.4's own code against ours (run by scripts/test-skyrl, in a Python >= 3.12 virtualenv
with SkyRL's CPU-installable stack; elsewhere these skip): `rl_data`'s parquet read by SkyRL's
`PromptDataset`, an empty validation split, `training/train.sh` on a fresh data folder up to
SkyRL's GPU placement group, and the exit code through SkyRL's own entrypoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import acs
from acs.llm.prompt import Conversation, load_prompts
from acs.llm.scripted import toy_tokenizer
from acs.train.planner import rl_data, skyrl_main
from helpers import ROOT
from helpers.training import SMALL_BATCH, make_instances, preset_args, write_jsonl

pytestmark = pytest.mark.skyrl

TRAIN_SH = ROOT / "training" / "train.sh"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tokenizer folder (`trainer.policy.model.path`): no model can be downloaded here."""
    folder = tmp_path_factory.mktemp("model")
    toy_tokenizer([load_prompts().system, "Reader.read"], 400).save_pretrained(folder)
    return folder


def _chain(error: BaseException | None) -> list[str]:
    """The messages of an exception and of those it was raised from or while handling."""
    out = []
    while error is not None:
        out.append(str(error))
        error = error.__cause__ or error.__context__
    return out


def test_rl_data_output_reads_with_skyrl_prompt_dataset(tmp_path, model_dir):
    from skyrl.train.dataset import PromptDataset
    from transformers import AutoTokenizer

    repos, out = tmp_path / "repos", tmp_path / "data"
    instances = make_instances(repos, ["widgets", "gadgets", "gizmos"])
    source = write_jsonl(tmp_path / "instances.jsonl", instances)
    args = [str(source), "--repos", str(repos), "--out", str(out), "--val-fraction", "0.3"]
    assert rl_data.main(args) == 0
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    files = [str(out / "train.parquet"), str(out / "validation.parquet")]
    dataset = PromptDataset(files, tokenizer, max_prompt_length=100_000, num_workers=1)
    assert len(dataset) == 3
    by_id = {i.instance_id: i for i in instances}
    for n in range(len(dataset)):
        messages, env_class, extra, _ = dataset[n]
        inst = by_id[extra["extra_info"]["instance_id"]]
        assert env_class == "acs-localize"
        assert messages == Conversation(load_prompts(), inst.problem_statement, 4).messages
        assert extra["reward_spec"]["ground_truth"]["functions"] == ["pkg/io.py:Reader.read"]
        assert extra["extra_info"]["base_commit"] == inst.base_commit


def test_an_empty_validation_split_trains_without_evaluation(tmp_path, model_dir, capsys):
    from skyrl.train.dataset import PromptDataset
    from transformers import AutoTokenizer

    repos, data = tmp_path / "repos", tmp_path / "data"
    source = write_jsonl(tmp_path / "one.jsonl", make_instances(repos, ["widgets"]))
    assert rl_data.main([str(source), "--repos", str(repos), "--out", str(data)]) == 0
    assert "trains without evaluation" in capsys.readouterr().out
    # What SkyRL does with the file as it is: the crash this launch avoids.
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    with pytest.raises(Exception) as crash:
        PromptDataset([str(data / "validation.parquet")], tokenizer, 100_000, num_workers=1)
    assert "BatchSize must be greater than 0" in " ".join(_chain(crash.value))
    cfg = skyrl_main.parse_config(preset_args(data, repos, model_dir))
    assert cfg.data.val_data == [] and cfg.trainer.eval_interval == -1
    assert not cfg.trainer.eval_before_train
    assert "training without evaluation" in capsys.readouterr().err
    # ... and SkyRL's experiment then builds no evaluation dataset.
    from skyrl.train.entrypoints.main_base import BasePPOExp

    assert BasePPOExp.get_eval_dataset(type("Exp", (), {"cfg": cfg})()) is None


def test_presets_validate_with_a_nonempty_validation_split_unchanged(tmp_path, model_dir):
    repos, data = tmp_path / "repos", tmp_path / "data"
    source = write_jsonl(tmp_path / "two.jsonl", make_instances(repos, ["widgets", "gadgets"]))
    assert rl_data.main([str(source), "--repos", str(repos), "--out", str(data)]) == 0
    cfg = skyrl_main.parse_config(preset_args(data, repos, model_dir))
    assert cfg.data.val_data == [str(data / "validation.parquet")]
    assert cfg.trainer.eval_interval == 10 and cfg.trainer.eval_before_train


def _run(cmd: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def _env(**extra: str) -> dict[str, str]:
    python = str(Path(acs.__file__).resolve().parents[1])  # this checkout's python/ folder
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{python}:{path}" if path else python, **extra}


def test_train_sh_on_a_fresh_data_folder_stops_at_the_gpus(tmp_path, model_dir):
    # The one-command launch as a new user runs it: no parquet yet, one repository (so an
    # empty validation split), SkyRL without its GPU stack: the data is built through the
    # real command, the config validates, Ray starts, the dataset loads, and the run stops
    # at SkyRL's GPU placement group with a one-line reason and a non-zero exit code.
    repos, data = tmp_path / "repos", tmp_path / "data"
    write_jsonl(data / "instances.jsonl", make_instances(repos, ["widgets"]))
    env = _env(
        PYTHON=sys.executable,
        ACS_MODEL=str(model_dir),
        SKYRL_RAY_PG_TIMEOUT_IN_S="5",  # SkyRL's wait for GPUs that will not come
    )
    env.pop("RAY_ADDRESS", None)  # a private local Ray, never a cluster this machine knows
    run = _run(["bash", str(TRAIN_SH), str(data), str(repos), *SMALL_BATCH], env, timeout=600)
    out = run.stdout + run.stderr
    assert "train: 1 instances from 1 repositories" in out, out[-4000:]
    assert (data / "train.parquet").is_file() and (data / "validation.parquet").is_file()
    assert "training without evaluation" in out, out[-4000:]
    assert run.returncode == 1, (run.returncode, out[-6000:])
    stop = re.search(r"^error: the SkyRL run stopped: (.*)$", run.stderr, re.MULTILINE)
    assert stop, out[-6000:]
    assert re.match(
        r"RuntimeError: Failed to create placement group .*requiring 1(\.0)? GPUs", stop[1]
    )


def test_a_config_error_through_skyrl_entrypoint_exits_nonzero(tmp_path):
    # SkyRL's main_base hands over to acs.train.planner.skyrl_main and drops what `main` returns.
    cmd = [
        sys.executable, "-m", "skyrl.train.entrypoints.main_base",
        "trainer.override_entrypoint=acs.train.planner.skyrl_main", "trainer.no_such_key=1",
    ]  # fmt: skip
    run = _run(cmd, _env(), timeout=300)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "error:" in run.stderr and "no_such_key" in run.stderr
