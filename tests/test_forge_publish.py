"""Publishing to the forge against a local server speaking GitHub's REST shapes (no internet):
one comment per marker whatever fails, labels, and errors that say what to fix."""

from __future__ import annotations

import json

import pytest

from assistant.errors import ForgeError, ProviderUnavailable
from assistant.forge.client import GitHubClient
from assistant.forge.github import Forge, GitHubForge, PublishedComment
from assistant.settings import GitHubSettings, Settings
from tests.fake_github import FakeGitHub, FakeGitHubServer, Slow, secondary_limited

# every test here talks HTTP to a FakeGitHubServer (a thread; ~0.5 s to stop each)
pytestmark = pytest.mark.slow

REPO = "example-org/kvlite"
MARKER = "<!-- devrel-assistant:draft-42 -->"
REPLY = "Thanks for the report! A stale LOCK file causes this; run `kvlite unlock` [1]."


def _fake() -> FakeGitHub:
    fake = FakeGitHub(repo=REPO)
    fake.add_issue(7, "2026-03-01T00:00:00Z", labels=["bug"])
    return fake


def _forge(settings: Settings, fake: FakeGitHub, waits: list[str] | None = None,
           token: str | None = "ghp_testtoken", **github: float) -> GitHubForge:
    config = settings.model_copy(update={
        "github": GitHubSettings(api_url=fake.url, token=token, **github)})
    log = waits if waits is not None else []
    return GitHubForge(config, backoff_s=0.01, on_wait=lambda s, why: log.append(why))


def _comment_posts(fake: FakeGitHub) -> list[object]:
    return [body for path, body in fake.posts if path.endswith("/comments")]


def _comment_listings(fake: FakeGitHub) -> int:
    return sum(1 for p in fake.log if p.startswith(f"/repos/{REPO}/issues/7/comments"))


def test_publish_posts_one_comment_with_the_marker_and_only_once(settings: Settings) -> None:
    with FakeGitHubServer(_fake()) as fake:
        forge: Forge = _forge(settings, fake)
        first = forge.publish_comment(REPO, 7, REPLY, MARKER)
        comments = fake.comments[7]
        assert len(comments) == 1 and comments[0]["body"] == f"{REPLY}\n\n{MARKER}"
        assert first == PublishedComment(
            id=comments[0]["id"], created=True,
            url=f"https://github.com/{REPO}/issues/7#issuecomment-{comments[0]['id']}")
        assert fake.auth[-1] == "Bearer ghp_testtoken"

        again = forge.publish_comment(REPO, 7, "A different wording.", MARKER)
        assert again.id == first.id and again.url == first.url and not again.created
        assert len(_comment_posts(fake)) == 1 and len(fake.comments[7]) == 1

        other = forge.publish_comment(REPO, 7, REPLY, "<!-- devrel-assistant:draft-43 -->")
        assert other.created and other.id != first.id and len(fake.comments[7]) == 2


def test_the_marker_is_found_past_the_first_page(settings: Settings) -> None:
    with FakeGitHubServer(_fake()) as fake:
        for n in range(130):
            fake.add_comment(7, f"Comment {n}")
        forge = _forge(settings, fake)
        first = forge.publish_comment(REPO, 7, REPLY, MARKER)
        assert first.created and len(fake.comments[7]) == 131
        fake.log.clear()
        again = forge.publish_comment(REPO, 7, REPLY, MARKER)
        assert again == PublishedComment(id=first.id, url=first.url, created=False)
        assert _comment_listings(fake) == 2  # both pages of 100 were read
        assert len(_comment_posts(fake)) == 1


def test_a_server_error_is_retried_and_the_comment_posted_once(settings: Settings) -> None:
    with FakeGitHubServer(_fake()) as fake:
        fake.post_failures = [(502, {}, '{"message": "Server Error"}'),
                              secondary_limited(retry_after=0)]
        waits: list[str] = []
        published = _forge(settings, fake, waits).publish_comment(REPO, 7, REPLY, MARKER)
        assert published.created and len(fake.comments[7]) == 1
        assert len(_comment_posts(fake)) == 3  # 502, 429, then the one that worked
        assert waits == ["server error 502", "secondary rate limit"]
        assert _comment_listings(fake) == 3  # checked again after each wait (502, then 429)


