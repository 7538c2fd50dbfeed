"""A newcomer guide: sources and issues chosen by code, one checked model line per step.

For each step the model sees one passage and writes one instruction in the requested language.
The line is rejected when it is in the wrong language, too long, several lines, carries a link
or a mention, repeats the prompt, or names a command, code span, file, option or version the
passage does not contain; after two rejections the step falls back to a sentence of the
passage (same language) or a pointer to the cited section. Command lines shown under a step
are copied from the passage by code; citations and links are built by code from the index.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Checked, Usage, generate
from assistant.chains.guards import clean_line, cut_at_structure, guard_reply, leaks
from assistant.errors import EmptyIndexError
from assistant.kinds.newcomer_guide.issues import good_first_issues
from assistant.kinds.newcomer_guide.models import Guide, GuideOptions, Step, StepOrigin
from assistant.kinds.newcomer_guide.render import render_markdown
from assistant.kinds.newcomer_guide.steps import StepSource, select_sources
from assistant.language import LANGUAGE_NAMES, detect_language
from assistant.prompting import Prompt, fence
from assistant.providers.chat import chat_model_name
from assistant.providers.model_files import Progress
from assistant.providers.vector_index import VectorIndex
from assistant.redact import redact
from assistant.retrieval.retriever import Retriever
from assistant.settings import Settings
from assistant.textnorm import strip_invisible
from assistant.textrules import CJK

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# What looks like code outside backticks: flags, paths, file names, snake_case, versions.
_CODE_LIKE = re.compile(
    r"(?<![\w`.-])(?:--?[A-Za-z][\w-]*|[\w.~-]*/[\w./~-]+|"
    r"[\w-]+\.(?:py|rs|md|toml|txt|json|ya?ml|cfg|ini|sh|lock|js|ts|go|java|lua|c|h|cpp)\b|"
    r"[A-Za-z]\w*_\w+|\d+(?:\.\d+)+)")
_COMMAND = re.compile(
    r"\b(pip3?|cargo|git|pytest|npm|npx|yarn|pnpm|make|maturin|python3?|go|docker|uv|poetry|"
    r"tox|nox|ruff|mvn|gradle|bazel|cmake|luarocks|apt(?:-get)?|brew|kvlite)\s+([\w.:/-]+)",
    re.IGNORECASE)
_TAGS = re.compile(r"</?\s*passage\s*>", re.IGNORECASE)
_DEBRIS = re.compile(r"^\s*(?:\[\d+\]|\d+[.)])\s*|"
                     r"^\s*(?:the )?(?:instruction|step|answer|指令|说明|步骤)\s*[:：]\s*",
                     re.IGNORECASE | re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？]")
_FENCE = re.compile(r"```([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_SHELL = {"", "bash", "sh", "shell", "console", "zsh", "powershell", "ps1", "cmd", "bat"}
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w)")
# "follow the instructions in the passage": the reader never sees the passage.
_META = re.compile(r"\b(?:the|this|that|provided) (?:passage|text|excerpt)\b|段落|这段文字|上文",
                   re.IGNORECASE)
MAX_CHARS = {"en": 240, "zh": 150}


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def invented(line: str, passage: str) -> list[str]:
    """Commands, code spans, files, options and versions in ``line`` the passage lacks."""
    source = _norm(passage)
    found = []
    for span in _CODE_SPAN.findall(line):
        if _norm(span) not in source:
            found.append(span)
    prose = _CODE_SPAN.sub(" ", line)
    for token in _CODE_LIKE.findall(prose):
        if _norm(token.rstrip(".")) not in source:
            found.append(token)
    for tool, arg in _COMMAND.findall(prose):
        command = f"{tool} {arg.rstrip('.,;:')}"
        if _norm(command) not in source:
            found.append(command)
    return found


def body(text: str) -> str:
    """A passage without its title/heading header."""
    return text.split("\n\n", 1)[-1]


def check_step(raw: str, language: str, passage: str, system: str) -> Checked:
    """Whether one model line may stand as a step (see the module docstring)."""
    text = _DEBRIS.sub("", _TAGS.sub("", cut_at_structure(raw.strip())).strip())
    text = text.strip().strip('"“”').strip()
    guarded = guard_reply(text, allowed_urls=set(), n_sources=0, reporter=None)
    text = guarded.text
    found: list[str] = []
    if guarded.removed:
        found.append("links, mentions or markup: " + ", ".join(guarded.removed[:3]))
    if len([ln for ln in text.splitlines() if ln.strip()]) > 1:
        found.append("several lines")
    if len(_SENTENCE_END.findall(text)) > 2:
        found.append("more than two sentences")
    if len(text) < 8:
        found.append("empty or too short")
    if len(text) > MAX_CHARS[language]:
        found.append("too long")
    han = len(CJK.findall(_CODE_SPAN.sub(" ", text)))
    if language == "zh" and (han < 4 or detect_language(text) != "zh"):
        found.append("not in Chinese")
    if language == "en" and han:
        found.append("not in English")
    made_up = invented(text, passage)
    if made_up:
        found.append("not in the passage: " + ", ".join(made_up[:3]))
    if leaks(text, system):
        found.append("repeats the prompt")
    if _META.search(text):
        found.append("talks about the passage")
    return Checked(" ".join(text.split()), found, guarded.removed)


def commands(passage: str, limit: int = 4) -> list[str]:
    """Up to ``limit`` command lines of the passage's first shell code block."""
    for lang, block in _FENCE.findall(passage):
        if lang.lower() not in _SHELL:
            continue
        lines = [ln.rstrip() for ln in block.splitlines()
                 if ln.strip() and not ln.lstrip().startswith(("#", "//", "REM "))]
        if lines:
            # the project's own docs, shown as code (not links): kept verbatim but for secrets
            return [redact(strip_invisible(ln))[:200] for ln in lines[:limit]]
    return []


