"""Errors of the model planners. All are `acs.AcsError`s (the CLI prints them on one line and
exits with status 1), and subclass the matching built-in."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import AcsError
from ..extras import install_hint


class LlmError(AcsError):
    """Base class of the model backends' errors."""


class MissingDependencyError(LlmError, ImportError):
    """An optional package a backend needs is not installed; the message says what to install."""


class ServerUnavailableError(LlmError, ConnectionError):
    """The model server cannot be reached, or kept failing (5xx) after the retries."""


class ModelNotFoundError(LlmError, LookupError):
    """The server does not serve the requested model; the message lists those it serves."""


class LlmTimeoutError(LlmError, TimeoutError):
    """The model did not answer (or finish its plan) within the per-request timeout."""


class BadResponseError(LlmError, ValueError):
    """The server answered something that is not a chat completion stream, or refused the
    request (4xx)."""


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or say which extra to install (`acs.extras`)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(
            f"{purpose} needs the `{module.partition('.')[0]}` package: {install_hint(module)}"
        ) from e
