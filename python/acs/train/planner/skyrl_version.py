"""Which SkyRL acs can launch: 0.4.x on Python >= 3.12, checked from the package metadata
before anything of SkyRL is imported (on Python 3.11 pip silently falls back to SkyRL 0.3,
which must never run). Its own module so that `skyrl_config` (imported only with SkyRL) and
`skyrl_main` (the launcher) both use it without importing each other."""

from __future__ import annotations

import importlib.metadata
import re
import sys

from ...errors import AcsError

# The SkyRL the presets and config classes are written for (training/configs, skyrl_config).
SKYRL_VERSIONS = ((0, 4), (0, 5))
SKYRL_PYTHON = (3, 12)
SKYRL_INSTALL = (
    "SkyRL 0.4 runs on Python 3.12-3.14 with a CUDA GPU stack (torch, vLLM, flash-attn).\n"
    "Install it with uv, SkyRL's own way, then acs into the same environment:\n"
    "    uv venv --python 3.12 && source .venv/bin/activate\n"
    "    uv pip install 'skyrl[fsdp]==0.4.*'   # or, in a SkyRL checkout: uv sync --extra fsdp\n"
    "    uv pip install -e '/path/to/acs[rl]'\n"
    "See training/README.md."
)


class SkyRLMissingError(AcsError, ImportError):
    """SkyRL 0.4 cannot be used here (absent, another version, or Python < 3.12): the message
    says what to install."""


def installed_skyrl() -> str | None:
    """The installed `skyrl` distribution's version, or None (read from its metadata: nothing
    of an unsupported SkyRL is imported)."""
    try:
        return importlib.metadata.version("skyrl")
    except importlib.metadata.PackageNotFoundError:
        return None


def _major_minor(version: str) -> tuple[int, int] | None:
    m = re.match(r"(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else None


def skyrl_problem(python: tuple[int, ...], skyrl: str | None) -> str | None:
    """Why this Python (`sys.version_info[:3]`) with this installed SkyRL version cannot
    launch a run, or None when it can."""
    here = ".".join(str(p) for p in python)
    if python[:2] < SKYRL_PYTHON:
        installed = f" (SkyRL {skyrl} is installed: pip's fallback)" if skyrl else ""
        return (
            f"SkyRL 0.4 needs Python >= 3.12 and this is Python {here}{installed}: on an older "
            "Python pip installs SkyRL 0.3 or nothing, which acs does not run"
        )
    if skyrl is None:
        return f"SkyRL is not installed in this environment (Python {here})"
    low, high = SKYRL_VERSIONS
    if not low <= (_major_minor(skyrl) or (0, 0)) < high:
        return f"SkyRL {skyrl} is installed: acs's presets and config classes need skyrl 0.4.x"
    return None


def require_skyrl() -> None:
    """Check the Python and the SkyRL version, then import SkyRL's training entrypoint; raise
    `SkyRLMissingError` when any of that fails."""
    problem = skyrl_problem(sys.version_info[:3], installed_skyrl())
    if problem is not None:
        raise SkyRLMissingError(f"{problem}.\n{SKYRL_INSTALL}")
    try:
        import skyrl.train.entrypoints.main_base  # noqa: F401
    except ImportError as e:
        raise SkyRLMissingError(
            f"SkyRL's training stack does not import (`import skyrl` failed: {e}).\n{SKYRL_INSTALL}"
        ) from e
