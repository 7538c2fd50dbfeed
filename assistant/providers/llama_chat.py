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
_LOADED: dict[tuple[str, int, int, bool, int], Any] = {}
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


class PromptCounter:
    """The prompt tokens llama.cpp evaluates in a call (not those reused from its caches).

    A completion evaluates the prompt's uncached rest in its first ``eval``; every later
    ``eval`` of the call is one sampled token. ``arm`` before the call, ``taken`` after.
    """

    def __init__(self, llama: Any) -> None:
        self._armed = False
        self._count = 0
        self._eval = llama.eval

        def counted(tokens: Any) -> None:
            if self._armed:
                self._count, self._armed = len(tokens), False
            self._eval(tokens)

        llama.eval = counted

    def arm(self) -> None:
        self._armed, self._count = True, 0

    def taken(self) -> int:
        count, self._armed, self._count = self._count, False, 0
        return count


def load_llama(path: Path, n_ctx: int, n_threads: int, seed: int,
               extra_buffers: bool = True, prompt_cache_mb: int = 0) -> Any:
    """Load (once per process) a GGUF with llama.cpp; ``extra_buffers`` False loads it without
    llama.cpp's extra CPU buffer types (the Llama class has no parameter for that, so the
    default model parameters it starts from are adjusted while it loads).

    ``prompt_cache_mb`` > 0 keeps the model's state (its KV cache) after each call in a RAM
    cache of that size: a later prompt that starts like a cached one (the same instructions,
    the same issue) evaluates only what follows the shared prefix.
    """
    key = (str(path), n_ctx, n_threads, extra_buffers, prompt_cache_mb)
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
        if prompt_cache_mb > 0:
            from llama_cpp import LlamaRAMCache

            llama.set_cache(LlamaRAMCache(capacity_bytes=prompt_cache_mb << 20))
        llama.devrel_prompt_counter = PromptCounter(llama)
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
    prompt_cache_mb: int = 0
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "n_ctx": self.n_ctx}

    def _client(self) -> Any:
        return load_llama(self.model_path, self.n_ctx, self.n_threads, self.seed,
                          self.extra_buffers, self.prompt_cache_mb)

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
        counter = client.devrel_prompt_counter
        with self._lock:
            counter.arm()
            out = client.create_chat_completion(**self._request(messages, stop, **kwargs))
            processed = counter.taken()
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
                               "model_name": self.model_name,
                               "prompt_tokens_processed": processed},
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
