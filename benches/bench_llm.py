"""The model side of a turn, on a GPU: a Qwen3-0.6B-shaped model with random weights (weights
do not change speed), bfloat16, static KV cache, greedy decoding through `TransformersBackend`,
with the decode eager and compiled (`torch.compile`, mode reduce-overhead: CUDA graphs).

* decode throughput (tokens/s after the prompt) and time to the first token;
* time to a complete plan: the real prompt (system prompt + issue), the model forced token by
  token to write a real 4-task plan (`ReplayBackend`);
* the whole localization: plan turn + answer turn by the model, the tools run on the corpus
  as the plan streams, against the budget of about one second.

Skipped where CUDA is absent. `ACS_BENCH_LLM_DEVICE=cpu ACS_BENCH_LLM_SHAPE=tiny` runs the
same code on the CPU with a tiny model (a smoke test of the benchmark, not a figure).
Figures go to each benchmark's `extra_info` (`--benchmark-json`) and are printed.
"""

from __future__ import annotations

import os
import time

import pytest

import acs
from acs.llm import LlmPolicy, ReplayBackend
from acs.llm.prompt import Conversation, load_prompts
from acs.llm.scripted import toy_tokenizer
from acs.train.planner.pg_smoke import QWEN3_0_6B

torch = pytest.importorskip("torch", reason="pip install 'agentic-code-search[hf]'")
transformers = pytest.importorskip("transformers", reason="transformers not installed")


DEVICE = os.environ.get("ACS_BENCH_LLM_DEVICE", "cuda")
SHAPE = os.environ.get("ACS_BENCH_LLM_SHAPE", "qwen3-0.6b")
if DEVICE.startswith("cuda") and not torch.cuda.is_available():
    pytest.skip(
        "no CUDA device: the model benchmark needs a GPU (ACS_BENCH_LLM_DEVICE=cpu "
        "ACS_BENCH_LLM_SHAPE=tiny for a smoke run)",
        allow_module_level=True,
    )

SHAPES = {
    # Qwen/Qwen3-0.6B's config.json
    "qwen3-0.6b": dict(vocab_size=151936, **QWEN3_0_6B),
    "tiny": dict(
        vocab_size=4096,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=8192,
    ),
}
ISSUE = """json.loads raises JSONDecodeError "Expecting value" for an empty document, but
JSONDecoder.raw_decode should report the position of the first bad character.
See json/decoder.py."""
PLAN = (
    '1. grep(pattern="Expecting value", fixed_strings=True, include=["*.py"])\n'
    '2. symbols(name="JSONDecoder.raw_decode")\n'
    '3. bm25(query="loads empty document JSONDecodeError raw_decode", level="function", '
    "limit=10)\n"
    '4. outline(path="$1.matches[0].path")\n'
    "end\n"
)
ANSWER = (
    'answer(files=["json/decoder.py", "json/__init__.py"], functions=["json/decoder.py:'
    'JSONDecoder.raw_decode", "json/decoder.py:JSONDecoder.decode"])\n'
)
DECODE_TOKENS = 256
MODES = ["eager", "compiled"]


