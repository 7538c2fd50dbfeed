"""Gitee and GitLab behind the forge interface, against local fakes in their APIs' shapes:
issue sync, publish-once, labels, webhooks; and one project whose repos are on GitHub, Gitee
and GitLab, triaged and published end to end."""

from __future__ import annotations

import base64
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
from assistant.forge.gitee import GiteeForge, GiteeSource, gitee_ident, gitee_number
from assistant.forge.gitlab import GitLabForge, GitLabSource
from assistant.repos import RepoRef
from assistant.services.webhooks import gitee_signature_ok, gitlab_token_ok
from assistant.settings import GiteeSettings, GitLabSettings, Settings, get_settings
from assistant.store.keys import KeyStore
from ingest.service import sync_project, sync_repo
from tests.fake_forges import TOKEN, FakeForge, FakeForgeServer
from tests.fake_github import FakeGitHub, FakeGitHubServer

pytestmark = pytest.mark.slow  # a fake server thread per test

SECRET = "gitee-signing-key-0123456789"
GL_SECRET = "gitlab-secret-token-0123456789"


def _forge_settings(settings: Settings, gitee: FakeForge | None = None,
                    gitlab: FakeForge | None = None, **extra: object) -> Settings:
    update: dict[str, object] = {}
    if gitee:
        update["gitee"] = GiteeSettings(api_url=gitee.url, token=TOKEN)
    if gitlab:
        update["gitlab"] = GitLabSettings(api_url=gitlab.url, token=TOKEN)
    return settings.model_copy(update=update | extra)


def test_gitee_numbers_are_reversible_integers() -> None:
    assert gitee_ident(gitee_number("I4ABCD")) == "I4ABCD"
    assert gitee_number("i4abcd") == gitee_number("I4ABCD") > 0
    with pytest.raises(Exception, match="not a Gitee issue number"):
        gitee_number("I4-AB")


def test_gitee_sync_pages_comments_and_roles(settings: Settings) -> None:
    fake = FakeForge("gitee", "acme/widget-cn", per_page=2, members=["maint"])
    for n, ident in enumerate(["I1AAAA", "I1AAAB", "I1AAAC"]):
        fake.add_issue(ident, f"安装失败 {n}", "执行 make install 报错：找不到 libfoo。",
                       f"2026-03-0{n + 1}T10:00:00+08:00")
    fake.add_comment("I1AAAA", "请先安装 libfoo-dev，然后重新运行 make install 即可解决这个问题。",
                     "maint")
    with FakeForgeServer(fake):
        config = _forge_settings(settings, gitee=fake)
        ctx = AppContext(config)
        index = ctx.index()
        source = GiteeSource(config, maintainers=["maint"], backoff_s=0.01)
        report = sync_repo(config, index, RepoRef("gitee", "acme/widget-cn"), client=source)
        assert len(report.added) == 3
        metas = index.entries({"repo": "gitee:acme/widget-cn"})
        paths = {m["path"] for m in metas.values()}
        assert f"issues/gitee:acme/widget-cn/{gitee_number('I1AAAA')}" in paths
        answers = [m for m in metas.values() if m.get("part") == "answer"]
        assert len(answers) == 1 and answers[0]["answer_author"] == "maint"
        assert index.get_state("gitee:acme/widget-cn").startswith("2026-03-03")
        again = sync_repo(config, index, RepoRef("gitee", "acme/widget-cn"), client=source)
        assert not again.added and not again.updated  # the cursor resumes, nothing re-embedded


def test_gitlab_sync_skips_system_notes(settings: Settings) -> None:
    fake = FakeForge("gitlab", "acme/tools/widget", per_page=1, members=["lead"])
    fake.add_issue("3", "Crash on start", "widget crashes with SIGSEGV on start.",
                   "2026-03-01T00:00:00Z")
    fake.add_issue("4", "Docs typo", "Typo in the install page.", "2026-03-02T00:00:00Z")
    fake.add_comment("3", "added ~bug label", "lead", system=True)
    fake.add_comment("3", "Please run widget --debug and attach the log; it names the module.",
                     "lead")
    with FakeForgeServer(fake):
        config = _forge_settings(settings, gitlab=fake)
        index = AppContext(config).index()
        report = sync_repo(config, index, RepoRef("gitlab", "acme/tools/widget"),
                           client=GitLabSource(config, backoff_s=0.01))
        assert sorted(report.added) == ["issues/gitlab:acme/tools/widget/3",
                                        "issues/gitlab:acme/tools/widget/4"]
        texts = index.documents({"repo": "gitlab:acme/tools/widget"})[1]
        assert not any("added ~bug label" in t for t in texts)
        assert any("widget --debug" in t for t in texts)


