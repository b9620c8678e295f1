"""The OpenAI-compatible backend against a fake server on 127.0.0.1 that streams scripted
plans: dispatch while streaming, replanning after errors, timeouts, retries, a server that is
down, a wrong model name; end to end through `acs.localize` and `acs localize`."""

from __future__ import annotations

import socket
import sys
import threading
import time

import orjson
import pytest

pytest.importorskip("httpx", reason="httpx not installed (pip install 'agentic-code-search[llm]')")

import acs
import acs.execution
from acs.cli import main
from acs.llm import (
    BadResponseError,
    LlmPolicy,
    LlmTimeoutError,
    MissingDependencyError,
    ModelNotFoundError,
    OpenAIBackend,
    ServerUnavailableError,
)
from acs.llm import planlang as pl
from helpers.cpu_clock import HANG_S
from helpers.fake_openai import FakeOpenAI, Reply

FILES = {
    "src/shop/cart.py": (
        "class Cart:\n"
        "    def total(self):\n"
        "        return sum(item.price for item in self.items)\n"
        "\n"
        "    def add(self, item):\n"
        '        raise ValueError("negative quantity")\n'
    ),
    "src/shop/item.py": "class Item:\n    price = 0\n",
    "tests/test_cart.py": "from shop.cart import Cart\n\ndef test_total():\n    Cart().total()\n",
}
ISSUE = 'Cart.add raises ValueError "negative quantity" when the quantity is zero'
PLAN = (
    '1. symbols(name="Cart.add")\n'
    '2. grep(pattern="negative quantity", fixed_strings=True)\n'
    '3. outline(path="$2.matches[0].path")\n'
    "end\n"
)
ANSWER = 'answer(files=["src/shop/cart.py"], functions=["src/shop/cart.py:Cart.add"])\n'
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def server():
    fake = FakeOpenAI()
    yield fake
    fake.stop()


@pytest.fixture
def repo(make_tree):
    return acs.Repo.open(make_tree(FILES), index_cache=False)


def backend(server, **options):
    options = {"timeout": 5.0, "retries": 2, "backoff": 0.01, **options}
    return OpenAIBackend(server.base_url, **options)


def test_streams_text_and_sends_vllm_options(server):
    server.replies = [Reply(PLAN, chunk=5)]
    b = backend(server)
    chunks = list(b.stream(MESSAGES, constraint=pl.constraint(False), max_tokens=99))
    assert "".join(chunks) == PLAN and len(chunks) > 5
    assert b.model_name == "tiny-planner"  # the server's first model, none was given
    body = server.requests[0]
    assert body["stream"] is True and body["max_tokens"] == 99 and body["temperature"] == 0
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["structured_outputs"] == {"grammar": pl.grammar()}
    assert b.stats == {"finish_reason": "stop", "prompt_tokens": 100, "completion_tokens": 10}


def test_plain_openai_flavor_sends_no_extensions(server):
    server.replies = [PLAN, PLAN]
    list(backend(server, flavor="openai").stream(MESSAGES, constraint=pl.constraint(False)))
    assert "chat_template_kwargs" not in server.requests[0]
    assert "structured_outputs" not in server.requests[0]
    regex = backend(server, flavor="openai", constrain="regex")
    list(regex.stream(MESSAGES, constraint=pl.constraint(True)))
    assert server.requests[1]["structured_outputs"] == {"regex": pl.regex(final=True)}
    assert "chat_template_kwargs" not in server.requests[1]


