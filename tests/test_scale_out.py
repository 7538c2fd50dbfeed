"""Scale out by configuration alone: two API processes and two workers, nothing shared but services.

PostgreSQL holds the drafts, Redis the queue (and the API's rate limits), a `chroma run` server
the index; each process gets its own empty data dir, so nothing can pass through a local file.
The chat model is an OpenAI-compatible server on 127.0.0.1 (tests/fake_openai.py), chosen with
DEVREL_LLM__PROVIDER=openai and DEVREL_LLM__BASE_URL: the way a deployment points the workers at
vLLM, Ollama or llama.cpp's server.
"""

from __future__ import annotations

import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from assistant.store.db import make_engine
from assistant.store.drafts import DraftStore
from tests.conftest import EXAMPLE, require_service
from tests.fake_openai import FakeOpenAI
from tests.procs import Procs, devrel_env, free_port, wait_http, wait_port, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(180)]

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DRAFTS = 12
TITLES = [
    "database is locked after the container was OOM-killed",
    "LockError when reopening a database in the same process",
    "compaction never finishes on a 40 GB database",
    "CorruptionError after power loss",
    "how do I set sync_mode for faster bulk writes?",
    "ValueTooLarge when storing 12 MB values",
    "build from source fails: linker not found on Windows",
    "pip install kvlite fails on Windows ARM64",
    "Python crashes on macOS when two threads write",
    "feature request: TTL for keys",
    "Database.close() leaves file handles open",
    "what does lock_timeout_ms do exactly?",
]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    require_service("127.0.0.1", 5432, "PostgreSQL")
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"devrel_scale_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """An empty Redis database number of its own, flushed afterwards."""
    require_service("127.0.0.1", 6379, "Redis")
    import redis

    for number in range(15, 7, -1):
        client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{number}")
        if client.dbsize() == 0:
            break
        client.close()
    else:
        pytest.fail("Redis databases 8-15 are all in use; flush one for this test")
    try:
        yield f"redis://127.0.0.1:6379/{number}"
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    with Procs(tmp_path / "logs") as group:
        yield group


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    # A short delay per completion, so one worker cannot drain the queue alone.
    with FakeOpenAI(model="kvlite-chat", delay_s=0.4) as server:
        yield server


def _chroma(procs: Procs, tmp_path: Path) -> tuple[str, int]:
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.fail("the chroma CLI is not installed next to this Python")
    port = free_port()
    procs.start("chroma", [str(chroma), "run", "--path", str(tmp_path / "chroma-server"),
                           "--host", "127.0.0.1", "--port", str(port)], devrel_env())
    return f"http://127.0.0.1:{port}", port


def _pid(actor: str) -> int:
    """The pid in a worker's audit name, ``worker:HOST:PID:THREAD``."""
    assert actor.startswith("worker:"), actor
    return int(actor.split(":")[2])


