"""`devrel init` (write a project config from a checkout) and `devrel sync` (run it)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from assistant.cli.common import app_context, console, err_console
from assistant.cli.ingest_cmds import ProjectOption
from assistant.errors import InvalidInput
from assistant.services.project_setup import detect, next_commands, plan_write, render_config


def init(
    checkout: Path = typer.Argument(Path("."), help="A checkout of the project."),
    repo: str | None = typer.Option(
        None, help="OWNER/NAME (or gitee:OWNER/NAME, gitlab:GROUP/NAME) if the git remote "
        "does not say."),
    project: str | None = typer.Option(None, "--name", help="The project's name in the config."),
    output: Path = typer.Option(Path("devrel.yaml"), "--output", "-o",
                                help="The config file to write."),
    force: bool = typer.Option(False, help="Replace a config someone edited without asking."),
) -> None:
    """Detect the forge, docs site, roots and languages, labels and templates of a checkout;
    write a commented config and print the commands that index it."""
    found = detect(checkout, repo, project)
    text = render_config(found)
    plan = plan_write(output, text)
    if plan.action == "edited" and not force:
        err_console.print(plan.diff, highlight=False, markup=False)
        if not sys.stdin.isatty():
            raise InvalidInput(f"{output} was edited since `devrel init` wrote it; it was "
                               "left as it is (the diff above shows what would change).",
                               fix="rerun with --force to replace it, or --output NEW.yaml")
        if not typer.confirm(f"{output} was edited. Replace it with the lines marked +?"):
            console.print(f"[yellow]kept[/] {output}")
            raise typer.Exit(0)
    if plan.action != "same":
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    verb = {"create": "wrote", "same": "unchanged", "refresh": "refreshed",
            "edited": "replaced"}[plan.action]
    console.print(f"[green]{verb}[/] {output}", highlight=False)
    where = f"{found.repo.forge} {found.repo.name}" if found.repo else "no forge remote"
    console.print(f"  {where}; docs: " + (", ".join(
        f"{d.path} ({d.language or 'language detected per page'}, {d.generator})"
        for d in found.docs) or "none found"), highlight=False)
    if any(d.generator != "none" and not d.site_url for d in found.docs[:1]):
        console.print(f"[yellow]set[/] projects.{found.project}.docs_site.site_url in {output}: "
                      "the docs config names no live URL, so citations would link the repo's "
                      "files", highlight=False)
    console.print("Next:", highlight=False)
    for command in next_commands(found, output):
        console.print(f"  {command}", highlight=False, markup=False)


def sync(ctx: typer.Context, project: str | None = ProjectOption) -> None:
    """Sync every source configured for the project (docs, issues, notes, project files);
    only what changed is embedded."""
    from rich.progress import BarColumn, Progress, TextColumn

    from ingest.service import sync_project

    app = app_context(ctx)
    index = app.index(project)
    columns = [TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}")]
    with Progress(*columns, console=err_console, transient=True) as bars:
        def bar(what: str) -> Callable[[int, int], None]:
            task = bars.add_task(what, total=None)
            return lambda done, total: bars.update(task, completed=done, total=total)

        lines = sync_project(app.settings, index, progress_for=bar)
    for line in lines:
        console.print(f"[green]synced[/] {line}", highlight=False)
