"""What a newcomer guide is made of: cited steps, steps left out, and issues to start with."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_LABELS = (
    "good first issue", "good-first-issue", "good first issues", "good-first-bug",
    "help wanted", "help-wanted", "first-timers-only", "beginner", "beginner-friendly",
    "easy", "starter", "newcomer", "新手", "新手友好", "新手任务", "适合新手",
)


class GuideOptions(BaseModel):
    """How a guide is built (defaults suit most projects; the service may pass a project's)."""

    labels: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LABELS),
        description="Labels (any case) that make an open issue a good first one.")
    max_issue_age_days: int = Field(
        180, ge=1, description="An issue counts as recent when updated within this many days.")
    max_issues: int = Field(5, ge=0, le=20, description="Most good-first issues listed.")
    min_score: float = Field(
        0.0, ge=0.0, le=1.0,
        description="A step's passage must score at least this (besides naming its topic).")
    language_margin: float = Field(
        0.3, ge=0.0, le=2.0,
        description="A passage in the requested language wins unless one in the other language "
        "ranks more than this much higher (scores scaled to the candidates' range, 0-1).")
    heading_bonus: float = Field(
        0.5, ge=0.0, le=2.0,
        description="Added to the scaled score of a section whose heading names the step.")
    candidates: int = Field(8, ge=1, le=50, description="Passages retrieved per query.")


class GuideSource(BaseModel):
    """The ingested passage a step stands on."""

    ref: int
    title: str
    heading: str = ""
    url: str
    path: str
    language: str
    score: float
    passage: str = Field(description="The start of the passage, for the reviewer.")


StepOrigin = Literal["model", "extract", "heading"]


class Step(BaseModel):
    """One numbered step of the guide, cited."""

    topic: str
    title: str
    text: str
    origin: StepOrigin = Field(description="model: the checked model line; extract: a sentence "
                               "of the passage; heading: a pointer to the cited section.")
    commands: list[str] = Field(default_factory=list,
                                description="Command lines copied from the cited passage.")
    source: GuideSource
    problems: list[str] = Field(default_factory=list,
                                description="Why model lines were rejected, if they were.")


class LeftOutStep(BaseModel):
    """A step topic the docs gave no source for."""

    topic: str
    title: str
    reason: str


class IssueSuggestion(BaseModel):
    """An open issue a newcomer could take."""

    number: int
    title: str
    url: str
    labels: list[str]
    updated_at: str
    assignees: list[str] | None = Field(
        None, description="Logins assigned ([] none); None when the index does not know.")
    score: float = Field(0.0, description="Similarity to the interest (ranking only).")


class Guide(BaseModel):
    """The whole guide, as stored with the draft."""

    project: str
    interest: str
    language: Literal["en", "zh"]
    steps: list[Step] = Field(default_factory=list)
    left_out: list[LeftOutStep] = Field(default_factory=list)
    issues: list[IssueSuggestion] = Field(default_factory=list)
    issues_note: str = ""
    markdown: str = ""
    model: str = ""
    seconds: float = 0.0
    usage: dict[str, int] = Field(default_factory=dict)

    @property
    def confidence(self) -> float:
        """Share of the steps whose line the model wrote and the checks accepted."""
        if not self.steps:
            return 0.0
        return round(sum(s.origin == "model" for s in self.steps) / len(self.steps), 3)


class GuideInput(BaseModel):
    """A guide for a newcomer with an interest, in a language."""

    interest: str = Field(..., max_length=500, examples=["storage engine"],
                          description="What the newcomer wants to work on (free text).")
    language: Literal["en", "zh"] = "en"
