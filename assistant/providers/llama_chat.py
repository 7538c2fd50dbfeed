"""A LangChain chat model over llama-cpp-python, running a GGUF in-process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.errors import ModelFileError, ProviderUnavailable

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}
_LOADED: dict[tuple[str, int, int, bool], Any] = {}
_LOAD_LOCK = threading.Lock()


def cpu_has_amx() -> bool:
    """Whether the CPU advertises AMX tiles (Linux ``/proc/cpuinfo``)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            return any(line.startswith("flags") and " amx_tile" in line for line in info)
    except OSError:
        return False


def use_extra_buffers(setting: str) -> bool:
    """``llm.extra_buffers``: on, off, or auto (off where AMX is advertised)."""
    return setting == "on" or (setting == "auto" and not cpu_has_amx())


def load_llama(path: Path, n_ctx: int, n_threads: int, seed: int,
               extra_buffers: bool = True) -> Any:
    """Load (once per process) a GGUF with llama.cpp; ``extra_buffers`` False loads it without
    llama.cpp's extra CPU buffer types (the Llama class has no parameter for that, so the
    default model parameters it starts from are adjusted while it loads)."""
    key = (str(path), n_ctx, n_threads, extra_buffers)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ProviderUnavailable(
                "The local chat model needs llama-cpp-python, which is not installed.",
                fix="pip install 'devrel-assistant[local]' or set DEVREL_LLM__PROVIDER=openai",
            ) from None
        if not path.is_file():
            raise ModelFileError(
                f"Model file {path} does not exist.", fix="run `devrel model fetch`"
            )
        import llama_cpp.llama_cpp as bindings

        defaults = bindings.llama_model_default_params

        def without_extra_buffers() -> Any:
            params = defaults()
            params.use_extra_bufts = False
            return params

        if not extra_buffers:
            bindings.llama_model_default_params = without_extra_buffers
        try:
            llama = Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, seed=seed, verbose=False
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"llama.cpp could not load {path.name}: {exc}",
                fix="check it is a GGUF model (`devrel model fetch` rebuilds the default)",
            ) from None
        finally:
            bindings.llama_model_default_params = defaults
        _LOADED[key] = llama
        return llama


class LlamaCppChat(BaseChatModel):
    """Chat completions from a local GGUF through llama.cpp's chat template."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: Path
    model_name: str
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 320
    temperature: float = 0.2
    seed: int = 42
    extra_buffers: bool = True
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "n_ctx": self.n_ctx}

    def _client(self) -> Any:
        return load_llama(self.model_path, self.n_ctx, self.n_threads, self.seed,
                          self.extra_buffers)

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kw: Any) -> dict:
        return {
            "messages": [
                {"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages
            ],
            "max_tokens": kw.get("max_tokens", self.max_tokens),
            "temperature": kw.get("temperature", self.temperature),
            "seed": self.seed,
            "stop": stop or [],
            "repeat_penalty": 1.1,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        client = self._client()
        with self._lock:
            out = client.create_chat_completion(**self._request(messages, stop, **kwargs))
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
            response_metadata={"finish_reason": choice.get("finish_reason"),
                               "model_name": self.model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        client = self._client()
        with self._lock:
            for part in client.create_chat_completion(
                **self._request(messages, stop, **kwargs), stream=True
            ):
                text = part["choices"][0]["delta"].get("content") or ""
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
