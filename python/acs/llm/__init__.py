"""Model planners: a language model writes the plan (see `acs.llm.policy`).

    from acs.llm import LlmPolicy, OpenAIBackend
    policy = LlmPolicy(OpenAIBackend("http://127.0.0.1:8000/v1"))   # a `vllm serve` server
    acs.localize(repo, issue, policy=policy)

or `acs.localize(repo, issue, policy="vllm")` / `acs localize --policy vllm`. Importing this
package imports neither httpx nor torch: a backend imports its dependencies when it is
created and says which extra to install when one is missing.
"""

from __future__ import annotations

import os

from .backends import Backend
from .errors import (
    BadResponseError,
    LlmError,
    LlmTimeoutError,
    MissingDependencyError,
    ModelNotFoundError,
    ServerUnavailableError,
)
from .openai_backend import DEFAULT_BASE_URL, OpenAIBackend
from .policy import LlmPolicy
from .prompt import PROMPT_VERSION
from .scripted import ReplayBackend, ScriptedBackend
from .transformers_backend import TransformersBackend

BACKENDS = ("vllm", "openai", "transformers")

__all__ = [
    "BACKENDS",
    "DEFAULT_BASE_URL",
    "BadResponseError",
    "LlmError",
    "LlmPolicy",
    "LlmTimeoutError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "OpenAIBackend",
    "ReplayBackend",
    "ScriptedBackend",
    "ServerUnavailableError",
    "TransformersBackend",
    "make_llm_policy",
]


def make_llm_policy(
    name: str,
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
    max_turns: int = 4,
    constrain: str | None = None,
    device: str | None = None,
    prompt_version: str = PROMPT_VERSION,
) -> LlmPolicy:
    """The policy `--policy vllm|openai|transformers` names, with the command line's options
    (`prompt_version`: an older prompt, to reproduce a run made with it). Unset options come
    from the environment: ACS_LLM_MODEL, ACS_LLM_BASE_URL, ACS_LLM_API_KEY (or
    OPENAI_API_KEY)."""
    model = model or os.environ.get("ACS_LLM_MODEL") or None
    backend: Backend
    if name in ("vllm", "openai"):
        backend = OpenAIBackend(
            base_url or os.environ.get("ACS_LLM_BASE_URL") or DEFAULT_BASE_URL,
            model,
            api_key=api_key
            or os.environ.get("ACS_LLM_API_KEY")
            or os.environ.get("OPENAI_API_KEY"),
            timeout=timeout or 30.0,
            flavor=name,
            constrain=constrain or "auto",
        )
    elif name == "transformers":
        if not model:
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(
                "--policy transformers needs --model (a local model directory or Hub id)"
            )
        backend = TransformersBackend(
            model, device=device, timeout=timeout or 120.0, constrain=constrain
        )
    else:
        raise ValueError(f"not a model policy: {name!r} (known: {', '.join(BACKENDS)})")
    return LlmPolicy(backend, max_turns=max_turns, prompt_version=prompt_version)