@pytest.mark.parametrize("kind", ["gitee", "gitlab"])
def test_publish_once_even_when_the_answer_is_lost(settings: Settings, kind: str) -> None:
    repo = "acme/widget-cn" if kind == "gitee" else "acme/tools/widget"
    ident = "I1AAAA" if kind == "gitee" else "3"
    number = gitee_number(ident) if kind == "gitee" else 3
    fake = FakeForge(kind, repo)
    fake.add_issue(ident, "t", "b", "2026-03-01T00:00:00Z")
    with FakeForgeServer(fake):
        config = _forge_settings(settings, **{kind: fake})
        forge = (GiteeForge if kind == "gitee" else GitLabForge)(
            config, sleep=lambda s: None, backoff_s=0.01)
        fake.drop_next_post = True  # stored, but the answer is a 502
        first = forge.publish_comment(repo, number, "Hello", "<!-- m1 -->")
        second = forge.publish_comment(repo, number, "Hello", "<!-- m1 -->")
        assert first.id == second.id and first.created and not second.created
        assert fake.bot_comments(ident) == ["Hello\n\n<!-- m1 -->"]
        fake.add_comment(ident, "forged <!-- m2 -->", "mallory")  # not the bot's own
        third = forge.publish_comment(repo, number, "Other", "<!-- m2 -->")
        assert third.created and len(fake.bot_comments(ident)) == 2
        assert forge.add_labels(repo, number, ["bug"]) == ["bug"]
        assert forge.add_labels(repo, number, ["bug", "ui"]) == ["bug", "ui"]


def test_webhook_signatures() -> None:
    now = time.time()
    stamp = str(int(now * 1000))
    sign = base64.b64encode(hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(),
                                     hashlib.sha256).digest()).decode()
    assert gitee_signature_ok(SECRET, stamp, sign, now)
    assert gitee_signature_ok(SECRET, stamp, sign.replace("+", "%2B").replace("/", "%2F"), now)
    assert not gitee_signature_ok(SECRET, stamp, sign, now + 7200)  # stale: a replay
    assert not gitee_signature_ok("another-key-0123456789", stamp, sign, now)
    assert not gitee_signature_ok(SECRET, None, sign, now)
    assert gitlab_token_ok(GL_SECRET, GL_SECRET)
    assert not gitlab_token_ok(GL_SECRET, GL_SECRET[:-1]) and not gitlab_token_ok(GL_SECRET, None)


@dataclass
class ThreeForges:
    client: TestClient
    ctx: AppContext
    github: FakeGitHub
    gitee: FakeForge
    gitlab: FakeForge
    reviewer: dict[str, str]


@pytest.fixture
def three(triage_ctx: AppContext) -> Iterator[ThreeForges]:
    github = FakeGitHub(repo="example-org/kvlite")
    github.add_issue(7, "2026-03-01T00:00:00Z", title="database is locked",
                     body="kvlite says database is locked after a crash.")
    gitee = FakeForge("gitee", "example-org/kvlite-cn")
    gitee.add_issue("I7ZZZZ", "崩溃后数据库被锁", "kvlite 崩溃后提示 database is locked，怎么办？",
                    "2026-03-01T00:00:00+08:00")
    gitlab = FakeForge("gitlab", "example-org/mirrors/kvlite")
    gitlab.add_issue("5", "database is locked after kill -9",
                     "After kill -9 kvlite reports database is locked.", "2026-03-01T00:00:00Z")
    with FakeGitHubServer(github), FakeForgeServer(gitee), FakeForgeServer(gitlab):
        ctx = AppContext(get_settings(
            profile="test", data_dir=triage_ctx.settings.data_dir,
            projects={"kvlite": {"repo": "example-org/kvlite", "repos": [
                "gitee:example-org/kvlite-cn", "gitlab:example-org/mirrors/kvlite"],
                "sources": {"live": True}}},
            github={"api_url": github.url, "token": "ghp_test"},
            gitee={"api_url": gitee.url, "token": TOKEN, "webhook_secret": SECRET},
            gitlab={"api_url": gitlab.url, "token": TOKEN, "webhook_token": GL_SECRET},
            api={"rate_limit": "1000/minute", "wait_max_s": 30.0}))
        keys = KeyStore(ctx.drafts().engine)
        reviewer = {"Authorization": f"Bearer {keys.create('reviewer', 'reviewer')[1]}"}
        with TestClient(create_app(ctx, run_worker=True)) as client:
            yield ThreeForges(client, ctx, github, gitee, gitlab, reviewer)


