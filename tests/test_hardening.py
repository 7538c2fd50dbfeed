"""Issue 16 hardening: hostile sizes, shapes and paths in what the assistant reads."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.context import AppContext
from assistant.drafting.engine import run_kind
from assistant.errors import InvalidInput, NotFound
from assistant.kinds.meeting_summary.parse import parse_note
from assistant.project_files import read_glossary, read_labels, read_project_files, read_template
from assistant.providers.vector_index import _cached_client, collection_name
from assistant.safe_yaml import MAX_FRONT_MATTER_BYTES, RefusedYaml
from assistant.safe_yaml import load as load_yaml
from assistant.services.index_info import index_summary, search_index
from assistant.settings import Settings
from ingest.markdown import chunk_markdown, count_tokens
from ingest.notes import note_date


@pytest.mark.parametrize("line", ["x" * 4_000_000, "word " * 800_000, "中" * 1_400_000],
                         ids=["letters", "words", "cjk"])
def test_a_4_mb_unbroken_line_is_chunked_in_linear_time(line: str) -> None:
    started = time.perf_counter()
    chunks = chunk_markdown(f"# Big\n\n{line}\n", max_tokens=350)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"{elapsed:.1f} s for {len(line)} characters"  # was ~68 s (letters)
    assert all(count_tokens(c.text) <= 350 for c in chunks)
    assert "".join(c.text for c in chunks) == line  # cut, nothing lost or repeated


def _alias_bomb(levels: int) -> str:
    """The billion-laughs front matter: each level nine aliases of the one below."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines)


NOTE_BODY = "# Weekly sync\n\n## Decisions\n\n- Ship 2.0 on Friday.\n"


def test_yaml_from_input_refuses_aliases_depth_and_size() -> None:
    bomb = _alias_bomb(9)
    assert len(bomb) < 600  # ~9^9 "lol" strings (gigabytes) once expanded
    with pytest.raises(RefusedYaml, match="aliases"):
        load_yaml(bomb, max_bytes=MAX_FRONT_MATTER_BYTES)
    with pytest.raises(RefusedYaml, match="nested too deeply"):
        load_yaml("[" * 5000, max_bytes=MAX_FRONT_MATTER_BYTES)
    with pytest.raises(RefusedYaml, match="refused"):
        load_yaml("n: " + "9" * 5000, max_bytes=MAX_FRONT_MATTER_BYTES)
    with pytest.raises(RefusedYaml, match="limit"):
        load_yaml("a: " + "b" * 100, max_bytes=50)
    assert load_yaml("a: &x 1\nb: [2, 3]\n", max_bytes=50) == {"a": 1, "b": [2, 3]}


@pytest.mark.parametrize("front", [
    _alias_bomb(4) + "\ntitle: *l3\nattendees: *l3",
    "title: [\"nested\", [\"list\"]]\nattendees: [{name: x}]",
    "title: " + "[" * 5000,  # RecursionError out of the parser before
    "title: " + "9" * 5000,  # an integer too long for Python to convert before
    "attendees: [" + ", ".join(["someone"] * 3000) + "]",  # over 16 KB
], ids=["aliases", "nested", "deep", "huge-int", "oversized"])
def test_meeting_front_matter_is_scalars_only_without_aliases(front: str) -> None:
    note = parse_note(f"---\n{front}\n---\n{NOTE_BODY}")
    assert note.title == "Weekly sync"  # from the heading, not the front matter
    assert note.attendees == []
    assert [line.text for line in note.lines if line.kind == "bullet"] == [
        "Ship 2.0 on Friday."]
    assert not any("lol" in line.text or "someone" in line.text for line in note.lines)


def test_meeting_front_matter_scalars_are_still_read() -> None:
    note = parse_note("---\ntitle: TSC call\ndate: 2026-10-07\nattendees: [alice, bob]\n"
                      f"---\n{NOTE_BODY}")
    assert (note.title, note.date, note.attendees) == ("TSC call", "2026-10-07", ["alice", "bob"])


def test_ingested_notes_ignore_aliased_or_nested_front_matter() -> None:
    aliased = "---\nwhen: &d 2023-05-06\ndate: *d\n---\n# Sync\n"
    assert note_date("2024-01-02-sync.md", aliased) == "2024-01-02"  # the file name's date
    nested = "---\ndate: [2023-05-06]\n---\n# Sync\n"
    assert note_date("sync.md", nested) == ""
    assert note_date("sync.md", "---\ndate: 2023-05-06\n---\n# Sync\n") == "2023-05-06"


