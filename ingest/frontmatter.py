"""A page's YAML front matter (``---`` … ``---``) and the text after it."""

from __future__ import annotations

from assistant.safe_yaml import Scalar, front_matter


def split_front_matter(text: str) -> tuple[dict[str, Scalar | list[Scalar]], str]:
    """The front matter's scalar fields and the body without it. Malformed or oversized front
    matter reads as empty (and is still cut off when its ``---`` lines are there)."""
    text = text.lstrip("\ufeff")
    fields, end = front_matter(text)
    return fields, text[end:]
