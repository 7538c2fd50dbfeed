"""Typed meeting summaries: every item carries the line of the note it came from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

How = Literal["section", "marker", "table", "model"]
"""How an item was found: under a heading that names its kind, by an explicit marker
(``TODO``, ``AI:``, ``Decision:``, ``决定：``), a row of an action table, or the model's
closed-choice classification of a line code could not place."""


class Item(BaseModel):
    """One line of the note, as written there (markdown emphasis and links reduced to text)."""

    text: str
    line: int = Field(description="1-based line number in the note as given.")
    section: str = Field("", description="The heading trail above the line.")
    how: How = "section"
    en: str | None = Field(None, description="English version (Chinese notes), or None.")


class Decision(Item):
    kind: Literal["decision"] = "decision"


class ActionItem(Item):
    kind: Literal["action"] = "action"
    owner: str | None = Field(None, description="A name or @handle written in the note.")
    due: str | None = Field(None, description="ISO date, only when the note states one.")


class OpenQuestion(Item):
    kind: Literal["question"] = "question"


class MeetingSummary(BaseModel):
    """What a meeting decided, who does what by when, and what is still open."""

    title: str
    date: str = ""
    language: Literal["en", "zh"] = "en"
    attendees: list[str] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    actions: list[ActionItem] = Field(default_factory=list)
    questions: list[OpenQuestion] = Field(default_factory=list)
    lines: int = 0
    candidates: int = Field(0, description="Lines the model was asked to classify.")
    not_classified: int = Field(0, description="Candidate lines past the call budget.")

    def items(self) -> list[Decision | ActionItem | OpenQuestion]:
        return [*self.decisions, *self.actions, *self.questions]


class MeetingNotesInput(BaseModel):
    """A meeting note to summarise: decisions, action items, open questions (EN for a ZH
    note)."""

    notes: str = Field(..., max_length=200_000,
                       examples=["# Community call 2026-10-07\n## Decisions\n- Ship 0.5 on "
                                 "Oct 20\n## Action items\n- @mia: draft the release notes "
                                 "by 2026-10-14"])
    language: Literal["en", "zh"] | None = None
    title: str | None = Field(None, max_length=300)
    date: str | None = Field(None, max_length=32, description="ISO date of the meeting "
                             "(default: from the note's front matter or title).")
