import json
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from assistant.errors import Conflict, InvalidInput
from assistant.settings import Settings
from assistant.store.drafts import DraftContent, DraftStore
from assistant.store.models import DraftStatus
from tests.helpers import race_claims


def _roundtrip(store: DraftStore) -> None:
    record = store.create(kind="triage", project="kvlite", title="t" * 400,
                          input={"title": "数据库被锁定", "body": "x"})
    assert record.status == DraftStatus.QUEUED and len(record.title) == 300
    done = store.complete(record.id, token=None, output={"reply_markdown": "hi"},
                          sources=[{"url": "u"}], content=DraftContent(text="hi"),
                          prompt_name="triage_reply", prompt_version=1, model="m", language="zh")
    assert done.status == DraftStatus.PENDING_REVIEW
    failed = store.create(kind="triage", project="other", title="b", input={})
    store.fail(failed.id, "boom")
    got = store.get(record.id)
    assert got.input["title"] == "数据库被锁定" and got.sources == [{"url": "u"}]
    assert got.prompt_name == "triage_reply" and got.prompt_version == 1 and got.model == "m"
    _lifecycle(store)
    assert record.id in [d.id for d in store.list(status="pending_review")]
    assert [d.id for d in store.list(project="other")] == [failed.id]
    assert store.get(failed.id).error == "boom"
    with pytest.raises(InvalidInput, match="does not exist"):
        store.get(99999)


def _lifecycle(store: DraftStore) -> None:
    """Claims, leases, retries, revisions and review transitions, with their audit trail."""
    draft = store.create(kind="triage", project="kvlite", title="t", input={}, requested_by="bot")
    claim = store.claim(draft.id, lease_s=60, worker="w1")
    assert claim is not None and claim.draft.attempts == 1
    assert store.claim(draft.id, lease_s=60, worker="w2") is None  # held: nobody else takes it
    assert store.expired_leases() == []
    assert store.release(draft.id, claim.token, "endpoint down")
    retry = store.claim(draft.id, lease_s=-1, worker="w2")  # a lease that has already run out
    assert retry is not None and retry.draft.attempts == 2
    assert draft.id in store.expired_leases()
    takeover = store.claim(draft.id, lease_s=60, worker="w3")
    assert takeover is not None and takeover.draft.attempts == 3
    assert not store.renew(draft.id, retry.token, 60)  # the old worker learns it lost the job
    late = store.complete(draft.id, token=retry.token, output={}, sources=[],
                          content=DraftContent(text="late"), prompt_name="p", prompt_version=1,
                          model="m")
    assert late is None  # a taken-over job's result is dropped: never completed twice
    done = store.complete(draft.id, token=takeover.token, output={}, sources=[],
                          content=DraftContent(text="v1", labels=["bug"]), prompt_name="p",
                          prompt_version=1, model="m")
    assert done is not None and done.status == "pending_review" and done.revision == 1
    edited = store.edit(draft.id, DraftContent(text="v2"), "rev", base_revision=1)
    assert edited.revision == 2
    with pytest.raises(Conflict, match="revision 2"):
        store.edit(draft.id, DraftContent(text="v3"), "other", base_revision=1)
    with pytest.raises(Conflict, match="revision 2"):
        store.approve(draft.id, "rev", revision=1)
    approved = store.approve(draft.id, "rev", revision=2)
    assert approved.status == "approved" and approved.approved_revision == 2
    with pytest.raises(Conflict):
        store.edit(draft.id, DraftContent(text="after approval"), "rev", base_revision=2)
    token = store.lock_publish(draft.id, 60)
    with pytest.raises(Conflict, match="being published"):
        store.lock_publish(draft.id, 60)
    store.publish_failed(draft.id, "rev", "GitHub down", token)
    assert store.get(draft.id).status == "approved" and store.get(draft.id).error
    store.lock_publish(draft.id, 60)
    published = store.mark_published(draft.id, "rev", "https://x/1#c", {"posted": True})
    assert published.status == "published" and published.error is None
    assert store.content(draft.id, 2).content.text == "v2"
    assert [r.number for r in store.revisions(draft.id)] == [1, 2]
    assert [a.action for a in store.audit(draft.id)] == [
        "created", "claimed", "retry", "claimed", "claimed", "drafted", "edited", "approved",
        "publish_failed", "published"]
    with pytest.raises(Conflict, match="published"):
        store.reject(draft.id, "rev", "too late")
    dup = store.create(kind="triage", project="kvlite", title="t", input={}, dedupe_key="k")
    assert store.create(kind="triage", project="kvlite", title="t", input={},
                        dedupe_key="k").id == dup.id


