"""The same index code against a Chroma server (`chroma run`), chosen by configuration alone."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.context import AppContext
from assistant.errors import ProviderUnavailable
from assistant.providers.vector_index import VectorIndex
from ingest.service import ingest_docs

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(make_settings, chroma_url: str,
                                                   example_dir: Path) -> None:
    settings = make_settings(vectorstore={"chroma_url": chroma_url})
    ctx = AppContext(settings)
    report = ingest_docs(settings, ctx.index(), example_dir / "docs" / "zh", repo_path="docs/zh")
    assert report.chunks_total > 0 and ctx.index().count() == report.chunks_total
    assert not settings.chroma_dir.exists()  # nothing went to the local folder
    hit = ctx.index().search("database is locked after a crash", k=1)[0]
    assert hit.url.startswith("https://github.com/example-org/kvlite/blob/main/docs/zh/")
    again = ingest_docs(settings, ctx.index(), example_dir / "docs" / "zh", repo_path="docs/zh")
    assert again.chunks_embedded == 0
    VectorIndex.drop(settings, settings.project)


def test_unreachable_chroma_server_is_a_clear_error(make_settings) -> None:
    settings = make_settings(vectorstore={"chroma_url": f"http://127.0.0.1:{_free_port()}"})
    with pytest.raises(ProviderUnavailable, match="Cannot reach the Chroma server") as info:
        AppContext(settings).index()
    assert "chroma run" in str(info.value)
