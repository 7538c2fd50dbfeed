"""What every command shares: the lazily built context and progress display."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from assistant.context import AppContext
from assistant.kinds.base import Kind
from assistant.settings import get_settings
from assistant.store.drafts import DraftRecord

console = Console(soft_wrap=True)
err_console = Console(stderr=True)


@dataclass
class State:
    """Global options; the context is built on first use, never at import."""

    config: str | None = None
    profile: str | None = None
    debug: bool = False
    _ctx: AppContext | None = field(default=None, repr=False)

    def context(self) -> AppContext:
        if self._ctx is None:
            self._ctx = AppContext(get_settings(config_file=self.config, profile=self.profile))
        return self._ctx


def app_context(ctx: typer.Context) -> AppContext:
    state = ctx.find_root().obj
    return state.context() if isinstance(state, State) else State().context()


@contextmanager
def progress_bar(label: str, *, as_bytes: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, driven by (done, total) callbacks."""
    columns = [TextColumn("{task.description}"), BarColumn()]
    columns.append(DownloadColumn() if as_bytes else TextColumn("{task.completed}/{task.total}"))
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def draft_with_progress(app: AppContext, kind: str | Kind, data: BaseModel | dict[str, Any],
                        project: str | None = None) -> DraftRecord:
    """Load the chat model (with a byte progress bar), then draft in this process behind the
    kind's progress bar; the stored draft is returned."""
    from assistant.drafting.engine import draft_now
    from assistant.drafting.registry import get_kind

    spec = get_kind(kind)
    with progress_bar("Preparing the model", as_bytes=True) as update:
        app.chat_model(update)
    with progress_bar(spec.progress_label) as update:
        return draft_now(app, spec, data, project=project, progress=update)
