"""A local OpenAI-compatible chat server (the shape vLLM, Ollama and llama.cpp serve), for tests.

It runs in a thread of the test process on 127.0.0.1; `devrel` processes reach it through
``DEVREL_LLM__PROVIDER=openai`` and ``DEVREL_LLM__BASE_URL`` alone, like any real endpoint.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

REPLY = "Run `kvlite unlock` to clear the stale LOCK file [1]."


class Handler(BaseHTTPRequestHandler):
    """Answers ``POST /v1/chat/completions`` for one model name, ``GET /v1/models`` too."""

    requests: ClassVar[list[dict]] = []
    model: ClassVar[str] = "served-model"
    reply: ClassVar[str] = REPLY
    delay_s: ClassVar[float] = 0.0

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list",
                             "data": [{"id": self.model, "object": "model", "owned_by": "test"}]})
        else:
            self._send(404, {"error": {"message": "not found", "type": "invalid"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                    "body": body, "at": time.monotonic()})
        if body.get("model") != self.model:
            self._send(404, {"error": {"message": "model not found", "type": "invalid"}})
            return
        if self.delay_s:
            time.sleep(self.delay_s)
        self._send(200, {
            "id": "c1", "object": "chat.completion", "created": 0, "model": self.model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": self.reply,
            }}],
            "usage": {"prompt_tokens": 321, "completion_tokens": 17, "total_tokens": 338},
        })

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the caller was killed mid-request
            pass


class FakeOpenAI:
    """A server in a thread with its own handler state: ``url`` is the ``…/v1`` base URL."""

    def __init__(self, *, model: str = "served-model", reply: str = REPLY,
                 delay_s: float = 0.0) -> None:
        self.handler: type[Handler] = type("BoundHandler", (Handler,), {
            "requests": [], "model": model, "reply": reply, "delay_s": delay_s})
        self.model = model
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name="fake-openai")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def requests(self) -> list[dict]:
        return self.handler.requests

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
