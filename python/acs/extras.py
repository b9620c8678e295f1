"""Which extra of acs's distribution installs each optional package: the one table every
missing-package message is written from, so no message names an extra that lacks the package
(tests/test_extras.py checks the table against pyproject.toml's optional dependencies)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DISTRIBUTION", "PROVIDERS", "Provider", "extra_for", "install_hint"]

# The name pip installs acs under (`pip install 'agentic-code-search[hf]'`); `acs` on PyPI is
# another project's.
DISTRIBUTION = "agentic-code-search"


@dataclass(frozen=True)
class Provider:
    """The extra to install for a module, and the requirement of that extra that brings it
    (the module's own distribution, or the package that depends on it)."""

    extra: str
    requirement: str


PROVIDERS: dict[str, Provider] = {
    # Model planners: `llm` talks to a model server; `hf` runs models here.
    "httpx": Provider("llm", "httpx"),
    "torch": Provider("hf", "torch"),
    "transformers": Provider("hf", "transformers"),
    "tokenizers": Provider("hf", "transformers"),  # a dependency of transformers
    "xgrammar": Provider("hf", "xgrammar"),
    "vllm": Provider("gpu", "vllm"),
    # Evaluation: datasets, plots, the progress bar.
    "datasets": Provider("eval", "datasets"),
    "matplotlib": Provider("eval", "matplotlib"),
    "tqdm": Provider("eval", "tqdm"),
    # Training the learned ranker.
    "lightgbm": Provider("train", "lightgbm"),
    # The RL environment and trainer.
    "skyrl_gym": Provider("rl", "skyrl-gym"),
    "skyrl": Provider("rl", "skyrl"),
    "ray": Provider("ray", "ray"),
    # `acs mcp`: the SDK, and what it serves HTTP and runs its event loop with.
    "mcp": Provider("mcp", "mcp"),
    "anyio": Provider("mcp", "mcp"),
    "starlette": Provider("mcp", "mcp"),
    "uvicorn": Provider("mcp", "mcp"),
    "uvloop": Provider("async", "uvloop"),
}


def extra_for(module: str) -> str:
    """The extra that installs `module` (an import name; a submodule counts as its package).
    Raises KeyError for a module the table lacks: every caller's module is in it (the test
    reads the calls from the source)."""
    return PROVIDERS[module.partition(".")[0]].extra


def install_hint(module: str) -> str:
    """What to run to get `module`: pip install of acs with the extra that brings it."""
    return f"pip install '{DISTRIBUTION}[{extra_for(module)}]'"
