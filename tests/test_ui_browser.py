"""The review desk as a person uses it: `devrel serve` in its own process, Debian's Chromium
driven by Playwright. Sign in on the sign-in page, open a pending triage draft, untick a label,
edit the reply, approve, and see the new state through the API; create drafts; read the index;
reload (still signed in), sign out. Screenshots of each page go to ``test-artifacts/ui/``; a
browser console error, a failed request or a request leaving the machine fails the test."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.context import AppContext
from assistant.drafting.engine import draft_now
from assistant.forge.shapes import IssueInput
from assistant.settings import get_settings
from assistant.store.keys import KeyStore
from assistant.store.models import DraftKind
from tests.conftest import REQUIRE_SERVICES, ROOT
from tests.procs import Procs, devrel_env, free_port, wait_http

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]
ARTIFACTS = Path(os.environ.get("DEVREL_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "ui"
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)[:/]|^(data|blob|about):")
ISSUE = IssueInput(
    title="database is locked after a crash",
    body="kvlite 0.4.1 on Linux: after kill -9 every open() fails with 'database is locked'. "
         "Steps: open, kill -9, open again. <img src=https://tracker.example/p.png>",
    author="alice", repo="example-org/kvlite", number=7)
EDITED = "Thanks @alice! A stale LOCK file is left behind; run `kvlite unlock` once."


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and DEVREL_REQUIRE_SERVICES=1")
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def desk(triage_data_dir: Path, tmp_path: Path) -> Iterator[dict[str, object]]:
    """`devrel serve` (API, UI and a worker) over the example index with one draft waiting."""
    data_dir = tmp_path / "data"
    shutil.copytree(triage_data_dir, data_dir)
    ctx = AppContext(get_settings(profile="test", data_dir=data_dir))
    draft = draft_now(ctx, DraftKind.TRIAGE, ISSUE)
    keys = KeyStore(ctx.drafts().engine)
    reviewer = keys.create("mia", "reviewer")[1]
    bot = keys.create("checker", "bot")[1]
    ctx.drafts().engine.dispose()
    port = free_port()
    with Procs(tmp_path / "logs") as procs:
        server = procs.devrel("serve", "serve", "--port", str(port),
                              env=devrel_env(DEVREL_DATA_DIR=str(data_dir)))
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/readyz", timeout=90, watch=[server])
        yield {"base": base, "draft": draft, "reviewer": reviewer, "bot": bot,
               "data_dir": data_dir}


class Watch:
    """Console errors, failed requests and requests that would leave the machine."""

    def __init__(self, page: object) -> None:
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(
            f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"{r.status} {r.url}"))
        page.on("requestfailed", self._failed)
        page.on("request", lambda r: LOCAL.match(r.url) or self.problems.append(
            f"left the machine: {r.url}"))

    def _failed(self, request: object) -> None:
        # Gradio's client aborts its event stream when nothing is pending: not an error.
        if request.failure == "net::ERR_ABORTED" and re.search(
                r"/gradio_api/(queue/data|heartbeat/)", request.url):
            return
        self.problems.append(f"failed: {request.method} {request.url}: {request.failure}")


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _field(page: object, elem_id: str) -> object:
    """A text field by its Gradio elem_id (one line renders as input or textarea)."""
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def _toast(page: object) -> object:
    return page.locator('[data-testid="toast-body"]')


def test_review_a_draft_in_the_browser(browser: object, desk: dict) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{desk['base']}/ui/")  # not signed in: the sign-in page
    expect(page.locator("#sign-in-btn")).to_be_visible(timeout=30_000)
    assert page.url == f"{desk['base']}/ui-session"
    _shot(page, "1-sign-in")

    page.locator("#key").fill("devrel_not-a-key")
    page.locator("#sign-in-btn").click()
    expect(page.locator("#message")).to_contain_text("not valid", timeout=10_000)
    expect(page.locator("body")).not_to_contain_text("Traceback")

    page.locator("#key").fill(desk["reviewer"])
    page.locator("#sign-in-btn").click()
    expect(page.locator("#who")).to_contain_text("Signed in as mia", timeout=30_000)
    assert desk["reviewer"] not in page.url and page.url == f"{desk['base']}/ui/"
    title_cell = page.locator('#queue-table [data-testid="cell-0-7"]')
    expect(title_cell).to_contain_text("database is locked", timeout=10_000)
    expect(page.locator("#counts")).to_contain_text("1 pending review")
    _shot(page, "2-queue")

    title_cell.click()
    reply = page.locator("#reply textarea")
    expect(reply).not_to_have_value("", timeout=10_000)
    body = page.locator("#input-body textarea")
    expect(body).to_have_value(re.compile("tracker.example"))  # shown as text, never loaded
    bug = page.locator("#labels").get_by_role("checkbox", name=re.compile(r"^bug \("))
    expect(bug).to_be_checked()
    expect(page.locator("#sources")).to_contain_text("score")
    bug.uncheck()
    reply.fill(EDITED)
    expect(page.locator("#diff")).to_contain_text("kvlite unlock", timeout=10_000)
    _shot(page, "3-review-edited")

    page.locator("#approve-btn").click()
    expect(page.locator("#draft-meta")).to_contain_text("approved", timeout=10_000)
    _shot(page, "4-approved")

    api = httpx.Client(base_url=desk["base"], headers={"X-API-Key": desk["bot"]})
    stored = api.get(f"/v1/drafts/{desk['draft'].id}").json()
    assert stored["status"] == "approved" and stored["approved_revision"] == 2
    assert stored["content"]["text"] == EDITED and "bug" not in stored["content"]["labels"]
    audit = api.get(f"/v1/drafts/{desk['draft'].id}/audit").json()
    assert [a["actor"] for a in audit if a["action"] in ("edited", "approved")] == [
        "mia (key 1, ui)"] * 2

    page.locator("#draft-meta").click()  # focus off the text fields: shortcuts apply
    page.keyboard.press("n")
    expect(_toast(page).first).to_contain_text("No draft waits for review", timeout=10_000)
    page.locator('[data-testid="toast-close"]').first.click()

    page.get_by_role("tab", name="Create").click()
    page.get_by_role("tab", name="Release notes").click()
    _field(page, "rn-version").fill("v0.5.0")
    page.locator("#rn-changes textarea").fill("fix: stale LOCK files after a crash")
    page.locator("#rn-btn").click()
    expect(page.locator("#progress textarea")).to_have_value(
        "Draft #2 waits for review in the queue.", timeout=60_000)
    page.get_by_role("tab", name="Newcomer guide").click()
    _field(page, "guide-interest").fill("docs")
    page.locator("#guide-btn").click()
    expect(page.locator("#progress textarea")).to_have_value(
        "Draft #3 waits for review in the queue.", timeout=60_000)
    page.get_by_role("tab", name="Triage").click()
    _field(page, "triage-title").fill("压缩后文件没有变小")
    page.locator("#triage-body textarea").fill("运行 compact 之后报错，数据库文件大小没有变化。")
    page.locator("#triage-btn").click()
    expect(page.locator("#progress textarea")).to_have_value(
        "Draft #4 waits for review in the queue.", timeout=60_000)
    _shot(page, "5-create")
    drafts = api.get("/v1/drafts", params={"status": "pending_review"}).json()["items"]
    assert [(d["language"], d["title"]) for d in drafts] == [
        ("zh", "压缩后文件没有变小"), ("en", "Newcomer guide (en): docs"),
        ("en", "Release notes v0.5.0")]

    page.get_by_role("tab", name="Queue").click()
    page.locator("#refresh-btn").click()
    zh_cell = page.locator('#queue-table [data-testid="cell-0-7"]')
    expect(zh_cell).to_contain_text("压缩后文件没有变小", timeout=10_000)
    zh_cell.click()  # a Chinese draft: the reply and its English side by side
    expect(page.locator("#reply textarea")).not_to_have_value("", timeout=10_000)
    expect(page.locator("#translation textarea")).to_be_visible()
    expect(page.locator("#draft-meta")).to_contain_text("Summary (EN)")
    _shot(page, "6-review-bilingual")

    # Someone else saves an edit while the draft is open here: saving says so, keeps both.
    reviewer = httpx.Client(base_url=desk["base"], headers={"X-API-Key": desk["reviewer"]})
    theirs = reviewer.post("/v1/drafts/4/edit", json={"content": {"text": "他们的修改"},
                                                      "base_revision": 1})
    assert theirs.status_code == 200 and theirs.json()["revision"] == 2
    page.locator("#reply textarea").fill("我的修改")
    page.locator("#save-btn").click()
    expect(_toast(page).first).to_contain_text("still in the editor", timeout=10_000)
    expect(page.locator("#reply textarea")).to_have_value("我的修改")
    assert api.get("/v1/drafts/4").json()["content"]["text"] == "他们的修改"
    page.locator('[data-testid="toast-close"]').first.click()

    other = browser.new_context()  # another browser: not signed in, so not in the desk
    stranger = other.new_page()
    stranger.goto(f"{desk['base']}/ui/")
    expect(stranger.locator("#sign-in-btn")).to_be_visible(timeout=30_000)
    expect(stranger.locator("body")).not_to_contain_text("database is locked")
    other.close()

    page.get_by_role("tab", name="Index").click()
    page.locator("#index-refresh-btn").click()
    expect(page.locator("#index-head")).to_contain_text("passages", timeout=10_000)
    expect(page.locator("#index-table")).to_contain_text("doc")
    page.locator("#sync-btn").click()  # a reviewer key may not re-sync
    expect(_toast(page).first).to_contain_text("needs a admin key", timeout=10_000)
    _shot(page, "7-index")

    page.reload()  # the sign-in survives a reload (an HttpOnly cookie, not the URL)
    expect(page.locator("#who")).to_contain_text("Signed in as mia", timeout=30_000)
    expect(page.locator('#queue-table [data-testid="cell-0-7"]')).to_contain_text(
        "压缩后文件没有变小", timeout=10_000)
    cookies = context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        ("devrel_desk", True, "Strict")]
    assert desk["reviewer"] not in str(cookies)

    engine = AppContext(get_settings(profile="test", data_dir=desk["data_dir"])).drafts().engine
    KeyStore(engine).revoke(1)  # mia's key, while her page is open: her next click is refused
    engine.dispose()
    page.locator("#refresh-btn").click()
    expect(_toast(page).first).to_contain_text("was revoked", timeout=10_000)

    page.locator("#sign-out-btn").click()
    expect(page.locator("#sign-in-btn")).to_be_visible(timeout=30_000)
    assert context.cookies() == []
    page.goto(f"{desk['base']}/ui/")
    expect(page.locator("#sign-in-btn")).to_be_visible(timeout=30_000)

    context.close()
    assert watch.problems == []
