"""Training's generations end where serving's do (acs.train.planner.plan_stop): the text the planner
reads, and the fewest tokens that hold it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from acs.train.planner.plan_stop import PlanStopClient, plan_text, token_prefix

pytest.importorskip("transformers", reason="the hf extra: pip install 'agentic-code-search[hf]'")

PLAN = '1. grep(pattern="Reader")\nend\n'
ANSWER = 'answer(files=["pkg/io.py"], functions=["pkg/io.py:Reader.read"])\n'
AFTER = 'and more words the planner never reads\n2. grep(pattern="x")\n'


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from acs.llm.scripted import toy_tokenizer

    return toy_tokenizer([PLAN, ANSWER, AFTER], 300)


def test_the_planner_reads_through_end_or_the_answer_line():
    assert plan_text(PLAN + AFTER) == PLAN
    assert plan_text(ANSWER + AFTER) == ANSWER
    assert plan_text("end") is None  # a line not yet finished ends nothing
    assert plan_text('1. grep(pattern="x")\n') is None


def test_the_fewest_tokens_that_hold_the_text(tokenizer):
    ids = tokenizer.encode(PLAN + AFTER, add_special_tokens=False)
    n = token_prefix(tokenizer, ids, PLAN)
    assert n is not None and tokenizer.decode(ids[:n]).startswith(PLAN)
    assert not tokenizer.decode(ids[: n - 1]).startswith(PLAN)
    assert token_prefix(tokenizer, ids, "") == 0
    assert token_prefix(tokenizer, ids, "not in there at all") is None


class FakeEngine:
    """A client that 'generated' the given texts, one token's log-prob each."""

    def __init__(self, tokenizer: Any, texts: list[str]) -> None:
        self.tokenizer, self.texts, self.weight_version = tokenizer, texts, 7

    async def generate(self, input_batch: Any, model: str | None = None) -> dict[str, Any]:
        ids = [
            [*self.tokenizer.encode(t, add_special_tokens=False), self.tokenizer.eos_token_id]
            for t in self.texts
        ]
        return {
            "responses": list(self.texts),
            "response_ids": ids,
            "stop_reasons": ["stop"] * len(ids),
            "response_logprobs": [[-1.0] * len(i) for i in ids],
        }


def test_responses_are_cut_where_the_planner_stops_and_the_rest_pass(tokenizer):
    texts = [PLAN + AFTER, ANSWER + AFTER, 'garbage with no end\n1. grep(pattern="x")']
    client = PlanStopClient(FakeEngine(tokenizer, texts), tokenizer)
    out = asyncio.run(client.generate({"prompt_token_ids": [[1]] * 3}))
    assert out["responses"][:2] == [PLAN, ANSWER] and out["responses"][2] == texts[2]
    for i in range(3):
        assert len(out["response_logprobs"][i]) == len(out["response_ids"][i])
        assert tokenizer.decode(out["response_ids"][i], skip_special_tokens=True).startswith(
            out["responses"][i]
        )
    assert out["response_ids"][2][-1] == tokenizer.eos_token_id  # not cut: as generated
    assert client.cut == 2 and client.weight_version == 7  # the rest is the wrapped client's
