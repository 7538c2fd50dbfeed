"""The desk's sign-in page beside the mount (``/ui-session``): a form that takes an API key in
the body of a POST, sets the sign-in cookie and opens the desk; and a sign-out that clears it.
The key never appears in a URL, the page or a log."""

from __future__ import annotations

import html
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from assistant.errors import InvalidInput
from ui.session import MAX_AGE_S, DeskSessions, cookie_header

log = logging.getLogger(__name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>devrel-assistant · sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; }}
input, button {{ font: inherit; padding: .5rem; }} input {{ width: 100%; box-sizing: border-box; }}
#message {{ color: #b00020; }}
</style></head>
<body><h2>devrel-assistant · review desk</h2>
<p id="message" role="alert">{message}</p>
<form method="post" action="{action}">
<label for="key">API key</label>
<p><input id="key" name="key" type="password" autocomplete="current-password"
  placeholder="devrel_…" required autofocus></p>
<p><button id="sign-in-btn" type="submit">Sign in</button></p>
</form>
<p><a href="{desk}/">Open the desk</a> (when this browser is signed in already)</p>
</body></html>"""
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                      "form-action 'self'; frame-ancestors 'none'"}


def _same_origin(request: Request) -> bool:
    """A POST sent by a page of this server (browsers name the page's origin)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def signin_router(sessions: DeskSessions, desk: str) -> APIRouter:
    """The sign-in and sign-out routes of the desk mounted at ``desk``."""
    desk = desk.rstrip("/")
    page = f"{desk}-session"
    router = APIRouter(include_in_schema=False)

    def form(message: str = "", status: int = 200) -> HTMLResponse:
        body = PAGE.format(message=html.escape(message), action=page, desk=desk)
        return HTMLResponse(body, status, headers=HEADERS)

    def cookie(request: Request, value: str, max_age: float = MAX_AGE_S) -> str:
        return cookie_header(value, path=desk, secure=request.url.scheme == "https",
                             max_age=max_age)

    @router.get(page)
    def sign_in_page() -> HTMLResponse:
        return form()

    @router.post(page)
    async def sign_in(request: Request) -> Response:
        if not _same_origin(request):
            return form("Sign in from this server's own page.", 403)
        secret = (await request.form()).get("key")
        try:
            key, value = await run_in_threadpool(
                sessions.sign_in, secret if isinstance(secret, str) else "")
        except InvalidInput as exc:  # the form again, with the reason (not an error page)
            return form(str(exc))
        log.info("review desk: key %s (%s) signed in", key.id, key.name)
        response = RedirectResponse(f"{desk}/", 303, headers=HEADERS)
        response.headers.append("set-cookie", cookie(request, value))
        return response

    @router.post(f"{page}/sign-out")
    def sign_out(request: Request) -> Response:
        if not _same_origin(request):
            return form("Sign out from this server's own page.", 403)
        response = RedirectResponse(page, 303, headers=HEADERS)
        response.headers.append("set-cookie", cookie(request, "", 0))
        return response

    return router