def test_tasks_run_while_the_plan_is_still_streaming(server, repo, monkeypatch):
    """Each task is submitted, and runs, before the next line is even sent: the server waits
    after each task line until the client has submitted that task and the engine has run it
    (only a client that waits for the end of the plan keeps it waiting, until `HANG_S`)."""
    runs: list[acs.execution.PlanRun] = []
    submitted = [threading.Event() for _ in range(3)]
    lines_sent_at_submit: list[int] = []
    original = acs.execution.PlanRun.submit

    def submit(self, tasks):
        runs.append(self)
        lines_sent_at_submit.append("".join(p for r, p in server.sent if r == 0).count("\n"))
        original(self, tasks)
        submitted[len(lines_sent_at_submit) - 1].set()

    def after_line(n: int) -> None:
        if n <= len(submitted) and submitted[n - 1].wait(HANG_S):
            runs[0].wait(n, timeout=HANG_S)

    server.replies = [Reply(PLAN, chunk=1, after_line=after_line), ANSWER]
    monkeypatch.setattr(acs.execution.PlanRun, "submit", submit)
    result = acs.localize(repo, ISSUE, policy=LlmPolicy(backend(server)), trajectory=True)
    assert lines_sent_at_submit == [1, 2, 3]  # each task as soon as its line, `end` unsent
    # The engine's own clock: task 1 had run and finished before task 3 was written.
    outcomes = {o["id"]: o for o in result["trajectory"]["turns"][0]["outcomes"]}
    first_done = outcomes[1]["started_ms"] + outcomes[1]["elapsed_ms"]
    assert outcomes[3]["submitted_ms"] > first_done
    assert result["files"][0]["path"] == "src/shop/cart.py"
    assert result["functions"][0]["name"] == "Cart.add"


def test_end_closes_the_stream(server):
    server.replies = [Reply(PLAN + "1. grep(pattern='more')\n" * 200, chunk=20, delay=0.002)]
    policy = LlmPolicy(backend(server))
    tasks = list(policy.plan(ISSUE, []))
    assert len(tasks) == 3
    assert policy.turns[0]["output"] == PLAN  # nothing after `end`
    for _ in range(int(HANG_S / 0.01)):  # a generous wait, for a busy machine
        if server.disconnected:
            break
        time.sleep(0.01)
    assert server.disconnected == 1  # the client hung up: vLLM aborts such a request


def test_malformed_and_truncated_plans_are_reported_then_replanned(server, repo):
    server.replies = [
        Reply(
            '1. symbols(name=Cart)\nSure! Here is a plan.\n2. grep(pattern="negative quan',
            finish_reason="length",
        ),
        PLAN.replace("1.", "5.").replace("2.", "6.").replace("3.", "7.").replace("$2", "$6"),
        ANSWER,
    ]
    result = acs.localize(repo, ISSUE, policy=LlmPolicy(backend(server)), trajectory=True)
    observed = server.requests[1]["messages"][-1]["content"]
    assert "[1] symbols: error (plan_syntax): `1. symbols(name=Cart)`" in observed
    assert "[2] grep: error (plan_syntax)" in observed and "cut off" in observed
    assert "[3] ?: error (plan_syntax): `Sure! Here is a plan.`: not a task" in observed
    turns = result["trajectory"]["turns"]
    assert [o["status"] for o in turns[1]["outcomes"]] == ["ok", "ok", "ok"]
    assert result["trajectory"]["transcript"]["turns"][0]["finish_reason"] == "length"
    assert result["files"][0]["path"] == "src/shop/cart.py"


# The two tests below bound wall time, as the timeouts they test are wall time; the limit
# is 50x the timeout, and far below when the server would answer.


def test_silent_server_times_out(server):
    server.replies = [Reply(PLAN, first_delay=60)]
    start = time.monotonic()
    with pytest.raises(LlmTimeoutError, match=r"sent nothing for 0\.4 s"):
        list(backend(server, timeout=0.4).stream(MESSAGES))
    assert time.monotonic() - start < 20  # wall-clock: allowed: the timeout's own time


def test_slow_plan_times_out(server, repo):
    server.replies = [Reply(PLAN * 20, chunk=4, delay=0.05)]  # 32 s to send it all
    start = time.monotonic()
    with pytest.raises(LlmTimeoutError, match=r"did not finish its plan within 0\.5 s"):
        acs.localize(repo, ISSUE, policy=LlmPolicy(backend(server, timeout=0.5)))
    assert time.monotonic() - start < 25  # wall-clock: allowed: the timeout's own time


def test_server_errors_are_retried(server):
    server.replies = [Reply(status=503), Reply(status=500), PLAN]
    assert "".join(backend(server).stream(MESSAGES)) == PLAN
    assert len(server.requests) == 3


