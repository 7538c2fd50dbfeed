"""The API over the real example index, a real Huey queue (SQLite) with an in-process worker,
and a local server speaking GitHub's REST shapes: the whole review workflow, keys and roles,
limits, and errors in one JSON shape."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.context import AppContext
from assistant.settings import get_settings
from assistant.store.keys import KeyStore
from tests.conftest import EXAMPLE
from tests.fake_github import FakeGitHub, FakeGitHubServer

REPO = "example-org/kvlite"
SECRET = "webhook-secret-for-the-tests"
ISSUE = {"title": "database is locked after a crash",
         "body": "kvlite 0.4.1 on Linux: after kill -9 every open() fails with 'database is "
                 "locked'. Steps: open, kill -9, open again.",
         "author": "alice", "repo": REPO, "number": 7}


@dataclass
class Api:
    client: TestClient
    ctx: AppContext
    github: FakeGitHub
    bot: dict[str, str]
    reviewer: dict[str, str]
    admin: dict[str, str]


@pytest.fixture
def api(triage_ctx: AppContext) -> Iterator[Api]:
    github = FakeGitHub(repo=REPO)
    github.add_issue(7, "2026-03-01T00:00:00Z", title=ISSUE["title"], body=ISSUE["body"])
    with FakeGitHubServer(github):
        ctx = AppContext(get_settings(
            profile="test", data_dir=triage_ctx.settings.data_dir,
            github={"api_url": github.url, "token": "ghp_test"},
            api={"webhook_secret": SECRET, "rate_limit": "1000/minute", "wait_max_s": 30.0}))
        keys = KeyStore(ctx.drafts().engine)
        headers = {role: {"Authorization": f"Bearer {keys.create(role, role)[1]}"}
                   for role in ("bot", "reviewer", "admin")}
        with TestClient(create_app(ctx, run_worker=True)) as client:
            yield Api(client, ctx, github, headers["bot"], headers["reviewer"], headers["admin"])


def _triage(api: Api, issue: dict | None = None, wait: bool = True) -> dict:
    response = api.client.post(f"/v1/drafts/triage?wait={str(wait).lower()}",
                               json={"issue": issue or ISSUE}, headers=api.bot)
    assert response.status_code == (200 if wait else 202), response.text
    return response.json()


@pytest.mark.slow
def test_review_workflow_from_draft_to_published_comment(api: Api) -> None:
    draft = _triage(api)
    assert draft["status"] == "pending_review" and draft["revision"] == 1
    assert draft["content"]["labels"] and draft["content"]["text"]
    assert draft["requested_by"].startswith("bot (key")

    edited_text = "Thanks @alice! A stale LOCK file causes this; see the troubleshooting page."
    edit = api.client.post(f"/v1/drafts/{draft['id']}/edit", headers=api.reviewer, json={
        "content": {"text": edited_text, "labels": ["bug"], "duplicates": []},
        "base_revision": 1, "note": "shorter"})
    assert edit.status_code == 200 and edit.json()["revision"] == 2
    stale = api.client.post(f"/v1/drafts/{draft['id']}/edit", headers=api.reviewer, json={
        "content": {"text": "other"}, "base_revision": 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"

    early = api.client.post(f"/v1/drafts/{draft['id']}/publish", headers=api.reviewer)
    assert early.status_code == 409 and not api.github.posts  # nothing leaves unapproved

    approved = api.client.post(f"/v1/drafts/{draft['id']}/approve", headers=api.reviewer,
                               json={"revision": 2})
    assert approved.status_code == 200 and approved.json()["approved_revision"] == 2
    published = api.client.post(f"/v1/drafts/{draft['id']}/publish", headers=api.reviewer)
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["status"] == "published" and "#issuecomment-" in body["published_url"]
    comments = api.github.comments[7]
    assert len(comments) == 1 and comments[0]["body"].startswith(edited_text)
    assert f"devrel-assistant:draft-{draft['id']}" in comments[0]["body"]
    assert [lb["name"] for lb in api.github.issues[7]["labels"]] == ["bug"]

    again = api.client.post(f"/v1/drafts/{draft['id']}/publish", headers=api.reviewer)
    assert again.status_code == 200 and len(api.github.comments[7]) == 1

    revisions = api.client.get(f"/v1/drafts/{draft['id']}/revisions", headers=api.bot).json()
    assert [r["number"] for r in revisions] == [1, 2]
    assert revisions[0]["content"]["text"] == draft["content"]["text"]
    actions = [(a["action"], a["actor"].split(" ")[0])
               for a in api.client.get(f"/v1/drafts/{draft['id']}/audit", headers=api.bot).json()]
    assert [a for a, _ in actions] == ["created", "claimed", "drafted", "edited", "approved",
                                       "published"]
    assert ("approved", "reviewer") in actions and ("published", "reviewer") in actions


@pytest.mark.slow
def test_reject_needs_a_reason_and_ends_the_review(api: Api) -> None:
    draft = _triage(api)
    url = f"/v1/drafts/{draft['id']}"
    missing = api.client.post(f"{url}/reject", headers=api.reviewer, json={"reason": ""})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "invalid_request"
    blank = api.client.post(f"{url}/reject", headers=api.reviewer, json={"reason": "\u000b "})
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "invalid_request"
    rejected = api.client.post(f"{url}/reject", headers=api.reviewer,
                               json={"reason": "duplicate of #136"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reject_reason"] == "duplicate of #136"
    for action, body in (("approve", {"revision": 1}), ("publish", None)):
        response = api.client.post(f"{url}/{action}", headers=api.reviewer, json=body)
        assert response.status_code == 409
    assert not api.github.posts


@pytest.mark.slow
def test_edits_are_checked_against_the_project(api: Api) -> None:
    draft = _triage(api)
    url = f"/v1/drafts/{draft['id']}/edit"
    unknown = api.client.post(url, headers=api.reviewer,
                              json={"content": {"text": "x", "labels": ["urgent!!"]}, "base_revision": 1})
    assert unknown.status_code == 422
    error = unknown.json()["error"]
    assert "urgent!!" in error["message"] and "bug" in error["fix"]
    stray = api.client.post(url, headers=api.reviewer,
                            json={"content": {"text": "x", "duplicates": [99999]}, "base_revision": 1})
    assert stray.status_code == 422 and "#99999" in stray.json()["error"]["message"]
    extra = api.client.post(url, headers=api.reviewer,
                            json={"content": {"text": "x", "html": "<script>"}, "base_revision": 1})
    assert extra.status_code == 422
    assert api.client.get(f"/v1/drafts/{draft['id']}", headers=api.bot).json()["revision"] == 1


def test_roles_keys_and_auth_errors(api: Api) -> None:
    assert api.client.get("/v1/drafts").status_code == 401
    bad = api.client.get("/v1/drafts", headers={"Authorization": "Bearer devrel_nope"})
    assert bad.status_code == 401 and bad.json()["error"]["fix"]
    assert api.client.post("/v1/keys", headers=api.reviewer,
                           json={"name": "x", "role": "bot"}).status_code == 403
    created = api.client.post("/v1/keys", headers=api.admin,
                              json={"name": "ci-bot", "role": "bot"})
    assert created.status_code == 201
    new_key = {"X-API-Key": created.json()["secret"]}
    assert api.client.get("/v1/drafts", headers=new_key).status_code == 200
    listed = api.client.get("/v1/keys", headers=api.admin).json()
    assert "secret" not in json.dumps(listed) and {k["name"] for k in listed} >= {"ci-bot"}
    assert api.client.delete(f"/v1/keys/{created.json()['id']}",
                             headers=api.admin).status_code == 200
    assert api.client.get("/v1/drafts", headers=new_key).status_code == 401
    stored = KeyStore(api.ctx.drafts().engine)
    assert all(len(k.prefix) == 12 for k in stored.list())  # only a prefix and a hash are kept


def test_rate_limit_per_key(triage_ctx: AppContext) -> None:
    ctx = AppContext(get_settings(profile="test", data_dir=triage_ctx.settings.data_dir,
                                  api={"rate_limit": "3/minute"}))
    keys = KeyStore(ctx.drafts().engine)
    first = {"X-API-Key": keys.create("a", "bot")[1]}
    second = {"X-API-Key": keys.create("b", "bot")[1]}
    with TestClient(create_app(ctx)) as client:
        codes = [client.get("/v1/drafts", headers=first).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/v1/drafts", headers=first)
        assert limited.json()["error"]["code"] == "rate_limited"
        assert limited.headers["Retry-After"]
        assert client.get("/v1/drafts", headers=second).status_code == 200


def test_bad_input_gets_a_clear_error_and_changes_nothing(api: Api) -> None:
    _triage(api)
    cases = [
        (b"{not json", 422, "invalid_request"),
        (json.dumps({"issue": {"title": "", "body": ""}}).encode(), 422, "invalid_input"),
        (json.dumps({"issue": {"title": "x" * 600}}).encode(), 422, "invalid_request"),
        (json.dumps({"issue": {"title": "t"}, "project": "../etc"}).encode(), 422,
         "invalid_request"),
        (b"\xff\xfe\x00binary", 400, "bad_request"),
    ]
    for body, status, code in cases:
        response = api.client.post("/v1/drafts/triage", content=body, headers={
            **api.bot, "content-type": "application/json"})
        assert response.status_code == status, (body[:20], response.text)
        assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
    huge = api.client.post("/v1/drafts/triage", content=b"x" * 1_100_000,
                           headers={**api.bot, "content-type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    missing = api.client.get("/v1/drafts/424242", headers=api.bot)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    listed = api.client.get("/v1/drafts", headers=api.bot).json()
    assert listed["counts"] == {"pending_review": 1}


@pytest.mark.slow
def test_guides_meeting_summaries_and_community_updates(api: Api) -> None:
    guide = api.client.post("/v1/drafts/newcomer-guide?wait=true", headers=api.bot,
                            json={"interest": "storage engine", "language": "zh"})
    assert guide.status_code == 200, guide.text
    draft = guide.json()
    assert draft["status"] == "pending_review" and draft["language"] == "zh"
    assert "https://github.com/example-org/kvlite/blob/main/docs/" in draft["content"]["text"]
    assert all(s["url"].startswith("https://github.com/example-org/kvlite/")
               for s in draft["sources"])

    note = (EXAMPLE / "meeting_notes" / "2026-10-21-社区例会.md").read_text()
    summary = api.client.post("/v1/drafts/meeting-summary?wait=true", headers=api.bot,
                              json={"notes": note})
    assert summary.status_code == 200, summary.text
    summary = summary.json()
    assert summary["status"] == "pending_review" and summary["language"] == "zh"
    assert summary["content"]["translation"]  # an English version of a Chinese note
    binary = api.client.post("/v1/drafts/meeting-summary", headers=api.bot,
                             json={"notes": "\x00\x01\x02 binary"})
    assert binary.status_code == 422 and binary.json()["error"]["fix"]

    period = {"since": "2026-05-01", "until": "2026-10-31"}
    activity = api.client.get("/v1/projects/kvlite/activity", headers=api.bot, params=period)
    assert activity.status_code == 200, activity.text
    figures = activity.json()
    assert figures["issues_opened"] + figures["prs_opened"] == 12
    backwards = api.client.get("/v1/projects/kvlite/activity", headers=api.bot,
                               params={"since": "2026-10-31", "until": "2026-05-01"})
    assert backwards.status_code == 422 and "since" in backwards.json()["error"]["fix"]
    update = api.client.post("/v1/drafts/community-update?wait=true", headers=api.bot,
                             json=period)
    assert update.status_code == 200, update.text
    update = update.json()
    assert update["status"] == "pending_review" and update["title"].startswith(
        "Community update 2026-05-01")
    assert update["content"]["text"] and update["content"]["translation"]
    kinds = {d["kind"] for d in api.client.get("/v1/drafts", headers=api.bot).json()["items"]}
    assert kinds == {"newcomer_guide", "meeting_summary", "community_update"}


@pytest.mark.slow
def test_release_notes_from_a_change_list(api: Api) -> None:
    changes = ["feat(compaction): add `compact_ratio` option (#201)",
               "fix: stale LOCK file after a crash (#202)", "ci: cache wheels (#203)",
               "chore(deps): bump pyo3 from 0.20 to 0.21 (#204)",
               "feat!: drop Python 3.8 support (#205)"]
    response = api.client.post("/v1/drafts/release-notes?wait=true", headers=api.bot,
                               json={"version": "v0.5.0", "changes": changes})
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["status"] == "pending_review" and draft["title"] == "Release notes v0.5.0"
    text = draft["content"]["text"]
    sections = [line for line in text.splitlines() if line.startswith("### ")]
    assert sections[:4] == ["### Breaking changes", "### Features", "### Fixes",
                            "### Dependencies"]
    assert "#203" not in text and "/pull/201" in text and "/pull/205" in text
    assert "### 破坏性变更" in draft["content"]["translation"]
    dropped = draft["output"]["notes"]["dropped"]
    assert dropped == ["line-3: internal change (ci)"]

    early = api.client.post("/v1/drafts/announcement?wait=true", headers=api.bot, json={
        "release_notes_draft_id": draft["id"], "channel": "blog"})
    assert early.json()["status"] == "failed" and "approve" in early.json()["error"]
    edited = text.replace("Drop Python 3.8 support", "Python 3.8 is no longer supported")
    api.client.post(f"/v1/drafts/{draft['id']}/edit", headers=api.reviewer, json={
        "content": {"text": edited, "translation": draft["content"]["translation"]},
        "base_revision": 1})
    api.client.post(f"/v1/drafts/{draft['id']}/approve", headers=api.reviewer,
                    json={"revision": 2})
    posts = {}
    for channel in ("blog", "social", "mail"):
        made = api.client.post("/v1/drafts/announcement?wait=true", headers=api.bot, json={
            "release_notes_draft_id": draft["id"], "channel": channel,
            "url": "https://github.com/example-org/kvlite/releases/tag/v0.5.0"})
        assert made.status_code == 200 and made.json()["status"] == "pending_review", made.text
        posts[channel] = made.json()["content"]
    blog = posts["blog"]
    assert blog["text"].startswith("---\ntitle: \"kvlite v0.5.0 released\"")
    assert "Python 3.8 is no longer supported" in blog["text"]  # the approved revision
    assert "lang: zh-CN" in blog["translation"] and "## 亮点" in blog["translation"]
    assert len(posts["social"]["text"]) <= 280 and len(posts["social"]["translation"]) <= 140
    assert posts["social"]["text"].endswith("releases/tag/v0.5.0")
    assert posts["mail"]["text"].startswith("Subject: [ANNOUNCE] kvlite v0.5.0 released")
    assert "[ANNOUNCE] kvlite v0.5.0 发布" in posts["mail"]["translation"]


@pytest.mark.slow
def test_idempotency_key_and_filters(api: Api) -> None:
    headers = {**api.bot, "Idempotency-Key": "issue-7-opened"}
    first = api.client.post("/v1/drafts/triage", json={"issue": ISSUE}, headers=headers)
    second = api.client.post("/v1/drafts/triage", json={"issue": ISSUE}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    zh = _triage(api, {"title": "打开数据库时报错 database is locked",
                       "body": "进程崩溃后再次打开数据库就报错，版本 0.4.1，Linux。"})
    assert zh["language"] == "zh"
    by_language = api.client.get("/v1/drafts?language=zh", headers=api.bot).json()["items"]
    assert [d["id"] for d in by_language] == [zh["id"]]
    bad_filter = api.client.get("/v1/drafts?status=lost", headers=api.bot)
    assert bad_filter.status_code == 422


@pytest.mark.slow
def test_approval_names_the_revision_the_reviewer_saw(api: Api) -> None:
    draft = _triage(api)
    url = f"/v1/drafts/{draft['id']}"
    unseen = api.client.post(f"{url}/approve", headers=api.reviewer)
    assert unseen.status_code == 422 and "required" in unseen.text  # no body: not an approval
    blind = api.client.post(f"{url}/edit", headers=api.reviewer, json={
        "content": {"text": "edited without a base"}})
    assert blind.status_code == 422 and "base_revision" in blind.text
    api.client.post(f"{url}/edit", headers=api.reviewer, json={
        "content": {"text": "a second reviewer's edit"}, "base_revision": 1})
    stale = api.client.post(f"{url}/approve", headers=api.reviewer, json={"revision": 1})
    assert stale.status_code == 409 and "revision 2" in stale.json()["error"]["message"]
    assert api.client.get(url, headers=api.bot).json()["status"] == "pending_review"


@pytest.mark.slow
def test_an_idempotency_key_is_scoped_to_its_route_and_body(api: Api) -> None:
    headers = {**api.bot, "Idempotency-Key": "k-1"}
    first = api.client.post("/v1/drafts/triage", json={"issue": ISSUE}, headers=headers)
    assert first.status_code == 202
    other_kind = api.client.post("/v1/drafts/newcomer-guide", headers=headers,
                                 json={"interest": "storage engine"})
    assert other_kind.status_code == 409 and "another request" in other_kind.text
    other_body = api.client.post("/v1/drafts/triage", headers=headers,
                                 json={"issue": {**ISSUE, "title": "something else"}})
    assert other_body.status_code == 409
    again = api.client.post("/v1/drafts/triage", json={"issue": ISSUE}, headers=headers)
    assert again.json()["id"] == first.json()["id"]
    assert len(api.client.get("/v1/drafts", headers=api.bot).json()["items"]) == 1


@pytest.mark.slow
def test_bot_keys_read_the_issue_with_secrets_redacted(api: Api) -> None:
    leaked = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    draft = _triage(api, {**ISSUE, "body": f"{ISSUE['body']}\nGITHUB_TOKEN={leaked}"})
    url = f"/v1/drafts/{draft['id']}"
    assert leaked not in api.client.get(url, headers=api.bot).text
    assert leaked not in json.dumps(draft["input"])  # the ?wait=true answer too
    assert leaked in api.client.get(url, headers=api.reviewer).json()["input"]["body"]


@pytest.mark.slow
def test_search_index_and_probes(api: Api) -> None:
    hits = api.client.post("/v1/search", headers=api.bot,
                           json={"query": "database is locked", "k": 3}).json()
    assert len(hits) == 3 and all(h["url"] and h["text"] for h in hits)
    issues = api.client.post("/v1/search", headers=api.bot,
                             json={"query": "locked", "kind": "issue", "k": 2}).json()
    assert {h["kind"] for h in issues} == {"issue"}
    summary = api.client.get("/v1/projects/kvlite/index", headers=api.bot).json()
    assert summary["passages"] > 0 and {s["kind"] for s in summary["sources"]} >= {"doc", "issue"}
    assert api.client.get("/v1/projects/nope/index", headers=api.bot).status_code == 404
    assert api.client.get("/healthz").json() == {"ok": True}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and set(ready.json()["checks"]) == {
        "database", "index", "queue", "model"}
    _triage(api)
    metrics = api.client.get("/metrics").text
    assert 'devrel_drafts{status="pending_review"} 1.0' in metrics
    assert 'route="/v1/drafts/triage"' in metrics and "devrel_queue_pending" in metrics


def _signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _deliver(api: Api, event: str, payload: dict, delivery: str,
             secret: str = SECRET) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    response = api.client.post("/v1/webhooks/github", content=body, headers={
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": _signed(body, secret), "content-type": "application/json"})
    return response.status_code, response.json()


@pytest.mark.slow
def test_github_webhook_drafts_once_per_delivery(api: Api) -> None:
    payload = {"action": "opened", "repository": {"full_name": REPO},
               "issue": {**ISSUE, "number": 12, "user": {"login": "bob"},
                         "html_url": f"https://github.com/{REPO}/issues/12"}}
    status, body = _deliver(api, "issues", payload, "d-1")
    assert status == 202 and body["status"] == "queued" and body["draft_id"]
    status, again = _deliver(api, "issues", payload, "d-1")
    assert status == 200 and again["status"] == "duplicate"
    # a second delivery of the same event (GitHub redelivers with a new id) drafts nothing new
    status, redelivered = _deliver(api, "issues", payload, "d-2")
    assert redelivered["draft_id"] == body["draft_id"]
    forged = _deliver(api, "issues", payload, "d-3", secret="wrong")
    assert forged[0] == 401 and forged[1]["error"]["code"] == "bad_signature"
    status, other = _deliver(api, "issues", {**payload, "repository": {"full_name": "a/b"}},
                             "d-4")
    assert status == 200 and other["status"] == "ignored" and "a/b" in other["reason"]
    status, release = _deliver(api, "release", {
        "action": "published", "repository": {"full_name": REPO},
        "release": {"tag_name": "v0.5.0"}}, "d-5")
    assert status == 200 and release["status"] == "ignored" and "clone" in release["reason"]
    status, pong = _deliver(api, "ping", {"zen": "hi"}, "d-6")
    assert pong["status"] == "pong"
    drafts = api.client.get("/v1/drafts", headers=api.bot).json()["items"]
    assert [d["id"] for d in drafts] == [body["draft_id"]]
    record = api.ctx.drafts().get(body["draft_id"])
    assert record.input["number"] == 12 and record.input["repo"] == REPO
    assert record.requested_by == "github-webhook"


@pytest.mark.slow
def test_a_delivery_cut_off_before_its_draft_is_acted_on_when_redelivered(api: Api) -> None:
    payload = {"action": "opened", "repository": {"full_name": REPO},
               "issue": {**ISSUE, "number": 13, "user": {"login": "bob"}}}
    assert api.ctx.drafts().list() == []
    from assistant.store.deliveries import DeliveryStore

    DeliveryStore(api.ctx.drafts().engine).first_time("d-killed", "issues")  # then killed
    status, body = _deliver(api, "issues", payload, "d-killed")  # GitHub's redelivery
    assert status == 202 and body["status"] == "queued" and body["draft_id"]
    status, again = _deliver(api, "issues", payload, "d-killed")
    assert status == 200 and again["status"] == "duplicate"


@pytest.mark.slow
def test_a_deeply_nested_signed_body_is_a_clear_400(api: Api) -> None:
    body = ("[" * 100_000 + "]" * 100_000).encode()
    response = api.client.post("/v1/webhooks/github", content=b'{"a": ' + body + b"}", headers={
        "X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-deep",
        "X-Hub-Signature-256": _signed(b'{"a": ' + body + b"}", SECRET),
        "content-type": "application/json"})
    assert response.status_code in (400, 422) and response.json()["error"]["fix"]


@pytest.mark.slow
def test_admin_resyncs_a_project_through_the_queue(triage_ctx: AppContext) -> None:

    ctx = AppContext(get_settings(
        profile="test", data_dir=triage_ctx.settings.data_dir,
        projects={"kvlite": {"repo": REPO, "sources": {
            "root": str(EXAMPLE), "docs": str(EXAMPLE / "docs"),
            "notes": str(EXAMPLE / "meeting_notes")}}}))
    keys = KeyStore(ctx.drafts().engine)
    admin = {"X-API-Key": keys.create("admin", "admin")[1]}
    bot = {"X-API-Key": keys.create("bot", "bot")[1]}
    with TestClient(create_app(ctx, run_worker=True)) as client:
        assert client.post("/v1/projects/kvlite/sync", headers=bot).status_code == 403
        before = client.get("/v1/projects/kvlite/index", headers=bot).json()
        assert not any(s["kind"] == "meeting_notes" for s in before["sources"])
        assert client.post("/v1/projects/kvlite/sync", headers=admin).status_code == 202
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            summary = client.get("/v1/projects/kvlite/index", headers=bot).json()
            if summary["last_sync"]:
                break
            time.sleep(0.3)
        assert summary["last_sync"], "the sync job did not run"
        assert any(s["kind"] == "meeting_notes" for s in summary["sources"])
    assert [a.action for a in ctx.drafts().audit() if a.action.startswith("sync")] == [
        "sync_requested", "synced"]
