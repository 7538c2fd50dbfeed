"""The approval rule under races, spoofing and a bot's choice of target: nothing is posted
unless a human approved exactly that revision of a draft of that project, and whatever was
posted is on the record. Races are driven deterministically: the fake GitHub answers with rate
limits, and the client's sleep is where the other reviewer or publisher acts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from assistant.context import AppContext
from assistant.errors import Conflict, InvalidInput, ProviderUnavailable
from assistant.forge.client import check_repo, ref_path
from assistant.forge.github import GitHubForge
from assistant.kinds.release_notes.forge_source import range_commits
from assistant.services import review
from assistant.services.review import PUBLISH_LEASE_S, publish_marker
from assistant.settings import GitHubSettings, Settings
from assistant.store.drafts import DraftContent, DraftStore
from assistant.store.server_secrets import server_secret
from tests.fake_github import FakeGitHub, FakeGitHubServer, secondary_limited

pytestmark = pytest.mark.slow  # a FakeGitHubServer thread per test

REPO = "example-org/kvlite"
REPLY = "Thanks! A stale LOCK file causes this; run `kvlite unlock`."


@dataclass
class Desk:
    ctx: AppContext
    store: DraftStore
    github: FakeGitHub
    sleeps: list[float]
    during_wait: list[Callable[[], None]]  # run once each, at the next sleeps

    def forge(self) -> GitHubForge:
        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            if self.during_wait:
                self.during_wait.pop(0)()

        return GitHubForge(self.ctx.settings, sleep=sleep, backoff_s=0.01)

    def approved(self, *, text: str = REPLY, labels: list[str] | None = None,
                 repo: str = REPO, number: int = 7) -> int:
        """A triage draft of issue ``repo#number``, drafted and approved at revision 1."""
        draft = self.store.create(kind="triage", project="kvlite", title="t",
                                  input={"repo": repo, "number": number, "title": "t"})
        claim = self.store.claim(draft.id, lease_s=60, worker="w")
        assert claim is not None
        self.store.complete(draft.id, token=claim.token, output={}, sources=[],
                            content=DraftContent(text=text, labels=labels or []),
                            prompt_name="p", prompt_version=1, model="m")
        self.store.approve(draft.id, "first reviewer", revision=1)
        return draft.id

    def publish(self, draft_id: int):
        return review.publish_draft(self.ctx, draft_id, "first reviewer", forge=self.forge())

    def actions(self, draft_id: int) -> list[str]:
        return [a.action for a in self.store.audit(draft_id)]


@pytest.fixture
def desk(settings: Settings) -> Iterator[Desk]:
    github = FakeGitHub(repo=REPO)
    github.add_issue(7, "2026-03-01T00:00:00Z")
    with FakeGitHubServer(github):
        config = settings.model_copy(update={
            "github": GitHubSettings(api_url=github.url, token="ghp_test", max_wait_s=3900)})
        ctx = AppContext(config)
        yield Desk(ctx, ctx.drafts(), github, [], [])


def _posts(github: FakeGitHub) -> list[object]:
    return [body for path, body in github.posts if path.endswith("/comments")]


# --- 1. a rejection while the publish is in flight -------------------------------------------


def test_a_rejection_during_a_rate_limit_wait_is_refused_while_the_lease_is_live(
        desk: Desk) -> None:
    draft_id = desk.approved()
    desk.github.post_failures.append(secondary_limited(30))
    refused: list[Exception] = []

    def second_reviewer_rejects() -> None:
        with pytest.raises(Conflict, match="being published") as info:
            desk.store.reject(draft_id, "second reviewer", "wrong answer")
        refused.append(info.value)

    desk.during_wait.append(second_reviewer_rejects)
    published = desk.publish(draft_id)
    assert refused and published.status == "published"
    assert len(desk.github.comments[7]) == 1
    assert desk.actions(draft_id)[-1] == "published"


def test_a_publish_whose_draft_was_rejected_meanwhile_posts_nothing(desk: Desk) -> None:
    draft_id = desk.approved()
    desk.github.post_failures.append(secondary_limited(30))

    def lease_lost_then_rejected() -> None:  # e.g. the publisher hung past its lease
        expire_publish_lease(desk.store, draft_id)
        desk.store.reject(draft_id, "second reviewer", "wrong answer")

    desk.during_wait.append(lease_lost_then_rejected)
    with pytest.raises(Conflict, match="nothing more was sent"):
        desk.publish(draft_id)
    assert _posts(desk.github) == [{"body": f"{REPLY}\n\n{marker(desk, draft_id)}"}]  # 429'd
    assert 7 not in desk.github.comments
    record = desk.store.get(draft_id)
    assert record.status == "rejected" and "published" not in desk.actions(draft_id)


def test_a_comment_that_went_out_is_recorded_as_published_whatever_happened_after(
        desk: Desk) -> None:
    draft_id = desk.approved()

    def posted_then_lease_lost() -> None:
        desk.github.add_comment(7, f"{REPLY}\n\n{marker(desk, draft_id)}",
                                author=desk.github.login)  # the lost answer's post
        expire_publish_lease(desk.store, draft_id)
        desk.store.reject(draft_id, "second reviewer", "changed my mind")

    desk.github.post_failures.append((502, {}, '{"message": "Bad Gateway"}'))
    desk.during_wait.append(posted_then_lease_lost)
    record = desk.publish(draft_id)
    assert record.status == "published" and "#issuecomment-" in str(record.published_url)
    audit = desk.store.audit(draft_id)
    assert audit[-1].action == "published" and audit[-1].detail["status_before"] == "rejected"
    assert len(desk.github.comments[7]) == 1


