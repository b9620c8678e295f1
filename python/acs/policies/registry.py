"""Policies by name: the one registry that `acs.localize`, `acs eval`, `acs localize --policy`
and training resolve a name through (the `Policy` protocol itself is in `acs.policies.base`).

Each entry (`PolicySpec`) carries what the rest of acs needs to know about a policy, so
adding one is one entry here: how to make it, the options it takes (the model planners':
`model`, `base_url`, ...; the command line refuses them for the others), whether an
evaluation worker builds it once and reuses it (a model is slow to load), and what,
besides acs's code, identifies its runs (`acs eval`'s resume reruns a row when that
changed: the shipped ranker, the model and its prompt).

A name is a built-in (`REGISTRY`: the planners, the BM25 baseline and the model planners of
`acs.llm`, imported only when made: they need optional packages), or `module:attribute`
naming a class or function that returns a new `Policy` (for policies outside acs)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from ..errors import InvalidArgumentError
from .base import Policy
from .bm25 import Bm25Policy
from .default import DefaultPlanner, HandPlanner

# The model planners' options (`acs.llm.make_llm_policy`'s keywords; `acs localize` flags).
MODEL_OPTIONS = ("model", "base_url", "api_key", "timeout", "max_turns", "constrain", "device")


@dataclass(frozen=True)
class PolicySpec:
    """A policy's entry: `make(**options)` builds a new one from `options` (the names it
    accepts; the others are dropped), `once_per_worker` says an evaluation worker keeps one
    for all its issues, and `identity()` is what identifies its runs besides acs's code."""

    name: str
    make: Callable[..., Policy]
    summary: str
    options: tuple[str, ...] = ()
    once_per_worker: bool = False
    identity: Callable[[], list[str]] = lambda: []

    def new(self, **options: Any) -> Policy:
        """A new policy, given the options it takes (unset ones, None, are left out)."""
        taken = {k: v for k, v in options.items() if k in self.options and v is not None}
        return self.make(**taken)


def _shipped_ranker() -> list[str]:
    from ..rank.model import shipped

    model = shipped()
    return [model.fingerprint if model is not None else "joiner"]


def _model_planner(name: str) -> Callable[..., Policy]:
    def make(**options: Any) -> Policy:
        from ..llm import make_llm_policy

        return make_llm_policy(name, **options)

    return make


def _model_identity() -> list[str]:
    from ..llm.prompt import PROMPT_VERSION

    return [*(os.environ.get(k, "") for k in ("ACS_LLM_MODEL", "ACS_LLM_BASE_URL")), PROMPT_VERSION]


def _model_spec(name: str, summary: str) -> PolicySpec:
    return PolicySpec(
        name,
        _model_planner(name),
        summary,
        options=MODEL_OPTIONS,
        once_per_worker=True,
        identity=_model_identity,
    )


REGISTRY: dict[str, PolicySpec] = {
    spec.name: spec
    for spec in (
        PolicySpec(
            "default",
            DefaultPlanner,
            "the model-free planner, ranked by the shipped learned ranker",
            identity=_shipped_ranker,
        ),
        PolicySpec("hand", HandPlanner, "the same search, ranked by the hand-weighted joiner"),
        PolicySpec("bm25", Bm25Policy, "BM25 over files and functions: the baseline"),
        _model_spec("vllm", "a model planner behind a vLLM server (OpenAI-compatible)"),
        _model_spec("openai", "a model planner behind any OpenAI-compatible server"),
        _model_spec("transformers", "a model planner run here with transformers"),
    )
}

# Kept for scripts that imported them (derived: nothing in acs reads them).
POLICIES: dict[str, type] = {"default": DefaultPlanner, "hand": HandPlanner, "bm25": Bm25Policy}
LLM_POLICIES = tuple(name for name, spec in REGISTRY.items() if spec.once_per_worker)


def policy_spec(name: str) -> PolicySpec:
    """The entry of `name`; an unknown name fails here. A `module:attribute` name gets an
    entry of its own (no options, one policy per issue, identified by its name alone)."""
    if ":" in name:
        return PolicySpec(name, _imported(name), f"{name} (imported)")
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise InvalidArgumentError(
            f"unknown policy {name!r} (known: {known}, or module:Class)"
        ) from None


def policy_factory(name: str) -> Callable[[], Policy]:
    """What makes a new policy named `name` with no options; an unknown name fails here. A
    model planner is then configured from the environment (ACS_LLM_MODEL, ACS_LLM_BASE_URL,
    ACS_LLM_API_KEY: see docs/llm.md), so that every evaluation worker builds the same one."""
    return policy_spec(name).new


def make_policy(name: str, **options: Any) -> Policy:
    """A new policy by name, given the options it takes (`PolicySpec.options`; the model
    planners': see `acs.llm.make_llm_policy`); options it does not take are ignored."""
    return policy_spec(name).new(**options)


def _imported(name: str) -> Callable[[], Policy]:
    """The class or function `module:attribute` names."""
    module, _, attr = name.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as e:  # ValueError: no module name
        raise InvalidArgumentError(f"cannot load policy {name}: {e}") from e
    if not callable(factory):
        raise InvalidArgumentError(f"policy {name} is not a class or function")
    return cast(Callable[[], Policy], factory)
