"""Triage drafting as a service: store the request, run the chain, record the result."""

from __future__ import annotations

from assistant.chains.triage_reply import IssueInput, draft_triage_reply
from assistant.context import AppContext
from assistant.errors import DevrelError
from assistant.prompting import load_prompt
from assistant.providers.model_files import Progress
from assistant.store.drafts import DraftRecord
from assistant.store.models import DraftKind, DraftStatus

PROMPT = "triage_reply"


def create_triage_draft(
    ctx: AppContext, issue: IssueInput, project: str | None = None,
    progress: Progress | None = None,
) -> DraftRecord:
    """Draft a triage reply and put it in the review queue; a failure is stored, then raised."""
    issue.require_text()
    project = project or ctx.settings.project
    store = ctx.drafts()
    title = issue.title or issue.body[:80]
    record = store.create(
        kind=DraftKind.TRIAGE, project=project, title=title,
        input=issue.model_dump(), status=DraftStatus.DRAFTING,
    )
    try:
        prompt = load_prompt(PROMPT, ctx.settings.prompt_versions.get(PROMPT))
        draft = draft_triage_reply(
            issue, settings=ctx.settings, index=ctx.index(project),
            chat_model=ctx.chat_model(progress), prompt=prompt,
        )
    except DevrelError as exc:
        store.fail(record.id, str(exc))
        raise
    return store.complete(
        record.id,
        output=draft.model_dump(mode="json", exclude={"citations"}),
        sources=[c.model_dump(mode="json") for c in draft.citations],
        prompt_name=prompt.name,
        prompt_version=prompt.version,
        model=draft.model,
        language=draft.language,
        confidence=None,  # calibrated confidence arrives with the full triage draft
    )
