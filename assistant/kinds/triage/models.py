"""The typed triage draft: what a reviewer sees, and what the API returns.

Structure comes from code (labels from a classifier, duplicates from retrieval,
docs from the index, missing information from the issue template); the model only
phrases the reply, the English summary and the translation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.chains.generate import Usage

Language = Literal["en", "zh"]
class LabelSuggestion(BaseModel):
    """A label from the project's own label set, with the classifier's confidence."""

    name: str
    confidence: float = Field(ge=0.0, le=1.0)
    source: Literal["classifier", "template", "applied"] = Field(
        "classifier", description="classifier: suggested; template: the issue template's "
        "labels; applied: already on the issue (e.g. set by the issue form), not a suggestion.")


class DuplicateSuggestion(BaseModel):
    """A past issue or PR that may report the same problem (only from retrieved candidates)."""

    number: int
    repo: str = Field("", description="Its repo (owner/name, or FORGE:owner/name) when the "
                      "project has several; empty in indexes that do not record it.")
    ref: str = Field("", description="How the reply names it: #N in the issue's own repo, "
                     "owner/name#N in another.")
    title: str
    url: str
    state: str = ""
    score: float = Field(ge=0.0, le=1.0, description="Calibrated similarity in [0, 1].")
    reason: str = Field(description="One line: why it looks like the same problem.")
    evidence: str = Field(
        "", description="The strongest shared evidence, e.g. the longest shared error line.")


class DocLink(BaseModel):
    """An ingested documentation passage that may answer the issue."""

    ref: int
    title: str
    heading: str
    url: str
    path: str
    language: str = ""
    score: float
    cited: bool = False
    passage: str = Field("", description="The start of the passage, for the reviewer.")


class PastAnswer(BaseModel):
    """A maintainer's answer on a similar past issue, quoted with its link."""

    number: int
    repo: str = ""
    ref: str = Field("", description="#N, or owner/name#N for another repo's issue.")
    title: str
    url: str
    author: str
    quote: str = Field(description="The maintainer's own sentences, verbatim.")
    score: float = Field(ge=0.0, le=1.0, description="How similar the past issue is.")
    evidence: str = Field("", description="What the two issues share (e.g. an error line).")


class ReplyPiece(BaseModel):
    """One verified part of a reply, and where it came from."""

    kind: Literal["opening", "doc_quote", "past_answer", "duplicate", "missing", "next_step",
                  "model_text"]
    text: str
    source: str = Field("", description="The URL or passage the text stands on.")
    by_model: bool = Field(False, description="The model chose or wrote this piece.")
    support: float | None = Field(
        None, description="Share of the piece's content words found in its source.")


class MissingItem(BaseModel):
    """Information the issue template asks for that the report does not give."""

    field: str = Field(description="The template section, e.g. 'kvlite version'.")
    question: str = Field(description="What to ask the reporter, in the reporter's language.")


class Timings(BaseModel):
    """Seconds spent in each step of a draft."""

    retrieve: float = 0.0
    labels: float = 0.0
    duplicates: float = 0.0
    generate: float = 0.0
    translate: float = 0.0


class TriageDraft(BaseModel):
    """A complete triage draft, waiting for a human's review."""

    language: Language
    summary_en: str | None = Field(
        None, description="A one-sentence English summary when the issue is not in English."
    )
    labels: list[LabelSuggestion] = Field(default_factory=list)
    labels_abstained: bool = Field(
        False, description="True when no label cleared the confidence threshold."
    )
    label_candidates: list[LabelSuggestion] = Field(
        default_factory=list,
        description="When the classifier abstains: its best labels below the threshold, "
        "for the reviewer only.",
    )
    duplicates: list[DuplicateSuggestion] = Field(
        default_factory=list, description="Likely duplicates: above the calibrated threshold."
    )
    related: list[DuplicateSuggestion] = Field(
        default_factory=list,
        description="The best other past issues, below the threshold: for the reviewer only.",
    )
    docs: list[DocLink] = Field(default_factory=list)
    past_answers: list[PastAnswer] = Field(
        default_factory=list, description="Maintainers' answers on similar past issues.")
    missing: list[MissingItem] = Field(default_factory=list)
    reply_needed: bool = True
    no_reply_reason: str | None = None
    reply_text: str = Field("", description="The model's own sentences (none in pieces mode).")
    reply_mode: Literal["pieces", "generative"] = "pieces"
    pieces: list[ReplyPiece] = Field(
        default_factory=list, description="What the reply is made of, piece by piece.")
    confidence_evidence: dict[str, float] = Field(
        default_factory=dict, description="The evidence the confidence was computed from.")
    reply_markdown: str = ""
    reply_en: str | None = Field(
        None, description="English translation of the reply, for the reviewer, when it is not EN."
    )
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    fallback: bool = Field(False, description="The reply is the template, not the model's.")
    removed: list[str] = Field(
        default_factory=list, description="What the output guards took out of the model's text."
    )
    rejected: list[str] = Field(
        default_factory=list, description="Why model outputs were rejected (then retried)."
    )
    prompts: list[str] = Field(default_factory=list)
    model: str = ""
    usage: Usage = Field(default_factory=Usage)
    timings: Timings = Field(default_factory=Timings)
    seconds: float = 0.0
