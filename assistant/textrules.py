"""Text rules the chains share: what counts as Chinese, code-like identifiers a line must keep,
whether a text uses a term, the glossary's checks, sentences, and what a reply may not claim."""

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


# Sentences end at . ! ? before a space, at 。！？ and at a line break.
_SENTENCE = re.compile(r".*?(?:[.!?](?=\s|$)|[。！？]+|\n|$)", re.DOTALL)


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` in order, each with its end mark (joined, they give it back)."""
    return [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0)]


# What a drafted reply must not say in its own words: the assistant can take no action and
# keeps no promise, so a claim, a promise or a state change of the issue is never true.
ACTION_CLAIM = re.compile(
    r"\b(?:I|we)(?:'ve| have| had)?\s+(?:already\s+|just\s+|now\s+)?(?:fixed|closed|reopened|"
    r"locked|unlocked|labell?ed|tagged|assigned|approved|merged|released|applied|added|removed|"
    r"marked|transferred|pinned|escalated|notified|pinged|forwarded|triaged|reviewed)\b|"
    r"\b(?:(?:has|have|had) (?:now |already |just )?been|(?:is|are|was|were) (?:now|already))"
    r" (?:fixed|closed|reopened|locked|unlocked|labell?ed|tagged|assigned|approved|merged|"
    r"resolved|marked|transferred|pinned|escalated|triaged)\b|\blabels? (?:applied|added|set)\b|"
    r"\bapplied the labels?\b|\b(?:LGTM|approved)\b|^\s*/[a-z]+|"
    r"^\W*(?:closed|reopened|locked|labell?ed|assigned|merged|marked|transferred|done)\b|"
    r"已(?:经)?(?:添加|设置|打上?|关闭|锁定|解锁|重新打开|重开|指派|分配|合并|修复|标记|批准|审核|"
    r"处理|转移|置顶|通知)|(?:审核|批准)通过",
    re.IGNORECASE | re.MULTILINE,
)
PROMISE = re.compile(
    r"\b(?:I|we|the team|the maintainers?|a maintainer|someone)\s*(?:'ll|will|shall|am going to|"
    r"are going to|is going to|plan to|intend to|promise)\b|\b(?:I|we)'d be happy to\b|"
    r"\b(?:let me|I can|we can) (?:fix|review|merge|close|label|assign|release|look into)\b|"
    r"\bwill be (?:fixed|released|resolved|added|shipped|merged|reviewed|closed|labell?ed|"
    r"addressed|implemented|included|backported|patched|supported|available)\b|"
    r"\b(?:next|upcoming|coming) (?:release|version)\b|\b(?:soon|shortly|asap|tomorrow|"
    r"next week|next month)\b|\bas soon as possible\b|"
    r"我们?(?:会|将|马上|立即|立刻|一定|保证|承诺|打算|计划)|维护者(?:会|将)|会尽快|尽快(?:修复|处理|发布|合并|回复)|"
    r"(?:下周|下个月|明天|近期|稍后)(?:会|将)?(?:发布|修复|上线|处理)?|(?:下一|下个)(?:版本|版)",
    re.IGNORECASE,
)
STATE_CHANGE = re.compile(
    r"\b(?:clos|reopen|lock|unlock|assign|transferr?|label|tag|pin|triag|escalat)\w*\s+"
    r"(?:this|the|that|it|your|these|those)?\s*(?:issue|ticket|pr|pull request|conversation|"
    r"thread|discussion|report)s?\b|\b(?:issue|ticket|pr|conversation|thread)s?\s+(?:\w+\s+){0,3}"
    r"(?:closed|reopened|locked|assigned|labell?ed|transferred|pinned)\b|"
    r"\b(?:close|reopen|lock) (?:it|this)\b|\blabel(?:s|led|ed|ing)?\b|\bwontfix\b|"
    r"\bnot planned\b|\bmark(?:ed|ing)?\s+(?:\w+\s+){0,2}as\b|\bduplicates?\b|"
    r"(?:关闭|重新打开|重开|指派|分配|转移|置顶)(?:本|此|该|这个|这一)?\s*"
    r"(?:issue|问题|工单|PR|帖子|讨论)|(?:锁定|解锁)(?:本|此|该|这个|这一)\s*(?:issue|问题|工单|PR|讨论)|(?:本|此|该|这个)\s*(?:issue|问题|工单|PR)\s*(?:已|将|会|可以|应该|应|需要)?"
    r"\s*(?:被)?(?:关闭|锁定|重新打开|标记|合并)|标签|标记为|不会修复|"
    r"重复(?:的)?\s*(?:issue|问题|报告|工单)|与.{0,40}重复|是重复|重复了",
    re.IGNORECASE,
)
