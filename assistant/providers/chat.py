"""The chat-model provider: one function that returns a LangChain chat model for the settings."""

from __future__ import annotations

import os
from collections.abc import Callable

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.errors import ConfigError, DevrelError, ProviderUnavailable
from assistant.providers.model_files import (
    QWEN_CODER_1_5B,
    Progress,
    ensure_model_file,
    locate_slices,
)
from assistant.settings import Settings


def build_chat_model(settings: Settings, progress: Progress | None = None) -> BaseChatModel:
    """The chat model named by ``settings.llm.provider``."""
    builders: dict[str, Callable[[Settings, Progress | None], BaseChatModel]] = {
        "local": _local,
        "openai": _openai,
        "fake": _fake,
    }
    return builders[settings.llm.provider](settings, progress)


def chat_model_name(model: BaseChatModel) -> str:
    """A short name of the model, stored with every draft."""
    for attr in ("model_name", "model"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def _local(settings: Settings, progress: Progress | None) -> BaseChatModel:
    from assistant.providers.llama_chat import LlamaCppChat, use_extra_buffers

    llm = settings.llm
    if llm.model_path is not None:
        path, name = llm.model_path.expanduser(), llm.model_path.stem
    else:
        path = ensure_model_file(QWEN_CODER_1_5B, settings.models_dir, progress)
        name = QWEN_CODER_1_5B.name
    return LlamaCppChat(
        model_path=path,
        model_name=name,
        n_ctx=llm.n_ctx,
        n_threads=llm.n_threads or os.cpu_count() or 2,
        max_tokens=llm.max_tokens,
        temperature=llm.temperature,
        seed=llm.seed,
        extra_buffers=use_extra_buffers(llm.extra_buffers),
        prompt_cache_mb=llm.prompt_cache_mb,
    )


def _openai(settings: Settings, progress: Progress | None) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    llm = settings.llm
    if not llm.base_url and not llm.api_key:
        raise ConfigError(
            "The openai chat provider needs an endpoint.",
            fix="set DEVREL_LLM__BASE_URL (vLLM, Ollama, llama.cpp server) or DEVREL_LLM__API_KEY",
        )
    return ChatOpenAI(
        model=llm.model,
        base_url=llm.base_url,
        # Local servers accept any key; the client insists on one being set.
        api_key=llm.api_key.get_secret_value() if llm.api_key else "not-needed",
        timeout=llm.timeout_s,
        max_retries=1,
        temperature=llm.temperature,
        max_completion_tokens=llm.max_tokens,
        seed=llm.seed,
    )


def _fake(settings: Settings, progress: Progress | None) -> BaseChatModel:
    replies = settings.llm.fake_replies or ["Thanks for the report. See [1]."]
    return FakeListChatModel(responses=replies)


def invoke_error(exc: Exception, settings: Settings) -> DevrelError:
    """Turn a backend exception into a one-line error naming the fix."""
    if isinstance(exc, DevrelError):
        return exc
    name = type(exc).__name__
    lineage = {cls.__name__ for cls in type(exc).__mro__}
    if lineage & {"APIConnectionError", "APITimeoutError", "ConnectError", "ConnectionError"}:
        return ProviderUnavailable(
            f"Cannot reach the chat endpoint at {settings.llm.base_url}.",
            fix="start the server or correct DEVREL_LLM__BASE_URL",
        )
    if lineage & {"AuthenticationError", "PermissionDeniedError"}:
        return ProviderUnavailable(
            "The chat endpoint refused the API key.", fix="set a valid DEVREL_LLM__API_KEY"
        )
    if "NotFoundError" in lineage:
        return ProviderUnavailable(
            f"The chat endpoint does not serve model {settings.llm.model!r}.",
            fix="set DEVREL_LLM__MODEL to a model the server lists",
        )
    first = str(exc).splitlines()[0] if str(exc) else ""
    return ProviderUnavailable(f"The chat model failed: {name}: {first}", fix="see the log")


def model_status(settings: Settings) -> tuple[bool, str]:
    """Whether the configured chat model can answer, checked cheaply (for readiness probes)."""
    llm = settings.llm
    if llm.provider == "fake":
        return True, "fake chat model (tests)"
    if llm.provider == "openai":
        import httpx

        if not llm.base_url:
            return bool(llm.api_key), "hosted OpenAI endpoint" if llm.api_key else "no endpoint"
        headers = {"Authorization": f"Bearer {llm.api_key.get_secret_value()}"} if llm.api_key \
            else {}
        try:
            response = httpx.get(llm.base_url.rstrip("/") + "/models", headers=headers,
                                 timeout=3.0)
        except httpx.HTTPError as exc:
            return False, f"{llm.base_url} unreachable: {type(exc).__name__}"
        return response.status_code < 500, f"{llm.base_url} answered {response.status_code}"
    if llm.model_path is not None:
        path = llm.model_path.expanduser()
        return path.is_file(), f"{path} {'exists' if path.is_file() else 'is missing'}"
    target = settings.models_dir / QWEN_CODER_1_5B.filename
    if target.is_file():
        return True, f"{target.name} assembled"
    try:
        locate_slices(QWEN_CODER_1_5B)
    except DevrelError as exc:
        return False, str(exc)
    return True, f"{QWEN_CODER_1_5B.name} slices installed (assembled on first draft)"
