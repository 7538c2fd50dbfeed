"""Shared fixtures: settings on a temp data dir, the example project, an ingested index."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant.context import AppContext
from assistant.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "kvlite"
# Read before the autouse fixture below clears DEVREL_* from the environment of each test.
REQUIRE_SERVICES = os.environ.get("DEVREL_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DEVREL_* variable from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("DEVREL_"):
            monkeypatch.delenv(key)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return get_settings(profile="test", data_dir=tmp_path / "data")


@pytest.fixture
def make_settings(tmp_path: Path):
    def build(**overrides) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return get_settings(profile="test", **overrides)

    return build


@pytest.fixture(scope="session")
def example_dir() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def ingested_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose index holds the example project's docs (built once per session)."""
    from ingest.service import ingest_docs

    data_dir = tmp_path_factory.mktemp("ingested")
    ctx = AppContext(get_settings(profile="test", data_dir=data_dir))
    ingest_docs(ctx.settings, ctx.index(), EXAMPLE / "docs", repo_path="docs")
    return data_dir


def private_ctx(data_dir: Path, target: Path) -> AppContext:
    """A context over a private copy of a prepared data dir (tests may write to it)."""
    shutil.copytree(data_dir, target)
    return AppContext(get_settings(profile="test", data_dir=target))


@pytest.fixture
def ingested_ctx(ingested_data_dir: Path, tmp_path: Path) -> AppContext:
    """A context over a private copy of the ingested example index (tests may write to it)."""
    return private_ctx(ingested_data_dir, tmp_path / "data")


@pytest.fixture(scope="session")
def triage_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the example's docs, past issues and project files (built once)."""
    from ingest.service import ingest_docs, ingest_issue_files, ingest_project_files

    data_dir = tmp_path_factory.mktemp("triage")
    ctx = AppContext(get_settings(profile="test", data_dir=data_dir))
    ingest_docs(ctx.settings, ctx.index(), EXAMPLE / "docs", repo_path="docs")
    ingest_issue_files(ctx.settings, ctx.index(),
                       [EXAMPLE / "issues.json", EXAMPLE / "comments.json"])
    ingest_project_files(ctx.index(), EXAMPLE)
    return data_dir


@pytest.fixture
def triage_ctx(triage_data_dir: Path, tmp_path: Path) -> AppContext:
    """A context over a private copy of the example's full index (docs, issues, files)."""
    return private_ctx(triage_data_dir, tmp_path / "triage-data")


def require_service(host: str, port: int, name: str) -> None:
    """Skip when a local service is down, unless CI demands it (DEVREL_REQUIRE_SERVICES=1)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError:
        message = f"{name} is not reachable on {host}:{port}"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and DEVREL_REQUIRE_SERVICES=1")
        pytest.skip(message)


POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def store_settings(request: pytest.FixtureRequest, make_settings):
    """Settings whose draft store is SQLite (in the temp data dir) or a throwaway PostgreSQL
    database on 127.0.0.1:5432, created for the test and dropped after it."""
    if request.param == "sqlite":
        yield make_settings()
        return
    require_service("127.0.0.1", 5432, "PostgreSQL")
    import uuid

    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"devrel_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_settings(database={"url": f"postgresql://postgres@127.0.0.1:5432/{name}"})
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
