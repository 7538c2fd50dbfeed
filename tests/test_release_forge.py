"""Release-note input from the forge (PRs merged between two tags on GitHub), against a local
server speaking GitHub's REST shapes, and the service choosing that source."""

from __future__ import annotations

import pytest

from assistant.context import AppContext
from assistant.drafting.engine import run_kind
from assistant.errors import InvalidInput
from assistant.forge.github import GitHubForge
from assistant.kinds.release_notes.forge_source import changes_from_forge
from assistant.settings import GitHubSettings, Settings
from assistant.store.models import DraftKind
from tests.fake_github import FakeGitHub, FakeGitHubServer

# every test here talks HTTP to a FakeGitHubServer (a thread; ~0.5 s to stop each)
pytestmark = pytest.mark.slow

REPO = "example-org/kvlite"


def _history() -> FakeGitHub:
    fake = FakeGitHub(repo=REPO)
    fake.add_commit("init", "ann", tag="v1.0.0")
    fake.add_pull(11, "feat(table): add virtual scrolling", "ann", labels=("enhancement",))
    fake.add_commit("feat(table): add virtual scrolling (#11)", "ann")
    fake.add_pull(12, "Crash on empty input", "newcomer", labels=("bug",), body="Fixes #3")
    fake.add_commit("wip: first try", "newcomer", pr=12)  # rebase-merged: names no PR
    fake.add_commit("wip: second try", "newcomer", pr=12)
    fake.add_commit("Merge branch 'main' into dev", "ann", parents=2)
    fake.add_commit("tidy the README", "bo")  # a direct push, no PR at all
    fake.add_pull(14, "docs: changelog for v1.1.0", "ann")
    fake.add_commit("docs: changelog for v1.1.0 (#14)", "ann")
    fake.add_commit("chore(release): v1.1.0", "ann", tag="v1.1.0")
    return fake


def _forge(settings: Settings, fake: FakeGitHub) -> GitHubForge:
    config = settings.model_copy(update={"github": GitHubSettings(api_url=fake.url)})
    return GitHubForge(config, backoff_s=0.01)


def test_merged_prs_between_two_tags(settings: Settings) -> None:
    with FakeGitHubServer(_history()) as fake:
        seen: list[tuple[int, int]] = []
        found = changes_from_forge(_forge(settings, fake), REPO, "v1.0.0", "v1.1.0",
                                                       lambda done, total: seen.append(
                                                           (done, total)))
    by_id = {c.id: c for c in found.changes}
    assert set(by_id) == {"pr-11", "pr-12", f"{6:040x}"}
    assert by_id["pr-12"].title == "Crash on empty input" and by_id["pr-12"].labels == ["bug"]
    assert by_id["pr-12"].author == "newcomer" and by_id["pr-12"].prs == [12]
    assert by_id[f"{6:040x}"].title == "tidy the README" and by_id[f"{6:040x}"].author == "bo"
    reasons = dict(found.excluded)
    assert reasons[f"{5:040x}"] == "merge commit"
    assert reasons[f"{8:040x}"].startswith("release commit")
    assert reasons[f"{7:040x}"].startswith("changelog commit")  # never read as input
    assert reasons[f"{4:040x}"].startswith("duplicate: part of PR #12")
    assert found.authors_before == {"ann"} and seen[-1] == (3, 3)


def test_compare_is_paged_and_wrong_refs_say_so(settings: Settings) -> None:
    fake = FakeGitHub(repo=REPO)
    fake.add_commit("init", "ann", tag="v1")
    for n in range(1, 151):
        fake.add_pull(n, f"fix: case {n}", "ann")
        fake.add_commit(f"fix: case {n} (#{n})", "ann")
    fake.tags["v2"] = fake.commits[-1]["sha"]
    with FakeGitHubServer(fake):
        forge = _forge(settings, fake)
        found = changes_from_forge(forge, REPO, "v1", "v2")
        assert len(found.changes) == 150
        assert sum("/compare/" in path for path in fake.log) == 2  # 100 per page
        with pytest.raises(InvalidInput, match="404"):
            changes_from_forge(forge, REPO, "v1", "v9")


def test_service_drafts_from_the_forge_when_no_clone_is_set(make_settings) -> None:
    with FakeGitHubServer(_history()) as fake:
        settings = make_settings(github={"api_url": fake.url},
                                 projects={"kvlite": {"repo": REPO}},
                                 llm={"provider": "fake", "fake_replies": ["ok"]})
        ctx = AppContext(settings)
        data = {"version": "v1.1.0", "from_ref": "v1.0.0", "to_ref": "v1.1.0",
                "languages": ["en", "zh-Hant"]}
        result = run_kind(ctx, DraftKind.RELEASE_NOTES, data, "kvlite")
        with pytest.raises(InvalidInput, match="both refs"):
            run_kind(ctx, DraftKind.RELEASE_NOTES, {**data, "from_ref": None}, "kvlite")
    english = result.output["markdown_en"]
    assert "[#11](https://github.com/example-org/kvlite/pull/11)" in english
    assert "[#12](https://github.com/example-org/kvlite/pull/12)" in english
    assert "First-time contributors: @newcomer, @bo" in english
    assert "changelog" not in english.lower()
    assert result.output["markdown_zh"] is None
    assert "### 問題修復" in result.output["markdown_zh_hant"]  # Traditional, by OpenCC
    assert result.content.translation == result.output["markdown_zh_hant"]
