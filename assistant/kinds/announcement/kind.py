"""The announcement kind: from an approved release-notes draft to a blog post, social post or
mailing-list mail in English and Chinese, waiting for review like every draft. No model: the
text is built from the approved notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.errors import Conflict, InvalidInput
from assistant.kinds.announcement import announce
from assistant.kinds.base import DraftResult, Kind, Progress
from assistant.kinds.release_notes.models import AnnouncementInput, ReleaseNotes
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind, DraftStatus

if TYPE_CHECKING:
    from assistant.context import AppContext

BUILDERS = {"blog": announce.blog, "social": announce.social, "mail": announce.mail}


class Announcement(Kind[AnnouncementInput]):
    name = DraftKind.ANNOUNCEMENT
    input_model = AnnouncementInput
    summary = "Queue an announcement (blog post) draft from release notes."
    progress_label = "Writing the announcement"

    def title(self, request: AnnouncementInput) -> str:
        notes = request.release_notes_draft_id
        return f"{request.channel.title()} post from release notes #{notes}"

    def draft(self, ctx: AppContext, request: AnnouncementInput, project: str,
              progress: Progress | None = None) -> DraftResult:
        """The channel's text in both languages, built from the notes' approved revision."""
        store = ctx.drafts()
        source = store.get(request.release_notes_draft_id)
        if source.kind != DraftKind.RELEASE_NOTES:
            raise InvalidInput(f"Draft {source.id} is {source.kind}, not release notes.",
                               fix="give the id of a release-notes draft")
        if source.status not in (DraftStatus.APPROVED, DraftStatus.PUBLISHED) or \
                source.approved_revision is None:
            raise Conflict(f"Release notes #{source.id} are {source.status}; announcements are "
                           "made from approved notes.", fix="approve the release notes first")
        approved = store.content(source.id, source.approved_revision).content
        notes = ReleaseNotes.model_validate((source.output or {})["notes"])
        url = request.url
        if request.channel == "social":
            en, zh = announce.social(notes, url)
        else:
            en, zh = BUILDERS[request.channel](notes, approved.text, approved.translation or "",
                                               url)
        output = {"channel": request.channel, "release_notes_draft_id": source.id,
                  "notes_revision": source.approved_revision,
                  "chars": {"en": len(en), "zh": len(zh)}}
        return DraftResult(output=output, sources=[],
                           content=DraftContent(text=en, translation=zh), prompt_name=None,
                           prompt_version=None, model="template", confidence=1.0,
                           language="en")


KIND = Announcement()
