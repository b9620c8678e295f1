"""SkyRL's inference-engine interface on a local transformers model, on the CPU.

SkyRL's generator asks its inference client for `generate(InferenceEngineInput)`: token ids in,
token ids, text, stop reasons and log-probs out (vLLM in a real run). `TransformersEngine`
answers the same calls with `model.generate`, so SkyRL's own `SkyRLGymGenerator` can drive
`acs-localize` rollouts with a real model where there is no GPU: the tests run it with a tiny
randomly initialised Qwen3, and it serves to debug a rollout on a laptop.

    params = get_vllm_sampling_params(cfg.generator.sampling_params)  # SkyRL's engine_utils
    engine = TransformersEngine(model, tokenizer, params)
    generator = SkyRLGymGenerator(cfg.generator, cfg.environment.skyrl_gym, engine, tokenizer)

What it implements of vLLM's behaviour through SkyRL: the sampling parameters SkyRL sends
(`max_tokens`, `temperature` (0: greedy), `top_p`, `top_k` (-1: off), `stop` strings kept in
the output, `logprobs`: the chosen token's log-probability under the model's raw
distribution), stop reasons `"stop"` (end of turn or a stop string) and `"length"`, and text
decoded without special tokens. One request at a time (a lock): it is for correctness, not
throughput. Weight sync, sleep and the OpenAI endpoints are not implemented.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...llm.errors import require

__all__ = ["TransformersEngine"]

# Builds a request's extra logits processors from its prompt ids (a test forces a script).
Processors = Callable[[list[int]], list[Any]]


class TransformersEngine:
    """See the module docstring. `sampling_params` are the defaults (SkyRL's generator sends
    none during training: its engines hold the config's), overridden per request;
    `processors` adds logits processors per request. Every prompt is kept in `prompts`."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        sampling_params: Mapping[str, Any] | None = None,
        *,
        processors: Processors | None = None,
    ) -> None:
        self._torch = require("torch", "TransformersEngine")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.defaults = dict(sampling_params or {})
        self.processors = processors
        self.prompts: list[list[int]] = []
        self._lock = threading.Lock()
        self.model_name = str(getattr(model.config, "name_or_path", "") or type(model).__name__)

    async def generate(self, input_batch: Mapping[str, Any], model: str | None = None) -> Any:
        params = {**self.defaults, **(input_batch.get("sampling_params") or {})}
        prompts = input_batch.get("prompt_token_ids")
        if prompts is None:  # conversations: the chat template SkyRL's engines apply
            prompts = [self._render(c, params) for c in input_batch.get("prompts") or []]
        outputs = [await asyncio.to_thread(self._one, list(ids), params) for ids in prompts]
        want_logprobs = params.get("logprobs") is not None
        return {
            "responses": [o[0] for o in outputs],
            "response_ids": [o[1] for o in outputs],
            "stop_reasons": [o[2] for o in outputs],
            "response_logprobs": [o[3] for o in outputs] if want_logprobs else None,
            "prompt_logprobs": None,
            "rollout_expert_indices": None,
            "rollout_sample_support": None,
        }

    async def finish_session(self, session_id: str) -> None:
        """No session routing here."""

    def _render(self, conversation: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> Any:
        kwargs = dict(params.get("chat_template_kwargs") or {})
        return self.tokenizer.apply_chat_template(
            list(conversation), add_generation_prompt=True, tokenize=True, **kwargs
        )

    def _one(
        self, prompt: list[int], params: Mapping[str, Any]
    ) -> tuple[str, list[int], str, list[float]]:
        torch = self._torch
        transformers = require("transformers", "TransformersEngine")
        temperature = float(params.get("temperature", 1.0) or 0.0)
        top_k = int(params.get("top_k", -1) or -1)
        limit = params.get("max_tokens") or params.get("max_generate_length", 64)
        kwargs: dict[str, Any] = {
            "max_new_tokens": int(limit),
            "do_sample": temperature > 0,
            "eos_token_id": self.tokenizer.eos_token_id,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            "return_dict_in_generate": True,
            "output_logits": True,
        }
        if temperature > 0:
            kwargs.update(temperature=temperature, top_p=float(params.get("top_p", 1.0)))
            kwargs["top_k"] = top_k if top_k > 0 else None
        if stop := list(params.get("stop") or ()):
            kwargs.update(stop_strings=stop, tokenizer=self.tokenizer)
        if self.processors is not None:
            kwargs["logits_processor"] = transformers.LogitsProcessorList(self.processors(prompt))
        with self._lock, torch.inference_mode():
            self.prompts.append(list(prompt))
            out = self.model.generate(torch.tensor([prompt]), **kwargs)
        ids = [int(t) for t in out.sequences[0, len(prompt) :]]
        logits = torch.stack(out.logits, dim=1)[0].float()  # raw: before temperature and top-k
        chosen = torch.log_softmax(logits, dim=-1).gather(-1, torch.tensor(ids)[:, None])
        text = str(self.tokenizer.decode(ids, skip_special_tokens=True))
        ended = bool(ids) and ids[-1] == self.tokenizer.eos_token_id
        stopped = ended or any(text.endswith(s) for s in stop)
        reason = "stop" if stopped or len(ids) < kwargs["max_new_tokens"] else "length"
        return text, ids, reason, [float(v) for v in chosen[:, 0]]
