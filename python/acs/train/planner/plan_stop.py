"""Training's generations end where serving's do: at the planner's `end` or `answer(...)` line.

At inference `LlmPolicy` closes the stream as soon as its parser has read the line that ends
the plan (`planlang.PlanParser.done`), and only the text up to that line goes into the
conversation (`PlanParser.output`). A vLLM engine in training has no such parser: it samples
on to the end-of-turn token or the token cap, and whatever follows `end` would stay in the
later turns' context and in the loss, text the model is never asked to write at inference.

`PlanStopClient` wraps SkyRL's inference client (what its generator calls `generate` on) and
cuts each response there, in token space: the response keeps the shortest prefix of its
token ids whose text covers the planner's text (and that prefix's log-probs), its text
becomes exactly `PlanParser.output()`, and its stop reason `"stop"`. A response the parser
does not finish (no `end` or answer line, a cut-off line) is left as it came.

    client = PlanStopClient(engine_client, tokenizer)   # acs.train.planner.skyrl_exp does this
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...llm.planlang import PlanParser

__all__ = ["PlanStopClient", "plan_text", "token_prefix"]

# SkyRL's per-token outputs beside the ids that are cut with them. Its routed-expert and
# sampler-support traces are not: the launch refuses them (`skyrl_config.check_config`).
_PER_TOKEN = ("response_logprobs",)


def plan_text(text: str) -> str | None:
    """The part of a generation the planner reads (through the line that ends the plan),
    or None when the plan does not end inside `text`."""
    parser = PlanParser()
    parser.feed(text)
    return parser.output() if parser.done else None


def token_prefix(tokenizer: Any, ids: Sequence[int], text: str) -> int | None:
    """The fewest leading `ids` whose decoded text starts with `text` (None when no prefix
    does: a tokenizer whose decoding is not prefix-stable there)."""
    if not text:
        return 0

    def decoded(n: int) -> str:
        return str(tokenizer.decode(list(ids[:n]), skip_special_tokens=True))

    low, high = 1, len(ids)  # decoded length grows with n: the first n that reaches len(text)
    while low < high:
        mid = (low + high) // 2
        if len(decoded(mid)) >= len(text):
            high = mid
        else:
            low = mid + 1
    return low if decoded(low).startswith(text) else None


class PlanStopClient:
    """SkyRL's inference client, every response cut where the planner stops reading (see the
    module docstring). Everything but `generate` goes to the wrapped client."""

    def __init__(self, client: Any, tokenizer: Any) -> None:
        self._client = client
        self._tokenizer = tokenizer
        self.cut = 0  # responses cut so far (logged by tests and the smoke runs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def generate(self, input_batch: Any, model: str | None = None) -> Any:
        output = await self._client.generate(input_batch, model=model)
        for i, text in enumerate(output["responses"]):
            self._cut(output, i, text)
        return output

    def _cut(self, output: dict[str, Any], i: int, text: str) -> None:
        kept = plan_text(text)
        if kept is None or kept == text:
            return
        ids = output["response_ids"][i]
        n = token_prefix(self._tokenizer, ids, kept)
        if n is None or n >= len(ids):
            return
        output["response_ids"][i] = ids[:n]
        output["responses"][i] = kept
        output["stop_reasons"][i] = "stop"
        for key in _PER_TOKEN:
            values = output.get(key)
            if values is not None and values[i] is not None:
                output[key][i] = values[i][:n]
        self.cut += 1
