"""The activity report on real, third-party history from ../shared/evaldata.

    python -m evals.activity_real [--since 2023-07-01 --until 2023-12-31]
        [--out results/activity_real] [--docs-img docs/img]

evaldata holds no GitHub issue dump with comments, so Time to First Response cannot be measured
on real data here. What it does hold, and what this runs on:
- apache/apisix: the commits of 12 releases (release_notes/apisix_releases.jsonl); each
  non-changelog commit naming a PR is a squash-merged PR (author = the git author name, opened =
  merged = the commit date, since the opening time is not in the data). They are written as
  ``gh pr list --json`` records into a temp folder and ingested through the normal path
  (`ingest_issue_files`: index + history tables), then reported on for the period: Change
  Requests Accepted, New / returning / Inactive Contributors, whom to thank.
- Apache Hadoop JIRA (duplicates/hadoop_pool.jsonl, a 2,503-issue sample 2020-2024): created and
  resolved times as issues, recorded into the history tables only (not embedded), reported for
  2023: Issues New / Issues Closed.
Nothing is copied into the repo except the charts (--docs-img) made from it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from assistant.context import AppContext
from assistant.services.activity import activity_report
from evals.harness.corpora import read_jsonl
from evals.harness.run import EvalRun, key_value_table
from ingest.issues import ParsedIssues, issue_from_json
from ingest.service import ingest_issue_files, record_activity


def apisix_prs(path: Path) -> list[dict]:
    """Merged PRs (gh --json shape) from the releases' commits, changelog commits left out."""
    prs: dict[int, dict] = {}
    for release in read_jsonl(path):
        for commit in release["commits"]:
            if commit.get("is_changelog_commit") or not commit["pr_numbers"]:
                continue
            number = int(commit["pr_numbers"][-1])
            prs[number] = {
                "number": number, "title": commit["subject"], "body": "",
                "author": {"login": commit["author"]}, "authorAssociation": "",
                "createdAt": commit["date"], "mergedAt": commit["date"],
                "closedAt": commit["date"], "state": "MERGED", "labels": [],
                "url": f"https://github.com/apache/apisix/pull/{number}", "comments": [],
                "updatedAt": commit["date"], "isDraft": False,
            }
    return sorted(prs.values(), key=lambda p: p["number"])


def _jira_time(value: str | None) -> str:
    return datetime.strptime(value, "%d/%b/%y %H:%M").isoformat() + "Z" if value else ""


def hadoop_issues(path: Path) -> ParsedIssues:
    parsed = ParsedIssues()
    for raw in read_jsonl(path):
        issue = issue_from_json({
            "number": int(raw["id"]), "title": raw["title"], "body": "",
            "state": "closed" if raw.get("resolved") else "open",
            "created_at": _jira_time(raw.get("created")),
            "closed_at": _jira_time(raw.get("resolved")), "comments": 0,
            "html_url": f"https://issues.apache.org/jira/browse/{raw['id']}",
        })
        parsed.add(issue)
    return parsed


def main(argv: Sequence[str] | None = None) -> None:
    parser = EvalRun.parser("activity_real", __doc__)
    parser.add_argument("--since", default="2023-07-01")
    parser.add_argument("--until", default="2023-12-31")
    parser.add_argument("--docs-img", type=Path, default=None)
    with EvalRun.start("activity_real", parser, argv) as run:
        args = run.args
        ctx = AppContext(run.settings(profile="test", project="apisix",
                                      projects={"apisix": {"repo": "apache/apisix"}}))
        dump = run.tmp / "apisix_prs.json"
        prs = apisix_prs(args.data / "release_notes" / "apisix_releases.jsonl")
        dump.write_text(json.dumps(prs))
        started = time.perf_counter()
        ingest = ingest_issue_files(ctx.settings, ctx.index("apisix"), [dump])
        ingest_s = time.perf_counter() - started
        again = time.perf_counter()
        ingest_issue_files(ctx.settings, ctx.index("apisix"), [dump])
        again_s = time.perf_counter() - again
        result = activity_report(ctx, "apisix", args.since, args.until, run.out / "apisix")
        m = result.metrics

        hadoop = hadoop_issues(args.data / "duplicates" / "hadoop_pool.jsonl")
        started = time.perf_counter()
        record_activity(ctx.settings, "hadoop", hadoop)
        record_s = time.perf_counter() - started
        yearly = activity_report(ctx, "hadoop", "2023-01-01", "2023-12-31", run.out / "hadoop")
        h = yearly.metrics
        summary = {
            "apisix": {"period": f"{m.since}..{m.until}", "prs_in_dump": len(prs),
                       "ingest_s": round(ingest_s, 2), "reingest_s": round(again_s, 2),
                       "passages_embedded": ingest.chunks_embedded, "report_s": result.seconds,
                       "prs_merged": m.prs_merged, "contributors_active": m.contributors_active,
                       "new_contributors": len(m.new_contributors),
                       "returning_contributors": len(m.returning_contributors),
                       "inactive_contributors": len(m.inactive_contributors),
                       "top": [(c.login, c.merged) for c in m.top_contributors[:5]]},
            "hadoop": {"period": f"{h.since}..{h.until}", "issues_in_sample": len(hadoop.issues),
                       "record_s": round(record_s, 2), "report_s": yearly.seconds,
                       "issues_opened": h.issues_opened, "issues_closed": h.issues_closed,
                       "open_at_end": h.open_issues_at_end},
        }
        print(json.dumps(summary, indent=2))
        lines = [line for name, figures in summary.items()
                 for line in [f"## {name}", "", *key_value_table(figures), ""]]
        lines += ["Reports with charts: `apisix/`, `hadoop/`."]
        run.write(summary, "Activity reports on real history", lines)
        if args.docs_img:
            run.copy_to(result.charts["flow"], args.docs_img / "activity_flow_apisix.png")
            run.copy_to(result.charts["contributors"],
                        args.docs_img / "activity_contributors_apisix.png")
            run.copy_to(yearly.charts["flow"], args.docs_img / "activity_flow_hadoop.png")


if __name__ == "__main__":
    main()
