"""What the benchmarks that start the product's own server need: a free port, the CLI."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def devrel_command(profile: str) -> list[str]:
    """The installed ``devrel`` CLI (beside this Python first) with a settings profile."""
    script = Path(sys.executable).parent / "devrel"
    found = str(script) if script.exists() else shutil.which("devrel")
    if not found:
        raise SystemExit("devrel is not installed: pip install -e . first")
    return [found, "--profile", profile]
