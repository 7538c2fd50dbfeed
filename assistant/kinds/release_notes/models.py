"""The typed pieces of release notes: input changes, classified items, sections."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Section = Literal["breaking", "features", "fixes", "performance", "docs", "dependencies", "other"]
SECTIONS: tuple[Section, ...] = (
    "breaking", "features", "fixes", "performance", "docs", "dependencies", "other")
Phrased = Literal["title", "rewritten", "translated", "rejected", "template"]
SECTION_TITLES: dict[Section, tuple[str, str]] = {
    "breaking": ("Breaking changes", "破坏性变更"),
    "features": ("Features", "新特性"),
    "fixes": ("Fixes", "问题修复"),
    "performance": ("Performance", "性能优化"),
    "docs": ("Docs", "文档"),
    "dependencies": ("Dependencies", "依赖更新"),
    "other": ("Other", "其他"),
}


class Change(BaseModel):
    """One input change: a commit or a merged PR (untrusted text)."""

    id: str = Field(description="Stable id: the commit sha, or pr-<number>.")
    title: str = Field(max_length=1000)
    body: str = Field("", max_length=20_000)
    prs: list[int] = Field(default_factory=list, description="PR numbers it came from.")
    labels: list[str] = Field(default_factory=list)
    author: str | None = Field(None, max_length=100)
    url: str | None = Field(None, max_length=500)


class Item(BaseModel):
    """A line of the notes: one or more changes, its section, and its text in each language."""

    section: Section
    scope: str | None = None
    changes: list[str] = Field(description="Ids of the input changes this line comes from.")
    prs: list[int] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    source_text: str = Field(description="The change's own title, cleaned (the fallback text).")
    en: str = ""
    zh: str = ""
    checked: bool = Field(False, description="The line's text passed the checks (a clean "
                          "title, or model text that passed them).")
    rewrite_reasons: list[str] = Field(
        default_factory=list, description="Why the cleaned title went to the model for a "
        "rewrite (empty: it was already a clean line).")
    en_how: Phrased = Field("title", description="Where the English text comes from: title "
                            "(the cleaned title, untouched), rewritten (by the model, checked), "
                            "rejected (the model's rewrite failed the checks: the title), "
                            "template (written in code).")
    zh_how: Phrased | None = Field(None, description="Where the Chinese text comes from: "
                                   "translated (by the model, checked), rejected (failed the "
                                   "checks: the English is shown), template; None: not asked.")
    cached: list[Literal["en", "zh"]] = Field(
        default_factory=list, description="Which texts were reused from the phrase cache.")


class Credits(BaseModel):
    contributors: list[str] = Field(default_factory=list)
    first_time: list[str] = Field(default_factory=list)


class ReleaseNotes(BaseModel):
    """Release notes assembled in code; the model only phrases lines (checked one by one)."""

    project: str
    version: str
    from_ref: str | None = None
    to_ref: str | None = None
    items: list[Item] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list, description="Changes left out, and why.")
    credits: Credits = Field(default_factory=Credits)


class ReleaseNotesInput(BaseModel):
    """What release notes are drafted from: a git range of the project's clone, or changes."""

    version: str = Field(..., min_length=1, max_length=64, examples=["v0.5.0"])
    from_ref: str | None = Field(None, max_length=200, examples=["v0.4.0"])
    to_ref: str | None = Field(None, max_length=200, examples=["v0.5.0"])
    changes: list[str] = Field(
        default_factory=list, max_length=2000,
        description="Or change titles, one per item, e.g. 'fix(lock): stale LOCK files (#12)'.")
    languages: list[Literal["en", "zh", "zh-Hant"]] = Field(
        default_factory=lambda: ["en", "zh"], description="zh-Hant: Traditional Chinese, "
        "converted by OpenCC from the Simplified lines (the project's release_notes.traditional).")
    source: Literal["auto", "git", "forge"] = Field(
        "auto", description="Where a range's changes come from: the project's local clone "
        "(git), the PRs merged between the two tags on GitHub (forge), or auto: the clone when "
        "one is configured, else the forge.")


class AnnouncementInput(BaseModel):
    """An announcement made from an approved release-notes draft."""

    release_notes_draft_id: int = Field(..., ge=1, le=2**31 - 1)
    channel: Literal["blog", "social", "mail"] = "blog"
    url: str | None = Field(None, max_length=500, description="The release page to link.")
