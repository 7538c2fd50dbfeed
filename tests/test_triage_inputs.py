"""What triage drafts are checked against, and where issues come from: project files (label
set, issue templates, glossary), the missing-information check, the forge and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.context import AppContext
from assistant.errors import InvalidInput
from assistant.forge.github import GitHubForge, parse_issue_ref
from assistant.kinds.triage.missing import choose_template, missing_information
from assistant.project_files import load_project_files, read_labels, read_template
from assistant.settings import Settings
from ingest.service import ingest_project_files
from tests.conftest import EXAMPLE
from tests.fake_github import FakeGitHub, FakeGitHubServer
from tests.test_cli import devrel


def test_project_files_are_kept_with_the_index(settings: Settings) -> None:
    index = AppContext(settings).index()
    read = ingest_project_files(index, EXAMPLE)
    assert any("labels.json" in line for line in read)
    files = load_project_files(index)
    assert {"bug", "question", "good first issue"} <= set(files.label_names)
    bug = files.templates[0]
    assert bug.title_prefix == "[bug]" and bug.labels == ["bug"]
    assert [f.label for f in bug.fields][:2] == ["kvlite version", "OS / platform"]
    assert "compaction" in files.glossary.keep
    assert {"transaction": "事务"}.items() <= {t.en: t.zh for t in files.glossary.translations}.items()


def test_partial_or_bad_project_files_lose_nothing(settings: Settings, tmp_path: Path) -> None:
    index = AppContext(settings).index()
    ingest_project_files(index, EXAMPLE)
    only_labels = tmp_path / "proj"
    only_labels.mkdir()
    (only_labels / "labels.json").write_text(json.dumps([{"name": "bug"}, "triage"]))
    ingest_project_files(index, only_labels)
    files = load_project_files(index)
    assert files.label_names == ["bug", "triage"]
    assert files.templates and files.glossary.keep  # kept from the first ingest
    (only_labels / "labels.json").write_text('[{"name": ')
    with pytest.raises(InvalidInput, match="not valid JSON"):
        ingest_project_files(index, only_labels)
    (only_labels / "labels.json").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_labels(only_labels / "labels.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="left as it was"):
        ingest_project_files(index, empty)
    assert load_project_files(index).label_names == ["bug", "triage"]


def test_issue_forms_are_read(tmp_path: Path) -> None:
    form = tmp_path / "bug.yml"
    form.write_text(
        "name: Bug\ntitle: '[Bug]: '\nlabels: [bug, triage]\nbody:\n"
        "  - type: markdown\n    attributes: {value: Thanks!}\n"
        "  - type: input\n    attributes: {label: Version}\n    validations: {required: true}\n"
        "  - type: textarea\n    attributes: {label: Relevant log output}\n"
        "  - type: dropdown\n    attributes: {label: Browser, options: [Firefox]}\n"
        "    validations: {required: true}\n")
    template = read_template(form)
    assert template is not None and template.labels == ["bug", "triage"]
    assert [(f.label, f.required) for f in template.fields] == [
        ("Version", True), ("Relevant log output", False), ("Browser", True)]
    missing = missing_information("[Bug]: crash", "It crashes on 2.3.1, Error: boom", template,
                                  "en", is_bug=True)
    # version given (2.3.1), an error line given; the required browser is not
    assert [m.field for m in missing] == ["Browser"]


def test_missing_information_reads_filled_template_sections() -> None:
    template = read_template(EXAMPLE / ".github" / "ISSUE_TEMPLATE" / "bug_report.md")
    assert template is not None
    body = ("### kvlite version\n\n_No response_\n\n### OS / platform\nUbuntu 24.04\n\n"
            "### Steps to reproduce\n1. open\n2. crash\n\n### Logs\n```text\n\n```\n")
    fields = [m.field for m in missing_information("[bug] crash", body, template, "en",
                                                   is_bug=True)]
    assert "kvlite version" in fields and "Logs" in fields
    assert "OS / platform" not in fields and "Steps to reproduce" not in fields
    zh = missing_information("崩溃了", "打开数据库就崩溃", template, "zh", is_bug=True)
    assert zh and all(m.question.startswith("请补充") for m in zh)
    assert choose_template([template], "[bug] x", []) is template
    assert choose_template([template], "How do I scan a prefix?", ["question"]) is None
    assert missing_information("How do I scan?", "Is there a prefix scan?", None, "en",
                               is_bug=False) == []


@pytest.mark.slow
def test_forge_fetches_an_issue(settings: Settings) -> None:
    assert parse_issue_ref("example-org/kvlite#161") == ("example-org/kvlite", 161)
    for bad in ("kvlite#1", "a/b#", "a/b#x", "a/b/c#1"):
        with pytest.raises(InvalidInput):
            parse_issue_ref(bad)
    fake = FakeGitHub(repo="example-org/kvlite")
    incoming = json.loads((EXAMPLE / "incoming" / "161-lock-error.json").read_text())
    with FakeGitHubServer(fake):
        fake.add_issue(161, incoming["updated_at"], title=incoming["title"],
                       body=incoming["body"], author="marcus-lindqvist")
        settings.github.api_url = fake.url
        forge = GitHubForge(settings)
        issue = forge.get_issue("example-org/kvlite", 161)
        with pytest.raises(InvalidInput, match="404"):
            forge.get_issue("example-org/kvlite", 999)
        forge.close()
    assert issue.number == 161 and issue.author == "marcus-lindqvist"
    assert issue.title == incoming["title"] and issue.repo == "example-org/kvlite"
    assert issue.author_association == "NONE"


@pytest.mark.slow
def test_cli_triages_an_issue_from_github(ingested_data_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "d"
    shutil.copytree(ingested_data_dir, data)
    fake = FakeGitHub(repo="example-org/kvlite")
    with FakeGitHubServer(fake):
        fake.add_issue(7, "2026-11-01T00:00:00Z", title="database is locked after a crash",
                       body="kvlite.LockError: database is locked. Using kvlite 0.9.2 on Linux.")
        result = devrel("triage", "--github", "example-org/kvlite#7", "--json", data_dir=data,
                        DEVREL_GITHUB__API_URL=fake.url,
                        DEVREL_TRIAGE__REPLY_MODE="generative",
                        DEVREL_LLM__FAKE_REPLIES='["A stale LOCK file; run kvlite unlock [1]."]')
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "pending_review" and record["input"]["number"] == 7
    assert "kvlite unlock" in record["output"]["reply_markdown"]
    both = devrel("triage", "--github", "a/b#1", "--title", "x", data_dir=data)
    assert both.returncode == 1 and "one of" in both.stderr
