"""Reading files from a folder safely: no symlink escapes or loops, no binaries, clear reasons."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Skipped:
    """A file (or record) that was not ingested, and why."""

    path: str
    reason: str


def walk(root: Path) -> Iterator[Path]:
    """Files under root, sorted, skipping hidden ones, never following directory symlinks."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def read_text(path: Path, root: Path, max_bytes: int) -> tuple[str | None, str | None]:
    """The file's text, or ``(None, reason)`` when it cannot be used."""
    data, reason = read_bytes(path, root, max_bytes)
    return decode_text(data) if data is not None else (None, reason)


def read_bytes(path: Path, root: Path, max_bytes: int) -> tuple[bytes | None, str | None]:
    """The file's bytes if it is safe to read (inside root, a file, not too big), else a reason."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, "broken or looping symlink"
    if not real.is_relative_to(root):
        return None, "symlink to a path outside the root"
    if not real.is_file():
        return None, "not a regular file"
    size = real.stat().st_size
    if size > max_bytes:
        return None, f"too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)"
    try:
        data = real.read_bytes()
    except OSError as exc:
        return None, f"unreadable ({exc.strerror})"
    return data, None


def decode_text(data: bytes) -> tuple[str | None, str | None]:
    """UTF-8 text from bytes, or the reason it is not text."""
    if b"\x00" in data[:8192]:
        return None, "binary file"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    if not text.strip():
        return None, "empty file"
    return text, None


def git_commit(folder: Path) -> str:
    """The commit checked out where ``folder`` lives, or "" outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
