"""The naive baseline: one prompt with all input subjects, then one translating the answer."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from .data import model_input
from .glossary import subject_glossary
from .text import cited_prs, note_lines

NAIVE_EN_TOKENS = 1024  # output budget of the naive English prompt
NAIVE_ZH_TOKENS = 2048  # upper bound of the naive translation's output
NAIVE_SYSTEM = "You write release notes for an open-source project."
NAIVE_ASK = ("Write the release notes of {name} {version} from these commit subjects (one per "
             "line). Group the user-facing changes under the headings Features, Fixes and Other "
             "as Markdown bullet lists, one short line per change, and keep the PR number of each "
             "change as (#123). Leave out tests, CI and chores.\n\n{subjects}\n\n"
             "The release notes:")
NAIVE_TRANSLATE_SYSTEM = "You translate release notes from English into Simplified Chinese."
NAIVE_TRANSLATE = ("Translate these release notes into Simplified Chinese. Keep the Markdown, "
                   "the PR numbers, code and component names as they are.\n\n{text}\n\n"
                   "The Chinese translation:")


def run_naive(record: dict[str, Any], repo: str, *, chat: Any, settings: Any,
              **_: Any) -> dict[str, Any]:
    started = time.perf_counter()
    changes, _excluded = model_input(record)
    client = chat._client()

    def tokens(text: str) -> int:
        return len(client.tokenize(text.encode(), add_bos=False))

    name = repo.split("/")[-1]
    overhead = tokens(NAIVE_SYSTEM + NAIVE_ASK.format(name=name, version=record["version"],
                                                      subjects="")) + 32
    budget = settings.llm.n_ctx - NAIVE_EN_TOKENS - overhead
    subjects, used = [], 0
    for change in changes:
        cost = tokens(change.title + "\n")
        if used + cost > budget:
            break
        subjects.append(change.title)
        used += cost
    ask = NAIVE_ASK.format(name=name, version=record["version"], subjects="\n".join(subjects))
    reply = chat.invoke([SystemMessage(NAIVE_SYSTEM), HumanMessage(ask)],
                        max_tokens=NAIVE_EN_TOKENS)
    english = str(reply.content).strip()
    ask_zh = NAIVE_TRANSLATE.format(text=english)
    room = settings.llm.n_ctx - tokens(NAIVE_TRANSLATE_SYSTEM + ask_zh) - 32
    reply_zh = chat.invoke([SystemMessage(NAIVE_TRANSLATE_SYSTEM), HumanMessage(ask_zh)],
                           max_tokens=max(64, min(NAIVE_ZH_TOKENS, room)))
    chinese = str(reply_zh.content).strip()
    usage = [r.usage_metadata or {} for r in (reply, reply_zh)]
    input_prs = {n for c in changes for n in c.prs}
    return {
        "seconds": time.perf_counter() - started, "lines": len(note_lines(english)),
        "markdown_en": english, "markdown_zh": chinese,
        "subjects_in": len(subjects), "subjects_cut": len(changes) - len(subjects),
        "invented_prs": sorted(cited_prs(english, repo) - input_prs),
        "finish": [r.response_metadata.get("finish_reason") for r in (reply, reply_zh)],
        "glossary": subject_glossary([c.title for c in changes]),
        "glossary_pairs": [(english, chinese)],
        "calls": 2, "input_tokens": sum(u.get("input_tokens", 0) for u in usage),
        "output_tokens": sum(u.get("output_tokens", 0) for u in usage),
    }
