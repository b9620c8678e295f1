"""The repositories the miner refuses: the single source of truth (DEVELOPERS.md lists the
same names, and a test checks that they agree).

* `HELD_OUT`: the test sets (SWE-bench test, Lite and Verified, SWE-bench's dev split,
  MULocBench). Nothing is ever mined from them, for any purpose, so no score on them is
  inflated by training on their history.
* `DEV_SET`: the repositories of our development set. Training data never comes from them
  (train and dev are disjoint by repository); mining them for evaluation (`purpose="eval"`)
  is allowed.

Names match case-insensitively; a repository that moved is listed under both names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from ..errors import InvalidArgumentError

Purpose = Literal["train", "eval"]
PURPOSES: tuple[Purpose, ...] = ("train", "eval")

SWE_BENCH = (
    "astropy/astropy",
    "django/django",
    "matplotlib/matplotlib",
    "mwaskom/seaborn",
    "pallets/flask",
    "psf/requests",
    "pydata/xarray",
    "pylint-dev/pylint",
    "pytest-dev/pytest",
    "scikit-learn/scikit-learn",
    "sphinx-doc/sphinx",
    "sympy/sympy",
)
SWE_BENCH_DEV = (
    "sqlfluff/sqlfluff",
    "marshmallow-code/marshmallow",
    "pvlib/pvlib-python",
    "pydicom/pydicom",
    "pylint-dev/astroid",
    "pyvista/pyvista",
)
MULOCBENCH = (
    "scrapy/scrapy",
    "ansible/ansible",
    "yt-dlp/yt-dlp",
    "localstack/localstack",
    "ultralytics/yolov5",
    "gpt-engineer-org/gpt-engineer",
    "AntonOsika/gpt-engineer",
    "CorentinJ/Real-Time-Voice-Cloning",
    "geekan/MetaGPT",
    "FoundationAgents/MetaGPT",
    "deepfakes/faceswap",
    "keras-team/keras",
    "All-Hands-AI/OpenHands",
    "OpenHands/OpenHands",
    "nvbn/thefuck",
    "binary-husky/gpt_academic",
    "oobabooga/text-generation-webui",
    "fastapi/fastapi",
    "tiangolo/fastapi",
    "3b1b/manim",
    "ManimCommunity/manim",
    "zylon-ai/private-gpt",
    "imartinez/private-gpt",
)
HELD_OUT: tuple[str, ...] = SWE_BENCH + SWE_BENCH_DEV + MULOCBENCH

DEV_SET: tuple[str, ...] = (
    "Project-MONAI/MONAI",
    "getmoto/moto",
    "python/mypy",
    "iterative/dvc",
    "dask/dask",
    "modin-project/modin",
    "facebookresearch/hydra",
    "pydantic/pydantic",
    "bokeh/bokeh",
    "conan-io/conan",
)

_HELD_OUT = {r.lower() for r in HELD_OUT}
_DEV_SET = {r.lower() for r in DEV_SET}


def is_held_out(repo: str) -> bool:
    return repo.strip().lower() in _HELD_OUT


def is_dev_set(repo: str) -> bool:
    return repo.strip().lower() in _DEV_SET


def parse_repo_list(text: str) -> set[str]:
    """`owner/name` entries separated by newlines, commas or spaces; `#` starts a comment.
    Lower-cased, for case-insensitive matching."""
    names: set[str] = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        names.update(n.lower() for n in line.replace(",", " ").split())
    return names


def check_allowed(repo: str, *, purpose: Purpose = "train", exclude: Iterable[str] = ()) -> None:
    """Raise `InvalidArgumentError` unless `repo` may be mined for `purpose`: never a held-out
    repository, never one in `exclude`, and for training never a development-set one."""
    if purpose not in PURPOSES:
        raise InvalidArgumentError(f"unknown purpose {purpose!r} (known: train, eval)")
    if is_held_out(repo):
        raise InvalidArgumentError(
            f"{repo} is a held-out test repository (see DEVELOPERS.md): it is never mined"
        )
    if repo.strip().lower() in {e.strip().lower() for e in exclude}:
        raise InvalidArgumentError(f"{repo} is in --exclude-repos: not mined")
    if purpose == "train" and is_dev_set(repo):
        raise InvalidArgumentError(
            f"{repo} is a development-set repository: training data never comes from it "
            "(use --purpose eval to mine it for evaluation)"
        )
