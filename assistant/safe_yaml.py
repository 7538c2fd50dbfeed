"""YAML read from input (front matter of notes, a checkout's issue forms and label files).

``yaml.safe_load`` still expands aliases: a ~500-byte document of nested ``*a`` references
grows to gigabytes. Here aliases are refused before anything is built, the text is bounded,
and front matter keeps only scalar fields (and lists of scalars), the only shapes read from it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import yaml

MAX_FRONT_MATTER_BYTES = 16 * 1024
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)

Scalar = str | int | float | bool | date | None


class RefusedYaml(yaml.YAMLError):
    """YAML this module will not load (aliases, too big, too deep); existing handlers of
    ``yaml.YAMLError`` treat it as invalid YAML."""


class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing any alias (``*name``) where a node is composed."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise RefusedYaml(f"aliases (*name) are not accepted (line {mark.line + 1})")
        return super().compose_node(parent, index)


def load(text: str, *, max_bytes: int) -> Any:
    """One YAML document, without aliases, from at most ``max_bytes`` of UTF-8."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise RefusedYaml(f"YAML of {size} bytes is over the {max_bytes}-byte limit")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except RecursionError:
        raise RefusedYaml("YAML nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise RefusedYaml(f"YAML value refused: {str(exc)[:80]}") from None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | date)


def front_matter(text: str) -> tuple[dict[str, Scalar | list[Scalar]], int]:
    """The scalar fields (and lists of scalars) of a ``---`` block opening ``text``, and where
    the block ends (0: none). Invalid, oversized or alias-using front matter reads as empty;
    nested values are dropped."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, 0
    try:
        data = load(match.group(1), max_bytes=MAX_FRONT_MATTER_BYTES)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        return {}, match.end()
    fields: dict[str, Scalar | list[Scalar]] = {}
    for key, value in data.items():
        listed = isinstance(value, list) and all(_scalar(v) for v in value)
        if isinstance(key, str) and (_scalar(value) or listed):
            fields[key] = value
    return fields, match.end()
