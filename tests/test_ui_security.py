"""The review desk's sign-in, uploads and escaping (issue 16): a cookie names the key's id and
is checked on every callback (a revoked key, an idle sign-in or a bare Gradio session hash gets
nothing); no file reaches the disk through Gradio's routes; and text from a draft never becomes
a live tag, link or image in the page."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt

from assistant.api.app import build_services
from assistant.context import AppContext
from assistant.errors import Forbidden, InvalidInput
from assistant.server import create_server
from assistant.settings import Settings, get_settings
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.keys import KeyStore
from ui import views
from ui.desk import Edit, ReviewDesk
from ui.readable import readable
from ui.session import COOKIE, MAX_AGE_S, DeskSessions, Ticket

BASE = "http://127.0.0.1:8000"
LOAD_QUEUE = ["pending_review", "(all)", "", "(all)"]  # the Refresh button's inputs


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


# --- the sign-in, checked on every callback ----------------------------------------------


@dataclass
class Desk:
    desk: ReviewDesk
    keys: KeyStore
    clock: Clock
    draft_id: int

    def request(self, role: str) -> tuple[int, SimpleNamespace]:
        key, secret = self.keys.create(f"a {role}", role)
        _, cookie = self.desk.sessions.sign_in(secret)
        return key.id, SimpleNamespace(cookies={COOKIE: cookie})


@pytest.fixture
def desk(settings: Settings) -> Desk:
    ctx = AppContext(settings)
    services = build_services(ctx)
    clock = Clock()
    sessions = DeskSessions(services.keys, b"s" * 32, idle_s=600, clock=clock)
    store = ctx.drafts()
    draft = store.create(kind="release_notes", project="kvlite", title="v1", input={})
    store.complete(draft.id, token=None, output={}, sources=[],
                   content=DraftContent(text="model text"), prompt_name=None,
                   prompt_version=None, model="fake")
    return Desk(ReviewDesk(services, sessions), services.keys, clock, draft.id)


def test_a_revoked_key_is_refused_at_the_next_callback_of_an_open_session(desk: Desk) -> None:
    key_id, request = desk.request("reviewer")
    opened = desk.desk.open(request, desk.draft_id)
    desk.keys.revoke(key_id)
    for callback in (lambda: desk.desk.queue(request, "(all)", "(all)", "", "(all)"),
                     lambda: desk.desk.save(request, desk.draft_id, opened.revision,
                                            Edit("changed"))):
        with pytest.raises(InvalidInput, match="revoked"):
            callback()
    assert desk.desk.store.get(desk.draft_id).revision == 1


def test_a_sign_in_expires_when_idle_and_activity_keeps_it(desk: Desk) -> None:
    _, request = desk.request("reviewer")
    cookie = request.cookies[COOKIE]
    desk.clock.now += 500
    fresh = desk.desk.sessions.refreshed(cookie)  # what the guard sends back on activity
    assert fresh is not None and fresh != cookie
    desk.clock.now += 200  # 700 s after sign-in, 200 s after the last activity
    with pytest.raises(InvalidInput, match="expired: unused for more than 10 minutes"):
        desk.desk.queue(request, "(all)", "(all)", "", "(all)")
    active = SimpleNamespace(cookies={COOKIE: fresh})
    assert desk.desk.queue(active, "(all)", "(all)", "", "(all)")[0]
    desk.clock.now += 601
    with pytest.raises(InvalidInput, match="expired"):
        desk.desk.queue(active, "(all)", "(all)", "", "(all)")


def test_no_sign_in_outlives_its_maximum_age(desk: Desk) -> None:
    _, request = desk.request("reviewer")
    cookie = request.cookies[COOKIE]
    while desk.clock.now < 1_800_000_000.0 + MAX_AGE_S - 300:
        desk.clock.now += 300
        cookie = desk.desk.sessions.refreshed(cookie) or cookie
    assert desk.desk.sessions.username(SimpleNamespace(cookies={COOKIE: cookie}))
    desk.clock.now += 400
    assert desk.desk.sessions.username(SimpleNamespace(cookies={COOKIE: cookie})) is None
    with pytest.raises(InvalidInput, match="Not signed in"):
        desk.desk.sessions.key(cookie)


def test_a_forged_or_altered_cookie_grants_nothing(desk: Desk) -> None:
    _, request = desk.request("reviewer")
    cookie = request.cookies[COOKIE]
    payload, _, mac = cookie.partition(".")
    forger = DeskSessions(desk.keys, b"guessed" * 5, idle_s=600, clock=desk.clock)
    admin_id = desk.keys.create("root", "admin")[0].id
    forged = forger._encode(Ticket(admin_id, desk.clock.now, desk.clock.now))
    for bad in (forged, f"{payload}.{mac[:-2]}xx", f"{payload}x.{mac}", "", "garbage",
                "a" * 5000):
        with pytest.raises(InvalidInput, match="Not signed in"):
            desk.desk.queue(SimpleNamespace(cookies={COOKIE: bad}), "(all)", "(all)", "", "(all)")


def test_each_callback_checks_the_role_of_the_live_key(desk: Desk) -> None:
    _, bot = desk.request("bot")
    assert desk.desk.open(bot, desk.draft_id).text == "model text"
    with pytest.raises(Forbidden, match="needs a reviewer key"):
        desk.desk.save(bot, desk.draft_id, 1, Edit("changed"))
    with pytest.raises(InvalidInput, match="Not signed in"):
        desk.desk.open(SimpleNamespace(cookies={}), desk.draft_id)


# --- the same over HTTP: the sign-in page, the cookie, Gradio's routes ---------------------


@dataclass
class Server:
    client: TestClient
    ctx: AppContext
    keys: KeyStore
    reviewer: str
    reviewer_id: int

    def browser(self) -> TestClient:
        """Another browser on the same server: no cookie."""
        return TestClient(self.client.app, base_url=BASE)

    def sign_in(self, client: TestClient | None = None) -> TestClient:
        client = client or self.client
        response = client.post("/ui-session", data={"key": self.reviewer},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        return client


def _server(data_dir: Path, monkeypatch: pytest.MonkeyPatch, **api: object) -> Iterator[Server]:
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)  # mount_ui sets it; undone after
    ctx = AppContext(get_settings(profile="test", data_dir=data_dir, api=api))
    keys = KeyStore(ctx.drafts().engine)
    key, secret = keys.create("mia", "reviewer")
    with TestClient(create_server(ctx), base_url=BASE) as client:
        yield Server(client, ctx, keys, secret, key.id)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    yield from _server(tmp_path / "data", monkeypatch)


def _fn_index(server: Server, fn: str) -> int:
    """The index of the desk's callback ``fn`` in the page's config (read signed in)."""
    config = server.sign_in(server.browser()).get("/ui/config").json()
    return next(i for i, d in enumerate(config["dependencies"]) if d["api_name"] == fn)


@dataclass
class Called:
    """What the page sees of a callback: the HTTP status of joining the queue and, when it was
    let in, the callback's outputs or the message it failed with."""

    status: int
    outputs: list | None = None
    error: str | None = None