@pytest.fixture(scope="module")
def model_and_tokenizer():
    prompts = load_prompts()
    # Trained on the prompt itself, the toy tokenizer cuts it into about as many tokens as
    # Qwen's (about one per word); the model's vocabulary is Qwen's whatever the tokenizer.
    tokenizer = toy_tokenizer([prompts.system, ISSUE, PLAN, ANSWER], 2000)
    config = transformers.Qwen3Config(
        **SHAPES[SHAPE],
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    dtype = torch.bfloat16 if DEVICE.startswith("cuda") else torch.float32
    torch.manual_seed(0)
    with torch.device(DEVICE):
        model = transformers.Qwen3ForCausalLM(config).to(dtype).eval()
    return model, tokenizer


def card() -> str:
    if DEVICE.startswith("cuda"):
        return torch.cuda.get_device_name()
    return f"cpu ({os.cpu_count()} cores)"


def sync() -> None:
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


def messages() -> list[dict[str, str]]:
    return Conversation(load_prompts(), ISSUE, max_turns=4).messages


def replay(model_and_tokenizer, script, mode):
    model, tokenizer = model_and_tokenizer
    return ReplayBackend(model, tokenizer, script, device=DEVICE, compile=mode == "compiled")


@pytest.mark.parametrize("mode", MODES)
def test_llm_decode_throughput(benchmark, model_and_tokenizer, mode):
    """Tokens per second once the prompt is in the cache, and the time to the first token."""
    text = " ".join(["word"] * 4 * DECODE_TOKENS)
    backend = replay(model_and_tokenizer, lambda _: text, mode)
    prompt = messages()
    timings: dict[str, float] = {}

    def generate() -> int:
        start = time.perf_counter()
        first = None
        n = 0
        for _ in backend.stream(prompt, max_tokens=DECODE_TOKENS):
            n += 1
            if first is None:
                sync()
                first = time.perf_counter()
        sync()
        end = time.perf_counter()
        tokens = backend.stats["completion_tokens"]
        timings.update(
            first_token_ms=(first - start) * 1000,
            decode_tokens_per_s=(tokens - 1) / (end - first),
            tokens=tokens,
            prompt_tokens=backend.stats["prompt_tokens"],
        )
        return tokens

    tokens = benchmark.pedantic(generate, rounds=3, iterations=1, warmup_rounds=1)
    assert tokens == DECODE_TOKENS
    benchmark.extra_info.update(timings, card=card(), shape=SHAPE, mode=mode)
    print(f"\n{card()} {SHAPE} {mode}: {timings}")


@pytest.mark.parametrize("mode", MODES)
def test_llm_time_to_plan(benchmark, model_and_tokenizer, mode):
    """From the request to the parsed `end` line of a 4-task plan (first turn's prompt)."""
    backend = replay(model_and_tokenizer, lambda _: PLAN, mode)
    policy = LlmPolicy(backend)
    stats: dict[str, float] = {}

    def plan() -> int:
        tasks = list(policy.plan(ISSUE, []))
        sync()
        stats.update(policy.turns[-1])
        return len(tasks)

    assert benchmark.pedantic(plan, rounds=5, iterations=1, warmup_rounds=1) == 4
    info = {k: stats[k] for k in ("first_chunk_ms", "prompt_tokens", "completion_tokens")}
    benchmark.extra_info.update(info, card=card(), shape=SHAPE, mode=mode)
    print(f"\n{card()} {SHAPE} {mode}: plan of {stats['completion_tokens']} tokens, {info}")


@pytest.mark.parametrize("mode", MODES)
def test_llm_localize_turn(benchmark, model_and_tokenizer, loaded, mode):
    """The whole localization: the model writes the plan (tools run as its lines arrive),
    sees the results and writes the answer. Budget: about one second."""
    backend = replay(model_and_tokenizer, [PLAN, ANSWER] * 1000, mode)
    acs.localize(loaded, ISSUE)  # indexes in memory, as in a warm server

    def run() -> dict:
        return acs.localize(loaded, ISSUE, policy=LlmPolicy(backend), trajectory=True)

    result = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    assert result["files"][0]["path"] == "json/decoder.py"
    turns = result["trajectory"]["transcript"]["turns"]
    model_ms = sum(t["elapsed_ms"] for t in turns)
    info = {
        "latency_ms": result["stats"]["latency_ms"],
        "model_ms": round(model_ms, 1),
        "model_ms_per_turn": [t["elapsed_ms"] for t in turns],
        "tool_calls": result["stats"]["tool_calls"],
    }
    benchmark.extra_info.update(info, card=card(), shape=SHAPE, mode=mode)
    print(f"\n{card()} {SHAPE} {mode}: {info}")
