"""Language detection for English and Chinese text (the two languages served first)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from assistant.textrules import CJK

_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_CODE = re.compile(r"```.*?```|`[^`\n]*`|https?://\S+", re.DOTALL)

LANGUAGE_NAMES = {"en": "English", "zh": "Simplified Chinese"}


def detect_language(text: str) -> str:
    """``zh`` when Chinese carries the prose, else ``en``.

    Code, inline code and URLs are ignored, so an English log pasted into a
    Chinese issue does not flip the answer. A Chinese character weighs about as
    much as an English word.
    """
    prose = _CODE.sub(" ", text)
    han = len(CJK.findall(prose))
    words = len(_LATIN_WORD.findall(prose))
    return "zh" if han >= 2 and han * 0.7 >= words * 0.5 else "en"


def to_traditional(text: str, variant: str = "s2twp", protect: Iterable[str] = ()) -> str:
    """Simplified Chinese as Traditional, by OpenCC (offline; its dictionaries ship in the
    wheel). ``s2twp``: Taiwan usage with phrases; ``s2hk``: Hong Kong; ``s2t``: characters.

    Terms in ``protect`` (the glossary's Chinese terms) get their characters converted but
    never their wording: phrase conversion would turn 参数 into 引數. Latin text (code names,
    links) passes through unchanged.
    """
    if not text:
        return text
    terms = sorted({t for t in protect if t.strip()}, key=len, reverse=True)
    if not terms:
        return _converter(variant)(text)
    parts = re.split("(" + "|".join(map(re.escape, terms)) + ")", text)
    characters = _converter("s2tw" if variant.startswith("s2tw") else "s2t")
    return "".join(characters(part) if n % 2 else _converter(variant)(part)
                   for n, part in enumerate(parts))


@functools.cache
def _converter(variant: str) -> Callable[[str], str]:
    import opencc

    if variant not in ("s2t", "s2tw", "s2twp", "s2hk"):
        raise ValueError(f"unknown OpenCC conversion {variant!r}")
    return opencc.OpenCC(f"{variant}.json").convert