def _callback(client: TestClient, fn_index: int, data: list, session: str = "tab-1") -> Called:
    """Run the desk's callback ``fn_index`` as the page does (join the queue, read the
    events)."""
    joined = client.post("/ui/gradio_api/queue/join", json={
        "data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
        "trigger_id": None})
    if joined.status_code != 200:
        return Called(joined.status_code)
    called = Called(200)
    with client.stream("GET", f"/ui/gradio_api/queue/data?session_hash={session}") as events:
        for line in events.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                output = message["output"]
                called.outputs, called.error = output.get("data"), output.get("error")
            if message.get("msg") == "close_stream":
                break
    return called


def test_sign_in_sets_an_http_only_cookie_and_survives_a_reload(server: Server) -> None:
    client = server.client
    first = client.get("/ui/", follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (303, "/ui-session")
    form = client.get("/ui-session")
    assert form.status_code == 200 and 'name="key" type="password"' in form.text
    wrong = client.post("/ui-session", data={"key": "devrel_not-a-key"}, follow_redirects=False)
    assert wrong.status_code == 200 and "not valid" in wrong.text and COOKIE not in wrong.cookies
    assert "set-cookie" not in wrong.headers

    signed = client.post("/ui-session", data={"key": server.reviewer}, follow_redirects=False)
    assert (signed.status_code, signed.headers["location"]) == (303, "/ui/")
    set_cookie = signed.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE}=") and server.reviewer not in set_cookie
    attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "SameSite=Strict" in set_cookie and "Path=/ui" in set_cookie

    for _ in range(2):  # a reload keeps the sign-in
        page = client.get("/ui/", follow_redirects=False)
        assert page.status_code == 200 and server.reviewer not in page.text
        assert _callback(client, _fn_index(server, "signed_in"), []).outputs == [
            "Signed in as **mia** (reviewer)"]
    assert server.reviewer not in str(client.cookies.jar)


