"""The fixed step topics of a newcomer guide, and the ingested passage each one cites.

Each topic is searched with English and Chinese queries (the interest mixed into those where
it changes the answer: setting up, building and testing the storage engine is not the same as
for the docs). A passage is a source only when it names the topic (an anchor term in its
title, heading or text) and scores at least ``min_score``: similarity alone always finds
*something*, so a topic the docs do not cover would otherwise be "sourced" by whatever page is
least unrelated. The requested language wins unless the other language's passage is clearly
better. A topic without a source is left out, never written from nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.chains.guards import clean_line
from assistant.kinds.newcomer_guide.models import GuideOptions, GuideSource, LeftOutStep
from assistant.providers.vector_index import Hit
from assistant.retrieval.retriever import Retriever

PASSAGE_SHOWN = 600


@dataclass(frozen=True)
class StepTopic:
    """One step a newcomer takes, and how its source is found."""

    key: str
    title_en: str
    title_zh: str
    queries_en: tuple[str, ...]
    queries_zh: tuple[str, ...]
    anchors: str  # a regex (case-insensitive) the passage must match
    with_interest: bool = True

    def title(self, language: str) -> str:
        return self.title_zh if language == "zh" else self.title_en


TOPICS: tuple[StepTopic, ...] = (
    StepTopic(
        "setup", "Set up a development environment", "搭建开发环境",
        ("set up a development environment: clone the repository and install the dependencies",),
        ("搭建开发环境：克隆仓库，安装依赖",),
        r"\b(?:set ?up|setting up|clone|install(?:ing|ation)?|dependenc(?:y|ies)|"
        r"prerequisites?|development environment|dev environment|virtualenv|venv)\b|"
        r"开发环境|安装|克隆|依赖|环境准备",
    ),
    StepTopic(
        "build", "Build from source", "从源码构建",
        ("build the project from source", "compile from source"),
        ("从源码构建", "编译项目"),
        r"\b(?:build(?:ing)?|compil(?:e|ing|ation)|from source)\b|构建|编译|源码",
    ),
    StepTopic(
        "test", "Run the tests", "运行测试",
        ("run the tests before opening a pull request", "run the test suite"),
        ("运行测试", "执行测试用例"),
        r"\b(?:tests?|testing|test suite|pytest|unit tests?)\b|测试",
    ),
    StepTopic(
        "workflow", "Send your change: the contribution workflow", "提交改动：贡献流程",
        ("contribution workflow: create a branch, commit, open a pull request for review",),
        ("贡献流程：创建分支，提交代码，发起 pull request，代码评审",),
        r"\b(?:pull requests?|PRs?|commit messages?|branch(?:es)?|code review|contribut\w*|"
        r"conventional commits)\b|贡献|提交|分支|评审|审查|合并请求",
    ),
    StepTopic(
        "conduct", "Read the code of conduct", "阅读行为准则",
        ("code of conduct", "community code of conduct, be respectful"),
        ("行为准则", "社区行为守则"),
        r"\b(?:code of conduct|contributor covenant)\b|行为准则|行为守则",
        with_interest=False,
    ),
    StepTopic(
        "ask", "Where to ask for help", "去哪里提问",
        ("where to ask questions and get help: discussions, chat, mailing list",),
        ("在哪里提问、获取帮助：讨论区、聊天群、邮件列表",),
        r"\b(?:where to ask|ask (?:a |your )?questions?|get(?:ting)? help|discussions?|"
        r"mailing lists?|chat|discord|slack|forum|community (?:call|meeting)s?)\b|"
        r"获取帮助|提问|讨论区|邮件列表|社区|交流群",
        with_interest=False,
    ),
)


@dataclass
class StepSource:
    """The passage chosen for a topic."""

    topic: StepTopic
    hit: Hit
    source: GuideSource


def _queries(topic: StepTopic, interest: str) -> list[str]:
    interest = " ".join(interest.split())[:200]
    queries = [*topic.queries_en, *topic.queries_zh]
    if topic.with_interest and interest:
        queries = [f"{q} ({interest})" for q in queries[:1]] + queries + \
            [f"{q}（{interest}）" for q in topic.queries_zh[:1]]
    return queries


def names_topic(topic: StepTopic, hit: Hit) -> bool:
    """Whether the passage (title, heading or text) says what the topic is about."""
    return re.search(topic.anchors, hit.text, re.IGNORECASE) is not None


# A section about something going wrong is not where a newcomer's step is explained.
_TROUBLE = re.compile(r"\b(?:fails?|failed|failing|errors?|troubleshoot\w*|problems?|"
                      r"not working)\b|失败|错误|故障|排查|报错", re.IGNORECASE)


def _heading_match(topic: StepTopic, hit: Hit) -> float:
    """1 when the section's heading names the topic, 0.3 when only the page title does."""
    if re.search(topic.anchors, str(hit.metadata.get("heading", "")), re.IGNORECASE):
        return 1.0
    return 0.3 if re.search(topic.anchors, hit.title, re.IGNORECASE) else 0.0


