"""Docs in every supported format, git metadata, meeting notes, and projects side by side."""

import subprocess
from pathlib import Path

import pytest

from assistant.errors import InvalidInput
from assistant.settings import Settings
from ingest.formats import html_to_markdown, rst_to_markdown
from ingest.notes import note_date
from ingest.service import ingest_docs, ingest_notes
from tests.helpers import counting_ctx

RST = """=======
 Setup
=======

Install it.

Configuration
-------------

Set the cache like this::

    cache_size_mb = 64
    sync_mode = "normal"

.. code-block:: python
   :caption: example

   import kvlite
   db = kvlite.open("x.db")

Tuning
~~~~~~

Read the FAQ.
"""

HTML = """<html><head><title>t</title><script>var secret = 1;</script></head>
<body><nav>Home | Docs</nav><h1>Backups</h1><p>Copy the file &amp; the <b>WAL</b>.</p>
<h2>Online backup</h2><pre>kvlite backup db.kv out.kv
kvlite verify out.kv</pre></body></html>"""


def test_rst_and_html_keep_headings_and_code() -> None:
    md = rst_to_markdown(RST)
    assert "# Setup" in md and "## Configuration" in md and "### Tuning" in md
    assert "```\ncache_size_mb = 64\nsync_mode = \"normal\"\n```" in md
    assert "```python\nimport kvlite\ndb = kvlite.open(\"x.db\")\n```" in md
    html = html_to_markdown(HTML)
    assert html.startswith("# Backups") and "## Online backup" in html
    assert "```\nkvlite backup db.kv out.kv\nkvlite verify out.kv\n```" in html
    assert "secret" not in html and "Home | Docs" not in html and "& the WAL" in html


def test_mixed_format_docs_in_a_git_checkout(make_settings, tmp_path: Path) -> None:
    settings = make_settings(project="kvlite")
    root = tmp_path / "repo" / "docs"
    root.mkdir(parents=True)
    (root / "setup.rst").write_text(RST)
    (root / "backup.html").write_text(HTML)
    (root / "faq.md").write_text("# FAQ\n\n## Locked\n\nRun `kvlite unlock`.\n")
    (root / "notes.txt").write_text("Plain notes.\n")
    git = ["git", "-C", str(root.parent), "-c", "user.email=t@e", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "docs"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    ctx, _ = counting_ctx(settings)
    report = ingest_docs(settings, ctx.index(), root, repo_path="docs")
    assert sorted(report.added) == [
        "docs/backup.html", "docs/faq.md", "docs/notes.txt", "docs/setup.rst"]
    metas = list(ctx.index().entries().values())
    assert {m["commit"] for m in metas} == {head}
    tuning = next(m for m in metas if m["heading"] == "Configuration > Tuning")
    assert tuning["url"] == "https://github.com/example-org/kvlite/blob/main/docs/setup.rst#tuning"
    assert {m["title"] for m in metas} >= {"Setup", "Backups", "FAQ"}


@pytest.mark.parametrize(("name", "expected"), [
    ("2024-10-02.md", "2024-10-02"),
    ("2024-01-11-meeting-minutes.md", "2024-01-11"),
    ("2022_CloudWeGo_community_meeting_10.20.md", "2022-10-20"),
    ("2023_CloudWeGo_community_meeting_4.8.md", "2023-04-08"),
    ("20240102-sync.md", "2024-01-02"),
    ("notes.md", ""),
    ("2024-13-45.md", ""),
])
def test_meeting_dates_from_file_names(name: str, expected: str) -> None:
    assert note_date(name, "# Notes\n") == expected


def test_meeting_notes_front_matter_language_and_incremental(
    settings: Settings, example_dir: Path, tmp_path: Path
) -> None:
    assert note_date("x.md", "---\ndate: 2023-04-05\n---\n# Hi\n") == "2023-04-05"
    notes = tmp_path / "notes"
    notes.mkdir()
    for src in (example_dir / "meeting_notes").iterdir():
        (notes / src.name).write_bytes(src.read_bytes())
    (notes / "photo.jpg").write_bytes(b"\xff\xd8\xff\x00")
    ctx, counter = counting_ctx(settings)
    report = ingest_notes(settings, ctx.index(), notes)
    assert len(report.added) == 2 and [s.path for s in report.skipped] == ["photo.jpg"]
    by_path = {m["path"]: m for m in ctx.index().entries().values()}
    en = by_path["notes/2026-10-07-community-call.md"]
    zh = by_path["notes/2026-10-21-社区例会.md"]
    assert (en["date"], en["language"], en["source_kind"]) == ("2026-10-07", "en", "meeting_notes")
    assert (zh["date"], zh["language"]) == ("2026-10-21", "zh")
    counter.embedded.clear()
    (notes / "2026-10-21-社区例会.md").unlink()
    again = ingest_notes(settings, ctx.index(), notes)
    assert counter.embedded == [] and again.removed == ["notes/2026-10-21-社区例会.md"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="No usable Markdown or text notes"):
        ingest_notes(settings, ctx.index(), empty)
    assert ctx.index().count() > 0  # what was indexed is untouched


def test_projects_live_side_by_side(make_settings, tmp_path: Path) -> None:
    settings = make_settings(projects={"alpha": {}, "beta": {}})
    for project, text in (("alpha", "Alpha uses compaction."), ("beta", "Beta uses vacuum.")):
        root = tmp_path / project
        root.mkdir()
        (root / "index.md").write_text(f"# {project}\n\n{text}\n")
        ctx, _ = counting_ctx(settings)
        ingest_docs(settings, ctx.index(project), root)
    ctx, _ = counting_ctx(settings)
    alpha = ctx.retriever("alpha").search("vacuum", k=5)
    beta = ctx.retriever("beta").search("vacuum", k=5)
    assert {h.metadata["project"] for h in alpha} == {"alpha"}
    assert beta[0].metadata["project"] == "beta" and "vacuum" in beta[0].text
    assert ctx.index("alpha").count() == ctx.index("beta").count() == 1
