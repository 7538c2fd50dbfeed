"""Tests that run `devrel` (and `chroma run`) as real processes: start, wait, kill, clean up.

Every process writes to a log file under the test's tmp dir; a failing wait names the process
and shows the tail of its log. ``Procs`` stops whatever is still running when the test ends
(pass or fail) and prints every log's tail, which pytest shows only for a failed test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEVREL = [sys.executable, "-c", "from assistant.cli import main; main()"]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def devrel_env(**values: str) -> dict[str, str]:
    """This environment without the developer's DEVREL_* variables, plus the test profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVREL_")}
    env.update({"DEVREL_PROFILE": "test", "PYTHONUNBUFFERED": "1", **values})
    return env


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class Proc:
    """A process started by :class:`Procs`, its output going to ``log``."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log: Path) -> None:
        self.name, self.popen, self.log = name, popen, log

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, like the OOM killer or a pulled plug: no cleanup runs."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if the process is still there after ``timeout``."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def report(self, lines: int = 30) -> str:
        state = "running" if self.alive() else f"exited {self.popen.returncode}"
        return f"--- {self.name} (pid {self.pid}, {state}) {self.log} ---\n{tail(self.log, lines)}"


class Procs:
    """Starts processes for one test and stops all of them at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.started: list[Proc] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log = self.log_dir / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def devrel(self, name: str, *args: str, env: dict[str, str]) -> Proc:
        """A long-running `devrel` command (``serve``, ``worker``)."""
        return self.start(name, [*DEVREL, *args], env)

    def serve(self, name: str, port: int, env: dict[str, str]) -> Proc:
        """`devrel serve --no-worker` on 127.0.0.1:port."""
        return self.devrel(name, "serve", "--host", "127.0.0.1", "--port", str(port),
                           "--no-worker", env=env)

    def run(self, *args: str, env: dict[str, str], timeout: float = 120) -> str:
        """A one-shot `devrel` command that must succeed; its stdout."""
        result = subprocess.run([*DEVREL, *args], capture_output=True, text=True, env=env,
                                cwd=ROOT, timeout=timeout, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, (
            f"devrel {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def report(self, lines: int = 30) -> str:
        return "\n".join(p.report(lines) for p in self.started)

    def stop_all(self) -> None:
        for proc in self.started:  # signal all first, then wait: they stop in parallel
            if proc.alive():
                proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.started:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    def __enter__(self) -> Procs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
        if self.started:  # captured: pytest shows it for a failed test only
            print("\n" + self.report())


def wait_until(check: Callable[[], T | None], timeout: float, what: str, *,
               watch: Iterable[Proc] = (), interval: float = 0.25) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` otherwise.

    A watched process that exits meanwhile fails the wait at once, with its log.
    """
    watch = list(watch)
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except Exception as exc:  # not up yet
            last = exc
        else:
            if last:
                return last
        dead = [p for p in watch if not p.alive()]
        if dead:
            raise AssertionError(f"{what}: {', '.join(p.name for p in dead)} exited\n"
                                 + "\n".join(p.report() for p in dead))
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})\n"
                                 + "\n".join(p.report() for p in watch))
        time.sleep(interval)


def wait_http(url: str, timeout: float = 60.0, *, watch: Iterable[Proc] = (),
              ok: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200) -> None:
    """Wait until ``url`` answers (by default 200)."""

    def answered() -> httpx.Response | None:
        response = httpx.get(url, timeout=5)
        return response if ok(response) else None

    wait_until(answered, timeout, f"GET {url}", watch=watch)


def wait_port(port: int, timeout: float = 60.0, *, watch: Iterable[Proc] = ()) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:port."""

    def accepts() -> bool:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True

    wait_until(accepts, timeout, f"port {port}", watch=watch)
