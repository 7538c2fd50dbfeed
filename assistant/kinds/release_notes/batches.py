"""Numbered batches: several lines in one prompt, the answer split back into one line per
number. Nothing here trusts the answer; each line is checked by the caller."""

from __future__ import annotations

import re

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage

from assistant.chains.generate import Usage
from assistant.prompting import fence
from assistant.providers.chat import invoke_error
from assistant.settings import Settings

NUMBERED = re.compile(
    r"^\s*(?:[-*]\s*)?(?:\*\*)?\[?(\d{1,3})\]?(?:\*\*)?\s*[.)、:：]\s*(?:\*\*)?\s*(.*)$")


def numbered(lines: list[str], tag: str) -> str:
    """``1. first`` … in one fence (each line on one line: breaks become spaces)."""
    body = "\n".join(f"{n}. {' '.join(line.split())}" for n, line in enumerate(lines, start=1))
    return fence(body, tag)


def parse_numbered(raw: str, count: int) -> dict[int, str]:
    """The answer's line for each number 1..count (the first one given); numbers out of range,
    repeated numbers and unnumbered lines are ignored."""
    found: dict[int, str] = {}
    for line in raw.splitlines():
        match = NUMBERED.match(line)
        if not match:
            continue
        number = int(match.group(1))
        if 1 <= number <= count and number not in found:
            found[number] = match.group(2).strip()
    return found


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def ask(chat_model: BaseChatModel, messages: list[BaseMessage], *, settings: Settings,
        max_tokens: int, usage: Usage) -> str:
    """One call; its tokens are counted into ``usage``."""
    try:
        reply = chat_model.invoke(messages, max_tokens=max_tokens)
    except Exception as exc:
        raise invoke_error(exc, settings) from None
    usage.count(reply)
    return str(reply.content)
