"""Launch SkyRL on `acs-localize`:
`python -m acs.train.planner.skyrl_main [@PRESET ...] [key=value ...]`.

SkyRL's own custom-environment pattern (its `examples/train/multiply/main_multiply.py`): parse
the typed config on the driver, validate it, start Ray, and run the experiment inside one Ray
task that first registers the environment, because SkyRL's workers make environments from
their own process's `skyrl_gym` registry. The experiment is SkyRL's `BasePPOExp`
(`skyrl.train.entrypoints.main_base`) with one change: its generations end where serving's do,
at the planner's `end` or answer line (`acs.train.planner.skyrl_exp`,
`acs.train.planner.plan_stop`).

Arguments are SkyRL's `key=value` overrides. `@FILE` expands to a preset file's lines
(training/configs/*.args: one `key=value` a line, `#` comments), `${NAME}` to an environment
variable, and later arguments win. `environment.skyrl_gym.acs-localize.*` is accepted for
`environment.skyrl_gym.acs_localize.*`.

`skyrl` 0.4 (the GPU stack: torch, vLLM, flash-attn; Python >= 3.12) is imported only when a
run starts, so this module imports on any Python. Without it, on Python < 3.12 (where pip falls
back to SkyRL 0.3) or with another SkyRL version, the launch raises `SkyRLMissingError`, which
says what to install: an old SkyRL is never run.

A validation file with no row (`rl_data` writes one for a single repository or
`--val-fraction 0`; SkyRL cannot load it) is left out, and with no validation data left the run
trains without evaluation (`trainer.eval_interval=-1`), saying so. A training file with no row
is an error.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .skyrl_version import (
    SkyRLMissingError,
    require_skyrl,
    skyrl_problem,
)

__all__ = [
    "SkyRLMissingError",
    "drop_empty_validation",
    "expand_args",
    "main",
    "read_preset",
    "require_skyrl",
    "skyrl_problem",
]

ENV_ALIAS = ("environment.skyrl_gym.acs-localize.", "environment.skyrl_gym.acs_localize.")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# `python -m skyrl.train.entrypoints.main_base
#  trainer.override_entrypoint=acs.train.planner.skyrl_main`
# hands over to `main` with this key, which the config classes do not declare.
HANDOVER = "trainer.override_entrypoint="


def read_preset(path: str | os.PathLike[str]) -> list[str]:
    """A preset file's `key=value` lines (blank lines and `#` comment lines dropped)."""
    out = []
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"{path}:{n}: not a key=value line: {line!r}")
        out.append(line)
    return out


def expand_args(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """`@FILE` arguments replaced by the file's lines, `${NAME}` by `environ[NAME]` (an unset
    name is an error, not an empty path), the `acs-localize` key alias renamed."""
    environ = os.environ if environ is None else environ
    out: list[str] = []
    for arg in argv:
        lines = read_preset(arg[1:]) if arg.startswith("@") else [arg]
        for line in lines:

            def var(m: re.Match[str], line: str = line) -> str:
                if m.group(1) not in environ:
                    raise ValueError(f"${{{m.group(1)}}} is not set (in {line!r})")
                return environ[m.group(1)]

            line = _VAR.sub(var, line)
            if line.startswith(ENV_ALIAS[0]):
                line = ENV_ALIAS[1] + line[len(ENV_ALIAS[0]) :]
            out.append(line)
    return out


def parquet_rows(path: str) -> int | None:
    """A local parquet file's row count (read from its footer), or None for anything else (a
    Hub id, a JSON file, a missing or unreadable file: SkyRL reports those itself)."""
    if not path.lower().endswith(".parquet") or not os.path.isfile(path):
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, pa.ArrowException):
        return None


