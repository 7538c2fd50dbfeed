"""Counting the prompt tokens the local model evaluates, and adding them up per draft."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from assistant.chains.generate import Checked, Usage, generate
from assistant.providers.llama_chat import PromptCounter
from assistant.settings import get_settings


class _Llama:
    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def eval(self, tokens: list[int]) -> None:
        self.seen.append(list(tokens))


def test_only_the_first_eval_of_a_call_counts_as_prompt() -> None:
    llama = _Llama()
    counter = PromptCounter(llama)
    counter.arm()
    llama.eval([1, 2, 3, 4])  # the prompt's uncached rest
    llama.eval([9])  # sampled tokens
    llama.eval([8])
    assert counter.taken() == 4
    assert llama.seen == [[1, 2, 3, 4], [9], [8]]  # the real eval still ran every time
    llama.eval([7, 7])  # not armed: a call outside a completion is not counted
    assert counter.taken() == 0


class _Reporting:
    """A chat model that reports how many prompt tokens it evaluated, like the local one."""

    def __init__(self, processed: list[int | None]) -> None:
        self.processed = processed

    def invoke(self, messages, **_: object) -> AIMessage:
        n = self.processed.pop(0)
        meta = {} if n is None else {"prompt_tokens_processed": n}
        return AIMessage("bad" if self.processed else "ok", response_metadata=meta,
                         usage_metadata={"input_tokens": 100, "output_tokens": 2,
                                         "total_tokens": 102})


def _check(raw: str) -> Checked:
    return Checked(raw, [] if raw == "ok" else ["not ok"])


def test_generate_adds_up_evaluated_prompt_tokens_over_retries() -> None:
    usage = Usage()
    settings = get_settings(profile="test")
    result = generate(_Reporting([100, 12]), [HumanMessage("x")], settings=settings,
                      max_tokens=10, check=_check, usage=usage)
    assert result.text == "ok" and result.attempts == 2
    assert usage.input_tokens == 200 and usage.prompt_tokens_processed == 112


def test_models_that_do_not_report_count_nothing_evaluated() -> None:
    usage = Usage()
    generate(_Reporting([None]), [HumanMessage("x")], settings=get_settings(profile="test"),
             max_tokens=10, check=_check, usage=usage)
    assert usage.prompt_tokens_processed == 0 and usage.input_tokens == 100
