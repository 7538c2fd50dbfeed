import uuid

import pytest
from sqlalchemy import create_engine, text

from assistant.errors import InvalidInput
from assistant.settings import Settings
from assistant.store.drafts import DraftStore
from assistant.store.models import DraftStatus
from tests.conftest import require_service


def _roundtrip(store: DraftStore) -> None:
    record = store.create(kind="triage", project="kvlite", title="t" * 400,
                          input={"title": "数据库被锁定", "body": "x"})
    assert record.status == DraftStatus.QUEUED and len(record.title) == 300
    done = store.complete(record.id, output={"reply_markdown": "hi"}, sources=[{"url": "u"}],
                          prompt_name="triage_reply", prompt_version=1, model="m", language="zh")
    assert done.status == DraftStatus.PENDING_REVIEW
    failed = store.create(kind="triage", project="other", title="b", input={})
    store.fail(failed.id, "boom")
    got = store.get(record.id)
    assert got.input["title"] == "数据库被锁定" and got.sources == [{"url": "u"}]
    assert got.prompt_name == "triage_reply" and got.prompt_version == 1 and got.model == "m"
    assert [d.id for d in store.list(status="pending_review")] == [record.id]
    assert [d.id for d in store.list(project="other")] == [failed.id]
    assert store.get(failed.id).error == "boom"
    with pytest.raises(InvalidInput, match="does not exist"):
        store.get(99999)


def test_sqlite_store_with_wal(settings: Settings) -> None:
    store = DraftStore.open(settings)
    _roundtrip(store)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    reopened = DraftStore.open(settings)  # migrations are idempotent; data survives
    assert len(reopened.list()) == 2


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