# --- 2. a forged marker cannot suppress a publish ----------------------------------------------


def test_markers_in_someone_elses_comment_do_not_count(desk: Desk) -> None:
    old_style = "\n".join(f"<!-- devrel-assistant:draft-{n} -->" for n in range(1, 201))
    desk.github.add_comment(7, old_style, author="mallory")
    draft_id = desk.approved()
    desk.github.add_comment(7, f"copied: {marker(desk, draft_id)}", author="mallory")  # leaked
    record = desk.publish(draft_id)
    own = [c for c in desk.github.comments[7] if c["user"]["login"] == desk.github.login]
    assert len(own) == 1 and record.published_url == own[0]["html_url"]
    assert desk.store.audit(draft_id)[-1].detail["posted"] is True


def test_the_marker_is_an_hmac_no_commenter_can_guess(desk: Desk) -> None:
    key = server_secret(desk.store.engine, review.MARKER_SECRET)
    assert server_secret(desk.store.engine, review.MARKER_SECRET) == key  # stored, shared
    first, second = publish_marker(41, key), publish_marker(42, key)
    assert first.startswith("<!-- devrel-assistant:draft-41:") and first != second
    assert publish_marker(42, b"another server") != second
    assert len(second.split(":")[-1].removesuffix(" -->")) == 32


# --- 3. the lease outlives every wait; a second publish finds the first's comment --------------


def test_the_lease_is_renewed_while_waiting_and_a_second_publish_is_refused(
        desk: Desk) -> None:
    draft_id = desk.approved()
    desk.github.post_failures.append(secondary_limited(45))
    seen: list[float] = []

    def second_publish_during_the_wait() -> None:
        lease = desk.store.get(draft_id)  # DraftRecord has no lease; read the row
        assert lease.status == "approved"
        seen.append(lease_left(desk.store, draft_id))
        with pytest.raises(Conflict, match="being published"):
            review.publish_draft(desk.ctx, draft_id, "second reviewer", forge=desk.forge())

    desk.during_wait.extend([second_publish_during_the_wait] * 5)
    desk.publish(draft_id)
    assert desk.sleeps[:5] == [10.0, 10.0, 10.0, 10.0, 5.0]  # slices, renewed between
    assert seen and min(seen) > PUBLISH_LEASE_S - 15
    assert len(desk.github.comments[7]) == 1


def test_a_wait_longer_than_the_lease_stops_the_publish(desk: Desk) -> None:
    draft_id = desk.approved()
    desk.github.post_failures.append(secondary_limited(int(PUBLISH_LEASE_S) * 3))
    with pytest.raises(ProviderUnavailable, match="longer than a publish may hold"):
        desk.publish(draft_id)
    assert desk.sleeps == [] and 7 not in desk.github.comments
    record = desk.store.get(draft_id)
    assert record.status == "approved" and record.error  # retry later
    assert desk.publish(draft_id).status == "published"  # the lease was given back


def test_the_marker_is_checked_after_a_rate_limit_wait(desk: Desk) -> None:
    draft_id = desk.approved()
    desk.github.post_failures.append(secondary_limited(5))
    desk.during_wait.append(lambda: desk.github.add_comment(
        7, f"{REPLY}\n\n{marker(desk, draft_id)}", author=desk.github.login))
    desk.publish(draft_id)
    assert len(desk.github.comments[7]) == 1  # found after the wait, not posted again


# --- 5. the approval posts only to the draft's own project --------------------------------------


@pytest.mark.parametrize("repo", ["example-org/kvlite/../../../user/keys", "other-org/other",
                                  "example-org/..", "../kvlite"])
def test_a_draft_cannot_choose_where_its_approval_posts(desk: Desk, repo: str) -> None:
    draft_id = desk.approved(repo=repo)
    with pytest.raises(Conflict):
        desk.publish(draft_id)
    assert desk.github.posts == [] and desk.store.get(draft_id).status == "approved"


def test_repository_names_and_refs_cannot_walk_url_paths() -> None:
    for bad in ("example-org/..", "../kvlite", "./x", "a/b/c", "a/b?x=1"):
        with pytest.raises(InvalidInput):
            check_repo(bad)
    assert check_repo("socketio/socket.io") == "socketio/socket.io"
    for bad in ("../../user", "v1..v2", "v1?x", "v1#x", "v1%2e%2e", "-v1", "a b", "a/", "a//b"):
        with pytest.raises(InvalidInput):
            ref_path(bad)
    assert ref_path("release/1.2") == "release/1.2" and ref_path("v1.2.0") == "v1.2.0"
    with pytest.raises(InvalidInput, match="not a git ref"):  # before any request is made
        range_commits(None, REPO, "v1.0.0", "../../../../user/keys")


# --- helpers -----------------------------------------------------------------------------------


def marker(desk: Desk, draft_id: int) -> str:
    return publish_marker(draft_id, server_secret(desk.store.engine, review.MARKER_SECRET))


def expire_publish_lease(store: DraftStore, draft_id: int) -> None:
    from sqlalchemy import update

    from assistant.store.models import Draft, utcnow

    with store.engine.begin() as conn:
        conn.execute(update(Draft).where(Draft.id == draft_id).values(lease_until=utcnow()))


def lease_left(store: DraftStore, draft_id: int) -> float:
    from sqlalchemy import select

    from assistant.store.models import Draft, utcnow

    with store.engine.connect() as conn:
        until = conn.scalar(select(Draft.lease_until).where(Draft.id == draft_id))
    if until.tzinfo is None:
        from datetime import UTC
        until = until.replace(tzinfo=UTC)
    return (until - utcnow()).total_seconds()
