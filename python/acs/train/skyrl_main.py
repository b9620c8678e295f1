"""Launch SkyRL on `acs-localize`: `python -m acs.train.skyrl_main [@PRESET ...] [key=value ...]`.

SkyRL's own custom-environment pattern (its `examples/train/multiply/main_multiply.py`): parse
the typed config on the driver, validate it, start Ray, and run the experiment inside one Ray
task that first registers the environment, because SkyRL's workers make environments from
their own process's `skyrl_gym` registry. The experiment itself is SkyRL's `BasePPOExp`
(`skyrl.train.entrypoints.main_base`), unchanged.

Arguments are SkyRL's `key=value` overrides. `@FILE` expands to a preset file's lines
(training/configs/*.args: one `key=value` a line, `#` comments), `${NAME}` to an environment
variable, and later arguments win. `environment.skyrl_gym.acs-localize.*` is accepted for
`environment.skyrl_gym.acs_localize.*`.

`skyrl` (the GPU stack: torch, vLLM, flash-attn; Python >= 3.12) is imported only when a run
starts; without it this module still imports, and `main` says how to install it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import AcsError

__all__ = ["SkyRLMissingError", "expand_args", "main", "read_preset", "require_skyrl"]

ENV_ALIAS = ("environment.skyrl_gym.acs-localize.", "environment.skyrl_gym.acs_localize.")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

SKYRL_MISSING = (
    "SkyRL is not installed in this environment (`import skyrl` failed: {error}).\n"
    "It needs Python >= 3.12 and a CUDA GPU stack (torch, vLLM, flash-attn). Install it with uv,\n"
    "SkyRL's own way, then acs into the same environment:\n"
    "    uv venv --python 3.12 && source .venv/bin/activate\n"
    "    uv pip install 'skyrl[fsdp]'       # or, in a SkyRL checkout: uv sync --extra fsdp\n"
    "    uv pip install -e '/path/to/acs[rl]'\n"
    "See training/README.md."
)


class SkyRLMissingError(AcsError, RuntimeError):
    """`skyrl` cannot be imported: the message says how to install it."""


def require_skyrl() -> None:
    """Import SkyRL's training entrypoint, or raise `SkyRLMissingError`."""
    try:
        import skyrl.train.entrypoints.main_base  # noqa: F401
    except ImportError as e:
        raise SkyRLMissingError(SKYRL_MISSING.format(error=e)) from e


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


def parse_config(args: Sequence[str]) -> Any:
    """The validated `AcsTrainConfig` of expanded `key=value` arguments (needs `skyrl`)."""
    require_skyrl()
    from skyrl.train.utils import validate_cfg

    from .skyrl_config import AcsTrainConfig, check_config

    cfg = AcsTrainConfig.from_cli_overrides(list(args))
    check_config(cfg)
    validate_cfg(cfg)
    return cfg


def run_experiment(cfg: Any) -> None:
    """The Ray task's body: register the environment in this worker, then SkyRL's experiment."""
    from skyrl.train.entrypoints.main_base import BasePPOExp

    from .env import register_env

    register_env()
    BasePPOExp(cfg).run()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    # `python -m skyrl.train.entrypoints.main_base trainer.override_entrypoint=acs.train.skyrl_main`
    # hands over here with that key, which the config classes do not declare.
    argv = [a for a in argv if not a.startswith("trainer.override_entrypoint=")]
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
    from acs.train.skyrl_main import run_experiment as body

    initialize_ray(cfg)
    # The training loop runs in a Ray task (not on the driver), as in SkyRL's main_base.
    ray.get(ray.remote(num_cpus=1)(body).remote(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