def test_sqlite_store_with_wal(settings: Settings) -> None:
    store = DraftStore.open(settings)
    _roundtrip(store)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    reopened = DraftStore.open(settings)  # migrations are idempotent; data survives
    assert len(reopened.list()) == 4


@pytest.fixture
def store(store_settings: Settings) -> Iterator[DraftStore]:
    """A migrated draft store on SQLite or on a throwaway PostgreSQL database."""
    opened = DraftStore.open(store_settings)
    yield opened
    opened.engine.dispose()


def _drafted(store: DraftStore, **content) -> int:
    """A draft that went through one job and waits for review at revision 1."""
    draft = store.create(kind="triage", project="kvlite", title="t", input={})
    claim = store.claim(draft.id, lease_s=60, worker="w1")
    assert claim is not None
    store.complete(draft.id, token=claim.token, output={}, sources=[],
                   content=DraftContent(text="v1", **content), prompt_name="p",
                   prompt_version=1, model="m")
    return draft.id


def test_roundtrip_and_lifecycle(store: DraftStore, store_settings: Settings) -> None:
    _roundtrip(store)
    expected = "postgresql" if store_settings.database_url.startswith("postgresql") else "sqlite"
    assert store.engine.dialect.name == expected
    reopened = DraftStore.open(store_settings)  # migrations are idempotent; data survives
    assert len(reopened.list()) == 4
    reopened.engine.dispose()


def test_claims_and_leases(store: DraftStore) -> None:
    draft = store.create(kind="triage", project="kvlite", title="t", input={})
    assert store.never_enqueued(grace_s=-1) == [draft.id]
    store.mark_enqueued([draft.id])
    assert store.never_enqueued(grace_s=-1) == [] and store.waiting(grace_s=-1) == [draft.id]
    claim = store.claim(draft.id, lease_s=60, worker="w1")
    assert claim is not None and store.get(draft.id).status == "drafting"
    assert store.renew(draft.id, claim.token, 60)
    assert not store.renew(draft.id, "not-the-token", 60)
    assert not store.release(draft.id, "not-the-token", "x")  # only the holder gives it back
    assert store.fail(draft.id, "boom", token="not-the-token") is None
    assert store.renew(draft.id, claim.token, -1) and store.expired_leases() == [draft.id]
    failed = store.fail(draft.id, "boom", token=claim.token)
    assert failed is not None and failed.status == "failed" and store.expired_leases() == []
    assert store.claim(draft.id, lease_s=60, worker="w2") is None  # failed: not claimable


def test_racing_claims_have_one_winner(store: DraftStore) -> None:
    draft = store.create(kind="triage", project="kvlite", title="t", input={})
    wins = race_claims(store, draft.id, 6)
    assert len(wins) == 1 and store.get(draft.id).attempts == 1
    assert [a.action for a in store.audit(draft.id)] == ["created", "claimed"]


def test_revisions_and_review(store: DraftStore) -> None:
    draft_id = _drafted(store, labels=["bug"])
    assert store.edit(draft_id, DraftContent(text="v2"), "rev", note="shorter",
                      base_revision=1).revision == 2
    with pytest.raises(Conflict, match="revision 2"):
        store.edit(draft_id, DraftContent(text="v3"), "other", base_revision=1)
    assert [r.number for r in store.revisions(draft_id)] == [1, 2]
    assert store.content(draft_id).content.text == "v2"
    assert store.content(draft_id, 1).content.labels == ["bug"]
    rejected = store.reject(draft_id, "rev", "off topic")
    assert rejected.status == "rejected" and rejected.reject_reason == "off topic"
    with pytest.raises(Conflict):
        store.approve(draft_id, "rev", revision=2)
    assert store.counts() == {"rejected": 1}


def test_publish_lock(store: DraftStore) -> None:
    draft_id = _drafted(store)
    with pytest.raises(Conflict):
        store.lock_publish(draft_id, 60)  # not approved yet
    store.approve(draft_id, "rev", revision=1)
    token = store.lock_publish(draft_id, 60)
    with pytest.raises(Conflict, match="being published"):
        store.lock_publish(draft_id, 60)
    store.publish_failed(draft_id, "rev", "GitHub down", "not-the-token")  # ignored
    with pytest.raises(Conflict, match="being published"):
        store.lock_publish(draft_id, 60)
    store.publish_failed(draft_id, "rev", "GitHub down", token)
    assert store.get(draft_id).error == "GitHub down"
    expired = store.lock_publish(draft_id, -1)  # a publisher that died holding the lock
    assert store.lock_publish(draft_id, 60) != expired
    published = store.mark_published(draft_id, "rev", "https://x/1#c", {"posted": True})
    assert published.status == "published" and published.published_url == "https://x/1#c"
    with pytest.raises(Conflict, match="published"):
        store.lock_publish(draft_id, 60)