def test_a_session_hash_alone_or_a_revoked_key_gets_nothing(server: Server) -> None:
    client, load = server.sign_in(), _fn_index(server, "load")
    assert _callback(client, load, LOAD_QUEUE, session="mias-tab").outputs == [
        {"headers": views.QUEUE_COLUMNS, "data": [], "metadata": None}, "The queue is empty."]

    stranger = server.browser()  # knows mia's session hash (from a URL or a proxy log)
    assert _callback(stranger, load, LOAD_QUEUE, session="mias-tab") == Called(401)
    events = stranger.get("/ui/gradio_api/queue/data", params={"session_hash": "mias-tab"})
    assert events.status_code == 401
    assert stranger.get("/ui/", follow_redirects=False).status_code == 303
    forged = server.browser()
    forged.cookies.set(COOKIE, client.cookies[COOKIE][:-4] + "AAAA", path="/ui")
    assert _callback(forged, load, LOAD_QUEUE, session="mias-tab") == Called(401)

    server.keys.revoke(server.reviewer_id)  # mia's page is still open: her next click
    refused = _callback(client, load, LOAD_QUEUE, session="mias-tab")
    assert refused.outputs is None and "was revoked" in refused.error
    assert client.get("/ui/", follow_redirects=False).headers["location"] == "/ui-session"


