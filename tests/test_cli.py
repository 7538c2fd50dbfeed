"""The CLI as a user runs it: a real process, one-line errors, no tracebacks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# every test here runs the CLI as a real process (~2 s to start each)
pytestmark = pytest.mark.slow


def devrel(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DEVREL_")}
    environ.update({"DEVREL_DATA_DIR": str(data_dir), "DEVREL_PROFILE": "test", **env})
    return subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; main()", *args],
        capture_output=True, text=True, env=environ, cwd=ROOT, timeout=300,
    )


def _one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and "Fix:" in lines[0]


def test_empty_issue(tmp_path: Path) -> None:
    _one_line_error(devrel("triage", "--title", " ", data_dir=tmp_path), "The issue is empty")


def test_empty_index(tmp_path: Path) -> None:
    result = devrel("triage", "--title", "database is locked", data_dir=tmp_path)
    _one_line_error(result, "is empty")


def test_malformed_issue_file(tmp_path: Path) -> None:
    bad = tmp_path / "issue.json"
    bad.write_text('{"title": "x", "body": ')
    _one_line_error(devrel("triage", "--file", str(bad), data_dir=tmp_path), "not valid JSON")


def test_unreachable_endpoint(ingested_data_dir: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "d"
    shutil.copytree(ingested_data_dir, data)
    result = devrel(
        "triage", "--title", "database is locked", data_dir=data,
        DEVREL_LLM__PROVIDER="openai", DEVREL_LLM__BASE_URL="http://127.0.0.1:9/v1",
        DEVREL_LLM__TIMEOUT_S="5",
    )
    _one_line_error(result, "Cannot reach the chat endpoint at http://127.0.0.1:9/v1")
    listed = json.loads(devrel("drafts", "list", "--json", data_dir=data).stdout)
    assert listed[0]["status"] == "failed"  # the request is kept, with its error


def test_ingest_search_and_triage_json(tmp_path: Path, example_dir: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "en").mkdir(parents=True)
    src = example_dir / "docs" / "en" / "troubleshooting.md"
    (docs / "en" / "troubleshooting.md").write_text(src.read_text())
    ingest = devrel("ingest", "docs", str(docs), "--repo-path", "docs", data_dir=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    assert "1 added" in ingest.stdout
    again = devrel("ingest", "docs", str(docs), "--repo-path", "docs", data_dir=tmp_path)
    assert "1 unchanged" in again.stdout and "passages: 0 embedded" in again.stdout
    found = json.loads(devrel("search", "数据库被锁定", "--k", "2", "--json",
                              data_dir=tmp_path).stdout)
    assert found[0]["url"].startswith(
        "https://github.com/example-org/kvlite/blob/main/docs/en/troubleshooting.md#")
    triage = devrel("triage", "--title", "database is locked", "--body", "after a crash",
                    "--json", data_dir=tmp_path, DEVREL_LLM__FAKE_REPLIES='["1"]')
    assert triage.returncode == 0, triage.stderr
    draft = json.loads(triage.stdout)
    assert draft["status"] == "pending_review"
    reply = draft["output"]["reply_markdown"]  # the chosen docs sentence, quoted with its link
    assert "\n> " in reply and "docs/en/troubleshooting.md#" in reply
    # the review from the command line: edit (a new revision), approve; keys
    reply = tmp_path / "reply.md"  # type: ignore[assignment]
    reply.write_text("Run `kvlite unlock` to remove the stale LOCK file.")
    edited = devrel("drafts", "edit", str(draft["id"]), "--text-file", str(reply), "--as", "mia",
                    "--base-revision", "1", data_dir=tmp_path)
    assert edited.returncode == 0 and "revision 2" in edited.stdout, edited.stderr
    _one_line_error(devrel("drafts", "edit", str(draft["id"]), "--text-file", str(reply),
                           "--base-revision", "1", data_dir=tmp_path), "your edit started from 1")
    _one_line_error(devrel("drafts", "reject", str(draft["id"]), "--reason", " ",
                           data_dir=tmp_path), "needs a reason")
    shown_text = devrel("drafts", "show", str(draft["id"]), data_dir=tmp_path).stdout
    assert "Run kvlite unlock" in shown_text.replace("`", "") and "--revision 2" in shown_text
    unseen = devrel("drafts", "approve", str(draft["id"]), data_dir=tmp_path)
    assert unseen.returncode != 0 and "--revision" in unseen.stderr  # approval names a revision
    _one_line_error(devrel("drafts", "approve", str(draft["id"]), "--revision", "1",
                           data_dir=tmp_path), "is at revision 2, not 1")
    assert devrel("drafts", "approve", str(draft["id"]), "--revision", "2",
                  data_dir=tmp_path).returncode == 0
    _one_line_error(devrel("drafts", "publish", str(draft["id"]), data_dir=tmp_path),
                    "pasted text")  # no GitHub issue behind it: nothing to post to
    shown = json.loads(devrel("drafts", "show", str(draft["id"]), "--json",
                              data_dir=tmp_path).stdout)
    assert shown["status"] == "approved" and shown["approved_revision"] == 2
    key = devrel("keys", "create", "--name", "bot", "--role", "bot", data_dir=tmp_path)
    assert key.returncode == 0 and key.stdout.strip().splitlines()[-1].startswith("devrel_")
    _one_line_error(devrel("keys", "create", "--name", "x", "--role", "root", data_dir=tmp_path),
                    "Unknown role")


@pytest.mark.parametrize("args", [["--help"], ["model", "info"]])
def test_help_and_info(tmp_path: Path, args: list[str]) -> None:
    result = devrel(*args, data_dir=tmp_path)
    assert result.returncode == 0 and result.stdout


def test_ingest_issues_notes_status_and_search(example_dir: Path, tmp_path: Path) -> None:
    issues = devrel("ingest", "issues", str(example_dir / "issues.json"),
                    str(example_dir / "comments.json"), data_dir=tmp_path)
    assert issues.returncode == 0, issues.stderr
    assert "12 added" in issues.stdout
    notes = devrel("ingest", "notes", str(example_dir / "meeting_notes"), data_dir=tmp_path)
    assert notes.returncode == 0 and "2 added" in notes.stdout, notes.stderr
    status = json.loads(devrel("index", "status", "--json", data_dir=tmp_path).stdout)
    kinds = {row["kind"]: row for row in status["sources"]}
    assert set(kinds) == {"issue", "pull_request", "meeting_notes"}
    assert kinds["issue"]["items"] + kinds["pull_request"]["items"] == 12
    found = json.loads(devrel("search", "Windows ARM64 wheel", "--kind", "issue", "--json",
                              data_dir=tmp_path).stdout)
    assert found and all(h["kind"] == "issue" for h in found)
    assert all(h["url"].startswith("https://github.com/example-org/kvlite/issues/") for h in found)
    assert {"rrf", "bm25"} <= set(found[0]["scores"]) or {"rrf", "dense"} <= set(found[0]["scores"])
    _one_line_error(devrel("ingest", "issues", data_dir=tmp_path), "Give JSON files or --repo")
    bad = tmp_path / "bad.json"
    bad.write_text('[{"number": 1, "title": "x"')
    _one_line_error(devrel("ingest", "issues", str(bad), data_dir=tmp_path), "not valid JSON")
    _one_line_error(devrel("search", "x", "--kind", "tweet", data_dir=tmp_path), "Unknown kind")


def test_demo_ingests_every_source_and_queues_drafts(example_dir: Path, tmp_path: Path) -> None:
    first = devrel("demo", "--example", str(example_dir), "--no-serve", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "3 drafts wait for review" in first.stdout
    for what in ("docs of kvlite", "issues and PRs of kvlite", "meeting notes of kvlite"):
        assert f"{what}: " in first.stdout
    again = devrel("demo", "--example", str(example_dir), "--no-serve", data_dir=tmp_path)
    assert again.stdout.count("passages: 0 embedded") == 3 and "3 drafts wait" in again.stdout


def test_demo_ends_serving_the_api_with_drafts_waiting(example_dir: Path, tmp_path: Path) -> None:
    """The README's first command: ingest, draft, then the API with the drafts and a key."""
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DEVREL_")}
    environ.update({"DEVREL_DATA_DIR": str(tmp_path), "DEVREL_PROFILE": "test"})
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from assistant.cli import main; main()", "demo", "--example",
         str(example_dir), "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
        env=environ, cwd=ROOT)
    try:
        deadline, ready = time.monotonic() + 240, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, (tmp_path / "demo.log").read_text()
        key = (tmp_path / "demo-admin.key").read_text().strip()
        assert key in (tmp_path / "demo.log").read_text()
        drafts = httpx.get(f"http://127.0.0.1:{port}/v1/drafts?status=pending_review",
                           headers={"Authorization": f"Bearer {key}"}).json()
        assert len(drafts["items"]) == 3
        assert {d["kind"] for d in drafts["items"]} == {"triage"}
        base = f"http://127.0.0.1:{port}"
        unsigned = httpx.get(f"{base}/ui/", timeout=10)
        assert unsigned.status_code == 303 and unsigned.headers["location"].endswith("/ui-session")
        with httpx.Client(base_url=base, timeout=10) as browser:  # the printed key signs in
            signed = browser.post("/ui-session", data={"key": key}, follow_redirects=True)
            assert signed.status_code == 200 and "gradio" in signed.text.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_batch_triage_drafts_every_file_in_one_process(tmp_path: Path, example_dir: Path) -> None:
    data = tmp_path / "data"
    ingest = devrel("ingest", "docs", str(example_dir / "docs"), "--repo-path", "docs",
                    data_dir=data)
    assert ingest.returncode == 0, ingest.stderr
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name in ("161-lock-error.json", "162-windows-build.json"):
        (folder / name).write_text((example_dir / "incoming" / name).read_text())
    broken = tmp_path / "broken.json"
    broken.write_text('{"title": ')
    result = devrel("triage", "--file", str(folder), "--file", str(broken), data_dir=data,
                    DEVREL_LLM__FAKE_REPLIES='["1"]')
    assert result.returncode == 1  # one file was unusable: said, skipped, the rest drafted
    assert "broken.json" in result.stdout and "not valid JSON" in result.stdout
    assert "2 drafts wait for review; 1 files skipped" in " ".join(result.stdout.split())
    listed = json.loads(devrel("drafts", "list", "--json", data_dir=data).stdout)
    assert sorted(d["title"][:9] for d in listed) == ["LockError", "Windows 上"]
    assert {d["status"] for d in listed} == {"pending_review"}
