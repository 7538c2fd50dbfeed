"""``devrel triage`` and ``devrel drafts``: create drafts and read the review queue."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markdown import Markdown
from rich.table import Table

from assistant.cli.common import app_context, console, draft_with_progress
from assistant.errors import InvalidInput
from assistant.forge.github import build_forge, parse_issue_ref
from assistant.forge.shapes import IssueInput, issue_from_json_file
from assistant.services import review
from assistant.store.drafts import DraftContent, DraftRecord, RevisionRecord
from assistant.store.models import DraftKind

drafts_app = typer.Typer(no_args_is_help=True)


def render_draft(record: DraftRecord, revision: RevisionRecord | None = None) -> str:
    """A stored draft as Markdown for a terminal: reply, labels, duplicates, missing info.

    With ``revision``, the reply, translation and labels are that revision's (what approving
    it would publish), not the model's first draft.
    """
    output = dict(record.output or {})
    if revision is not None:
        content = revision.content
        confidence_of = {lb["name"]: lb.get("confidence") for lb in output.get("labels") or []}
        output["labels"] = [{"name": n, "confidence": confidence_of.get(n)}
                            for n in content.labels]
        output["reply_markdown"], output["reply_en"] = content.text, content.translation
        output["reply_needed"] = bool(content.text.strip()) or output.get("reply_needed", True)
    confidence = f" · confidence {record.confidence:.2f}" if record.confidence is not None else ""
    head = (
        f"### Draft #{record.id} · {record.kind} · {record.project} · {record.status}"
        f"{confidence}\n\n*{record.title}*\n\n"
    )
    if record.error:
        return head + f"**failed:** {record.error}"
    lines = [head]
    if output.get("summary_en"):
        lines.append(f"**Summary (EN):** {output['summary_en']}\n")
    labels = output.get("labels") or []
    applied = [lb for lb in labels if lb.get("source") == "applied"]
    suggested = [lb for lb in labels if lb.get("source") != "applied"]
    if applied:
        lines.append("**Already on the issue:** " + ", ".join(
            f"`{lb['name']}`" for lb in applied) + "\n")
    if suggested:
        lines.append("**Labels:** " + ", ".join(
            f"`{lb['name']}`" + (f" {lb['confidence']:.2f}" if lb.get("confidence") is not None
                                 else "") for lb in suggested) + "\n")
    if output.get("labels_abstained"):
        best = ", ".join(f"`{lb['name']}` {lb['confidence']:.2f}"
                         for lb in output.get("label_candidates") or [])
        lines.append("**Labels:** the classifier abstained" + (f" (best: {best})" if best
                                                               else "") + "\n")
    for dup in output.get("duplicates") or []:
        lines.append(f"**Likely duplicate:** {dup.get('ref') or '#' + str(dup['number'])} "
                     f"{dup['title']} "
                     f"({dup['score']:.2f}: {dup['reason']})\n")
    for past in output.get("past_answers") or []:
        lines.append(f"**Past answer:** {past.get('ref') or '#' + str(past['number'])} "
                     f"{past['title']} "
                     f"({past['score']:.2f}, by {past['author']})\n")
    for dup in output.get("related") or []:
        lines.append(f"**Related:** {dup.get('ref') or '#' + str(dup['number'])} "
                     f"{dup['title']} ({dup['score']:.2f}: "
                     f"{dup['reason']})\n")
    if output.get("reply_needed", True):
        lines.append("---\n\n" + output.get("reply_markdown", ""))
        if output.get("reply_en"):
            lines.append("\n\n---\n\n**Reply in English (for the reviewer):** "
                         + output["reply_en"])
    else:
        lines.append(f"**No reply needed:** {output.get('no_reply_reason')}")
    prompts = output.get("prompts") or [output.get("prompt")]
    lines.append(
        f"\n\n---\n*{', '.join(p for p in prompts if p)} · {record.model} · "
        f"{output.get('seconds')} s" + (" · template fallback" if output.get("fallback") else "")
        + "*"
    )
    if revision is not None:
        lines.append(f"\n\n**Revision {revision.number}** (by {revision.author})"
                     + (f" · approve it with `devrel drafts approve {record.id} --revision "
                        f"{revision.number}`" if record.status == "pending_review" else ""))
    return "\n".join(lines)


def print_draft(record: DraftRecord, revision: RevisionRecord | None = None) -> None:
    """A stored draft on the terminal, wrapped, with link targets shown."""
    console.print(Markdown(render_draft(record, revision), hyperlinks=False), soft_wrap=False)


def show_record(record: DraftRecord, as_json: bool) -> None:
    """A stored draft as JSON, or rendered for the terminal."""
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
    else:
        print_draft(record)


def _issue_files(paths: list[Path]) -> list[Path]:
    """The JSON files to triage: each file given, and the ``*.json`` files of each folder."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.json") if p.is_file())
            if not inside:
                raise InvalidInput(f"{path} holds no .json files.",
                                   fix="pass a folder of issue JSON files, or the files")
            found += inside
        else:
            found.append(path)
    return found