def test_project_yaml_with_aliases_is_refused(tmp_path: Path) -> None:
    form = tmp_path / "bug.yml"
    form.write_text(f"{_alias_bomb(4)}\nname: *l3\nbody:\n"
                    "  - type: input\n    attributes: {label: Version}\n")
    assert read_template(form) is None  # like any invalid form: not used
    md = tmp_path / "bug.md"
    md.write_text(f"---\n{_alias_bomb(4)}\nname: *l3\nlabels: *l3\n---\n### Version\n")
    template = read_template(md)
    assert template is not None and (template.name, template.labels) == ("bug", [])
    labels = tmp_path / "labels.yaml"
    labels.write_text("- &b {name: bug}\n- *b\n")
    with pytest.raises(InvalidInput, match="aliases"):
        read_labels(labels)
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text("keep: &k [kvlite]\ntranslations: []\nmore: *k\n")
    with pytest.raises(InvalidInput, match="aliases"):
        read_glossary(glossary)


def test_project_files_do_not_follow_links_out_of_the_checkout(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "forms").mkdir(parents=True)
    (outside / "labels.json").write_text('[{"name": "leaked"}]')
    (outside / "glossary.yaml").write_text("keep: [leaked]\n")
    (outside / "forms" / "bug.md").write_text("---\nname: Leaked\n---\n### Secret\n")
    (outside / "own.md").write_text("---\nname: Leaked too\n---\n### Secret\n")
    root = tmp_path / "checkout"
    (root / ".github" / "ISSUE_TEMPLATE").mkdir(parents=True)
    (root / "labels.json").symlink_to(outside / "labels.json")
    (root / "glossary.yaml").symlink_to(outside / "glossary.yaml")
    (root / ".github" / "ISSUE_TEMPLATE" / "leak.md").symlink_to(outside / "own.md")
    (root / ".github" / "ISSUE_TEMPLATE" / "bug.md").write_text("---\nname: Bug\n---\n### Ver\n")
    (root / ".github" / "labels.json").write_text('[{"name": "bug"}]')
    (root / "docs").mkdir()
    (root / "docs" / "glossary.yaml").symlink_to(root / "docs" / "real.yaml")  # inside: kept
    (root / "docs" / "real.yaml").write_text("keep: [kvlite]\n")

    files, lines = read_project_files(root)
    assert files.label_names == ["bug"]  # the next candidate, not the link
    assert [t.name for t in files.templates] == ["Bug"]
    assert files.glossary.keep == ["kvlite"]
    skipped = [line for line in lines if "outside the project" in line]
    assert sorted(s.split(":")[0] for s in skipped) == [
        ".github/ISSUE_TEMPLATE/leak.md", "glossary.yaml", "labels.json"]

    linked = tmp_path / "linked"
    (linked / ".github").mkdir(parents=True)
    (linked / ".github" / "ISSUE_TEMPLATE").symlink_to(outside / "forms", target_is_directory=True)
    files, lines = read_project_files(linked)
    assert files.templates == [] and "leaked" not in repr(files)


def _collections(settings: Settings) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in _cached_client(settings).list_collections()}


def test_unconfigured_projects_are_refused_and_nothing_is_created(settings: Settings) -> None:
    ctx = AppContext(settings)
    before = _collections(settings)
    with pytest.raises(NotFound, match="Project 'nope' is not configured") as info:
        search_index(ctx, "database is locked", project="nope")
    assert "kvlite" in str(info.value)  # the fix names the configured projects
    with pytest.raises(NotFound, match="not configured"):
        run_kind(ctx, "triage", {"title": "Crash", "body": "It crashes."},
                 project="nope-2")
    with pytest.raises(NotFound):
        index_summary(ctx, "nope-3")
    assert _collections(settings) == before
    assert ctx.index().project == ctx.index("kvlite").project == "kvlite"  # configured: created
    assert collection_name(settings.vectorstore.collection_prefix, "kvlite") in _collections(
        settings)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual 022 umask, under which new files were world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_data_dir_and_database_are_private(
    make_settings, tmp_path: Path, open_umask: None
) -> None:
    settings = make_settings(data_dir=tmp_path / "new" / "data")
    ctx = AppContext(settings)
    ctx.drafts().create(kind="triage", project="kvlite", title="t", input={})
    ctx.index().count()
    database = settings.data_dir / "devrel.sqlite3"
    assert _mode(settings.data_dir) == _mode(settings.chroma_dir) == 0o700
    assert _mode(database) == _mode(Path(f"{database}-wal")) == 0o600

    old = tmp_path / "old"  # made before: world-readable, tightened when next opened
    old.mkdir(mode=0o755)
    (old / "devrel.sqlite3").touch(mode=0o644)
    settings = make_settings(data_dir=old)
    ctx = AppContext(settings)
    ctx.drafts()
    assert _mode(old / "devrel.sqlite3") == 0o600
    ctx.index().count()
    assert _mode(old) == 0o700