def find_source(retriever: Retriever, topic: StepTopic, interest: str, language: str, *,
                options: GuideOptions, used: set[str] | None = None) -> Hit | None:
    """The best passage naming the topic (requested language first), or None.

    Passages are ranked by their score scaled to the candidates' range (so the rule holds for
    any embedder), plus a bonus when the section's heading names the topic, minus a little for
    a troubleshooting section; a passage another step already cites loses a little too, so
    two steps cite one passage only when nothing else fits.
    """
    hits: dict[str, Hit] = {}
    for query in _queries(topic, interest):
        for hit in retriever.search(query, k=options.candidates, where={"source_kind": "doc"}):
            if hit.id not in hits or hit.score > hits[hit.id].score:
                hits[hit.id] = hit
    if not hits:
        return None
    low = min(h.score for h in hits.values())
    spread = max(h.score for h in hits.values()) - low or 1.0
    usable = [h for h in hits.values() if h.score >= options.min_score and names_topic(topic, h)]
    if not usable:
        return None
    used = used or set()

    def rank(hit: Hit) -> float:
        where = f"{hit.title} {hit.metadata.get('heading', '')}"
        return (hit.score - low) / spread + options.heading_bonus * _heading_match(topic, hit) \
            - (0.5 if _TROUBLE.search(where) else 0.0) - (0.2 if hit.id in used else 0.0)

    own = max((h for h in usable if h.metadata.get("language") == language), key=rank,
              default=None)
    other = max((h for h in usable if h.metadata.get("language") != language), key=rank,
                default=None)
    if own is None:
        return other
    if other is not None and rank(other) > rank(own) + options.language_margin:
        return other
    return own


def to_source(hit: Hit, ref: int) -> GuideSource:
    return GuideSource(
        ref=ref, title=clean_line(hit.title), heading=clean_line(str(hit.metadata.get(
            "heading", ""))), url=hit.url, path=str(hit.metadata.get("path", "")),
        language=str(hit.metadata.get("language", "")), score=round(hit.score, 4),
        passage=hit.text[:PASSAGE_SHOWN])


def select_sources(retriever: Retriever, interest: str, language: str,
                   options: GuideOptions) -> tuple[list[StepSource], list[LeftOutStep]]:
    """A source for every topic the docs cover; the others listed as left out."""
    chosen: list[StepSource] = []
    left_out: list[LeftOutStep] = []
    used: set[str] = set()
    for topic in TOPICS:
        hit = find_source(retriever, topic, interest, language, options=options, used=used)
        if hit is None:
            left_out.append(LeftOutStep(topic=topic.key, title=topic.title(language),
                                        reason="no source: no ingested page covers it"))
            continue
        used.add(hit.id)
        chosen.append(StepSource(topic, hit, to_source(hit, len(chosen) + 1)))
    return chosen, left_out
