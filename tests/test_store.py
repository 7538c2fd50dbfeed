import uuid

import pytest
from sqlalchemy import create_engine, text

from assistant.errors import Conflict, InvalidInput
from assistant.settings import Settings
from assistant.store.drafts import DraftContent, DraftStore
from assistant.store.models import DraftStatus
from tests.conftest import require_service


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
        store.edit(draft.id, DraftContent(text="after approval"), "rev")
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


@pytest.mark.services
def test_postgresql_store(make_settings) -> None:
    require_service("127.0.0.1", 5432, "PostgreSQL")
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test",
                          isolation_level="AUTOCOMMIT")
    name = f"devrel_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        settings = make_settings(database={"url": f"postgresql://postgres@127.0.0.1:5432/{name}"})
        store = DraftStore.open(settings)
        _roundtrip(store)
        assert store.engine.dialect.name == "postgresql"
        store.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
