"""The review desk's sign-in: an HttpOnly cookie holding a signed ``{key id, issued, last
seen}``, never the key.

Two checks, both on the cookie (Gradio's session hash alone grants nothing):
- Gradio's auth dependency lets a request in only with a cookie this server signed, less than
  ``MAX_AGE_S`` old; anyone else gets 401 from every Gradio route.
- every desk callback then reads the key again (``DeskSessions.key``): a revoked key or a
  sign-in idle longer than ``api.ui_idle_s`` is refused there, with a readable message, and the
  reviewer's editor keeps what they typed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from http.cookies import SimpleCookie
from typing import Protocol

from assistant.errors import InvalidInput
from assistant.store.keys import KeyRecord, KeyStore

COOKIE = "devrel_desk"
SESSION_SECRET = "desk-session"  # the cookie-signing key's name among the server's secrets
MAX_AGE_S = 12 * 3600.0  # a sign-in lasts a working day at most, however busy
REFRESH_S = 30.0  # how often, at most, activity moves the cookie's last-seen on


class HasCookies(Protocol):
    """A request (Starlette's or Gradio's): all the desk reads of it are its cookies."""

    @property
    def cookies(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Ticket:
    """What the cookie holds, signed: the key's id and two times (epoch seconds)."""

    key_id: int
    issued: float
    seen: float


def cookie_header(value: str, *, path: str, secure: bool, max_age: float = MAX_AGE_S) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Strict, scoped to the desk's ``path``. The
    browser keeps it for the longest sign-in; the server decides when it went idle."""
    jar: SimpleCookie = SimpleCookie()
    jar[COOKIE] = value
    morsel = jar[COOKIE]
    morsel.update({"path": path, "httponly": True, "samesite": "Strict",
                   "max-age": str(max(0, int(max_age)))})
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DeskSessions:
    """Sign in with an API key, and resolve a sign-in cookie to its live key."""

    def __init__(self, keys: KeyStore, secret: bytes, idle_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self.idle_s = idle_s
        self._secret = secret
        self._clock = clock

    def sign_in(self, api_key: str) -> tuple[KeyRecord, str]:
        """The key and a new cookie value, if ``api_key`` is a live key."""
        key = self.keys.verify((api_key or "").strip())
        if key is None:
            raise InvalidInput("That API key is not valid (or was revoked).",
                               fix="create one with `devrel keys create --role reviewer`")
        now = self._clock()
        return key, self._encode(Ticket(key.id, now, now))

    def key(self, cookie: str | None) -> KeyRecord:
        """The live key a cookie signs in; InvalidInput when there is none, it went idle, or
        the key was revoked."""
        ticket = self.genuine(cookie)
        if ticket is None:
            raise InvalidInput("Not signed in (or the sign-in ended).",
                               fix="reload the page and sign in with your API key")
        if self._clock() - ticket.seen > self.idle_s:
            unused = (f"{self.idle_s / 60:.0f} minutes" if self.idle_s >= 120
                      else f"{self.idle_s:g} s")
            raise InvalidInput(f"Your sign-in expired: unused for more than {unused}.",
                               fix="copy any text you need, reload the page and sign in again")
        key = self.keys.live(ticket.key_id)
        if key is None:
            raise InvalidInput("The API key of this sign-in was revoked.",
                               fix="copy any text you need, reload the page and sign in "
                                   "with a live key")
        return key

    def of(self, request: HasCookies) -> KeyRecord:
        """The live key the request's cookie signs in."""
        return self.key(request.cookies.get(COOKIE))

    def username(self, request: HasCookies) -> str | None:
        """Gradio's auth dependency: the key id of a cookie this server signed (not too old),
        or None. The callbacks check the key itself."""
        ticket = self.genuine(request.cookies.get(COOKIE))
        return None if ticket is None else f"key {ticket.key_id}"

    def ticket(self, cookie: str | None) -> Ticket | None:
        """The cookie's ticket if it is genuine and not idle."""
        ticket = self.genuine(cookie)
        if ticket is None or self._clock() - ticket.seen > self.idle_s:
            return None
        return ticket

    def genuine(self, cookie: str | None) -> Ticket | None:
        """The cookie's ticket if this server signed it less than ``MAX_AGE_S`` ago."""
        if not cookie or len(cookie) > 300 or "." not in cookie:
            return None
        payload, _, mac = cookie.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            key_id, issued, seen = json.loads(_unb64(payload))
            ticket = Ticket(int(key_id), float(issued), float(seen))
        except (ValueError, TypeError, binascii.Error):
            return None
        return ticket if self._clock() - ticket.issued <= MAX_AGE_S else None

    def refreshed(self, cookie: str | None) -> str | None:
        """A new cookie value with last-seen now, when the ticket is valid and not fresh."""
        ticket = self.ticket(cookie)
        now = self._clock()
        if ticket is None or now - ticket.seen < REFRESH_S:
            return None
        return self._encode(replace(ticket, seen=now))

    def _encode(self, ticket: Ticket) -> str:
        payload = _b64(json.dumps([ticket.key_id, ticket.issued, ticket.seen]).encode())
        return f"{payload}.{self._mac(payload)}"

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())
