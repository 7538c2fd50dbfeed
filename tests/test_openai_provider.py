"""The openai provider against a local OpenAI-compatible server (the shape vLLM/Ollama serve)."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from assistant.context import AppContext
from assistant.errors import ConfigError, ProviderUnavailable
from assistant.providers.chat import build_chat_model
from assistant.services.triage import create_triage_draft
from assistant.triage.models import IssueInput


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                  "body": body})
        if body.get("model") != "served-model":
            payload, status = {"error": {"message": "model not found", "type": "invalid"}}, 404
        else:
            status = 200
            payload = {
                "id": "c1", "object": "chat.completion", "created": 0, "model": "served-model",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant",
                    "content": "Run `kvlite unlock` to clear the stale LOCK file [1].",
                }}],
                "usage": {"prompt_tokens": 321, "completion_tokens": 17, "total_tokens": 338},
            }
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.requests.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_triage_through_an_openai_compatible_endpoint(ingested_ctx: AppContext, server: str):
    settings = ingested_ctx.settings.model_copy(update={"llm": ingested_ctx.settings.llm.model_copy(
        update={"provider": "openai", "base_url": server, "model": "served-model"})})
    ctx = AppContext(settings)
    record = create_triage_draft(ctx, IssueInput(title="database is locked after crash"))
    assert "kvlite unlock" in record.output["reply_markdown"]
    assert record.model == "served-model"
    assert record.output["usage"]["input_tokens"] == 321
    sent = _Handler.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["messages"][0]["role"] == "system"
    assert "<issue>" in sent["body"]["messages"][1]["content"]


def test_wrong_model_name_is_a_clear_error(ingested_ctx: AppContext, server: str) -> None:
    settings = ingested_ctx.settings.model_copy(update={"llm": ingested_ctx.settings.llm.model_copy(
        update={"provider": "openai", "base_url": server, "model": "nope"})})
    with pytest.raises(ProviderUnavailable, match="does not serve model 'nope'"):
        create_triage_draft(AppContext(settings), IssueInput(title="database is locked"))


def test_openai_provider_needs_an_endpoint(make_settings) -> None:
    with pytest.raises(ConfigError, match="DEVREL_LLM__BASE_URL"):
        build_chat_model(make_settings(llm={"provider": "openai"}))
