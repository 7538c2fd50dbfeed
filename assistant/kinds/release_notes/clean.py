"""Structural cleanup of a change title, and the rules that say a cleaned title is already a
good release-notes line (so the model is not asked to rewrite it).

``tidy`` removes what no user needs (ticket keys, ``closes #12``, ``[WIP]`` tags, emoji, a
second conventional prefix, the clauses after the first ``;``: the detail of a long subject)
and turns a leading ``Added``/``Fixes`` into ``Add``/``Fix``;
``rewrite_reasons`` lists what is still wrong (empty: the title is clean and kept as is).
"""

from __future__ import annotations

import re

from assistant.textrules import CJK


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


VERBS = _words("""
accept add adjust align allow avoid block bump cache change check clarify clean clear close
compute configure convert correct create deduplicate default define delete deprecate detect
disable display document drop enable enforce ensure escape expand expose extend extract fall
fetch fill filter fix forward group guard handle hide highlight ignore implement improve
include increase index inline introduce keep let limit link list load lock log make mark merge
migrate move normalize open optimize override parse pass pin polish prefer prevent print
provide publish read rebuild recognize reduce refactor refresh reject release reload remove
rename render reorder replace report require reset resolve respect restore retry return reuse
revert rewrite run sanitize save scroll send separate set show simplify skip sort speed split
standardize start stop store strip support switch sync tidy trim truncate tune unify update
upgrade use validate verify warn wrap write
""")
"""Verbs a release-notes line may start with (imperative, lower case)."""


def _forms(verb: str) -> set[str]:
    stem = verb[:-1] if verb.endswith("e") else verb
    forms = {verb + "s", verb + "es", verb + "ed", verb + "d", stem + "ing", stem + "ed"}
    if verb.endswith("y"):
        forms |= {verb[:-1] + "ies", verb[:-1] + "ied"}
    if re.fullmatch(r".*[^aeiou][aeiou][bdgmnprt]", verb):  # drop → dropped, pin → pinned
        forms |= {verb + verb[-1] + "ed", verb + verb[-1] + "ing"}
    return forms - {verb}


INFLECTING = _words("""
add adjust allow avoid bump change correct deprecate disable document drop enable ensure
expose extend fix handle hide implement improve introduce migrate move optimize prevent
provide refactor remove rename replace restore rewrite show simplify support update upgrade
""")
"""Verbs whose inflected forms are turned back ("Closed", "Cached" may be adjectives)."""
INFLECTED = {form: verb for verb in sorted(INFLECTING) for form in _forms(verb)}
"""``added`` → ``add``, ``fixes`` → ``fix``, ``supporting`` → ``support``."""

CONVENTIONAL_PREFIX = re.compile(
    r"^(?:feat|feature|fix|bugfix|hotfix|perf|docs?|refactor|chore|test|tests|ci|build|style|"
    r"deps|revert|security)(?:\([^)]{1,60}\))?!?\s*:\s*", re.I)
TAG_PREFIX = re.compile(r"^(?:\[[^\]]{1,30}\]\s*|【[^】]{1,30}】\s*|WIP\b[:\s-]*)+", re.I)
TICKET_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{1,9}-\d+\s*[:\-]?\s*")
SHORTCODE = re.compile(r":[a-z0-9_+-]{2,30}:")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\ufe0f\u200d]")
TRAILING_JUNK = re.compile(
    r"\s*[(\[]?\b(?:close[sd]?|fix(?:es|ed)?|resolve[sd]?|refs?|see|related to)\s+"
    r"(?:#\d+|[A-Z][A-Z0-9]{1,9}-\d+|https?://\S+)(?:[,\s]+(?:#\d+|[A-Z][A-Z0-9]{1,9}-\d+))*"
    r"[)\]]?\s*$|\s*\[(?:skip ci|ci skip|no ci)\]\s*$", re.I)

TICKET = re.compile(r"#\d+|\b[A-Z][A-Z0-9]{1,9}-\d+\b|https?://|\bWIP\b|\[skip ci\]", re.I)
SEVERAL = re.compile(r"[;；]|\.\s+[A-Z]|\s[-–—]{1,2}\s")
MAX_WORDS = 16
MAX_CHARS = 120


def tidy(text: str) -> str:
    """The title without tags, ticket keys, emoji, trailing ``closes #N`` or a second
    conventional prefix; a leading inflected verb made imperative (``Fixed`` → ``Fix``)."""
    text = EMOJI.sub("", SHORTCODE.sub("", text)).strip()
    for _ in range(3):  # "[WIP] JIRA-12: feat(x): ..." peels in a few passes
        before = text
        text = TAG_PREFIX.sub("", text)
        text = TICKET_PREFIX.sub("", text)
        text = CONVENTIONAL_PREFIX.sub("", text).strip()
        if text == before:
            break
    text = TRAILING_JUNK.sub("", text).strip().rstrip(".").strip()
    head = re.split(r"\s*[;；]\s+", text, maxsplit=1)[0]
    if head != text and len(head.split()) >= 3:  # "X; the test also Y": the headline is X
        text = head.rstrip(",.").strip()
    first, _, rest = text.partition(" ")
    base = INFLECTED.get(first.lower())
    if base is not None:
        text = f"{base} {rest}".strip()
    return text[:1].upper() + text[1:] if text else text


def rewrite_reasons(text: str) -> list[str]:
    """Why ``text`` (already tidied) is not yet a clean release-notes line; empty: keep it.

    Clean: English, starts with an imperative verb, 2 to ``MAX_WORDS`` words and at most
    ``MAX_CHARS`` characters, one clause, no commit prefix, tag or ticket left."""
    words = text.split()
    found = []
    if CJK.search(text):
        found.append("not English")
    if not words or words[0].lower().strip(",:") not in VERBS:
        found.append("does not start with an imperative verb")
    if len(words) < 2:
        found.append("too short")
    if len(words) > MAX_WORDS or len(text) > MAX_CHARS:
        found.append("too long")
    if CONVENTIONAL_PREFIX.match(text) or TAG_PREFIX.match(text) or re.match(r"^\w+\([^)]*\):",
                                                                              text):
        found.append("commit prefix left")
    if TICKET.search(text):
        found.append("ticket or link")
    if SEVERAL.search(text):
        found.append("several clauses")
    return found
