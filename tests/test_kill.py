"""SIGKILL a worker mid-draft, and the API mid-write: no accepted draft is lost or drafted twice.

Real processes on the default single-machine setup (SQLite database, SQLite queue, local
Chroma folder), with a short lease (4 s) and sweep (1 s) so recovery happens within the test.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.settings import get_settings
from assistant.store.drafts import DraftStore
from tests.fake_openai import FakeOpenAI
from tests.procs import Procs, devrel_env, free_port, wait_http, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

RECOVERY = {"DEVREL_QUEUE__LEASE_S": "4", "DEVREL_QUEUE__SWEEP_INTERVAL_S": "1"}
ISSUE = {"title": "database is locked after the container was OOM-killed",
         "body": "kvlite 0.9.2: every open() fails with LockError after a crash.",
         "repo": "example-org/kvlite", "number": 161}


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    with Procs(tmp_path / "logs") as group:
        yield group


@pytest.fixture
def data_dir(triage_data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the example's full index (docs, issues, project files)."""
    target = tmp_path / "data"
    shutil.copytree(triage_data_dir, target)
    return target


def _key(procs: Procs, env: dict[str, str], role: str) -> str:
    return procs.run("keys", "create", "--name", f"kill-{role}", "--role", role,
                     env=env).strip().splitlines()[-1]


def _store(data_dir: Path) -> DraftStore:
    return DraftStore.open(get_settings(profile="test", data_dir=data_dir))


def _pid(actor: str) -> int:
    """The pid in a worker's audit name, ``worker:HOST:PID:THREAD``."""
    return int(actor.split(":")[2])


def test_a_worker_killed_mid_draft_is_replaced(procs: Procs, data_dir: Path) -> None:
    # The chat endpoint takes 3 s per completion: the worker is killed while waiting for it.
    with FakeOpenAI(model="slow-model", delay_s=3.0) as llm:
        env = devrel_env(DEVREL_DATA_DIR=str(data_dir), DEVREL_LLM__PROVIDER="openai",
                         DEVREL_API__RATE_LIMIT="100000/minute",  # polled every 0.1 s
                         DEVREL_LLM__BASE_URL=llm.url, DEVREL_LLM__MODEL="slow-model",
                         DEVREL_TRIAGE__REPLY_MODE="generative",  # a served model writes
                         **RECOVERY)
        bot = _key(procs, env, "bot")
        port = free_port()
        api = procs.serve("api", port, env)
        first = procs.devrel("worker-1", "worker", env=env)
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60, watch=[api, first])
        wait_until(lambda: "worker started" in first.log.read_text(), 60, "worker-1 to start",
                   watch=[api, first])
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"Authorization": f"Bearer {bot}"})
        response = client.post("/v1/drafts/triage", json={"project": "kvlite", "issue": ISSUE})
        assert response.status_code == 202, response.text
        draft_id = response.json()["id"]

        def status() -> str:
            return client.get(f"/v1/drafts/{draft_id}").json()["status"]

        wait_until(lambda: status() == "drafting" and llm.requests, 30,
                   "worker-1 to claim the draft and call the model", watch=[api, first],
                   interval=0.1)
        first.kill()
        killed_at = time.monotonic()
        assert status() == "drafting"  # nobody finished it; its lease runs out in 4 s

        second = procs.devrel("worker-2", "worker", env=env)
        wait_until(lambda: status() == "pending_review", 40, "the draft to be drafted again",
                   watch=[api, second], interval=0.25)
        recovered_in = time.monotonic() - killed_at

        draft = client.get(f"/v1/drafts/{draft_id}").json()
        audit = client.get(f"/v1/drafts/{draft_id}/audit").json()
        client.close()
    assert draft["attempts"] == 2 and draft["revision"] == 1, draft
    assert draft["model"] == "slow-model" and "kvlite unlock" in draft["content"]["text"]
    claimed = [_pid(e["actor"]) for e in audit if e["action"] == "claimed"]
    drafted = [_pid(e["actor"]) for e in audit if e["action"] == "drafted"]
    assert claimed == [first.pid, second.pid], audit
    assert drafted == [second.pid], audit  # exactly once, by the survivor
    assert len(llm.requests) >= 2  # the killed worker's completion was never used
    assert recovered_in < 30


def test_the_api_killed_mid_write_loses_no_accepted_draft(procs: Procs, data_dir: Path) -> None:
    env = devrel_env(DEVREL_DATA_DIR=str(data_dir), DEVREL_API__RATE_LIMIT="100000/minute",
                     **RECOVERY)  # the test profile's fake chat model
    bot = _key(procs, env, "bot")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = procs.serve("api-1", port, env)
    wait_http(f"{base}/healthz", timeout=60, watch=[api])

    accepted: list[int] = []
    errors: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def post_drafts(thread: int) -> None:
        with httpx.Client(base_url=base, timeout=10,
                          headers={"Authorization": f"Bearer {bot}"}) as client:
            n = 0
            while not stop.is_set():
                n += 1
                issue = {**ISSUE, "title": f"{ISSUE['title']} ({thread}-{n})", "number": None}
                try:
                    response = client.post("/v1/drafts/triage",
                                           json={"project": "kvlite", "issue": issue})
                except httpx.HTTPError as exc:  # killed mid-request, or not restarted yet
                    with lock:
                        errors.append(type(exc).__name__)
                    time.sleep(0.05)
                    continue
                with lock:
                    if response.status_code == 202:
                        accepted.append(response.json()["id"])
                    else:
                        errors.append(f"{response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=post_drafts, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(accepted) >= 20, 30, "20 drafts accepted", watch=[api],
                   interval=0.02)
        api.kill()  # while four clients are still posting
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    assert errors, "the clients should have seen the server go away"
    assert all(not e[0].isdigit() for e in errors), errors  # only connection errors, no 5xx

    restarted = procs.serve("api-2", port, env)
    worker = procs.devrel("worker", "worker", env=env)
    wait_http(f"{base}/healthz", timeout=60, watch=[restarted, worker])
    client = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {bot}"})
    response = client.post("/v1/drafts/triage", json={"project": "kvlite", "issue": ISSUE})
    assert response.status_code == 202, response.text
    accepted.append(response.json()["id"])

    store = _store(data_dir)

    def all_drafted() -> bool:
        statuses = {d.id: d.status for d in store.list(limit=1000)}
        assert "failed" not in statuses.values(), statuses
        return all(s == "pending_review" for s in statuses.values())

    # Every stored draft, also one stored just before the kill whose 202 never went out
    # (the sweep enqueues drafts whose message was never sent).
    wait_until(all_drafted, 45, "every stored draft drafted", watch=[restarted, worker],
               interval=0.5)
    client.close()
    drafts = {d.id: d for d in store.list(limit=1000)}
    assert set(accepted) <= set(drafts), "a draft answered with 202 is missing"
    for draft_id, draft in drafts.items():
        drafted = [e for e in store.audit(draft_id) if e.action == "drafted"]
        assert len(drafted) == 1 and draft.attempts == 1 and draft.revision == 1, (
            draft_id, draft.attempts, [e.action for e in store.audit(draft_id)])
    store.engine.dispose()