def test_an_idle_sign_in_expires_over_http(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for server in _server(tmp_path / "data", monkeypatch, ui_idle_s=1.0):
        client, load = server.sign_in(), _fn_index(server, "load")
        assert _callback(client, load, LOAD_QUEUE).error is None
        time.sleep(1.3)
        refused = _callback(client, load, LOAD_QUEUE)
        assert refused.outputs is None and "sign-in expired" in refused.error
        assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_sign_out_clears_the_cookie_and_other_sites_cannot_post(server: Server) -> None:
    client = server.sign_in()
    assert client.get("/ui/", follow_redirects=False).status_code == 200
    elsewhere = {"Origin": "http://evil.example"}
    assert client.post("/ui-session/sign-out", headers=elsewhere,
                       follow_redirects=False).status_code == 403
    assert client.post("/ui-session", data={"key": server.reviewer}, headers=elsewhere,
                       follow_redirects=False).status_code == 403
    out = client.post("/ui-session/sign-out", headers={"Origin": BASE}, follow_redirects=False)
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_uploads_are_refused_and_nothing_is_written(server: Server) -> None:
    cache = server.ctx.settings.data_dir / "ui-cache"
    assert os.environ["GRADIO_TEMP_DIR"] == str(cache)
    files = {"files": ("x.html", b"<script>alert(1)</script>", "text/html")}
    signed_in = server.sign_in(server.browser())
    for client in (server.browser(), signed_in):
        for path in ("/ui/gradio_api/upload", "/ui/gradio_api/upload/", "/ui/upload",
                     "/ui/gradio_api/upload?upload_id=abc"):
            response = client.post(path, files=files)
            assert response.status_code == 403, (path, response.status_code)
        for path in ("/ui/gradio_api/file=http://127.0.0.1:9/x.png",
                     "/ui/gradio_api/proxy=http://127.0.0.1:9/x"):
            assert client.get(path).status_code == 403
    assert _files(cache) == []


def test_gradio_cache_is_in_the_data_dir_and_emptied_at_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "data" / "ui-cache" / "abc" / "left-behind.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("<script></script>")
    for server in _server(tmp_path / "data", monkeypatch):
        assert not stale.exists() and _files(server.ctx.settings.data_dir / "ui-cache") == []


# --- escaping: nothing from a draft becomes markup -------------------------------------------

HOSTILE = ["<img src=x onerror=alert(1)>", "javascript:alert(1)",
           "![](http://tracker.example/p.png)", "[click](javascript:alert(1))", "<script>alert(1)</script>",
           "$$\\href{javascript:alert(1)}{x}$$", "&lt;img src=x&gt;"]


class Tags(HTMLParser):
    """The tags and attributes an HTML page holds."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _rendered(markdown: str) -> list[tuple[str, dict[str, str | None]]]:
    """The tags Markdown renders to (raw HTML and any link allowed: the desk's escaping must
    hold without help from the renderer)."""
    renderer = MarkdownIt("commonmark", {"html": True})
    renderer.validateLink = lambda url: True  # no renderer's own filter hides a bad link
    parser = Tags()
    parser.feed(renderer.render(markdown))
    return parser.tags


def _assert_inert(markdown: str) -> None:
    tags = _rendered(markdown)
    assert not [t for t, _ in tags if t in ("img", "script", "iframe", "svg", "object")], tags
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")], tags
    hrefs = [attrs.get("href") or "" for t, attrs in tags if t == "a"]
    assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs


def _record(**fields: object) -> DraftRecord:
    base = dict(id=3, kind="triage", project="kvlite", status="pending_review", title="t",
                language="en", input={}, output={}, sources=[], prompt_name=None,
                prompt_version=None, model=None, confidence=0.5, error=None, revision=1,
                created_at=datetime.now(UTC), updated_at=datetime.now(UTC))
    return DraftRecord(**(base | fields))


@pytest.mark.parametrize("evil", HOSTILE)
def test_a_hostile_repo_and_source_render_as_text(evil: str) -> None:
    record = _record(
        input={"repo": f"o/{evil}", "number": 7, "title": evil, "author": evil},
        output={"summary_en": evil, "missing": [evil], "reply_needed": False,
                "no_reply_reason": evil},
        sources=[{"title": evil, "url": evil, "score": 0.5, "passage": evil},
                 {"title": "ok", "url": f"https://docs.example/a) {evil}", "score": 0.4},
                 {"title": "ok", "url": f"https://docs.example/{evil}", "score": 0.3}],
        model=evil, error=evil, reject_reason=evil, published_url=evil)
    for markdown in (views.input_header(record), views.draft_meta(record),
                     views.sources_markdown(record), views.diff_markdown("a", evil)):
        _assert_inert(markdown)


def test_a_plain_source_url_stays_a_link() -> None:
    record = _record(sources=[{"title": "Locking [docs]", "url": "https://docs.example/lock#x",
                               "score": 0.5, "passage": "p"}])
    links = [(attrs["href"]) for tag, attrs in _rendered(views.sources_markdown(record))
             if tag == "a"]
    assert links == ["https://docs.example/lock#x"]
    assert "Locking [docs]" in MarkdownIt().render(views.sources_markdown(record))


def test_an_error_message_shows_as_text() -> None:
    @readable
    def fails() -> None:
        raise InvalidInput(f"Bad title {HOSTILE[0]}", fix="retry")

    with pytest.raises(Exception) as shown:
        fails()
    message = shown.value.message
    assert "<img" not in message and "&lt;img src=x onerror=alert(1)&gt;" in message


def test_the_desk_renders_no_latex_in_what_it_shows(server: Server) -> None:
    config = server.client.get("/ui/config")
    assert config.status_code == 401  # the layout too needs a sign-in
    server.sign_in()
    components = server.client.get("/ui/config").json()["components"]
    shown = {c["props"].get("elem_id"): c["props"] for c in components
             if c["type"] == "markdown" and c["props"].get("elem_id")}
    assert {"who", "counts", "input-header", "draft-meta", "sources", "diff",
            "index-head", "sync-note"} <= set(shown)
    assert all(props["latex_delimiters"] == [] for props in shown.values())
