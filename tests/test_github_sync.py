"""Live GitHub sync against a local server speaking GitHub's REST shapes (no internet)."""

from datetime import UTC, datetime, timedelta

import pytest

from assistant.errors import ConfigError, InvalidInput, ProviderUnavailable
from assistant.forge.client import GitHubClient
from assistant.settings import GitHubSettings, Settings
from ingest.service import sync_github
from tests.fake_github import FakeGitHub, FakeGitHubServer, rate_limited, secondary_limited
from tests.helpers import counting_ctx

# every test here talks HTTP to a FakeGitHubServer (a thread; ~0.5 s to stop each)
pytestmark = pytest.mark.slow

REPO = "example-org/kvlite"


def _client(fake: FakeGitHub, waits: list[float], **kw) -> GitHubClient:
    settings = GitHubSettings(api_url=fake.url, token="ghp_testtoken", **kw)
    return GitHubClient(settings, sleep=waits.append)


def _ts(number: int) -> str:
    return (datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=number)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _fake(n: int) -> FakeGitHub:
    fake = FakeGitHub(repo=REPO)
    for number in range(1, n + 1):
        fake.add_issue(number, updated_at=_ts(number),
                       labels=["bug"] if number % 2 else ["question"])
    return fake


def test_full_then_incremental_sync_with_pagination_and_comments(settings: Settings) -> None:
    fake = _fake(5)
    with FakeGitHubServer(fake):
        fake.add_comment(2, "Fixed in 0.9.3.")
        fake.add_comment(2, "Thanks!", author="reporter")
        ctx, counter = counting_ctx(settings)
        waits: list[float] = []
        client = _client(fake, waits)
        client_pages = list(client.paginate(f"/repos/{REPO}/issues", {"per_page": 2}))
        assert [len(p) for p in client_pages] == [2, 2, 1]  # follows Link: rel="next"

        first = sync_github(settings, ctx.index(), REPO, client=_client(fake, waits))
        assert len(first.added) == 5 and ctx.index().count() == 6  # issue 2 has a comments chunk
        assert all(a == "Bearer ghp_testtoken" for a in fake.auth)
        comments = [m for m in ctx.index().entries().values() if m["part"] == "comments"]
        assert comments[0]["number"] == 2
        assert ctx.index().get_state(f"github:{REPO}") == _ts(5)

        # One issue changes labels, one gets a new comment, one is new.
        fake.log.clear()
        counter.embedded.clear()
        fake.add_issue(1, updated_at="2026-04-01T00:00:00Z", labels=["question"])
        fake.add_comment(3, "Can you share the log?")
        fake.issues[3]["updated_at"] = "2026-04-02T00:00:00Z"
        fake.add_issue(6, updated_at="2026-04-03T00:00:00Z")
        second = sync_github(settings, ctx.index(), REPO, client=_client(fake, waits))
        assert "since=2026-03-01T05" in fake.log[0]
        assert sorted(second.added) == ["issues/example-org/kvlite/6"]
        assert sorted(second.updated) == ["issues/example-org/kvlite/1", "issues/example-org/kvlite/3"]
        assert len(counter.embedded) == 2  # issue 6 + the new comments chunk of 3; 1 relabelled
        assert second.chunks_relabelled >= 1
        labels = {m["number"]: m["labels"] for m in ctx.index().entries().values()}
        assert labels[1] == "question" and ctx.index().count() == 8
        assert waits == []


def test_rate_limits_and_server_errors_are_waited_out(settings: Settings) -> None:
    fake = _fake(3)
    with FakeGitHubServer(fake):
        fake.failures = [rate_limited(reset_in=1), secondary_limited(retry_after=2),
                         (502, {}, "{}")]
        ctx, _ = counting_ctx(settings)
        waits: list[float] = []
        report = sync_github(settings, ctx.index(), REPO, client=_client(fake, waits))
        assert len(report.added) == 3  # nothing dropped
        assert len(waits) == 3 and 0 < waits[0] <= 3 and waits[1] == 2 and waits[2] == 1

        fake.failures = [rate_limited(reset_in=4000)]
        with pytest.raises(ProviderUnavailable, match="resumes where it stopped"):
            sync_github(settings, ctx.index(), REPO, client=_client(fake, waits, max_wait_s=60))
        assert ctx.index().count() == 3


def test_a_crash_mid_sync_resumes_without_loss_or_duplicates(settings: Settings) -> None:
    fake = _fake(250)  # three pages of 100
    with FakeGitHubServer(fake):
        ctx, _ = counting_ctx(settings, fail_after=150)
        with pytest.raises(KeyboardInterrupt):
            sync_github(settings, ctx.index(), REPO, client=_client(fake, []))
        # Page 1 (100 issues) was indexed and its cursor saved; page 2 died while its
        # passages were being embedded, before any was written.
        assert ctx.index().get_state(f"github:{REPO}") == _ts(100)
        partial = ctx.index().count()
        assert partial == 100

        ctx2, counter = counting_ctx(settings)
        report = sync_github(settings, ctx2.index(), REPO, client=_client(fake, []))
        assert ctx2.index().count() == 250
        numbers = sorted(m["number"] for m in ctx2.index().entries().values())
        assert numbers == list(range(1, 251))
        assert len(counter.embedded) == 250 - partial  # only what was missing
        assert report.unchanged == ["issues/example-org/kvlite/100"]  # the cursor is inclusive


def test_fatal_answers_are_clear(settings: Settings) -> None:
    fake = _fake(1)
    with FakeGitHubServer(fake):
        ctx, _ = counting_ctx(settings)
        with pytest.raises(InvalidInput, match="404"):
            sync_github(settings, ctx.index(), "someone/else", client=_client(fake, []))
        fake.failures = [(401, {}, '{"message": "Bad credentials"}')]
        with pytest.raises(ConfigError, match="rejected the token"):
            sync_github(settings, ctx.index(), REPO, client=_client(fake, []))
        with pytest.raises(InvalidInput, match="not a repository name"):
            sync_github(settings, ctx.index(), "not a repo", client=_client(fake, []))
        assert ctx.index().count() == 0


def test_cli_live_sync_and_status(tmp_path) -> None:
    import json

    from tests.test_cli import devrel

    fake = _fake(3)
    with FakeGitHubServer(fake):
        env = {"DEVREL_GITHUB__API_URL": fake.url, "GITHUB_TOKEN": "ghp_fromenv"}
        first = devrel("ingest", "issues", "--github", REPO, data_dir=tmp_path, **env)
        assert first.returncode == 0, first.stderr
        assert "3 added" in first.stdout and fake.auth[0] == "Bearer ghp_fromenv"
        again = devrel("ingest", "issues", "--github", REPO, data_dir=tmp_path, **env)
        assert "passages: 0 embedded" in again.stdout
        status = json.loads(devrel("index", "status", "--json", data_dir=tmp_path).stdout)
        row = next(r for r in status["sources"] if r["source"] == f"issues:{REPO}")
        assert row["synced_up_to"] == _ts(3) and row["items"] == 3
