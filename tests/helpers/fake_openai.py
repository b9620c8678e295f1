"""A fake OpenAI-compatible chat completions server on 127.0.0.1 (a thread of the test
process), streaming scripted replies as server-sent events the way vLLM does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One response. `text` is streamed `chunk` characters per event; `delay` seconds pass
    before each event, `line_delay` more after each event that ends a line, `first_delay`
    before the headers; `after_line(n)`, if given, is called once the n-th line is sent (a
    test waits there for the client, instead of guessing how long it takes). A `status`
    other than 200 answers `body` (JSON) instead; `stream` False answers one JSON chat
    completion, as a server that ignores `stream: true` does."""

    text: str = ""
    status: int = 200
    body: Any = None
    chunk: int = 6
    delay: float = 0.0
    line_delay: float = 0.0
    first_delay: float = 0.0
    finish_reason: str = "stop"
    stream: bool = True
    after_line: Callable[[int], None] | None = None


@dataclass
class FakeOpenAI:
    models: list[str] = field(default_factory=lambda: ["tiny-planner"])
    replies: list[Reply | str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # (request index, text) of every piece of text sent
    sent: list[tuple[int, str]] = field(default_factory=list)
    finished: int = 0  # streams sent to the end
    disconnected: int = 0  # streams the client closed before the end

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    data = [{"id": m, "object": "model"} for m in fake.models]
                    self._json(200, {"object": "list", "data": data})
                else:
                    self._json(404, {"detail": "Not Found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                fake.requests.append(body)
                if self.path != "/v1/chat/completions":
                    self._json(404, {"detail": "Not Found"})
                    return
                if body.get("model") not in fake.models:
                    message = f"The model `{body.get('model')}` does not exist."
                    error = {"message": message, "type": "NotFoundError", "code": 404}
                    self._json(404, {"error": error})
                    return
                index = len(fake.requests) - 1
                reply = fake.replies[index] if index < len(fake.replies) else "end\n"
                if isinstance(reply, str):
                    reply = Reply(reply)
                time.sleep(reply.first_delay)
                if reply.status != 200:
                    self._json(reply.status, reply.body or {"error": {"message": "boom"}})
                    return
                if not reply.stream:
                    message = {"role": "assistant", "content": reply.text}
                    self._json(200, {"choices": [{"index": 0, "message": message}]})
                    return
                try:
                    self._stream(reply, body, index)
                except (BrokenPipeError, ConnectionResetError):
                    fake.disconnected += 1

            def _stream(self, reply: Reply, body: dict[str, Any], index: int) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                base = {"id": "cmpl-1", "object": "chat.completion.chunk", "model": body["model"]}

                def event(payload: dict[str, Any]) -> None:
                    self.wfile.write(f"data: {json.dumps({**base, **payload})}\n\n".encode())
                    self.wfile.flush()

                event({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
                text = reply.text
                lines = 0
                for i in range(0, len(text), reply.chunk):
                    time.sleep(reply.delay)
                    piece = text[i : i + reply.chunk]
                    fake.sent.append((index, piece))  # before the client can see it
                    event({"choices": [{"index": 0, "delta": {"content": piece}}]})
                    if "\n" in piece:
                        time.sleep(reply.line_delay)
                        lines += piece.count("\n")
                        if reply.after_line:
                            reply.after_line(lines)
                finish = {"index": 0, "delta": {}, "finish_reason": reply.finish_reason}
                event({"choices": [finish]})
                event({"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 10}})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                fake.finished += 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
