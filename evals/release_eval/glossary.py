"""Glossary terms from the input subjects, official terms for scoring, and how many are kept."""

from __future__ import annotations

import re

from assistant.kinds.release_notes.classify import CONVENTIONAL

GENERIC_SCOPES = {"deps", "deps-dev", "dependencies", "ci", "test", "tests", "docs", "doc",
                  "site", "demo", "type", "types", "style", "chore", "build", "release", "lint"}
CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+(?:\.[A-Z]\w*)?\b|\b[A-Z]\w*\.[A-Z]\w*\b")
PLUGIN = re.compile(r"\b([a-z0-9]+(?:-[a-z0-9]+)+)\s+plugin\b")
ASCII_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[._-][A-Za-z0-9]+)*")


def subject_glossary(subjects: list[str]) -> list[str]:
    """Terms to keep as they are, from the input subjects only (no reference text): component
    scopes written capitalised or kebab-case (``fix(Table):``, ``feat(limit-count):``),
    backticked ASCII names, CamelCase or dotted names, and ``<kebab-name> plugin``."""
    terms: dict[str, None] = {}
    for subject in subjects:
        match = CONVENTIONAL.match(subject)
        scope = (match.group("scope") or "") if match else ""
        for part in re.split(r"[,\s]+", scope):
            if part and part.lower() not in GENERIC_SCOPES and (
                    part[:1].isupper() or re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", part)):
                terms.setdefault(part)
        for quoted in re.findall(r"`([^`\s]{2,40})`", subject):
            if quoted.isascii() and re.search(r"[A-Za-z]", quoted):
                terms.setdefault(quoted)
        for found in CAMEL.findall(subject) + PLUGIN.findall(subject):
            terms.setdefault(found)
    return list(terms)


def official_terms(en: list[str], zh: list[str]) -> set[str]:
    """ASCII names written verbatim in both official sections (for scoring only)."""
    return ({t for t in ASCII_TERM.findall(" ".join(en)) if len(t) > 1}
            & {t for t in ASCII_TERM.findall(" ".join(zh)) if len(t) > 1})


def has_term(text: str, term: str) -> bool:
    """``term`` verbatim (case-sensitive) with ASCII boundaries (CJK next to it is fine)."""
    return re.search(rf"(?<![A-Za-z0-9_.-]){re.escape(term)}(?![A-Za-z0-9_-])", text) is not None


def kept(pairs: list[tuple[str, str]], terms: list[str] | set[str]) -> tuple[int, int]:
    """(terms present in an EN text, of those present verbatim in its ZH text) over pairs."""
    present = done = 0
    for en, zh in pairs:
        for term in terms:
            if has_term(en, term):
                present += 1
                done += has_term(zh, term)
    return present, done