def _triage_batch(ctx: typer.Context, files: list[Path], project: str | None,
                  as_json: bool) -> None:
    """One draft per issue file, in one process (the model is loaded once); a bad file is
    reported and skipped, and the exit code says whether any was."""
    app = app_context(ctx)
    table = Table("file", "draft", "lang", "labels", "duplicates", "confidence", "s")
    records, failed = [], []
    for path in _issue_files(files):
        try:
            record = draft_with_progress(app, DraftKind.TRIAGE, issue_from_json_file(path),
                                         project)
        except InvalidInput as exc:
            failed.append(path)
            console.print(f"[red]{path}: {exc}[/red]")
            continue
        records.append(record)
        output = record.output or {}
        table.add_row(path.name, f"#{record.id}", str(output.get("language", "")),
                      ", ".join(lb["name"] for lb in output.get("labels") or []
                                if lb.get("source") != "applied"),
                      ", ".join(f"#{d['number']}" for d in output.get("duplicates") or []),
                      f"{record.confidence or 0:.2f}", str(output.get("seconds", "")))
    if as_json:
        typer.echo(json.dumps([json.loads(r.model_dump_json()) for r in records], indent=2))
    else:
        console.print(table)
        console.print(f"{len(records)} drafts wait for review"
                      + (f"; {len(failed)} files skipped" if failed else ""))
    if failed:
        raise typer.Exit(1)


def triage(
    ctx: typer.Context,
    title: str = typer.Option("", "--title", help="The issue's title."),
    body: str = typer.Option("", "--body", help="The issue's body (Markdown)."),
    file: list[Path] = typer.Option(
        [], "--file", help="A JSON file with one issue, or a folder of them; repeat for "
        "several (one process, the model loaded once)."),
    github: str | None = typer.Option(
        None, "--github", help="Fetch OWNER/REPO#N through the forge (GitHub API)."),
    author: str | None = typer.Option(None, "--author", help="The reporter's login."),
    project: str | None = typer.Option(None, help="Project (default from settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored draft as JSON."),
) -> None:
    """Draft a triage (labels, duplicates, docs, missing info, reply); it waits for review."""
    if sum(bool(x) for x in (file, github, title or body)) != 1:
        raise InvalidInput("Give one of --file, --github or --title/--body.", fix="pick one")
    if file and (len(file) > 1 or file[0].is_dir()):
        _triage_batch(ctx, file, project, as_json)
        return
    if file:
        issue = issue_from_json_file(file[0])
    elif github:
        repo, number = parse_issue_ref(github)
        forge = build_forge(app_context(ctx).settings)
        try:
            with console.status(f"Fetching {repo}#{number}…"):
                issue = forge.get_issue(repo, number)
        finally:
            forge.close()
    else:
        issue = IssueInput(title=title, body=body, author=author)
    show_record(draft_with_progress(app_context(ctx), DraftKind.TRIAGE, issue, project), as_json)


@drafts_app.command("create")
def create(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="The draft kind, e.g. newcomer_guide."),
    data: str = typer.Option("{}", "--data", help="The kind's input as JSON (see the API docs)."),
    project: str | None = typer.Option(None, help="Project (default from settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored draft as JSON."),
) -> None:
    """Draft any kind from its input as JSON, in this process; it waits for review."""
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--data is not JSON ({exc.msg} at column {exc.colno}).",
                           fix="""pass an object, e.g. --data '{"interest": "docs"}'""") from None
    if not isinstance(payload, dict):
        raise InvalidInput("--data must be a JSON object.", fix="pass the kind's fields")
    show_record(draft_with_progress(app_context(ctx), kind, payload, project), as_json)


