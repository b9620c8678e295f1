"""Training the learned ranker: `collect` records each instance's evidence (the first turn's
search, as the planner runs it), `fit` trains the file and function models on those records,
reports out-of-fold and dev accuracy and the ablation, and exports the shipped model.

    python -m acs.train.ranker.collect DATASET --repos DIR --out records.jsonl
    python -m acs.train.ranker --train records.jsonl --eval dev.jsonl --out model.json

`acs.train.ranker` was one module before the split: its names still resolve here, from `fit`,
with a DeprecationWarning."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

_SUBMODULES = ("collect", "fit")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:  # `fit` is a module here, no longer the function `fit.fit`
        return importlib.import_module(f"{__name__}.{name}")
    fit = importlib.import_module(f"{__name__}.fit")
    if name.startswith("__") or not hasattr(fit, name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"acs.train.ranker.{name} moved to acs.train.ranker.fit.{name}",
        DeprecationWarning,
        stacklevel=2,
    )
    value = getattr(fit, name)
    globals()[name] = value  # warned once per name
    return value