def extract_sentence(passage: str, anchors: str) -> str | None:
    """A prose sentence of the passage that names the topic (else the first usable one)."""
    prose = _FENCE.sub(" ", body(passage))
    lines = [re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", ln) for ln in prose.splitlines()
             if ln.strip() and not ln.lstrip().startswith(("#", "|", ">"))]
    sentences: list[str] = []
    for line in lines:
        start = 0
        for end in _SENTENCE_END.finditer(line):
            sentences.append(line[start:end.end()].strip())
            start = end.end()
        if line[start:].strip():
            sentences.append(line[start:].strip())
    usable = [s for s in (clean_line(_EMPHASIS.sub("", s), 400) for s in sentences)
              if 20 <= len(s) <= 240]
    naming = [s for s in usable if re.search(anchors, s, re.IGNORECASE)]
    return (naming or usable or [None])[0]


def heading_pointer(chosen: StepSource, language: str) -> str:
    label = chosen.source.title
    if chosen.source.heading and chosen.source.heading != label:
        label = f"{label} / {chosen.source.heading}"
    return f"参阅《{label}》。" if language == "zh" else f"See “{label}”."


def write_step(chosen: StepSource, *, project: str, language: str, chat_model: BaseChatModel,
               prompt: Prompt, settings: Settings, usage: Usage) -> Step:
    """One step: the checked model line, else a sentence of the passage, else a pointer."""
    topic = chosen.topic
    passage = chosen.hit.text
    excerpt = clean_line(chosen.source.title) + (
        f" / {chosen.source.heading}" if chosen.source.heading else "") + "\n\n" + \
        body(passage)[: settings.retrieval.max_passage_chars]
    messages = prompt.render(project=project, language_name=LANGUAGE_NAMES[language],
                             step=topic.title(language), passage=fence(excerpt, "passage"))
    system = str(messages[0].content)
    result = generate(chat_model, messages, settings=settings, max_tokens=prompt.max_tokens,
                      check=lambda raw: check_step(raw, language, passage, system), usage=usage)
    origin: StepOrigin = "model"
    text = result.text
    if text is None:
        sentence = extract_sentence(passage, topic.anchors) \
            if chosen.source.language == language else None
        origin = "extract" if sentence else "heading"
        text = sentence or heading_pointer(chosen, language)
    return Step(topic=topic.key, title=topic.title(language), text=text, origin=origin,
                commands=commands(passage), source=chosen.source,
                problems=sorted(set(result.problems)))


def draft_guide(
    *, project: str, interest: str, language: str, settings: Settings, index: VectorIndex,
    chat_model: BaseChatModel, prompt: Prompt, options: GuideOptions | None = None,
    now: datetime | None = None, progress: Progress | None = None,
) -> Guide:
    """The guide: cited steps, the steps left out, and good-first issues that fit."""
    started = time.perf_counter()
    options = options or GuideOptions()
    if index.count() == 0:
        raise EmptyIndexError(
            f"The index of project {index.project!r} is empty.",
            fix=f"run `devrel ingest docs PATH --project {index.project}` first")
    retriever = Retriever(index, settings.retrieval)
    sources, left_out = select_sources(retriever, interest, language, options)
    usage = Usage()
    steps = []
    for n, chosen in enumerate(sources):
        if progress:
            progress(n, len(sources))
        steps.append(write_step(chosen, project=project, language=language,
                                chat_model=chat_model, prompt=prompt, settings=settings,
                                usage=usage))
    if progress:
        progress(len(sources), len(sources))
    issues, passed = good_first_issues(index, retriever, interest, options=options, now=now)
    guide = Guide(project=project, interest=interest, language=language,  # type: ignore[arg-type]
                  steps=steps, left_out=left_out, issues=issues,
                  issues_note=", ".join(f"{n} {why}" for why, n in sorted(passed.items())),
                  model=chat_model_name(chat_model), usage=usage.model_dump())
    guide.markdown = render_markdown(guide, options)
    guide.seconds = round(time.perf_counter() - started, 2)
    return guide
