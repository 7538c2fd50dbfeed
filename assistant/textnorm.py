"""Unicode hygiene for untrusted text: invisible characters and fullwidth look-alikes."""

from __future__ import annotations

import re

# Zero-width characters, bidi controls, variation selectors and Unicode tag characters:
# invisible to a reader, but able to split a word a filter looks for ("</is\u200bsue>").
INVISIBLE = re.compile(r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
                       r"\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
                       r"\U000e0000-\U000e007f]")
# Fullwidth letters, digits and the URL/mention punctuation (＠ ． ／): folded to ASCII.
# Chinese punctuation (，。：！) is left alone.
_FULLWIDTH = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                       *range(0xFF41, 0xFF5B), 0xFF20, 0xFF0E, 0xFF0F]}


def strip_invisible(text: str) -> str:
    return INVISIBLE.sub("", text)


def fold_fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)