def test_server_errors_past_the_retries(server):
    body = {"error": {"message": "CUDA out of memory", "type": "InternalServerError"}}
    server.replies = [Reply(status=500, body=body)] * 5
    with pytest.raises(ServerUnavailableError, match="500: CUDA out of memory"):
        list(backend(server, retries=1).stream(MESSAGES))
    assert len(server.requests) == 2


def test_bad_requests_are_not_retried(server):
    body = {"error": {"message": "This model's maximum context length is 4096 tokens"}}
    server.replies = [Reply(status=400, body=body)]
    with pytest.raises(BadResponseError, match=r"refused the request \(400\): This model's"):
        list(backend(server).stream(MESSAGES))
    assert len(server.requests) == 1


def test_server_down():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = OpenAIBackend(f"http://127.0.0.1:{port}/v1", "m", timeout=2, retries=1, backoff=0.01)
    with pytest.raises(ServerUnavailableError, match=rf"127\.0\.0\.1:{port}/v1.*vllm serve"):
        list(b.stream(MESSAGES))
    with pytest.raises(ServerUnavailableError):
        _ = OpenAIBackend(f"http://127.0.0.1:{port}/v1", timeout=2, retries=0).model_name


def test_wrong_model(server):
    with pytest.raises(ModelNotFoundError, match=r"does not serve model 'qwen3'.*tiny-planner"):
        list(backend(server, model="qwen3").stream(MESSAGES))


def test_wrong_base_url(server):
    b = OpenAIBackend(server.base_url.removesuffix("/v1"), "tiny-planner", retries=0)
    with pytest.raises(BadResponseError, match=r"404.*ends in /v1"):
        list(b.stream(MESSAGES))


def test_missing_httpx_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'agentic-code-search\[llm\]'"):
        OpenAIBackend()


def test_cli_end_to_end(server, make_tree, tmp_path, capsys):
    server.replies = [PLAN, ANSWER]
    root = make_tree(FILES)
    trace = tmp_path / "trace.json"
    args = ["localize", "--repo", str(root), "--no-cache", "--policy", "openai"]
    args += ["--base-url", server.base_url, "--model", "tiny-planner", "--llm-timeout", "5"]
    assert main([*args, "--trace", str(trace), ISSUE]) == 0
    result = orjson.loads(capsys.readouterr().out)
    assert result["files"][0]["path"] == "src/shop/cart.py"
    assert result["stats"]["calls_per_turn"] == [3]
    transcript = orjson.loads(trace.read_bytes())["transcript"]
    assert transcript["backend"] == "openai" and transcript["model"] == "tiny-planner"
    assert [m["role"] for m in transcript["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    assert "chat_template_kwargs" not in server.requests[0]  # openai: a plain request


def test_cli_errors(server, make_tree, capsys):
    root = make_tree(FILES)
    base = ["localize", "--repo", str(root), "--no-cache", "--base-url", server.base_url]
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--policy", "vllm", "--model", "nope", ISSUE])
    assert exit_info.value.code == 1
    assert "does not serve model 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([*base, ISSUE])  # --base-url without a model planner
    assert exit_info.value.code == 2
    assert "--base-url only apply to --policy" in capsys.readouterr().err


def test_eval_builds_model_planners_from_the_environment(server, make_tree, monkeypatch):
    from acs.policies import policy_factory

    monkeypatch.setenv("ACS_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("ACS_LLM_MODEL", "tiny-planner")
    server.replies = [PLAN, ANSWER]
    policy = policy_factory("openai")()
    assert isinstance(policy, LlmPolicy)
    try:
        result = acs.localize(acs.Repo.from_files(FILES), ISSUE, policy=policy)
    finally:
        policy.backend.close()  # a kept-alive connection would hold the server's shutdown
    assert result["files"][0]["path"] == "src/shop/cart.py"


def test_a_server_that_does_not_stream_is_a_clear_error(server):
    server.replies = [Reply(PLAN, stream=False)]
    backend = OpenAIBackend(server.base_url, "tiny-planner", timeout=5)
    with pytest.raises(BadResponseError, match="did not stream"):
        list(backend.stream(MESSAGES))
    backend.close()
