"""Callbacks that fail readably: expected errors become a message in the page, unexpected ones
too, without a traceback. Gradio shows a message as HTML, so it is escaped: an error quoting a
draft's text shows that text, never its markup."""

from __future__ import annotations

import functools
import html
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from assistant.errors import DevrelError

log = logging.getLogger(__name__)


def _convert(fn: Callable[..., Any], exc: Exception) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, DevrelError):
        return gr.Error(html.escape(str(exc)), print_exception=False)
    log.exception("UI callback %s failed", fn.__name__)
    return gr.Error(f"Unexpected {type(exc).__name__}; the server log has the details.",
                    print_exception=False)


def readable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a function or a generator) with its exceptions shown as readable messages."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _convert(fn, exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _convert(fn, exc) from None
    return wrapper
