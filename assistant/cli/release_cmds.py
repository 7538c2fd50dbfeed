"""``devrel release-notes``: bilingual release notes for a range of tags, stored for review."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markdown import Markdown

from assistant.cli.common import app_context, console, draft_with_progress
from assistant.drafting.engine import draft_now
from assistant.errors import InvalidInput
from assistant.kinds.release_notes.kind import ReleaseNotes
from assistant.store.models import DraftKind


def release_notes(
    ctx: typer.Context,
    repo: Path | None = typer.Option(None, "--repo", help="A local clone (default: the "
                                     "project's sources.git)."),
    from_ref: str | None = typer.Option(None, "--from", help="The previous release's tag "
                                        "(default: the tag before --to)."),
    to_ref: str | None = typer.Option(None, "--to", help="The release's tag or ref."),
    changes_file: Path | None = typer.Option(None, "--changes", help="Or a JSON list of "
                                             "changes (title, number, labels, author, body)."),
    version: str | None = typer.Option(None, help="The version (default: --to)."),
    lang: str = typer.Option("en,zh", help="Languages, comma-separated: en, zh (Simplified), "
                             "zh-Hant (Traditional, by OpenCC)."),
    source: str = typer.Option("auto", help="git (the local clone), forge (PRs merged between "
                               "the tags on GitHub) or auto (the clone when there is one)."),
    project: str | None = typer.Option(None, help="Project (default from settings)."),
) -> None:
    """Draft release notes: grouped and traced in code, then lines that are not clean titles
    rewritten and all translated by the model in batches (cached), EN + ZH."""
    app = app_context(ctx)
    project = project or app.settings.project
    languages = [code.strip() for code in lang.split(",") if code.strip()]
    if not set(languages) <= {"en", "zh", "zh-Hant"} or not languages:
        raise InvalidInput(f"Unknown languages {lang!r}.", fix="use en, zh, zh-Hant, e.g. en,zh")
    if source not in ("auto", "git", "forge"):
        raise InvalidInput(f"Unknown source {source!r}.", fix="use git, forge or auto")
    changes = None
    if changes_file is not None:
        from assistant.kinds.release_notes.change_list import changes_from_json

        changes = changes_from_json(changes_file).changes
    elif not to_ref:
        raise InvalidInput("Give --to (and --repo/--from), or --changes FILE.",
                           fix="e.g. --repo . --from v1.0.0 --to v1.1.0")
    version = version or to_ref or "unreleased"
    data = {"version": version, "from_ref": from_ref, "to_ref": to_ref, "languages": languages,
            "source": "git" if repo is not None else source}
    done = draft_with_progress(app, ReleaseNotes(clone=repo, changes=changes), data, project)
    result = done.output or {}
    console.print(Markdown(result["markdown_en"]))
    for key in ("markdown_zh", "markdown_zh_hant"):
        if result.get(key):
            console.print(Markdown(result[key]))
    phrasing = result.get("phrasing") or {}
    if phrasing:
        console.print(f"lines: {phrasing['clean']} clean titles kept, {phrasing['rewritten']} "
                      f"rewritten, {phrasing['translated']} translated by the model, "
                      f"{phrasing['rewrite_rejected'] + phrasing['translate_rejected']} model "
                      f"outputs rejected, {phrasing['cache_hits']} from the cache, "
                      f"{phrasing['calls']} model calls", highlight=False)
    console.print(f"draft #{done.id} waits for review ({result['changes']} changes, "
                  f"{len(result['notes']['dropped'])} left out)", highlight=False)


def announce(
    ctx: typer.Context,
    draft_id: int = typer.Argument(..., help="An approved release-notes draft."),
    channel: str = typer.Option("blog", help="blog, social or mail."),
    url: str | None = typer.Option(None, help="The release page to link."),
) -> None:
    """Draft an announcement (EN and ZH) from approved release notes; it waits for review."""
    if channel not in ("blog", "social", "mail"):
        raise InvalidInput(f"Unknown channel {channel!r}.", fix="use blog, social or mail")
    app = app_context(ctx)
    source = app.drafts().get(draft_id)
    data = {"release_notes_draft_id": draft_id, "channel": channel, "url": url}
    done = draft_now(app, DraftKind.ANNOUNCEMENT, data, project=source.project)
    content = app.drafts().content(done.id).content
    console.print(content.text, highlight=False, markup=False)
    console.print(content.translation or "", highlight=False, markup=False)
    console.print(f"draft #{done.id} waits for review", highlight=False)
