"""training/configs presets, the SkyRL entrypoint module and training/train.sh (CPU; SkyRL's
own config classes validate the presets only where `skyrl` is importable)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from acs.train.planner import skyrl_main
from acs.train.planner.skyrl_main import SkyRLMissingError, expand_args, read_preset
from helpers import ROOT

CONFIGS = ROOT / "training" / "configs"
TRAIN_SH = ROOT / "training" / "train.sh"
ENVIRON = {
    "ACS_DATA": "/data/acs",
    "ACS_REPOS": "/mirrors",
    "ACS_RUN_DIR": "/runs/a",
    "ACS_MODEL": "Qwen/Qwen3-0.6B",
}
PRESETS = [(p, a) for p in ("1gpu", "8gpu") for a in ("grpo", "gspo")]


def _args(preset: str, algo: str) -> list[str]:
    files = [f"@{CONFIGS / n}.args" for n in ("base", preset, algo)]
    return expand_args(files, ENVIRON)


def _as_dict(args: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in args:  # later wins, as in OmegaConf's dotlist
        k, v = a.split("=", 1)
        out[k] = v
    return out


def test_every_preset_file_parses():
    files = sorted(CONFIGS.glob("*.args"))
    assert {f.stem for f in files} == {"base", "1gpu", "8gpu", "grpo", "gspo"}
    for f in files:
        lines = read_preset(f)
        assert lines and all("=" in ln and not ln.startswith("+") for ln in lines)
        keys = [ln.split("=", 1)[0] for ln in lines]
        assert len(keys) == len(set(keys)), f"{f.name} sets a key twice"


@pytest.mark.parametrize(("preset", "algo"), PRESETS)
def test_presets_have_the_required_values(preset, algo):
    cfg = _as_dict(_args(preset, algo))
    assert cfg["environment.env_class"] == "acs-localize"
    assert cfg["trainer.policy.model.path"] == "Qwen/Qwen3-0.6B"
    assert cfg["trainer.strategy"] == "fsdp"
    assert cfg["generator.n_samples_per_prompt"] == "8"
    assert cfg["generator.max_turns"] == "4"
    assert cfg["environment.skyrl_gym.acs_localize.max_turns"] == "4"
    assert cfg["generator.batched"] == "false"
    assert cfg["generator.inference_engine.backend"] == "vllm"
    assert cfg["generator.inference_engine.enable_prefix_caching"] == "true"
    assert cfg["trainer.placement.colocate_all"] == "true"
    assert cfg["trainer.algorithm.advantage_estimator"] == "grpo"
    assert cfg["trainer.algorithm.policy_loss_type"] == ("gspo" if algo == "gspo" else "regular")
    assert cfg["data.train_data"] == "['/data/acs/train.parquet']"
    assert cfg["data.val_data"] == "['/data/acs/validation.parquet']"
    assert cfg["environment.skyrl_gym.acs_localize.repos_dir"] == "/mirrors"
    gpus = 1 if preset == "1gpu" else 8
    assert int(cfg["trainer.placement.policy_num_gpus_per_node"]) == gpus
    assert int(cfg["generator.inference_engine.num_engines"]) == gpus  # colocated: one per GPU
    # SkyRL's batch arithmetic (validate_batch_sizes) holds for the preset
    n, dp = 8, gpus
    mini = int(cfg["trainer.policy_mini_batch_size"]) * n // dp
    assert int(cfg["trainer.train_batch_size"]) % int(cfg["trainer.policy_mini_batch_size"]) == 0
    assert mini > 0 and mini % int(cfg["trainer.micro_train_batch_size_per_gpu"]) == 0
    assert int(cfg["generator.max_input_length"]) >= int(cfg["trainer.max_prompt_length"])
    # Dr. GRPO: no division by the group's spread (docs/rl-settings.md); SkyRL's default is true
    assert cfg["trainer.algorithm.grpo_norm_by_std"] == "false"
    reduction = "sequence_mean" if algo == "gspo" else "token_mean"
    assert cfg["trainer.algorithm.loss_reduction"] == reduction


def test_expand_args_variables_alias_and_errors(tmp_path):
    preset = tmp_path / "p.args"
    preset.write_text("# comment\n\na.b=${X}/y\n")
    assert expand_args([f"@{preset}", "c=1"], {"X": "/x"}) == ["a.b=/x/y", "c=1"]
    with pytest.raises(ValueError, match=r"\$\{X\} is not set"):
        expand_args([f"@{preset}"], {})
    alias = expand_args(["environment.skyrl_gym.acs-localize.max_turns=4"], {})
    assert alias == ["environment.skyrl_gym.acs_localize.max_turns=4"]
    preset.write_text("no value here\n")
    with pytest.raises(ValueError, match="not a key=value"):
        read_preset(preset)


def test_presets_load_as_an_omegaconf_dotlist():
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.from_cli(_args("8gpu", "gspo"))
    assert cfg.generator.chat_template_kwargs == {"enable_thinking": False}
    assert cfg.environment.skyrl_gym.acs_localize.reward == {}
    assert list(cfg.data.train_data) == ["/data/acs/train.parquet"]


@pytest.mark.skyrl
@pytest.mark.parametrize(("preset", "algo"), PRESETS)
def test_presets_validate_with_skyrl_config_classes(preset, algo):
    from acs.train.planner.skyrl_config import AcsTrainConfig, check_config

    cfg = AcsTrainConfig.from_cli_overrides(_args(preset, algo))
    check_config(cfg)
    assert cfg.environment.env_class == "acs-localize"
    env_config = getattr(cfg.environment.skyrl_gym, "acs-localize")  # as SkyRL's generator does
    assert dict(env_config.items())["repos_dir"] == "/mirrors"
    from skyrl.train.utils import validate_cfg

    validate_cfg(cfg)


def _skyrl_missing() -> bool:
    try:
        skyrl_main.require_skyrl()
    except SkyRLMissingError:
        return True
    return False


def test_entrypoint_without_skyrl_says_how_to_install(capsys):
    if not _skyrl_missing():
        pytest.skip("skyrl is installed here")
    with pytest.raises(SkyRLMissingError, match=r"Python >= 3\.12|not installed") as e:
        skyrl_main.require_skyrl()
    assert "uv pip install 'skyrl[fsdp]==0.4.*'" in str(e.value)
    assert "uv sync --extra fsdp" in str(e.value)
    assert skyrl_main.main(["trainer.epochs=1"]) == 2
    assert "SkyRL" in capsys.readouterr().err
    assert skyrl_main.main(["--help"]) == 0


def test_the_launch_names_the_python_and_skyrl_version_it_needs():
    assert skyrl_main.skyrl_problem((3, 12, 1), "0.4.0") is None
    assert skyrl_main.skyrl_problem((3, 13, 0), "0.4.2") is None
    on_311 = skyrl_main.skyrl_problem((3, 11, 7), "0.3.0")
    assert on_311 and "Python >= 3.12" in on_311 and "3.11.7" in on_311 and "0.3.0" in on_311
    assert "Python >= 3.12" in (skyrl_main.skyrl_problem((3, 11, 7), None) or "")
    old = skyrl_main.skyrl_problem((3, 12, 1), "0.3.0")
    assert old and "SkyRL 0.3.0 is installed" in old and "0.4" in old
    assert "0.5.0" in (skyrl_main.skyrl_problem((3, 12, 1), "0.5.0") or "")
    assert "not installed" in (skyrl_main.skyrl_problem((3, 12, 1), None) or "")


def _fake_old_skyrl(site: Path) -> Path:
    """SkyRL 0.3.0 as pip installs it on Python 3.11: importing any of it leaves a mark."""
    mark = site / "imported"
    for package in ("skyrl", "skyrl/train", "skyrl/train/entrypoints"):
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text(f"open({str(mark)!r}, 'w').close()\n")
    (site / "skyrl/train/entrypoints/main_base.py").write_text("")
    (site / "skyrl/train/config.py").write_text("")
    info = site / "skyrl-0.3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: skyrl\nVersion: 0.3.0\n")
    return mark


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the Python 3.11 user's case")
@pytest.mark.parametrize(
    "code",
    [
        "from acs.train.planner import skyrl_main; raise SystemExit(skyrl_main.main(['a.b=1']))",
        "import acs.train.planner.skyrl_config",
    ],
)
def test_python_311_with_pips_fallback_skyrl_is_refused_never_run(tmp_path, code):
    mark = _fake_old_skyrl(tmp_path / "site")
    python = str(Path(skyrl_main.__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}:{python}"}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode != 0 and not mark.exists(), run.stderr
    err = run.stderr
    assert "SkyRL 0.4 needs Python >= 3.12" in err and "SkyRL 0.3.0 is installed" in err, err
    if "skyrl_config" in code:  # the import itself: an AcsError, not a NameError in old code
        assert "acs.train.planner.skyrl_version.SkyRLMissingError" in err, err


def test_the_rl_extra_brings_skyrl_04_on_python_312_only():
    # Read from the installed distribution's metadata (what pip resolves), so the test also
    # runs against the built wheel, where no pyproject.toml is at hand.
    from importlib.metadata import requires

    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    declared = [Requirement(s) for s in requires("agentic-code-search") or []]

    def wanted(extra: str, python: str) -> dict[str, list[Requirement]]:
        """What `pip install agentic-code-search[EXTRA]` installs on this Python (with the core)."""
        env = {**default_environment(), "python_version": python, "python_full_version": python}
        env["extra"] = extra
        found: dict[str, list[Requirement]] = {}
        for r in declared:
            if r.marker is None or r.marker.evaluate(env):
                found.setdefault(r.name, []).append(r)
        return found

    assert "skyrl-gym" in wanted("rl", "3.11") and "skyrl" not in wanted("rl", "3.11")
    [skyrl] = wanted("rl", "3.12")["skyrl"]
    assert "0.4.0" in skyrl.specifier and "0.3.0" not in skyrl.specifier
    assert "fsdp" in skyrl.extras  # the trainer's GPU stack, as training/README.md installs it
    # The core install and the test extra stay light: no SkyRL on any Python.
    for python in ("3.11", "3.12"):
        assert "skyrl" not in wanted("", python)
        test = wanted("test", python)
        assert "skyrl" not in test
        assert not any("rl" in r.extras for r in test.get("acs", []))


def test_a_skyrl_entrypoint_handover_exits_nonzero_on_an_error():
    # SkyRL's main_base runs `import_module(...).main()` and drops the return value.
    with pytest.raises(SystemExit) as e:
        skyrl_main.main(
            ["trainer.override_entrypoint=acs.train.planner.skyrl_main", "a.b=${NOT_SET_X}"]
        )
    assert e.value.code == 2
    assert (
        skyrl_main.main(["trainer.override_entrypoint=acs.train.planner.skyrl_main", "--help"]) == 0
    )


def _cfg(train: list[str], val: list[str], batch: int = 1) -> SimpleNamespace:
    """The part of SkyRL's config these checks read."""
    return SimpleNamespace(
        data=SimpleNamespace(train_data=train, val_data=val),
        trainer=SimpleNamespace(eval_interval=10, eval_before_train=True, train_batch_size=batch),
    )