def test_dedupe_and_filters(store: DraftStore) -> None:
    first = store.create(kind="triage", project="kvlite", title="t", input={}, dedupe_key="k")
    again = store.create(kind="triage", project="kvlite", title="t", input={}, dedupe_key="k")
    other = store.create(kind="release_notes", project="other", title="r", input={},
                         dedupe_key="k2")
    assert again.id == first.id and other.id != first.id
    assert [d.id for d in store.list()] == [other.id, first.id]  # newest first
    assert [d.id for d in store.list(kind="release_notes")] == [other.id]
    assert [d.id for d in store.list(project="kvlite", status="queued")] == [first.id]
    assert store.counts(project="other") == {"queued": 1}


def test_review_is_refused_while_a_publish_holds_a_live_lease(store: DraftStore) -> None:
    draft_id = _drafted(store)
    store.approve(draft_id, "rev", revision=1)
    token = store.lock_publish(draft_id, 60)
    with pytest.raises(Conflict, match="being published"):
        store.reject(draft_id, "other", "wrong")
    assert store.renew_publish(draft_id, token, 60)
    assert not store.renew_publish(draft_id, "not-the-token", 60)
    store.publish_failed(draft_id, "rev", "GitHub down", token)
    assert store.reject(draft_id, "other", "wrong").status == "rejected"  # idle again
    assert not store.renew_publish(draft_id, token, 60)  # a rejected draft is nobody's


def test_a_draft_without_a_stored_revision_cannot_be_approved(store: DraftStore) -> None:
    draft = store.create(kind="triage", project="kvlite", title="t", input={},
                         status=DraftStatus.PENDING_REVIEW)  # revision 0: nothing to read
    with pytest.raises(Conflict):
        store.approve(draft.id, "rev", revision=0)
    assert store.get(draft.id).status == "pending_review"


def test_an_idempotency_key_answers_only_the_request_it_was_made_for(store: DraftStore) -> None:
    first = store.create(kind="triage", project="kvlite", title="t", input={"a": 1},
                         dedupe_key="api:1:k", request_hash="h1")
    again = store.create(kind="triage", project="kvlite", title="t", input={"a": 1},
                         dedupe_key="api:1:k", request_hash="h1")
    assert again.id == first.id
    with pytest.raises(Conflict, match="another request"):
        store.create(kind="release_notes", project="kvlite", title="r", input={},
                     dedupe_key="api:1:k", request_hash="h2")
    assert len(store.list()) == 1


def test_drafts_completed_before_revisions_existed_get_revision_1(
        store_settings: Settings) -> None:
    """A database at 0003 holding drafts made under 0001 (output, no revision) upgrades to
    drafts a reviewer can approve and publish."""
    from alembic import command
    from alembic.config import Config

    from assistant.store.db import MIGRATIONS, make_engine

    engine = make_engine(store_settings.database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    output = {"reply_markdown": "Run `kvlite unlock`.", "reply_en": None, "reply_needed": True,
              "labels": [{"name": "bug", "confidence": 0.9}],
              "duplicates": [{"number": 12, "title": "x", "score": 0.8}]}
    with engine.begin() as connection:
        for status, out in (("pending_review", output), ("pending_review", {"summary": "x"}),
                            ("failed", None)):
            connection.execute(text(
                "INSERT INTO drafts (kind, project, status, title, input, output, sources, "
                "created_at, updated_at, attempts, revision) VALUES ('triage', 'kvlite', "
                ":status, 't', '{}', :output, '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 0)"),
                {"status": status, "output": None if out is None else json.dumps(out)})
    engine.dispose()
    store = DraftStore.open(store_settings)
    ok, empty, failed = sorted(d.id for d in store.list())
    revision = store.content(ok)
    assert revision.number == 1 and revision.content.text == "Run `kvlite unlock`."
    assert revision.content.labels == ["bug"] and revision.content.duplicates == [12]
    assert store.approve(ok, "rev", revision=1).approved_revision == 1
    assert store.get(empty).status == "failed" and store.get(failed).status == "failed"
    assert store.revisions(empty) == []
    store.engine.dispose()
