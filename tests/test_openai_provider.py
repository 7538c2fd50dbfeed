"""The openai provider against a local OpenAI-compatible server (the shape vLLM/Ollama serve)."""

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from assistant.context import AppContext
from assistant.drafting.engine import draft_now
from assistant.errors import ConfigError, ProviderUnavailable
from assistant.forge.shapes import IssueInput
from assistant.providers.chat import build_chat_model
from assistant.store.models import DraftKind
from tests.fake_openai import Handler as _Handler


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.requests.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


@pytest.mark.slow
def test_triage_through_an_openai_compatible_endpoint(ingested_ctx: AppContext, server: str):
    settings = ingested_ctx.settings.model_copy(update={"llm": ingested_ctx.settings.llm.model_copy(
        update={"provider": "openai", "base_url": server, "model": "served-model"}),
        "triage": ingested_ctx.settings.triage.model_copy(update={"reply_mode": "generative"})})
    ctx = AppContext(settings)  # a served model writes the reply (generative mode)
    record = draft_now(ctx, DraftKind.TRIAGE, IssueInput(title="database is locked after crash"))
    assert "kvlite unlock" in record.output["reply_markdown"]
    assert record.model == "served-model"
    assert record.output["usage"]["input_tokens"] == 321
    sent = _Handler.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["messages"][0]["role"] == "system"
    assert "<issue>" in sent["body"]["messages"][1]["content"]


@pytest.mark.slow
def test_wrong_model_name_is_a_clear_error(ingested_ctx: AppContext, server: str) -> None:
    settings = ingested_ctx.settings.model_copy(update={"llm": ingested_ctx.settings.llm.model_copy(
        update={"provider": "openai", "base_url": server, "model": "nope"})})
    with pytest.raises(ProviderUnavailable, match="does not serve model 'nope'"):
        draft_now(AppContext(settings), DraftKind.TRIAGE, IssueInput(title="database is locked"))


def test_openai_provider_needs_an_endpoint(make_settings) -> None:
    with pytest.raises(ConfigError, match="DEVREL_LLM__BASE_URL"):
        build_chat_model(make_settings(llm={"provider": "openai"}))
