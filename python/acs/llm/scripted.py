"""Backends that replay known outputs: for tests, for replaying a recorded trajectory, and for
measuring a model's cost on a known plan (weights do not change speed, so a randomly
initialised model forced to write a real plan costs what the trained one would).

* `ScriptedBackend`: no model; yields each turn's text in chunks, optionally slowly.
* `ReplayBackend`: a real model run with `TransformersBackend`, each step's logits forced to
  the next token of the given text (teacher forcing through `generate`): every forward pass
  of the real decode happens, and the plan streams out token by token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .backends import Messages
from .planlang import Constraint
from .transformers_backend import TransformersBackend

Script = Sequence[str] | Callable[[Messages], str]


def _next_text(script: Script, messages: Messages, turn: int) -> str:
    if callable(script):
        return script(messages)
    if turn >= len(script):
        return "end\n"
    return script[turn]


class ScriptedBackend:
    """Yields `script[i]` on the i-th call (or `script(messages)`), `chunk` characters at a
    time with `delay` seconds between chunks. Every request is kept in `requests`."""

    name = "scripted"
    model_name = "scripted"

    def __init__(self, script: Script, *, chunk: int = 7, delay: float = 0.0) -> None:
        self.script = script
        self.chunk = chunk
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.stats: dict[str, Any] = {}

    def stream(
        self, messages: Messages, *, constraint: Constraint | None = None, max_tokens: int = 512
    ) -> Iterator[str]:
        text = _next_text(self.script, messages, len(self.requests))
        self.requests.append({"messages": [dict(m) for m in messages], "constraint": constraint})
        self.stats = {"finish_reason": "stop"}
        for i in range(0, len(text), self.chunk):
            if self.delay:
                time.sleep(self.delay)
            yield text[i : i + self.chunk]


class ReplayBackend(TransformersBackend):
    """`TransformersBackend` whose output is forced to the script's text, token by token."""

    name = "replay"

    def __init__(self, model: Any, tokenizer: Any, script: Script, **options: Any) -> None:
        super().__init__(model, tokenizer, **options)
        self.script = script
        self.turns = 0

    def logits_processors(
        self, messages: Messages, prompt_len: int, constraint: Constraint | None
    ) -> list[Any]:
        text = _next_text(self.script, messages, self.turns)
        self.turns += 1
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        eos = self.tokenizer.eos_token_id
        return [_Force(self._torch, ids, eos, prompt_len)]


class _Force:
    """Sets every logit but the scripted token's to -inf (then end of sequence)."""

    def __init__(self, torch: Any, ids: list[int], eos: int, prompt_len: int) -> None:
        self.torch, self.ids, self.eos, self.prompt_len = torch, ids, eos, prompt_len

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        step = int(input_ids.shape[1]) - self.prompt_len
        target = self.ids[step] if step < len(self.ids) else self.eos
        forced = self.torch.full_like(scores, float("-inf"))
        forced[:, target] = 0.0
        return forced


# A ChatML template that follows Qwen3's rules (its tools aside), so that tests see what the
# real template does to a conversation: an assistant turn after the last user message keeps
# its think block, every earlier one loses it (the model's own text, after `</think>`, stays);
# with `enable_thinking=False` the generation prompt opens an empty think block.
CHATML_TEMPLATE = (
    "{% set ns = namespace(last_user=-1) %}"
    "{% for m in messages %}{% if m['role'] == 'user' %}{% set ns.last_user = loop.index0 %}"
    "{% endif %}{% endfor %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}"
    "{% set content = m['content'] %}{% set reasoning = '' %}"
    "{% if '</think>' in content %}"
    "{% set reasoning = content.split('</think>')[0].rstrip('\n')"
    ".split('<think>')[-1].lstrip('\n') %}"
    "{% set content = content.split('</think>')[-1].lstrip('\n') %}"
    "{% endif %}"
    "{% if loop.index0 > ns.last_user and (loop.last or reasoning) %}"
    "<|im_start|>assistant\n<think>\n{{ reasoning.strip('\n') }}\n</think>\n\n"
    "{{ content.lstrip('\n') }}"
    "{% else %}<|im_start|>assistant\n{{ content }}{% endif %}<|im_end|>\n"
    "{% else %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n"
    "{% endif %}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]


def toy_tokenizer(texts: Sequence[str], vocab_size: int = 1000) -> Any:
    """A byte-level BPE tokenizer trained on `texts`, with the ChatML template above: for
    tests and benchmarks where no pretrained tokenizer can be downloaded. Any text encodes
    (bytes are the base alphabet)."""
    from .errors import require

    tokenizers = require("tokenizers", "toy_tokenizer")
    transformers = require("transformers", "toy_tokenizer")
    bpe = tokenizers.Tokenizer(tokenizers.models.BPE())
    bpe.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer)
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer
