"""Text rules the chains share: what counts as Chinese, code-like identifiers a line must keep,
whether a text uses a term, and the glossary's checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.project_files import Glossary

# Han characters: CJK Unified Ideographs, Extension A and the compatibility block.
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
IDENTIFIER = re.compile(
    r"`[^`]+`|\b[\w.-]*[_./][\w./-]+\b|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+[A-Z]\w*\b")


def identifiers(text: str) -> set[str]:
    """Code-like tokens a line must keep verbatim (`x`, a.b, snake_case, camelCase, Names)."""
    return {m.group(0).strip("`") for m in IDENTIFIER.finditer(text)}


def mentions(text: str, term: str) -> bool:
    """Whether ``text`` uses ``term`` as a word: ``Form`` is not in "performance".

    Latin terms match between non-Latin characters (so ``修复Table组件`` mentions ``Table``),
    case-insensitively unless the term has capitals inside, like ``DatePicker``; Chinese terms,
    which have no spaces, match as substrings.
    """
    term = term.strip()
    if not term:
        return False
    if not term.isascii():
        return term in text
    flags = 0 if any(c.isupper() for c in term[1:]) else re.IGNORECASE
    pattern = rf"(?<![A-Za-z0-9_-]){re.escape(term)}(?![A-Za-z0-9_-])"
    return re.search(pattern, text, flags) is not None


def glossary_problems(source: str, target: str, glossary: Glossary) -> list[str]:
    """Terms the glossary keeps as they are, or translates one way, that the line broke."""
    found = []
    for term in glossary.keep:
        if mentions(source, term) and not mentions(target, term):
            found.append(f"glossary term {term!r} not kept")
    for pair in glossary.translations:
        if mentions(source, pair.en) and pair.zh not in target:
            found.append(f"glossary: {pair.en!r} must be {pair.zh!r}")
    return found
