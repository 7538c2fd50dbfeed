"""The ``devrel`` command line."""

from __future__ import annotations

import sys

import click
import typer

from assistant.cli import (
    activity_cmds,
    demo_cmd,
    draft_cmds,
    guide_cmds,
    ingest_cmds,
    meeting_cmds,
    model_cmds,
    release_cmds,
    server_cmds,
    setup_cmds,
)
from assistant.cli.common import State, err_console
from assistant.errors import DevrelError

app = typer.Typer(
    name="devrel",
    help="devrel-assistant: drafts for open-source communities, reviewed by humans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: str | None = typer.Option(None, "--config", help="YAML config (or DEVREL_CONFIG)."),
    profile: str | None = typer.Option(None, "--profile", help="demo or test (or DEVREL_PROFILE)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    ctx.obj = State(config=config, profile=profile, debug=debug)


app.command("init")(setup_cmds.init)
app.command("sync")(setup_cmds.sync)
app.add_typer(model_cmds.app, name="model", help="The local model file.")
app.add_typer(ingest_cmds.ingest_app, name="ingest", help="Index a project's sources.")
app.add_typer(ingest_cmds.index_app, name="index", help="Inspect or reset the index.")
app.command("search")(ingest_cmds.search)
app.command("triage")(draft_cmds.triage)
app.command("release-notes")(release_cmds.release_notes)
app.command("announce")(release_cmds.announce)
app.command("guide")(guide_cmds.guide)
meeting_app = typer.Typer(no_args_is_help=True)
meeting_app.command("summarize")(meeting_cmds.summarize)
meeting_app.command("agenda")(meeting_cmds.agenda)
app.add_typer(meeting_app, name="meeting", help="Meeting summaries and agendas.")
app.command("activity")(activity_cmds.activity)
app.add_typer(draft_cmds.drafts_app, name="drafts", help="The review queue.")
app.command("demo")(demo_cmd.demo)
app.command("serve")(server_cmds.serve)
app.command("worker")(server_cmds.worker)
app.add_typer(server_cmds.keys_app, name="keys", help="API keys for bots and reviewers.")


def main() -> None:
    """Entry point: expected failures print one line naming the fix, never a traceback."""
    debug = "--debug" in sys.argv
    try:
        code = app(standalone_mode=False)  # a typer.Exit comes back as its exit code
    except DevrelError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (click.exceptions.Abort, typer.Abort):
        err_console.print("aborted")
        sys.exit(130)
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    except (click.ClickException, typer.TyperException) as exc:  # typer bundles its own click
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()  # a usage error: what is wrong and the usage line
        sys.exit(getattr(exc, "exit_code", 2))
    except Exception as exc:
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        err_console.print(
            f"[bold red]error:[/] unexpected {type(exc).__name__}: {first} "
            "(run again with --debug for the traceback)", highlight=False, soft_wrap=True,
        )
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)

