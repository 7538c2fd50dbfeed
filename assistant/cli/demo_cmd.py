"""``devrel demo``: the README's first command ends here (embedded defaults, example project)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from assistant.cli.common import app_context, console, progress_bar
from assistant.cli.draft_cmds import print_draft
from assistant.cli.ingest_cmds import print_report
from assistant.cli.server_cmds import serve
from assistant.context import AppContext
from assistant.drafting.engine import draft_now
from assistant.errors import InvalidInput
from assistant.forge.shapes import issue_from_json_file
from assistant.private_files import private_file
from assistant.store.keys import KeyStore
from assistant.store.models import DraftKind
from ingest.service import (
    ingest_docs,
    ingest_issue_files,
    ingest_notes,
    ingest_project_files,
)


def _default_example() -> Path:
    for candidate in (Path.cwd() / "examples" / "kvlite",
                      Path(__file__).resolve().parents[2] / "examples" / "kvlite"):
        if candidate.is_dir():
            return candidate
    return Path("examples/kvlite")


def demo_key(app: AppContext) -> str:
    """The demo's admin API key: made once, kept in the data dir (mode 600), reused."""
    keys = KeyStore(app.drafts().engine)
    path = app.settings.data_dir / "demo-admin.key"
    if path.is_file():
        secret = path.read_text().strip()
        if keys.verify(secret):
            return secret
    _, secret = keys.create("demo", "admin", actor="demo")
    private_file(path).write_text(secret + "\n")
    path.chmod(0o600)
    return secret


def demo(
    ctx: typer.Context,
    example: Path | None = typer.Option(None, help="The example project folder."),
    redraft: bool = typer.Option(False, help="Draft again issues that already have a draft."),
    serve_after: bool = typer.Option(
        True, "--serve/--no-serve", help="Then serve the API with the drafts waiting."),
    port: int | None = typer.Option(None, help="Port to serve on (default api.port)."),
) -> None:
    """Ingest the example project, draft replies to its incoming issues, serve them for review."""
    example = example or _default_example()
    incoming = sorted((example / "incoming").glob("*.json"))
    if not (example / "docs").is_dir() or not incoming:
        raise InvalidInput(
            f"{example} does not look like the example project (docs/ and incoming/*.json).",
            fix="run from the repository root or pass --example examples/kvlite",
        )
    app = app_context(ctx)
    started = time.perf_counter()
    with progress_bar("Assembling the local model", as_bytes=True) as update:
        chat = app.chat_model(update)
    elapsed = time.perf_counter() - started
    console.print(f"chat model ready ({elapsed:.1f}s): {app.settings.llm.provider}")
    with progress_bar("Embedding the example docs") as update:
        report = ingest_docs(app.settings, app.index(), example / "docs", repo_path="docs",
                             progress=update)
    print_report(report, f"docs of {app.settings.project}")
    issue_files = [f for f in (example / "issues.json", example / "comments.json") if f.is_file()]
    if issue_files:
        with progress_bar("Embedding past issues and PRs") as update:
            report = ingest_issue_files(app.settings, app.index(), issue_files, progress=update)
        print_report(report, f"issues and PRs of {app.settings.project}")
    if (example / "meeting_notes").is_dir():
        with progress_bar("Embedding meeting notes") as update:
            report = ingest_notes(app.settings, app.index(), example / "meeting_notes",
                                  progress=update)
        print_report(report, f"meeting notes of {app.settings.project}")
    for line in ingest_project_files(app.index(), example):
        console.print(f"[green]read[/] {line}", highlight=False)
    queued = app.drafts().list(kind="triage", project=app.settings.project, limit=500)
    done = {r.input.get("number") for r in queued if r.status == "pending_review"}
    for path in incoming:
        issue = issue_from_json_file(path)
        if issue.number in done and not redraft:
            console.print(f"issue #{issue.number} already has a draft waiting for review; skipped")
            continue
        with console.status(f"Drafting a reply to #{issue.number}: {issue.title[:60]}…"):
            record = draft_now(app, DraftKind.TRIAGE, issue)
        print_draft(record)
        console.print()
    pending = len(app.drafts().list(status="pending_review", limit=500))
    console.print(
        f"[green]{pending} drafts wait for review[/] (`devrel drafts list`); "
        f"chat model: {type(chat).__name__}, data in {app.settings.data_dir}"
    )
    key = demo_key(app)
    console.print(f"API key (admin) for the demo: {key}", highlight=False)
    if serve_after:
        serve(ctx, host=None, port=port, worker=None)
