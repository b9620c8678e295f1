"""Policies by name: the one registry that `acs.localize`, `acs eval` and `acs localize
--policy` resolve a name through (the `Policy` protocol itself is in `acs.policy`).

A name is a built-in planner (`POLICIES`), a model planner of `acs.llm` (`LLM_POLICIES`,
imported only when asked for: they need optional packages), or `module:attribute` naming a
class or function that returns a new `Policy` (for policies outside acs)."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, cast

from .baseline import Bm25Policy
from .errors import InvalidArgumentError
from .planner import DefaultPlanner, HandPlanner
from .policy import Policy

POLICIES: dict[str, type] = {"default": DefaultPlanner, "hand": HandPlanner, "bm25": Bm25Policy}
LLM_POLICIES = ("vllm", "openai", "transformers")


def policy_factory(name: str) -> Callable[[], Policy]:
    """What makes a new policy named `name`; an unknown name fails here. A model planner is
    configured from the environment (ACS_LLM_MODEL, ACS_LLM_BASE_URL, ACS_LLM_API_KEY: see
    docs/llm.md), so that every evaluation worker builds the same one."""
    if ":" in name:
        return _imported(name)
    if name in LLM_POLICIES:
        return functools.partial(make_policy, name)
    try:
        return POLICIES[name]
    except KeyError:
        known = ", ".join(sorted([*POLICIES, *LLM_POLICIES]))
        raise InvalidArgumentError(
            f"unknown policy {name!r} (known: {known}, or module:Class)"
        ) from None


def make_policy(name: str, **options: Any) -> Policy:
    """A new policy by name. The model planners take options (`model`, `base_url`, `api_key`,
    `timeout`, `max_turns`, `constrain`, `device`: see `acs.llm.make_llm_policy`); the others
    take none and ignore them."""
    if name in LLM_POLICIES:
        from .llm import make_llm_policy

        return make_llm_policy(name, **options)
    return policy_factory(name)()


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
