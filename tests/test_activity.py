"""Community activity: metrics with known answers, history tables filled by ingest (SQLite and
PostgreSQL), charts, the community update, and the command as a user runs it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from assistant.context import AppContext
from assistant.drafting.engine import run_kind
from assistant.errors import InvalidInput
from assistant.kinds.community_update.charts import write_charts
from assistant.kinds.community_update.metrics import (
    compute_metrics,
    first_response,
    is_bot,
    percentile,
    prs_waiting_for_review,
    waiting_for_first_response,
)
from assistant.kinds.community_update.models import Event, Item
from assistant.kinds.community_update.report import render_report
from assistant.kinds.community_update.update import allowed_numbers, check_intro
from assistant.services.activity import (
    activity_report,
    issues_awaiting_response,
    prs_awaiting_review,
)
from assistant.settings import get_settings
from assistant.store.activity import ActivityStore
from assistant.store.models import DraftKind
from ingest.issues import read_issue_files
from ingest.service import ingest_issue_files, record_activity
from tests.conftest import EXAMPLE, require_service
from tests.test_cli import _one_line_error, devrel

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def item(number: int, created: float, author: str = "alice", *, kind: str = "issue",
         association: str = "NONE", closed: float | None = None, merged: float | None = None,
         events: tuple[Event, ...] = ()) -> Item:
    return Item(number=number, kind=kind, title=f"item {number}", created_at=at(created),
                author=author, association=association, url=f"https://x/{number}",
                state="closed" if closed is not None or merged is not None else "open",
                closed_at=None if closed is None else at(closed),
                merged_at=None if merged is None else at(merged), events=events)


def reply(author: str, days: float, association: str = "MEMBER", kind: str = "comment") -> Event:
    return Event(author, association, at(days), kind)


# --- metrics on hand-built history -------------------------------------------------------------

def test_percentile_is_linear_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile(range(1, 11), 0.9) == pytest.approx(9.1)  # numpy's default: 9.1


def test_bots() -> None:
    for login in ("dependabot[bot]", "app/renovate", "kvlite-bot", "k8s-ci-robot", "codecov"):
        assert is_bot(login), login
    for login in ("robotics-fan", "abbot", "mira-chen", ""):
        assert not is_bot(login), login


def test_first_response_skips_author_bots_and_non_maintainers() -> None:
    issue = item(1, 0, events=(
        reply("alice", 0.1, "NONE"),            # the author
        reply("github-actions[bot]", 0.2, "NONE"),
        reply("kvlite-bot", 0.25, "NONE"),
        reply("bob", 0.5, "NONE"),              # a human, not a maintainer
        reply("carol", 1.0, "COLLABORATOR"),
    ))
    assert first_response(issue).author == "bob"
    assert first_response(issue, maintainer=True).author == "carol"
    assert first_response(item(2, 0, events=(reply("alice", 1, "OWNER"),))) is None


def _history() -> list[Item]:
    return [
        # before the period: dave and erin contribute
        item(1, -40, "dave", closed=-30, events=(reply("mira", -39, "OWNER"),)),
        item(2, -20, "erin", events=(reply("mira", -19, "OWNER"),)),
        # in the period (Jan 1 – Jan 31): response times 2, 4, 6, 8 hours (maintainer), one bot
        item(10, 0, "dave", closed=5, events=(reply("renovate[bot]", 0.01, "NONE"),
                                               reply("mira", 2 / 24, "OWNER"))),
        item(11, 1, "frank", events=(reply("gus", 1 + 1 / 24, "NONE"),
                                     reply("mira", 1 + 4 / 24, "OWNER"))),
        item(12, 2, "gus", closed=31.5, events=(reply("mira", 2 + 6 / 24, "MEMBER"),)),
        item(13, 3, "hana", kind="pull_request", merged=10,
             events=(reply("mira", 3 + 8 / 24, "OWNER", "review"),)),
        item(14, 4, "dependabot[bot]", kind="pull_request", merged=4.5),
        item(15, 20, "ivan", events=()),                      # unanswered: 11.x days at the end
        item(16, 28, "ivan", events=()),                      # unanswered, but only 3.x days
        item(17, 5, "jo", kind="pull_request", events=(reply("jo", 6, "NONE"),)),  # no review
        item(18, 30.9, "kim", closed=30.95),                  # opened Jan 31 (last day: in)
        item(19, 31, "late"),                                 # Feb 1: outside the period
    ]


def test_metrics_known_answers() -> None:
    m = compute_metrics(_history(), "p", date(2026, 1, 1), date(2026, 1, 31), unanswered_days=7,
                        as_of=at(31))
    assert (m.issues_opened, m.issues_closed) == (6, 2)  # 10, 11, 12, 15, 16, 18; closed 10, 18
    assert (m.prs_opened, m.prs_merged, m.prs_closed_unmerged) == (3, 2, 0)
    rm = m.response_maintainer
    assert rm.opened == 8  # the bot's PR is not waiting for anyone
    assert rm.hours == [2.0, 4.0, 6.0, 8.0] and rm.responded == 4
    assert rm.median_hours == 5.0 and rm.p90_hours == pytest.approx(7.4)
    ra = m.response_anyone
    assert ra.hours == [1.0, 2.0, 6.0, 8.0] and ra.median_hours == 4.0
    assert [w.number for w in m.unanswered] == [15]  # #16 waits 3 days, #2 was answered
    assert m.unanswered[0].days_waiting == 11.0
    assert [w.number for w in m.prs_awaiting_review] == [17]  # its only comment is the author's
    assert m.new_contributors == ["frank", "gus", "hana", "ivan", "jo", "kim"]
    assert m.returning_contributors == ["dave", "mira"]
    assert m.maintainers_active == ["mira"]
    assert m.inactive_contributors == ["erin"]
    assert "renovate[bot]" not in m.new_contributors + m.returning_contributors
    assert m.top_contributors[0].login == "hana"  # the merged PR ranks first
    assert m.top_contributors[1].login == "mira" and m.top_contributors[1].comments == 3
    assert sum(b.issues_opened for b in m.buckets) == 6 and m.bucket == "week"


def test_period_boundaries() -> None:
    items = [item(1, 0), item(2, 0.999), item(3, 1.0), item(4, -0.001)]
    m = compute_metrics(items, "p", date(2026, 1, 1), date(2026, 1, 1), as_of=at(2))
    assert m.issues_opened == 2  # Jan 1 00:00 and 23:58, not Jan 2 00:00 nor Dec 31 23:58
    assert compute_metrics(items, "p", date(2025, 12, 31), date(2026, 1, 2)).issues_opened == 4
    long = compute_metrics(items, "p", date(2025, 1, 1), date(2026, 12, 31))
    assert long.bucket == "month" and len(long.buckets) == 24


def test_waiting_lists_for_an_agenda() -> None:
    history = _history()
    waiting = waiting_for_first_response(history, at(31), since=at(10))
    assert [(w.number, w.days_waiting) for w in waiting] == [(15, 11.0), (16, 3.0)]
    assert [w.number for w in waiting_for_first_response(history, at(31))] == [15, 16]
    assert [w.number for w in prs_waiting_for_review(history, at(31))] == [17]
    assert prs_waiting_for_review(history, at(31), since=at(6)) == []


# --- the update's checks -----------------------------------------------------------------------

def test_intro_checks_refuse_invented_numbers() -> None:
    m = compute_metrics(_history(), "p", date(2026, 1, 1), date(2026, 1, 31), as_of=at(31))
    allowed = allowed_numbers(m)
    ok = check_intro("A busy January: 6 new issues and 2 merged pull requests. Thank you!",
                     allowed, "en")
    assert not ok.problems
    assert check_intro("We closed 42 issues this month, thanks to everyone!", allowed,
                       "en").problems
    assert check_intro("Thanks @mira for the 6 new issues you triaged!", allowed, "en").problems
    assert not check_intro("感谢大家！本月新建了 6 个 issue，合并了 2 个 PR。", allowed, "zh").problems
    assert not check_intro("Maintainers answered in 5.0 h at the median. Thanks!", allowed,
                           "en").problems  # the point in 5.0 ends no sentence
    assert check_intro("One. Two. Three.", allowed, "en").problems
    assert check_intro("Thanks everyone for a great month of work!", allowed, "zh").problems


# --- ingest fills the tables, idempotently -----------------------------------------------------

def _check_ingested(store: ActivityStore) -> None:
    rows = {row.number: (row, events) for row, events in store.items("kvlite")}
    assert len(rows) == 12 and store.comment_count("kvlite") == 23
    pr, _ = rows[131]
    assert pr.kind == "pull_request" and pr.merged_at == datetime(2026, 6, 18, 9, 41, 28,
                                                                  tzinfo=UTC)
    assert rows[127][0].assignees == ["tobias-k"] and rows[112][0].assignees == []
    events = rows[112][1]
    assert [(e.author, e.author_association) for e in events] == [
        ("mira-chen", "OWNER"), ("lin-xiaoyu", "NONE")]


@pytest.mark.slow
def test_ingest_fills_activity_tables_idempotently(settings) -> None:
    ctx = AppContext(settings)
    files = [EXAMPLE / "issues.json", EXAMPLE / "comments.json"]
    ingest_issue_files(settings, ctx.index(), files)
    store = ActivityStore(ctx.drafts().engine)
    _check_ingested(store)
    metadata = ctx.index().entries(where={"number": 127})
    assert {m["assignees"] for m in metadata.values()} == {"tobias-k"}
    assert {m["assignees"] for m in ctx.index().entries(where={"number": 112}).values()} == {""}
    parsed = read_issue_files(files, 10**8)
    assert record_activity(settings, "kvlite", parsed, store).unchanged == 12
    # the issues file alone (comments not in it) keeps the stored comments
    alone = read_issue_files([EXAMPLE / "issues.json"], 10**8)
    assert record_activity(settings, "kvlite", alone, store).unchanged == 12
    _check_ingested(store)


def test_postgresql_activity_tables(make_settings) -> None:
    require_service("127.0.0.1", 5432, "PostgreSQL")
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test",
                          isolation_level="AUTOCOMMIT")
    name = f"devrel_act_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        settings = make_settings(database={"url": f"postgresql://postgres@127.0.0.1:5432/{name}"})
        store = ActivityStore.open(settings)
        try:
            assert store.engine.dialect.name == "postgresql"
            files = [EXAMPLE / "issues.json", EXAMPLE / "comments.json"]
            parsed = read_issue_files(files, 10**8)
            assert record_activity(settings, "kvlite", parsed, store).added == 12
            assert record_activity(settings, "kvlite", parsed, store).unchanged == 12
            _check_ingested(store)
            parsed.one(112).comments.pop()
            again = record_activity(settings, "kvlite", parsed, store)
            assert again.updated == 1 and store.comment_count("kvlite") == 22
        finally:
            store.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


# --- report, charts and the draft --------------------------------------------------------------

@pytest.fixture(scope="module")
def activity_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("activity")
    ctx = AppContext(get_settings(profile="test", data_dir=data_dir))
    record_activity(ctx.settings, "kvlite",
                    read_issue_files([EXAMPLE / "issues.json", EXAMPLE / "comments.json"], 10**8))
    return data_dir


@pytest.mark.slow
def test_report_and_charts(activity_dir: Path, tmp_path: Path) -> None:
    ctx = AppContext(get_settings(profile="test", data_dir=activity_dir))
    result = activity_report(ctx, "kvlite", "2026-05-01", "2026-10-31", tmp_path / "out", 7)
    m = result.metrics
    assert (m.issues_opened, m.issues_closed, m.prs_merged) == (10, 5, 1)
    assert m.response_maintainer.responded == 10 and m.response_anyone.responded == 12
    for path in result.charts.values():
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    report = result.report.read_text()
    assert "| Issues New | 10 |" in report and "(activity_flow.png)" in report
    assert "Time to First Response" in report and "OWNER, MEMBER or COLLABORATOR" in report
    empty = compute_metrics([], "p", date(2026, 1, 1), date(2026, 1, 7))
    write_charts(empty, tmp_path / "empty")  # nothing to plot still draws
    assert "Nobody contributed" in render_report(empty)
    assert [w.number for w in issues_awaiting_response(
        ctx, "kvlite", as_of=datetime(2026, 10, 3, tzinfo=UTC))] == [150]
    assert [w.number for w in prs_awaiting_review(
        ctx, "kvlite", since="2026-10-01", as_of=datetime(2026, 10, 6, tzinfo=UTC))] == [155]


def test_bad_input(activity_dir: Path, tmp_path: Path) -> None:
    ctx = AppContext(get_settings(profile="test", data_dir=activity_dir))
    with pytest.raises(InvalidInput, match="before since") as err:
        activity_report(ctx, "kvlite", "2026-03-31", "2026-01-01", tmp_path)
    assert "Fix:" in str(err.value)
    with pytest.raises(InvalidInput, match="Unknown project 'nope'"):
        activity_report(ctx, "nope", "2026-01-01", "2026-03-31", tmp_path)
    with pytest.raises(InvalidInput, match="Invalid period"):
        activity_report(ctx, "kvlite", "last week", "2026-03-31", tmp_path)


def test_community_update_numbers_come_from_the_metrics(activity_dir: Path) -> None:
    replies = ["Great months: 10 new issues and 1 merged pull request. Thank you all!",
               "感谢大家！这段时间新建了 10 个 issue。"]
    ctx = AppContext(get_settings(profile="test", data_dir=activity_dir,
                                  llm={"fake_replies": replies}))
    done = run_kind(ctx, DraftKind.COMMUNITY_UPDATE, {"since": "2026-05-01", "until": "2026-10-31"},
                    "kvlite")
    assert done.output["intro_from_model"] == {"en": True, "zh": True}
    assert replies[0] in done.content.text and replies[1] in (done.content.translation or "")
    assert "- 10 new issues, 5 closed" in done.content.text
    assert "新建 issue 10 个，关闭 5 个" in (done.content.translation or "")
    assert "@sam-okafor" in done.content.text and done.confidence == 1.0
    invented = AppContext(get_settings(profile="test", data_dir=activity_dir, llm={
        "fake_replies": ["We merged 57 pull requests this quarter!"]}))
    fallback = run_kind(invented, DraftKind.COMMUNITY_UPDATE,
                        {"since": "2026-05-01", "until": "2026-10-31"}, "kvlite")
    assert fallback.output["intro_from_model"] == {"en": False, "zh": False}
    assert "57" not in fallback.content.text and "Thank you to everyone" in fallback.content.text
    assert "感谢每一位参与者" in (fallback.content.translation or "")
    assert fallback.confidence == 0.0


# --- the command as a user runs it -------------------------------------------------------------

@pytest.mark.slow
def test_cli_report_and_draft(activity_dir: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(activity_dir, data)
    out = tmp_path / "report"
    done = devrel("activity", "--since", "2026-05-01", "--until", "2026-10-31", "--out", str(out),
                  "--draft", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert "Issues New / Issues Closed" in done.stdout and "10 / 5" in done.stdout
    assert "waits for review" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "activity_contributors.png", "activity_flow.png", "activity_response.png", "report.md"]
    listed = devrel("drafts", "list", "--json", data_dir=data)
    drafts = json.loads(listed.stdout)
    assert drafts[0]["kind"] == "community_update" and drafts[0]["status"] == "pending_review"
    _one_line_error(devrel("activity", "--since", "2026-03-31", "--until", "2026-01-01",
                           data_dir=data), "before since")
    _one_line_error(devrel("activity", "--since", "2026-01-01", "--until", "2026-03-31",
                           "--project", "nope", data_dir=data), "Unknown project 'nope'")
