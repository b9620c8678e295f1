"""Model backends: where the plan text comes from. A backend streams the model's output for a
list of chat messages, chunk by chunk, so the policy can dispatch a task as soon as its line
ends. Each lives in its own module and imports its heavy dependencies only when created:

* `openai_backend.OpenAIBackend`: any OpenAI-compatible `/v1/chat/completions` endpoint
  (vLLM, SGLang, llama.cpp, a hosted API), over HTTP. Needs
  `pip install 'agentic-code-search[llm]'`.
* `transformers_backend.TransformersBackend`: a local model with Hugging Face transformers.
  Needs `pip install 'agentic-code-search[hf]'`.
* `scripted.ReplayBackend`, `scripted.ScriptedBackend`: scripted output, for tests.

Closing the stream early (the policy does once the plan's `end` line arrives) stops the
generation: the HTTP connection is closed, which aborts the request in vLLM, or a stopping
criterion ends `generate`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from .planlang import Constraint

Messages = Sequence[Mapping[str, str]]


class Backend(Protocol):
    """Streams a chat completion. `stats` describes the last stream: `finish_reason`,
    `prompt_tokens`, `completion_tokens` where the backend knows them."""

    name: str
    stats: dict[str, Any]

    @property
    def model_name(self) -> str | None:
        """The served model's name, where the backend knows it."""
        ...

    def stream(
        self, messages: Messages, *, constraint: Constraint | None = None, max_tokens: int = 512
    ) -> Iterator[str]: ...