def test_a_timed_out_post_that_went_through_is_not_posted_again(settings: Settings) -> None:
    with FakeGitHubServer(_fake()) as fake:
        fake.post_failures = [Slow(2.0)]  # creates the comment, answers after the timeout
        waits: list[str] = []
        forge = _forge(settings, fake, waits, timeout_s=0.5)
        published = forge.publish_comment(REPO, 7, REPLY, MARKER)
        assert waits == ["connection failed: ReadTimeout"]
        assert len(_comment_posts(fake)) == 1 and len(fake.comments[7]) == 1
        assert published.id == fake.comments[7][0]["id"] and published.created
        assert not forge.publish_comment(REPO, 7, REPLY, MARKER).created


def test_retries_are_bounded(settings: Settings) -> None:
    with FakeGitHubServer(_fake()) as fake:
        fake.post_failures = [(503, {}, "{}")] * 6
        waits: list[str] = []
        with pytest.raises(ProviderUnavailable, match="keeps answering 503"):
            _forge(settings, fake, waits).publish_comment(REPO, 7, REPLY, MARKER)
        assert len(_comment_posts(fake)) == 4 and len(waits) == 3
        assert fake.comments.get(7, []) == []


def test_labels_are_applied(settings: Settings) -> None:
    with FakeGitHubServer(_fake()) as fake:
        forge = _forge(settings, fake)
        assert forge.add_labels(REPO, 7, ["question", "platform: windows"]) == [
            "bug", "question", "platform: windows"]
        assert forge.add_labels(REPO, 7, ["question"]) == ["bug", "question", "platform: windows"]
        assert [n["name"] for n in fake.issues[7]["labels"]] == [
            "bug", "question", "platform: windows"]
        assert fake.posts[0] == (f"/repos/{REPO}/issues/7/labels",
                                 {"labels": ["question", "platform: windows"]})
        requests = len(fake.log)
        assert forge.add_labels(REPO, 7, []) == [] and len(fake.log) == requests

        with pytest.raises(ForgeError, match=r"422 .*Validation Failed; Label name invalid"):
            forge.add_labels(REPO, 7, [" "])


def test_without_a_token_nothing_is_sent(settings: Settings,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with FakeGitHubServer(_fake()) as fake:
        forge = _forge(settings, fake, token=None)
        with pytest.raises(ForgeError, match="DEVREL_GITHUB__TOKEN or GITHUB_TOKEN"):
            forge.publish_comment(REPO, 7, REPLY, MARKER)
        with pytest.raises(ForgeError, match="no GitHub token"):
            forge.add_labels(REPO, 7, ["bug"])
        assert fake.log == [] and fake.posts == []

        # A write that reaches GitHub without a token is refused with the fix.
        client = GitHubClient(GitHubSettings(api_url=fake.url))
        with pytest.raises(ForgeError) as refused:
            client.request("POST", f"/repos/{REPO}/issues/7/labels", json={"labels": ["x"]})
        assert "401" in str(refused.value) and "Requires authentication" in str(refused.value)
        assert "token that can write issues" in str(refused.value)


def test_fatal_answers_are_readable_and_not_retried(settings: Settings) -> None:
    with FakeGitHubServer(_fake()) as fake:
        forge = _forge(settings, fake)
        with pytest.raises(ForgeError) as missing:
            forge.publish_comment(REPO, 999, REPLY, MARKER)
        assert str(missing.value) == (
            f"GitHub answered 404 to POST /repos/{REPO}/issues/999/comments: Not Found. "
            "Fix: check the repository and issue number (and that the token can see the "
            "repository).")
        with pytest.raises(ForgeError, match="404 to GET /repos/someone/else"):
            forge.publish_comment("someone/else", 1, REPLY, MARKER)
        with pytest.raises(ForgeError, match="404 to POST"):
            forge.add_labels(REPO, 999, ["bug"])

        fake.post_failures = [(403, {}, json.dumps(
            {"message": "Resource not accessible by integration"}))]
        with pytest.raises(ForgeError, match=r"403 .*not accessible.*can write issues"):
            forge.publish_comment(REPO, 7, REPLY, MARKER)
        assert len(fake.posts) == 3  # one each: nothing was retried
        assert fake.comments.get(7, []) == []
