"""The transformers backend with a tiny randomly initialised Qwen3 on the CPU and a byte-level
BPE tokenizer trained here (no weights or tokenizer can be downloaded): streaming, the whole
agent loop with a model that writes garbage, a real plan replayed through the model, the
grammar-constrained decoding, loading from a directory through the command line."""

from __future__ import annotations

import time

import orjson
import pytest

import acs
from acs.cli import main
from acs.llm import LlmPolicy, ReplayBackend, TransformersBackend
from acs.llm import planlang as pl
from acs.llm.prompt import load_prompts
from acs.llm.scripted import toy_tokenizer

torch = pytest.importorskip("torch", reason="pip install 'agentic-code-search[hf]'")
transformers = pytest.importorskip("transformers", reason="pip install 'agentic-code-search[hf]'")


FILES = {
    "lib/parser.py": (
        "class Parser:\n"
        "    def parse(self, text):\n"
        "        if not text:\n"
        '            raise SyntaxError("empty input")\n'
        "        return text.split()\n"
    ),
    "lib/util.py": "def helper():\n    return 1\n",
}
ISSUE = 'Parser.parse raises SyntaxError "empty input" for whitespace-only text'
PLAN = (
    '1. symbols(name="Parser.parse")\n'
    '2. grep(pattern="empty input", fixed_strings=True)\n'
    '3. outline(path="$1.symbols[0].path")\n'
    "end\n"
)
ANSWER = 'answer(files=["lib/parser.py"], functions=["lib/parser.py:Parser.parse"])\n'
MESSAGES = [{"role": "system", "content": "Plan."}, {"role": "user", "content": ISSUE}]


@pytest.fixture(scope="module")
def tiny():
    tokenizer = toy_tokenizer([load_prompts().system, PLAN, ANSWER, pl.grammar()], 600)
    config = transformers.Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(0)
    torch.set_num_threads(1)  # a tiny model: threads only contend
    return transformers.Qwen3ForCausalLM(config).eval(), tokenizer


@pytest.fixture(scope="module")
def repo():
    return acs.Repo.from_files(FILES)


def test_chat_template_disables_thinking(tiny):
    _, tokenizer = tiny
    text = tokenizer.apply_chat_template(
        MESSAGES, add_generation_prompt=True, enable_thinking=False, tokenize=False
    )
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_streams_tokens(tiny):
    backend = TransformersBackend(*tiny, device="cpu")
    chunks = list(backend.stream(MESSAGES, max_tokens=12))
    assert chunks and all(isinstance(c, str) for c in chunks)
    assert backend.stats["completion_tokens"] == 12
    assert backend.stats["finish_reason"] == "length"


def test_closing_the_stream_stops_generation(tiny):
    backend = TransformersBackend(*tiny, device="cpu")
    stream = backend.stream(MESSAGES, max_tokens=400)
    next(stream)
    stream.close()
    assert backend.stats["completion_tokens"] < 400


def test_random_model_runs_the_loop(tiny, repo):
    """A random model writes garbage: the loop survives, reports it, ends with a ranking."""
    policy = LlmPolicy(TransformersBackend(*tiny, device="cpu"), plan_tokens=24, answer_tokens=8)
    result = acs.localize(repo, ISSUE, policy=policy, max_turns=4, trajectory=True)
    assert set(result) == {"files", "functions", "lines", "stats", "trajectory"}
    transcript = result["trajectory"]["transcript"]
    assert transcript["turns"] and all(t["completion_tokens"] > 0 for t in transcript["turns"])
    for turn in result["trajectory"]["turns"]:
        for outcome in turn["outcomes"]:
            assert outcome["status"] in ("ok", "error", "skipped")


def test_replayed_plan_runs_end_to_end(tiny, repo):
    """The model's decode, forced token by token to a real plan: tasks are dispatched from
    the model's stream and its answer is the result."""
    backend = ReplayBackend(*tiny, [PLAN, ANSWER], device="cpu")
    result = acs.localize(repo, ISSUE, policy=LlmPolicy(backend), trajectory=True)
    assert result["stats"]["calls_per_turn"] == [3]
    outcomes = result["trajectory"]["turns"][0]["outcomes"]
    assert [o["status"] for o in outcomes] == ["ok", "ok", "ok"]
    transcript = result["trajectory"]["transcript"]
    assert [t["output"] for t in transcript["turns"]] == [PLAN, ANSWER]
    assert result["files"][0] == {"path": "lib/parser.py", "score": 1.0, "confident": True}
    assert result["functions"][0]["name"] == "Parser.parse"


def test_grammar_constrained_random_model_writes_only_plan_lines(tiny):
    pytest.importorskip("xgrammar", reason="xgrammar not installed (pip install xgrammar)")
    backend = TransformersBackend(*tiny, device="cpu", constrain="grammar")
    text = "".join(backend.stream(MESSAGES, constraint=pl.constraint(False), max_tokens=60))
    complete = text[: text.rfind("\n") + 1]
    assert all(not isinstance(i, pl.Invalid) for i in pl.parse_plan(complete)), text
    final = "".join(backend.stream(MESSAGES, constraint=pl.constraint(True), max_tokens=40))
    assert final.startswith("answer(files=[")


def test_cli_loads_a_model_directory(tiny, make_tree, tmp_path, capsys):
    model, tokenizer = tiny
    model = transformers.Qwen3ForCausalLM(model.config).eval()
    # A model that ends at once: with the final norm zeroed every logit is 0 and greedy
    # decoding picks token 0, made an end-of-sequence token (the loop with a model that
    # writes garbage is tested above; this is about loading and the command line).
    torch.nn.init.zeros_(model.model.norm.weight)
    model.generation_config.eos_token_id = [tokenizer.eos_token_id, 0]
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    root = make_tree(FILES)
    args = ["localize", "--repo", str(root), "--no-cache", "--policy", "transformers"]
    args += ["--model", str(tmp_path / "model"), "--device", "cpu", "--max-turns", "1"]
    # CPU time, every thread (decoding runs on its own; torch on one thread, see `tiny`).
    start = time.process_time()
    assert main([*args, ISSUE]) == 0
    result = orjson.loads(capsys.readouterr().out)
    assert set(result) == {"files", "functions", "lines", "stats"}
    assert time.process_time() - start < 30


def test_missing_model_directory(tmp_path):
    with pytest.raises(acs.llm.ModelNotFoundError, match="cannot load model"):
        TransformersBackend(str(tmp_path / "absent"), device="cpu")