def drop_empty_validation(cfg: Any) -> list[str]:
    """Leave the validation files with no row out of `cfg.data.val_data` (SkyRL's
    `PromptDataset` fails on one: `ArrowInvalid: BatchSize must be greater than 0`) and, when
    none is left, turn evaluation off. Returns the files left out."""
    empty = [p for p in cfg.data.val_data if parquet_rows(p) == 0]
    if empty:
        cfg.data.val_data = [p for p in cfg.data.val_data if p not in empty]
    if empty and not cfg.data.val_data:
        cfg.trainer.eval_interval = -1  # SkyRL's "no evaluation"
        cfg.trainer.eval_before_train = False
    return empty


def check_train_data(cfg: Any) -> None:
    """Training files with fewer rows than one batch are an error here, before Ray starts (an
    empty one crashes SkyRL's loader; SkyRL itself refuses a short one only after loading)."""
    counts = [parquet_rows(path) for path in cfg.data.train_data]
    for path, rows in zip(cfg.data.train_data, counts, strict=True):
        if rows == 0:
            raise ValueError(f"data.train_data: {path} has no rows: nothing to train on")
    if None in counts:  # not all local parquet files: SkyRL counts them itself
        return
    total, batch = sum(c for c in counts if c is not None), cfg.trainer.train_batch_size
    if total < batch:
        raise ValueError(
            f"data.train_data has {total} rows, fewer than trainer.train_batch_size={batch} "
            "(SkyRL needs one full batch): add instances or lower trainer.train_batch_size "
            "and trainer.policy_mini_batch_size"
        )


def parse_config(args: Sequence[str]) -> Any:
    """The validated `AcsTrainConfig` of expanded `key=value` arguments (needs `skyrl`), with
    the validation files that have no row left out (said on stderr)."""
    require_skyrl()
    from skyrl.train.utils import validate_cfg

    from .skyrl_config import AcsTrainConfig, check_config

    cfg = AcsTrainConfig.from_cli_overrides(list(args))
    check_config(cfg)
    check_train_data(cfg)
    for path in drop_empty_validation(cfg):
        print(f"note: data.val_data: {path} has no rows: left out", file=sys.stderr)
    if cfg.trainer.eval_interval == -1 and not cfg.data.val_data:
        print("note: no validation data: training without evaluation", file=sys.stderr)
    validate_cfg(cfg)
    return cfg


def run_experiment(cfg: Any) -> None:
    """The Ray task's body: register the environment in this worker, then the experiment
    (SkyRL's, its generations stopped where the planner stops: `skyrl_exp.AcsPPOExp`)."""
    from .env import register_env
    from .skyrl_exp import AcsPPOExp

    register_env()
    AcsPPOExp(cfg).run()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    code = launch([a for a in argv if not a.startswith(HANDOVER)])
    if code and any(a.startswith(HANDOVER) for a in argv):
        # SkyRL's main_base calls `main()` and drops what it returns: exit with the code here.
        raise SystemExit(code)
    return code


def launch(argv: Sequence[str]) -> int:
    """Parse and validate the config, then run the experiment: 0 when it ends, 2 on a config
    error, 1 when the run fails (e.g. SkyRL finds no GPU for its placement group)."""
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    try:
        args = expand_args(argv)
        cfg = parse_config(args)
    except (SkyRLMissingError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    import ray
    from skyrl.train.utils import initialize_ray

    # By its module's real name even under `python -m` (where this module is `__main__`), so
    # that Ray ships a reference the workers import, not a pickled copy.
    from acs.train.planner.skyrl_main import run_experiment as body

    initialize_ray(cfg)
    # The training loop runs in a Ray task (not on the driver), as in SkyRL's main_base.
    try:
        ray.get(ray.remote(num_cpus=1)(body).remote(cfg))
    except ray.exceptions.RayTaskError as e:
        # Ray has printed the task's traceback; say in one line where the run stopped.
        cause = getattr(e, "cause", None) or e
        first = (str(cause).strip().splitlines() or [""])[0]
        print(f"error: the SkyRL run stopped: {type(cause).__name__}: {first}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
