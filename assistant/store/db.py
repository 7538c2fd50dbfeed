"""Engine creation (SQLite with WAL by default, PostgreSQL by URL) and schema upgrades."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import ConfigError, ProviderUnavailable
from assistant.private_files import private_dir, private_file

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite files get WAL and a busy timeout, and are private to
    their owner (the file 0600, its folder 0700; SQLite gives its WAL the file's mode)."""
    if url.startswith("sqlite"):
        parsed = make_url(url)
        path = parsed.database
        if path and path != ":memory:" and not parsed.query.get("uri"):
            if not Path(path).parent.exists():
                private_dir(Path(path).parent)  # an existing folder may be shared: left as is
            private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        return create_engine(url, pool_pre_ping=True)
    except ImportError:
        raise ConfigError(
            "The PostgreSQL driver is not installed.",
            fix="pip install 'devrel-assistant[postgres]'",
        ) from None


@contextmanager
def _migration_lock(engine: Engine, connection: Connection) -> Iterator[None]:
    """One process migrates at a time (several API processes and workers start together)."""
    if engine.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(724311)"))
        yield
        return
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection, _migration_lock(engine, connection):
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        first = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise ProviderUnavailable(
            f"Cannot open the database {engine.url.render_as_string(hide_password=True)}: {first}",
            fix="check DEVREL_DATABASE__URL and that the server is running",
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
