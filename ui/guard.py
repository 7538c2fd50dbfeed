"""What stands in front of the mounted desk (an ASGI middleware): Gradio's routes that write
files or fetch URLs are refused (no desk component takes files), the page sends a visitor
without a sign-in to the sign-in form, and activity moves the sign-in cookie's last-seen on."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import InvalidInput
from ui.session import COOKIE, DeskSessions, cookie_header

# Paths under the mount, without a trailing slash.
REFUSED = re.compile(
    r"^(/gradio_api)?/(upload|upload_progress|process_recording|run-history/connect"
    r"|vibe-edit|undo-vibe-edit|vibe-code|vibe-starter-queries)$"
    r"|^(/gradio_api)?/(proxy=|file=\s*[a-z][a-z0-9+.-]*:)", re.IGNORECASE)
ACTIVITY = re.compile(r"^(|/gradio_api/queue/join)$")  # the page, and each callback


class DeskGuard:
    """The guard of the desk mounted at ``path``."""

    def __init__(self, app: ASGIApp, *, path: str, sessions: DeskSessions) -> None:
        self.app = app
        self.path = path.rstrip("/")
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if path != self.path and not path.startswith(self.path + "/"):
            await self.app(scope, receive, send)
            return
        rest = path[len(self.path):].rstrip("/")
        if REFUSED.search(rest):
            await PlainTextResponse("The review desk takes no files.", 403)(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(COOKIE)
        if rest == "" and request.method in ("GET", "HEAD") and not await self._live(cookie):
            await RedirectResponse(f"{self.path}-session", 303)(scope, receive, send)
            return
        fresh = self.sessions.refreshed(cookie) if ACTIVITY.match(rest) else None
        if fresh is None:
            await self.app(scope, receive, send)
            return
        header = cookie_header(fresh, path=self.path, secure=request.url.scheme == "https")

        async def send_refreshed(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_refreshed)

    async def _live(self, cookie: str | None) -> bool:
        try:
            await run_in_threadpool(self.sessions.key, cookie)
        except InvalidInput:
            return False
        return True

