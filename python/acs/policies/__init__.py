"""Policies: what reads the issue and proposes the plan, the first step of the agent loop
(issue -> signals -> **plan** -> engine -> evidence -> rank -> answer).

- `base`: the `Policy` protocol every policy implements, so the loop in `acs.localize` does
  not care which one runs.
- `default`: the model-free planner (`DefaultPlanner`, the embedded default) and its `hand`
  variant, which ranks with the hand joiner instead of the learned ranker.
- `bm25`: the BM25 baseline, one search and no plan.
- `registry`: every policy by name (`REGISTRY`, `PolicySpec`, `make_policy`), the one place
  `acs localize --policy`, `acs eval` and training resolve a name through.

The model planners live in `acs.llm` (they need optional packages) and are registered here.
Running a plan on the engine is `acs.execution`, not a policy."""

from .base import Policy
from .bm25 import Bm25Policy
from .default import DefaultPlanner, HandPlanner, default_ranking
from .registry import (
    LLM_POLICIES,
    MODEL_OPTIONS,
    POLICIES,
    REGISTRY,
    PolicySpec,
    make_policy,
    policy_factory,
    policy_spec,
)

__all__ = [
    "LLM_POLICIES",
    "MODEL_OPTIONS",
    "POLICIES",
    "REGISTRY",
    "Bm25Policy",
    "DefaultPlanner",
    "HandPlanner",
    "Policy",
    "PolicySpec",
    "default_ranking",
    "make_policy",
    "policy_factory",
    "policy_spec",
]