def _gitee_hook(payload: dict) -> tuple[bytes, dict[str, str]]:
    stamp = str(int(time.time() * 1000))
    sign = base64.b64encode(hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(),
                                     hashlib.sha256).digest()).decode()
    return json.dumps(payload).encode(), {"X-Gitee-Event": "Issue Hook", "X-Gitee-Token": sign,
                                          "X-Gitee-Timestamp": stamp,
                                          "Content-Type": "application/json"}


def _wait_reviewable(three: ThreeForges, draft_id: int) -> dict:
    for _ in range(300):
        draft = three.client.get(f"/v1/drafts/{draft_id}", headers=three.reviewer).json()
        if draft["status"] in ("pending_review", "failed"):
            return draft
        time.sleep(0.1)
    raise AssertionError(f"draft {draft_id} never finished")


def _approve_and_publish(three: ThreeForges, draft_id: int) -> dict:
    draft = _wait_reviewable(three, draft_id)
    assert draft["status"] == "pending_review", draft
    edit = three.client.post(f"/v1/drafts/{draft_id}/edit", headers=three.reviewer, json={
        "content": {"text": "Thanks! Run `kvlite unlock` after a crash.", "labels": [],
                    "duplicates": []}, "base_revision": draft["revision"]})
    assert edit.status_code == 200, edit.text
    approved = three.client.post(f"/v1/drafts/{draft_id}/approve", headers=three.reviewer,
                                 json={"revision": edit.json()["revision"]})
    assert approved.status_code == 200, approved.text
    published = three.client.post(f"/v1/drafts/{draft_id}/publish", headers=three.reviewer)
    assert published.status_code == 200, published.text
    return published.json()


def test_a_project_on_github_gitee_and_gitlab_is_synced_triaged_and_published(
    three: ThreeForges,
) -> None:
    lines = sync_project(three.ctx.settings, three.ctx.index())
    assert [line.split(":")[0] for line in lines if line.startswith("issues of")] == [
        "issues of example-org/kvlite", "issues of gitee", "issues of gitlab"]
    repos = {m.get("repo") for m in three.ctx.index().entries(
        {"source_kind": "issue"}).values()}
    assert {"example-org/kvlite", "gitee:example-org/kvlite-cn",
            "gitlab:example-org/mirrors/kvlite"} <= repos

    body, headers = _gitee_hook({
        "action": "open", "hook_name": "issue_hooks",
        "repository": {"path_with_namespace": "example-org/kvlite-cn"},
        "issue": three.gitee.issues["I7ZZZZ"]})
    hook = three.client.post("/v1/webhooks/gitee", content=body, headers=headers)
    assert hook.status_code == 202, hook.text
    replay = three.client.post("/v1/webhooks/gitee", content=body, headers=headers)
    assert replay.json()["status"] == "duplicate"
    gitee_draft = _approve_and_publish(three, hook.json()["draft_id"])
    assert gitee_draft["status"] == "published"
    assert three.gitee.bot_comments("I7ZZZZ")[0].startswith("Thanks! Run `kvlite unlock`")

    payload = {"object_kind": "issue", "user": {"username": "reporter"},
               "project": {"path_with_namespace": "example-org/mirrors/kvlite"},
               "object_attributes": {**three.gitlab.issues["5"], "action": "open",
                                     "url": three.gitlab.issues["5"]["web_url"]}}
    bad = three.client.post("/v1/webhooks/gitlab", json=payload, headers={
        "X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": "wrong"})
    assert bad.status_code == 401
    hook = three.client.post("/v1/webhooks/gitlab", json=payload, headers={
        "X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": GL_SECRET,
        "X-Gitlab-Event-UUID": "7f3c-1"})
    assert hook.status_code == 202, hook.text
    _approve_and_publish(three, hook.json()["draft_id"])
    assert len(three.gitlab.bot_comments("5")) == 1
    assert not three.github.posts  # nothing went to the GitHub repo