# Fixture order matters for clean-up (reverse order): processes stop, then Redis is flushed,
# then the database is dropped.
def test_two_api_processes_and_two_workers_share_the_work(
    pg_url: str, redis_url: str, procs: Procs, llm: FakeOpenAI, tmp_path: Path,
) -> None:
    chroma_url, chroma_port = _chroma(procs, tmp_path)
    shared = {
        "DEVREL_DATABASE__URL": pg_url,
        "DEVREL_QUEUE__BACKEND": "redis",
        "DEVREL_QUEUE__REDIS_URL": redis_url,
        "DEVREL_QUEUE__NAME": f"scale-{uuid.uuid4().hex[:8]}",
        "DEVREL_VECTORSTORE__CHROMA_URL": chroma_url,
        "DEVREL_LLM__PROVIDER": "openai",
        "DEVREL_LLM__BASE_URL": llm.url,
        "DEVREL_LLM__MODEL": "kvlite-chat",
        "DEVREL_TRIAGE__REPLY_MODE": "generative",  # a served model writes the reply
        # Polling below is not what is tested; the limit is shared through Redis.
        "DEVREL_API__RATE_LIMIT": "1000/minute",
    }
    data_dirs: list[Path] = []

    def env(name: str) -> dict[str, str]:
        data_dirs.append(tmp_path / f"data-{name}")
        return devrel_env(DEVREL_DATA_DIR=str(data_dirs[-1]), **shared)

    # Keys first (they migrate the fresh database) while Chroma boots; then the index.
    cli = env("cli")
    bot = procs.run("keys", "create", "--name", "scale-bot", "--role", "bot",
                    env=cli).strip().splitlines()[-1]
    reviewer = procs.run("keys", "create", "--name", "scale-reviewer", "--role", "reviewer",
                         env=cli).strip().splitlines()[-1]
    wait_port(chroma_port, timeout=60, watch=procs.started)
    procs.run("ingest", "docs", str(EXAMPLE / "docs"), "--repo-path", "docs", env=cli)
    procs.run("ingest", "issues", str(EXAMPLE / "issues.json"), env=cli)
    procs.run("ingest", "project", str(EXAMPLE), env=cli)

    ports = {"a": free_port(), "b": free_port()}
    api = {name: procs.serve(f"api-{name}", port, env(f"api-{name}"))
           for name, port in ports.items()}
    workers = [procs.devrel(f"worker-{n}", "worker", env=env(f"worker-{n}")) for n in (1, 2)]
    everyone = [*api.values(), *workers]
    for port in ports.values():
        wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60, watch=everyone)
    for proc in workers:
        wait_until(lambda p=proc: "worker started" in p.log.read_text(), 60,
                   f"{proc.name} to start", watch=everyone)

    a = httpx.Client(base_url=f"http://127.0.0.1:{ports['a']}", timeout=30,
                     headers={"Authorization": f"Bearer {bot}"})
    b = httpx.Client(base_url=f"http://127.0.0.1:{ports['b']}", timeout=30,
                     headers={"Authorization": f"Bearer {bot}"})
    ids: list[int] = []
    for n, title in enumerate(TITLES[:DRAFTS]):
        client = a if n % 2 == 0 else b  # both API processes enqueue onto the one queue
        response = client.post("/v1/drafts/triage", json={"project": "kvlite", "issue": {
            "title": title, "body": f"kvlite 0.9.{n} on Linux. {title}.",
            "repo": "example-org/kvlite", "number": 300 + n}})
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    assert len(set(ids)) == DRAFTS

    def all_pending() -> bool:
        items = a.get("/v1/drafts", params={"limit": 100}).json()["items"]
        statuses = {d["id"]: d["status"] for d in items}
        assert not [i for i in ids if statuses.get(i) == "failed"], statuses
        return all(statuses.get(i) == "pending_review" for i in ids)

    wait_until(all_pending, 60, "every draft pending review", watch=everyone, interval=0.5)

    drafted_by: Counter[int] = Counter()
    for draft_id in ids:
        audit = a.get(f"/v1/drafts/{draft_id}/audit").json()
        drafted = [e for e in audit if e["action"] == "drafted"]
        claimed = [e for e in audit if e["action"] == "claimed"]
        assert len(drafted) == 1 and len(claimed) == 1, audit  # drafted exactly once
        assert _pid(drafted[0]["actor"]) == _pid(claimed[0]["actor"])
        drafted_by[_pid(drafted[0]["actor"])] += 1
    worker_pids = {p.pid for p in workers}
    assert set(drafted_by) <= worker_pids, drafted_by  # never an API process
    # Each completion takes 0.4 s, so both workers get some; the split itself may be uneven.
    assert set(drafted_by) == worker_pids, f"one worker drafted everything: {drafted_by}"

    b.headers["Authorization"] = f"Bearer {reviewer}"
    for draft_id in ids:
        response = b.post(f"/v1/drafts/{draft_id}/approve", json={"revision": 1})
        assert response.status_code == 200, response.text
    for draft_id in ids:
        draft = a.get(f"/v1/drafts/{draft_id}").json()
        assert draft["status"] == "approved" and draft["approved_revision"] == 1, draft
        assert draft["reviewed_by"].startswith("scale-reviewer") and draft["model"] == "kvlite-chat"
        # a reply, or an abstention with its reason (nothing the sources support to say)
        assert draft["content"]["text"] or draft["output"]["no_reply_reason"], draft
    a.close()
    b.close()

    # The database itself: nothing lost, nothing duplicated.
    store = DraftStore(make_engine(pg_url))
    try:
        records = store.list(limit=500)
        assert sorted(r.id for r in records) == sorted(ids)
        for record in records:
            assert (record.status, record.revision, record.attempts) == ("approved", 1, 1)
            assert [r.number for r in store.revisions(record.id)] == [1]
    finally:
        store.engine.dispose()
    assert llm.requests and all(r["path"] == "/v1/chat/completions" for r in llm.requests)
    # Scaled out by services alone: no process kept a database, queue or index on its disk.
    for data_dir in data_dirs:
        leftovers = [p.name for p in data_dir.glob("*")
                     if p.name in {"devrel.sqlite3", "queue.sqlite3", "chroma"}]
        assert not leftovers, f"{data_dir}: {leftovers}"
