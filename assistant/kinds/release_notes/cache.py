"""A phrase cache under the data dir: the model's checked rewrite or translation of a line,
so a re-run or an overlapping range asks the model nothing for lines it has seen.

The key is the step (``rewrite`` or ``translate``), the text (and scope), the target language,
the version of the glossary entries that apply to the line, the prompt and the model. A rejected
output is cached too (as None: the line keeps its structural text), so a re-run costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from assistant.project_files import Glossary


def glossary_version(glossary: Glossary) -> str:
    """A short digest of the glossary entries (a change to any of them is a new version)."""
    return hashlib.sha256(glossary.model_dump_json().encode()).hexdigest()[:16]


def phrase_key(step: str, text: str, language: str, glossary: Glossary, *, prompt: str,
               model: str, scope: str | None = None) -> str:
    """The cache key of one line's rewrite or translation."""
    raw = json.dumps([step, text, scope, language, glossary_version(glossary), prompt, model],
                     ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


class PhraseCache:
    """Cached phrases in one SQLite file (shared by the CLI, the API and workers)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS phrases (key TEXT PRIMARY KEY, text TEXT, "
                   "created TEXT DEFAULT CURRENT_TIMESTAMP)")
        return db

    def get_many(self, keys: Iterable[str]) -> dict[str, str | None]:
        """The cached text (None: the model's output was rejected) of each key held."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str | None] = {}
        with closing(self._connect()) as db:
            for start in range(0, len(wanted), 500):
                part = wanted[start:start + 500]
                rows = db.execute(f"SELECT key, text FROM phrases WHERE key IN "
                                  f"({','.join('?' * len(part))})", part)
                found.update(dict(rows.fetchall()))
        return found

    def put_many(self, entries: dict[str, str | None]) -> None:
        if not entries:
            return
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO phrases (key, text) VALUES (?, ?)",
                           list(entries.items()))

    def __len__(self) -> int:
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM phrases").fetchone()[0])