def test_a_validation_file_with_no_row_turns_evaluation_off(tmp_path):
    pytest.importorskip("pyarrow", reason="pyarrow comes with `datasets`")
    from acs.train.planner.rl_data import write_parquet

    row = {"prompt": [], "env_class": "acs-localize", "reward_spec": None, "extra_info": None}
    empty, full = str(tmp_path / "empty.parquet"), str(tmp_path / "full.parquet")
    write_parquet([], empty)
    write_parquet([row, row], full)
    cfg = _cfg([full], [empty, full])
    assert skyrl_main.drop_empty_validation(cfg) == [empty]
    assert cfg.data.val_data == [full] and cfg.trainer.eval_interval == 10
    cfg = _cfg([full], [empty])
    assert skyrl_main.drop_empty_validation(cfg) == [empty]
    assert cfg.data.val_data == [] and cfg.trainer.eval_interval == -1
    assert not cfg.trainer.eval_before_train
    hub = _cfg([full], ["org/dataset:validation", str(tmp_path / "missing.parquet")])
    assert skyrl_main.drop_empty_validation(hub) == []  # SkyRL reports those itself
    skyrl_main.check_train_data(_cfg([full], [], batch=2))
    with pytest.raises(ValueError, match="has no rows: nothing to train on"):
        skyrl_main.check_train_data(_cfg([full, empty], []))
    with pytest.raises(ValueError, match=r"2 rows, fewer than trainer.train_batch_size=32"):
        skyrl_main.check_train_data(_cfg([full], [], batch=32))