@drafts_app.command("list")
def list_drafts(
    ctx: typer.Context,
    status: str | None = typer.Option(None, help="e.g. pending_review"),
    kind: str | None = typer.Option(None),
    project: str | None = typer.Option(None),
    limit: int = typer.Option(20, min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Drafts, newest first."""
    records = app_context(ctx).drafts().list(
        status=status, kind=kind, project=project, limit=limit
    )
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False))
        return
    table = Table()
    for column in ("id", "kind", "project", "status", "lang", "title", "created"):
        table.add_column(column)
    for r in records:
        table.add_row(str(r.id), r.kind, r.project, r.status, r.language or "",
                      r.title[:60], r.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@drafts_app.command("show")
def show(
    ctx: typer.Context, draft_id: int, as_json: bool = typer.Option(False, "--json")
) -> None:
    """One draft: its newest revision (what approving it publishes) and its sources."""
    store = app_context(ctx).drafts()
    record = store.get(draft_id)
    revision = store.content(draft_id) if record.revision else None
    if as_json:
        data = record.model_dump(mode="json") | {
            "content": revision.content.model_dump(mode="json") if revision else None}
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print_draft(record, revision)


def _reviewer(name: str | None) -> str:
    import getpass

    return f"{name or getpass.getuser()} (cli)"


ReviewerOption = typer.Option(None, "--as", help="Your name for the audit log (default: $USER).")


@drafts_app.command("approve")
def approve(
    ctx: typer.Context, draft_id: int,
    revision: int = typer.Option(..., "--revision", min=1,
                                 help="The revision you reviewed (`devrel drafts show` names "
                                      "it); refused if the draft has moved on."),
    reviewer: str | None = ReviewerOption,
) -> None:
    """Approve the revision of a draft you reviewed."""
    record = review.approve_draft(app_context(ctx), draft_id, _reviewer(reviewer), revision)
    console.print(f"draft {record.id} approved (revision {record.approved_revision})")


@drafts_app.command("reject")
def reject(
    ctx: typer.Context, draft_id: int,
    reason: str = typer.Option(..., "--reason", help="Why, for the record."),
    reviewer: str | None = ReviewerOption,
) -> None:
    """Reject a draft, with a reason."""
    record = review.reject_draft(app_context(ctx), draft_id, _reviewer(reviewer), reason)
    console.print(f"draft {record.id} rejected")


@drafts_app.command("edit")
def edit(
    ctx: typer.Context, draft_id: int,
    text_file: Path = typer.Option(..., "--text-file", help="The new reply (Markdown).",
                                   exists=True, dir_okay=False),
    labels: str | None = typer.Option(None, help="Comma-separated labels (default: unchanged)."),
    note: str | None = typer.Option(None, help="Why you edited."),
    base_revision: int = typer.Option(..., "--base-revision", min=1,
                                      help="The revision your edit starts from; refused if "
                                           "someone saved another since."),
    reviewer: str | None = ReviewerOption,
) -> None:
    """Save an edit of a revision as a new revision."""
    app = app_context(ctx)
    current = app.drafts().content(draft_id, base_revision).content
    try:
        text = text_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{text_file} is not UTF-8 text.", fix="save it as UTF-8") from None
    update: dict[str, object] = {"text": text}
    if labels is not None:
        update["labels"] = [name.strip() for name in labels.split(",") if name.strip()]
    content = DraftContent.model_validate(current.model_dump() | update)
    record = review.edit_draft(app, draft_id, content, _reviewer(reviewer), note,
                               base_revision=base_revision)
    console.print(f"draft {record.id} is at revision {record.revision}")


@drafts_app.command("publish")
def publish(ctx: typer.Context, draft_id: int, reviewer: str | None = ReviewerOption) -> None:
    """Post an approved triage draft to its GitHub issue (comment and labels), once."""
    record = review.publish_draft(app_context(ctx), draft_id, _reviewer(reviewer))
    console.print(f"draft {record.id} published: {record.published_url}", highlight=False)
