"""`OpenAIBackend`: any OpenAI-compatible `/v1/chat/completions` endpoint (vLLM, SGLang,
llama.cpp, a hosted API), streamed over HTTP with server-sent events. Needs httpx
(`pip install 'agentic-code-search[llm]'`), imported when a backend is created."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .backends import Messages
from .errors import (
    BadResponseError,
    LlmError,
    LlmTimeoutError,
    ModelNotFoundError,
    ServerUnavailableError,
    require,
)
from .planlang import Constraint

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


class _Retry(Exception):
    def __init__(self, error: LlmError) -> None:
        self.error = error


class OpenAIBackend:
    """An OpenAI-compatible chat completions endpoint, streamed.

    `flavor="vllm"` adds vLLM's extensions to each request: `chat_template_kwargs:
    {"enable_thinking": false}` (Qwen3's template then opens the answer with an empty think
    block, as the model was trained for non-thinking use) and, with `constrain="grammar"` (the
    default for vLLM) or `"regex"`, `structured_outputs` holding the plan language's grammar
    (vLLM >= 0.12; older servers called it `guided_grammar`). `flavor="openai"` sends a plain
    request, for servers that reject unknown fields (`structured_outputs` only when
    `constrain` is given).

    `timeout` bounds a whole request (seconds): no byte for that long, or a plan not finished
    by then, raises `LlmTimeoutError`. Connection failures, 429 and 5xx are retried `retries`
    times with exponential backoff (`backoff`, doubled each time), but only before any text
    arrived: a half-streamed plan is never replayed.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        model: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.25,
        flavor: str = "vllm",
        constrain: str | None = "auto",
        temperature: float = 0.0,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        if flavor not in ("vllm", "openai"):
            raise ValueError(f"flavor must be 'vllm' or 'openai', not {flavor!r}")
        if constrain == "auto":
            constrain = "grammar" if flavor == "vllm" else None
        if constrain not in (None, "none", "grammar", "regex"):
            raise ValueError(f"constrain must be 'grammar', 'regex' or None, not {constrain!r}")
        self._httpx = require("httpx", f"--policy {flavor} (an HTTP model server)")
        self.name = flavor
        self.base_url = base_url.rstrip("/")
        self._model = model
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.flavor = flavor
        self.constrain = None if constrain == "none" else constrain
        self.temperature = temperature
        self.extra_body = dict(extra_body or {})
        self.stats: dict[str, Any] = {}
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = self._httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=self._httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        )

    # -- the model's name --------------------------------------------------------------------

    @property
    def model_name(self) -> str:
        """The model requested; when none was given, the first one the server lists (a vLLM
        server serves one)."""
        if self._model is None:
            served = self.served_models()
            if not served:
                raise ModelNotFoundError(f"the server at {self.base_url} lists no models")
            self._model = served[0]
        return self._model

    def served_models(self) -> list[str]:
        """The ids `GET /models` lists."""
        response = self._request(lambda: self._client.get("models"))
        if response.status_code != 200:
            raise self._error(response, model=None)
        try:
            return [m["id"] for m in response.json()["data"]]
        except (ValueError, KeyError, TypeError) as e:
            raise BadResponseError(
                f"{self.base_url}/models did not answer a model list: {response.text[:200]!r}"
            ) from e

    # -- requests ------------------------------------------------------------------------------

    def _body(
        self, messages: Messages, constraint: Constraint | None, max_tokens: int
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": [dict(m) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": max_tokens,
            "temperature": self.temperature,
        }
        if self.flavor == "vllm":
            body["chat_template_kwargs"] = {"enable_thinking": False}
        if constraint is not None and self.constrain:  # asked for explicitly with "openai"
            text = constraint.grammar if self.constrain == "grammar" else constraint.regex
            body["structured_outputs"] = {self.constrain: text}
        body.update(self.extra_body)
        return body

    def _request(self, send: Callable[[], Any]) -> Any:
        """A plain (not streamed) request with the retries."""
        for attempt in range(self.retries + 1):
            try:
                response = send()
                if response.status_code in (429, 500, 502, 503, 504) and attempt < self.retries:
                    raise _Retry(self._error(response, model=None))
                return response
            except self._httpx.TimeoutException as e:
                if not isinstance(e, self._httpx.ConnectTimeout):
                    raise LlmTimeoutError(
                        f"the model server at {self.base_url} did not answer within "
                        f"{self.timeout:g} s"
                    ) from e
                error: LlmError = self._unreachable(e)
            except self._httpx.TransportError as e:
                error = self._unreachable(e)
            except _Retry as r:
                error = r.error
            if attempt == self.retries:
                raise error
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def stream(
        self, messages: Messages, *, constraint: Constraint | None = None, max_tokens: int = 512
    ) -> Iterator[str]:
        httpx = self._httpx
        body = self._body(messages, constraint, max_tokens)
        self.stats = {"finish_reason": None}
        deadline = time.monotonic() + self.timeout
        received = False
        for attempt in range(self.retries + 1):
            try:
                with self._client.stream("POST", "chat/completions", json=body) as response:
                    if response.status_code != 200:
                        response.read()
                        error = self._error(response, model=body["model"])
                        if response.status_code in (429, 500, 502, 503, 504):
                            raise _Retry(error)
                        raise error
                    for text in self._events(response, deadline):
                        received = True
                        yield text
                return
            except _Retry as r:
                failure: LlmError = r.error
            except httpx.TimeoutException as e:
                if not isinstance(e, httpx.ConnectTimeout):
                    raise LlmTimeoutError(
                        f"the model at {self.base_url} sent nothing for {self.timeout:g} s "
                        "(--llm-timeout)"
                    ) from e
                failure = self._unreachable(e)
            except (httpx.RemoteProtocolError, httpx.ReadError) as e:
                if received:
                    raise BadResponseError(
                        f"the connection to {self.base_url} broke in the middle of the plan: {e}"
                    ) from e
                failure = ServerUnavailableError(
                    f"the model server at {self.base_url} closed the connection: {e}"
                )
            except httpx.TransportError as e:
                failure = self._unreachable(e)
            if attempt == self.retries or time.monotonic() > deadline:
                raise failure
            time.sleep(self.backoff * 2**attempt)

    def _events(self, response: Any, deadline: float) -> Iterator[str]:
        """The text deltas of a server-sent event stream."""
        streamed = False
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                raise LlmTimeoutError(
                    f"the model did not finish its plan within {self.timeout:g} s (--llm-timeout)"
                )
            if not line.startswith("data:"):
                continue  # comments, `event:` and `id:` fields, keep-alives
            streamed = True
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except ValueError as e:
                raise BadResponseError(
                    f"the server sent an event that is not JSON: {data[:200]!r}"
                ) from e
            if not isinstance(event, dict):
                raise BadResponseError(f"unexpected event from the server: {data[:200]!r}")
            if "error" in event:
                raise BadResponseError(f"the server failed mid-stream: {_message(event)}")
            if usage := event.get("usage"):
                self.stats["prompt_tokens"] = usage.get("prompt_tokens")
                self.stats["completion_tokens"] = usage.get("completion_tokens")
            for choice in event.get("choices") or ():
                delta = choice.get("delta") or {}
                if text := delta.get("content"):
                    yield text
                if reason := choice.get("finish_reason"):
                    self.stats["finish_reason"] = reason
        if not streamed:  # e.g. a server that ignored `stream: true` and sent one JSON body
            kind = response.headers.get("content-type", "no content type")
            raise BadResponseError(
                f"the server at {self.base_url} did not stream a chat completion ({kind}); "
                "acs needs an OpenAI-compatible server that supports `stream: true`"
            )

    # -- errors --------------------------------------------------------------------------------

    def _unreachable(self, e: Exception) -> ServerUnavailableError:
        return ServerUnavailableError(
            f"cannot reach the model server at {self.base_url} ({type(e).__name__}: {e}); "
            "is it running? Start one with `vllm serve MODEL` or pass --base-url"
        )

    def _error(self, response: Any, *, model: str | None) -> LlmError:
        status, message = response.status_code, _message(response.text)
        where = f"{response.request.method} {response.request.url}"
        if status == 404 and model is not None:
            # vLLM and OpenAI answer 404 for a model they do not serve; a wrong base URL also
            # gives 404. The model list tells them apart.
            try:
                served = self.served_models()
            except LlmError:
                served = None
            if served is not None and model not in served:
                listed = ", ".join(served) or "none"
                return ModelNotFoundError(
                    f"the server at {self.base_url} does not serve model {model!r} "
                    f"(it serves: {listed}); pass one of them with --model"
                )
        if status == 404:
            return BadResponseError(
                f"{where}: 404 Not Found ({message}); is the base URL right? It usually ends in /v1"
            )
        if status in (401, 403):
            return BadResponseError(
                f"{where}: {status} unauthorized ({message}); pass --api-key or set ACS_LLM_API_KEY"
            )
        if status >= 500 or status == 429:
            return ServerUnavailableError(f"{where}: the server failed with {status}: {message}")
        return BadResponseError(f"{where}: the server refused the request ({status}): {message}")

    def close(self) -> None:
        self._client.close()


def _message(body: Any) -> str:
    """The error message in an OpenAI-style error body (`{"error": {"message": ...}}`, or
    vLLM's older top-level `message`)."""
    try:
        data = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return str(body)[:300] or "(empty body)"
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])[:300]
        if isinstance(error, str):
            return error[:300]
    return str(body)[:300]
