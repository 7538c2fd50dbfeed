"""The data dir and the databases in it are the owner's alone: folders 0700, files 0600,
whatever the umask (drafts, API key hashes and ingested text are not for other local users)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` created if missing (with its parents), without group or other access when
    this user owns it."""
    path.mkdir(parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty if missing, readable and writable by its owner only when this
    user owns it (created 0600 from the start: never briefly readable by others)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    _tighten(path, FILE_MODE)
    return path


def _tighten(path: Path, mode: int) -> None:
    """Clear the bits outside ``mode``; never adds any, never touches another user's path."""
    info = path.stat()
    current = stat.S_IMODE(info.st_mode)
    if info.st_uid == os.getuid() and current & ~mode:
        path.chmod(current & mode)
