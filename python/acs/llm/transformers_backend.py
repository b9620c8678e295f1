"""`TransformersBackend`: a local causal LM with Hugging Face transformers, streamed from a
generation thread. Needs torch and transformers (`pip install 'agentic-code-search[hf]'`),
imported when a backend is created."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .backends import Messages
from .errors import BadResponseError, LlmTimeoutError, ModelNotFoundError, require
from .planlang import Constraint


class TransformersBackend:
    """A local causal LM with Hugging Face transformers: `model` is a directory or Hub id (or
    a loaded model, given with its `tokenizer`).

    It runs on CUDA when there is a GPU (else the CPU, in float32), greedy, with a static KV
    cache sized in buckets of 256 positions so that consecutive turns reuse one cache (and,
    with `compile=True` on a GPU, one compiled graph). The chat template is applied with
    `enable_thinking=False`. Text streams from a generation thread through
    `TextIteratorStreamer`; closing the stream stops the generation at the next token.
    `constrain="grammar"` enforces the plan grammar with xgrammar's logits processor.
    """

    name = "transformers"

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: str | None = None,
        dtype: str = "auto",
        static_cache: bool = True,
        compile: bool = False,
        timeout: float = 60.0,
        constrain: str | None = None,
    ) -> None:
        purpose = "--policy transformers (a local model)"
        self._torch = torch = require("torch", purpose)
        self._transformers = transformers = require("transformers", purpose)
        if device in (None, "auto"):
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        if isinstance(model, str | os.PathLike):
            source = str(model)
            if dtype == "auto":
                dtype = "bfloat16" if device.startswith("cuda") else "float32"
            try:
                tokenizer = tokenizer or transformers.AutoTokenizer.from_pretrained(source)
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    source, dtype=getattr(torch, dtype)
                )
            except (OSError, ValueError) as e:
                raise ModelNotFoundError(f"cannot load model {source!r}: {e}") from e
        elif tokenizer is None:
            raise ValueError("a loaded model needs its tokenizer")
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.model_name = str(getattr(model.config, "name_or_path", "") or type(model).__name__)
        self.static_cache = static_cache
        self.compile = compile
        self.timeout = timeout
        if constrain not in (None, "none", "grammar"):
            raise ValueError(f"constrain must be 'grammar' or None, not {constrain!r}")
        self.constrain = None if constrain == "none" else constrain
        if self.constrain:
            require("xgrammar", "constrained decoding with --policy transformers")
        self._grammars: dict[str, Any] = {}
        self.stats: dict[str, Any] = {}

    def prompt_ids(self, messages: Messages) -> Any:
        return self.tokenizer.apply_chat_template(
            [dict(m) for m in messages],
            add_generation_prompt=True,
            enable_thinking=False,
            return_tensors="pt",
            return_dict=True,
        ).to(self.device)

    def logits_processors(
        self, messages: Messages, prompt_len: int, constraint: Constraint | None
    ) -> list[Any]:
        """Processors applied to each step's logits (the grammar; subclasses add more)."""
        if constraint is None or not self.constrain:
            return []
        xgr = require("xgrammar", "constrained decoding")
        compiled = self._grammars.get(constraint.grammar)
        if compiled is None:
            info = xgr.TokenizerInfo.from_huggingface(
                self.tokenizer, vocab_size=self.model.config.vocab_size
            )
            compiled = xgr.GrammarCompiler(info).compile_grammar(constraint.grammar)
            self._grammars[constraint.grammar] = compiled
        return [xgr.contrib.hf.LogitsProcessor(compiled)]

    def stream(
        self, messages: Messages, *, constraint: Constraint | None = None, max_tokens: int = 512
    ) -> Iterator[str]:
        transformers = self._transformers
        inputs = self.prompt_ids(messages)
        prompt_len = int(inputs["input_ids"].shape[1])
        streamer = transformers.TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.timeout
        )
        stop = threading.Event()
        steps = [0]

        def stopped(input_ids: Any, scores: Any, **_: Any) -> Any:
            steps[0] = int(input_ids.shape[1]) - prompt_len
            return self._torch.full(
                (input_ids.shape[0],),
                stop.is_set(),
                dtype=self._torch.bool,
                device=input_ids.device,
            )

        kwargs: dict[str, Any] = {
            **inputs,
            "max_new_tokens": max_tokens,
            "do_sample": False,
            "streamer": streamer,
            "stopping_criteria": transformers.StoppingCriteriaList([_Criterion(stopped)]),
            "logits_processor": transformers.LogitsProcessorList(
                self.logits_processors(messages, prompt_len, constraint)
            ),
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        }
        if self.static_cache:
            kwargs["cache_implementation"] = "static"
            kwargs["max_cache_len"] = -(-(prompt_len + max_tokens) // 256) * 256
        kwargs["disable_compile"] = not self.compile
        failures: list[BaseException] = []

        def generate() -> None:
            try:
                with self._torch.inference_mode():
                    self.model.generate(**kwargs)
            except BaseException as e:  # reported to the reader below
                failures.append(e)
                streamer.end()

        self.stats = {"finish_reason": None, "prompt_tokens": prompt_len}
        deadline = time.monotonic() + self.timeout
        thread = threading.Thread(target=generate, name="acs-generate", daemon=True)
        thread.start()
        try:
            while True:
                try:
                    text = next(streamer)
                except StopIteration:
                    break
                except queue.Empty:
                    raise LlmTimeoutError(
                        f"the model produced nothing for {self.timeout:g} s"
                    ) from None
                if text:
                    yield text
                if time.monotonic() > deadline:
                    raise LlmTimeoutError(f"the model did not finish within {self.timeout:g} s")
        finally:
            stop.set()
            thread.join(timeout=self.timeout)
            self.stats["completion_tokens"] = steps[0]
            self.stats["finish_reason"] = "stop" if steps[0] < max_tokens else "length"
        if failures:
            raise BadResponseError(f"generation failed: {failures[0]!r}") from failures[0]


class _Criterion:
    """A stopping criterion from a function (transformers only calls it)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        return self.fn(input_ids, scores, **kwargs)
