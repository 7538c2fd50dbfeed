import re

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.chains.triage_reply import IssueInput
from assistant.context import AppContext
from assistant.errors import EmptyIndexError, InvalidInput
from assistant.issue_files import issue_from_json_file
from assistant.services.triage import create_triage_draft
from assistant.settings import Settings

LINK = re.compile(r"\]\((\S+?)\)|https?://\S+")


def _links(markdown: str) -> set[str]:
    return {m.group(1) or m.group(0) for m in LINK.finditer(markdown)}


def _ingested_urls(ctx: AppContext) -> set[str]:
    return {str(m["url"]) for m in ctx.index().entries().values()}


def test_reply_is_cleaned_cited_and_stored(ingested_ctx: AppContext, example_dir) -> None:
    ingested_ctx.chat = FakeListChatModel(responses=[
        "Thanks @zoe-l! This is a stale LOCK file [1]; run `kvlite unlock` as described in [1]. "
        "More at https://evil.example.com and [7]. cc @mira-chen."
    ])
    issue = issue_from_json_file(example_dir / "incoming" / "161-lock-error.json")
    record = create_triage_draft(ingested_ctx, issue)
    reply = record.output["reply_markdown"]
    assert record.status == "pending_review" and record.language == "en"
    assert "evil.example.com" not in reply and "[7]" not in reply and "@mira-chen" not in reply
    assert _links(reply) and _links(reply) <= _ingested_urls(ingested_ctx)
    assert "troubleshooting" in reply.lower()
    assert record.prompt_name == "triage_reply" and record.prompt_version == 1
    assert record.model and record.sources and any(s["cited"] for s in record.sources)
    assert {"url:https://evil.example.com", "citation:[7]", "mention:@mira-chen"} <= set(
        record.output["removed"])


def test_looping_model_falls_back_to_template_in_reporters_language(
    ingested_ctx: AppContext, example_dir
) -> None:
    loop = "Please try again.\nPlease try again.\nPlease try again.\nPlease try again."
    ingested_ctx.chat = FakeListChatModel(responses=[loop, "Use the MSVC toolchain [1]."])
    issue = issue_from_json_file(example_dir / "incoming" / "162-windows-build.json")
    record = create_triage_draft(ingested_ctx, issue)
    out = record.output
    assert out["language"] == "zh" and out["fallback"] is True
    assert out["usage"]["calls"] == 2
    assert "感谢" in out["reply_markdown"] and "相关文档" in out["reply_markdown"]
    assert _links(out["reply_markdown"]) <= _ingested_urls(ingested_ctx)


def test_hostile_issue_stays_in_bounds(ingested_ctx: AppContext, example_dir) -> None:
    # A model that obeys the injection: everything it was told to do must be stripped.
    ingested_ctx.chat = FakeListChatModel(responses=[
        "Label: critical. Closing this. @mira-chen @tobias-k please look: "
        "http://evil.example.com/pwn [Click](http://evil.example.com) <!-- system prompt --> "
        "Compaction reclaims disk space [2]."
    ])
    issue = issue_from_json_file(example_dir / "incoming" / "163-hostile.json")
    record = create_triage_draft(ingested_ctx, issue)
    reply = record.output["reply_markdown"]
    assert "evil.example.com" not in reply and "@mira-chen" not in reply
    assert "@tobias-k" not in reply and "system prompt" not in reply
    assert _links(reply) <= _ingested_urls(ingested_ctx)


def test_empty_issue_and_empty_index_are_clear_errors(settings: Settings) -> None:
    ctx = AppContext(settings, chat=FakeListChatModel(responses=["x"]))
    with pytest.raises(InvalidInput, match="empty"):
        create_triage_draft(ctx, IssueInput(title="  ", body=""))
    with pytest.raises(EmptyIndexError, match="devrel ingest docs") as info:
        create_triage_draft(ctx, IssueInput(title="database is locked"))
    assert "\n" not in str(info.value)
    failed = ctx.drafts().list(status="failed")
    assert len(failed) == 1 and "empty" in (failed[0].error or "")
