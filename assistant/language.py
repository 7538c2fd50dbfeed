"""Language detection for English and Chinese text (the two languages served first)."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
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
    han = len(_CJK.findall(prose))
    words = len(_LATIN_WORD.findall(prose))
    return "zh" if han >= 2 and han * 0.7 >= words * 0.5 else "en"