def _sh(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("ACS_MODEL", None)  # the default model
    return subprocess.run(
        ["bash", str(TRAIN_SH), *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_train_sh_help_and_bad_options():
    out = _sh("--help")
    assert out.returncode == 0 and "--preset 1gpu|8gpu" in out.stdout
    assert _sh("--preset", "4gpu", "d", "r").returncode == 2
    assert _sh("d").returncode == 2


def test_train_sh_dry_run_prints_the_exact_command(tmp_path):
    data, repos = tmp_path / "data", tmp_path / "repos"
    data.mkdir()
    repos.mkdir()
    out = _sh("--dry-run", "--preset", "8gpu", "--algo", "gspo", str(data), str(repos), "a.b=1")
    assert out.returncode == 0, out.stderr
    build, launch = out.stdout.strip().splitlines()
    assert build.split() == [
        sys.executable, "-m", "acs.train.planner.rl_data", f"{data}/instances.jsonl",
        "--repos", str(repos), "--out", str(data),
    ]  # fmt: skip
    assert launch.split() == [
        "env", f"ACS_DATA={data}", f"ACS_REPOS={repos}", f"ACS_RUN_DIR={data}/run",
        "ACS_MODEL=Qwen/Qwen3-0.6B",
        sys.executable, "-m", "acs.train.planner.skyrl_main",
        f"@{CONFIGS}/base.args", f"@{CONFIGS}/8gpu.args", f"@{CONFIGS}/gspo.args", "a.b=1",
    ]  # fmt: skip
    for name in ("train", "validation"):  # built already: only the launch
        (data / f"{name}.parquet").write_bytes(b"")
    out = _sh("--dry-run", str(data), str(repos))
    (only,) = out.stdout.strip().splitlines()
    assert only.split()[-3:] == [
        f"@{CONFIGS}/base.args",
        f"@{CONFIGS}/1gpu.args",
        f"@{CONFIGS}/grpo.args",
    ]


# -- the context budget: no rollout under the presets' limits can outgrow its context ------------


def shortest_answer_message() -> str:
    """The longest form the shortest answer turn's message can take (results only counted,
    `acs.train.planner.env`'s last resort), its template's wrapping and the generation prompt's
    included, after a turn whose every result failed with the longest message there is, in
    four-byte characters."""
    from acs.llm.prompt import Conversation, load_prompts
    from acs.policies.base import Turn

    message = "\U0001f600" * 100_000  # each 4 bytes in UTF-8
    tasks = [{"id": i, "tool": "grep", "args": {}} for i in range(1, 257)]
    outcomes = [
        {"id": i, "tool": "grep", "status": "error", "error": {"kind": "x", "message": message}}
        for i in range(1, 257)
    ]
    conversation = Conversation(load_prompts(), "", 4)
    turn = Turn(tasks, outcomes, 1.0)  # type: ignore[arg-type]
    conversation.results(turn, number=2, next_id=999_999_999, final=True, budget=-1)
    # Qwen3's template around a user message, and its generation prompt with thinking off
    user = conversation.messages[-1]["content"]
    return f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"


@pytest.mark.parametrize(("preset", "algo"), PRESETS)
def test_the_presets_leave_room_for_a_turn_and_the_answer_in_the_context(preset, algo):
    """The environment admits a plan turn's prompt only with room for one more model turn
    and the shortest answer message (`ANSWER_RESERVE`), so a rollout can always be asked for
    its answer. With the presets' numbers, the first prompt (at most
    `trainer.max_prompt_length`: SkyRL's data filter) has that room, and the reserve holds
    the shortest answer message whatever the results: its UTF-8 bytes bound its tokens under
    any byte-level BPE, Qwen3's included (every token is at least one byte)."""
    pytest.importorskip("skyrl_gym", reason="the RL extra")
    from acs.llm.policy import TURN_TOKENS, LlmPolicy
    from acs.train.planner.env import ANSWER_RESERVE

    cfg = _as_dict(_args(preset, algo))
    assert int(cfg["generator.sampling_params.max_generate_length"]) == TURN_TOKENS
    first = int(cfg["trainer.max_prompt_length"])
    assert first + TURN_TOKENS + ANSWER_RESERVE <= int(cfg["generator.max_input_length"])
    assert len(shortest_answer_message().encode()) <= ANSWER_RESERVE
    # Serving's turn is training's turn (the launch refuses another max_generate_length).
    policy = LlmPolicy(SimpleNamespace(stream=None))
    assert policy.plan_tokens == policy.answer_tokens == TURN_TOKENS
