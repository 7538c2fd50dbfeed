"""Announcements as a service: from an approved release-notes draft to a blog post, social post
or mailing-list mail in English and Chinese, waiting for review like every draft."""

from __future__ import annotations

from typing import Any

from assistant.context import AppContext
from assistant.errors import Conflict, InvalidInput
from assistant.release import announce
from assistant.release.models import AnnouncementInput, ReleaseNotes
from assistant.services.drafting import DraftResult
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind, DraftStatus

BUILDERS = {"blog": announce.blog, "social": announce.social, "mail": announce.mail}


def draft_announcement(ctx: AppContext, data: dict[str, Any], project: str) -> DraftResult:
    """The channel's text in both languages, built from the notes' approved revision."""
    request = AnnouncementInput.model_validate(data)
    store = ctx.drafts()
    source = store.get(request.release_notes_draft_id)
    if source.kind != DraftKind.RELEASE_NOTES:
        raise InvalidInput(f"Draft {source.id} is {source.kind}, not release notes.",
                           fix="give the id of a release-notes draft")
    if source.status not in (DraftStatus.APPROVED, DraftStatus.PUBLISHED) or \
            source.approved_revision is None:
        raise Conflict(f"Release notes #{source.id} are {source.status}; announcements are made "
                       "from approved notes.", fix="approve the release notes first")
    approved = store.content(source.id, source.approved_revision).content
    notes = ReleaseNotes.model_validate((source.output or {})["notes"])
    url = request.url
    if request.channel == "social":
        en, zh = announce.social(notes, url)
    else:
        en, zh = BUILDERS[request.channel](notes, approved.text, approved.translation or "", url)
    output = {"channel": request.channel, "release_notes_draft_id": source.id,
              "notes_revision": source.approved_revision, "chars": {"en": len(en), "zh": len(zh)}}
    return DraftResult(output=output, sources=[], content=DraftContent(text=en, translation=zh),
                       prompt_name="announcement", prompt_version=1, model="template",
                       confidence=1.0, language="en")
