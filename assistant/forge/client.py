"""A small GitHub REST client for issue sync and publishing: pagination, ``since=``, rate limits,
retries.

Rate limits are waited out, never skipped: on a primary limit (remaining 0) it
sleeps until the reset time, on a secondary limit it honours ``retry-after`` (or
waits a minute, then longer). Server errors and dropped connections are retried
with backoff. The total wait is capped by ``github.max_wait_s``; past it the run
stops with an error, and the next run resumes from the last synced page.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from assistant.errors import ConfigError, ForgeError, InvalidInput, ProviderUnavailable
from assistant.settings import GitHubSettings

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# git check-ref-format's rules, and nothing a URL path would read as structure.
_BAD_REF = re.compile(r"\.\.|//|@\{|[\x00-\x20\x7f~^:?*\[\\#%]|^[/.-]|[/.]$|\.lock(?:/|$)|/\.")
RETRIES = 5
KEEPALIVE_S = 10.0  # a held lease is renewed at least this often while waiting

Wait = Callable[[float, str], None]
Fetch = Callable[[str, dict[str, Any] | None], httpx.Response]


def check_repo(repo: str) -> str:
    """An ``owner/name`` or a clear error (``.`` and ``..`` are path steps, not names)."""
    if not _REPO.match(repo or "") or any(part in (".", "..") for part in repo.split("/")):
        raise InvalidInput(f"{repo!r} is not a GitHub repository name.", fix="use OWNER/NAME")
    return repo


def ref_path(ref: str) -> str:
    """A git ref (tag, branch, SHA) made safe to put in a URL path, or a clear error."""
    if not ref or len(ref) > 250 or _BAD_REF.search(ref):
        raise InvalidInput(f"{ref!r} is not a git ref.",
                           fix="use a tag, branch or commit SHA (e.g. v1.2.0)")
    return quote(ref, safe="/")


@dataclass(frozen=True)
class Hold:
    """A lease the caller holds while it writes (a publish): ``renew`` extends it or raises when
    it is lost; it runs before every attempt and during waits. A single wait longer than
    ``max_wait_s`` stops the call instead of outliving the lease."""

    renew: Callable[[], None]
    max_wait_s: float


class GitHubClient:
    """Calls to the GitHub REST API (or anything serving its shapes). Transient failures are
    retried after ``backoff_s``, doubled each time."""

    def __init__(
        self,
        settings: GitHubSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Wait | None = None,
        transport: httpx.BaseTransport | None = None,
        backoff_s: float = 1.0,
    ) -> None:
        token = settings.token.get_secret_value() if settings.token else os.environ.get(
            "GITHUB_TOKEN", "")
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "devrel-assistant",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.authenticated = bool(token)
        self._http = httpx.Client(
            base_url=settings.api_url.rstrip("/"), headers=headers, timeout=settings.timeout_s,
            transport=transport, follow_redirects=True,
        )
        self._sleep = sleep
        self._on_wait = on_wait
        self._max_wait = settings.max_wait_s
        self._backoff = backoff_s
        self.waited = 0.0
        self.requests = 0

    def close(self) -> None:
        self._http.close()

    def _wait(self, seconds: float, why: str, hold: Hold | None = None) -> None:
        seconds = max(0.0, seconds)
        if hold is not None and seconds > hold.max_wait_s:
            raise ProviderUnavailable(
                f"GitHub asked to wait {seconds:.0f}s ({why}), longer than a publish may hold "
                f"its lease ({hold.max_wait_s:.0f}s); nothing more was sent.",
                fix="publish again later: what was posted is found, not posted twice",
            )
        if self.waited + seconds > self._max_wait:
            raise ProviderUnavailable(
                f"GitHub asked to wait {seconds:.0f}s more ({why}), past the "
                f"{self._max_wait:.0f}s limit; everything synced so far is kept.",
                fix="run the same command again later: it resumes where it stopped",
            )
        if self._on_wait:
            self._on_wait(seconds, why)
        self.waited += seconds
        if hold is None:
            self._sleep(seconds)
            return
        while seconds > 0:  # in slices, renewing the lease between them
            step = min(seconds, KEEPALIVE_S)
            self._sleep(step)
            seconds -= step
            hold.renew()

    def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET with rate-limit waits and retries; raises a one-line error for fatal answers."""
        response = self._send("GET", url, params=params)
        status = response.status_code
        if status == 401:
            raise ConfigError(
                "GitHub rejected the token (401).",
                fix="set a valid DEVREL_GITHUB__TOKEN or GITHUB_TOKEN",
            )
        if status == 404:
            raise InvalidInput(
                f"GitHub has no {url} (404): wrong repository, or a private one without "
                "access.", fix="check OWNER/NAME and the token's scopes",
            )
        if status >= 400:
            raise ProviderUnavailable(
                f"GitHub answered {status} for {url}: {response.text[:200]}",
                fix="check the repository and the token",
            )
        return response

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        *,
        json: Any = None,
        retries: int = RETRIES,
        before_retry: Callable[[], None] | None = None,
        hold: Hold | None = None,
    ) -> httpx.Response:
        """Any call, with the rate-limit waits and retries of ``get``; a fatal answer raises a
        ForgeError naming the status, GitHub's message and the fix.

        ``before_retry`` runs before each retry after any wait (a failure the server may have
        acted on, or a rate limit during which another writer may have acted): a write that is
        not idempotent checks there whether it took effect, and raises to stop. ``hold`` is
        renewed before every attempt and while waiting.
        """
        response = self._send(method, url, params=params, json=json, retries=retries,
                              before_retry=before_retry, hold=hold)
        if response.status_code >= 400:
            raise forge_error(method, url, response)
        return response

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retries: int = RETRIES,
        before_retry: Callable[[], None] | None = None,
        hold: Hold | None = None,
    ) -> httpx.Response:
        """The answer once it is neither a rate limit nor a transient failure."""
        backoff = self._backoff
        secondary = 60.0
        attempt = 0
        waited = False
        while True:
            if waited and before_retry:
                before_retry()
            waited = True  # every pass after this one follows a wait
            if hold is not None:
                hold.renew()
            try:
                self.requests += 1
                response = self._http.request(method, url, params=params, json=json)
            except httpx.TransportError as exc:
                attempt += 1
                if attempt > retries:
                    raise ProviderUnavailable(
                        f"Cannot reach {self._http.base_url}: {type(exc).__name__}.",
                        fix="check the network or github.api_url",
                    ) from None
                self._wait(backoff, f"connection failed: {type(exc).__name__}", hold)
                backoff *= 2
                continue
            status = response.status_code
            headers = response.headers
            if status in (403, 429) and (
                headers.get("retry-after") or headers.get("x-ratelimit-remaining") == "0"
                or status == 429 or "rate limit" in response.text.lower()
            ):
                if headers.get("retry-after"):
                    self._wait(_seconds(headers["retry-after"], 60.0), "secondary rate limit",
                               hold)
                elif headers.get("x-ratelimit-remaining") == "0":
                    reset = _seconds(headers.get("x-ratelimit-reset"), time.time() + 60)
                    self._wait(reset - time.time() + 1, "rate limit reached, waiting for reset",
                               hold)
                else:
                    self._wait(secondary, "secondary rate limit", hold)
                    secondary *= 2
                continue
            if status >= 500:
                attempt += 1
                if attempt > retries:
                    raise ProviderUnavailable(
                        f"GitHub keeps answering {status}.", fix="try again later"
                    )
                self._wait(backoff, f"server error {status}", hold)
                backoff *= 2
                continue
            return response

    def paginate(
        self, url: str, params: dict[str, Any] | None = None, *, fetch: Fetch | None = None,
    ) -> Iterator[list[Any]]:
        """Each page of a list endpoint, following ``Link: rel="next"`` (``fetch``: how to GET
        a page, ``get`` by default)."""
        next_url: str | None = url
        while next_url:
            response = (fetch or self.get)(next_url, params)
            params = None  # the next link carries them
            page = response.json()
            if not isinstance(page, list):
                raise ProviderUnavailable(
                    f"GitHub answered {url} with a {type(page).__name__}, not a list.",
                    fix="check github.api_url",
                )
            yield page
            match = _NEXT.search(response.headers.get("link", ""))
            next_url = match.group(1) if match else None

    def issue_pages(self, repo: str, since: str | None) -> Iterator[list[dict[str, Any]]]:
        """Pages of issues and PRs updated at or after ``since``, oldest update first."""
        params: dict[str, Any] = {
            "state": "all", "sort": "updated", "direction": "asc", "per_page": 100,
        }
        if since:
            params["since"] = since
        yield from self.paginate(f"/repos/{check_repo(repo)}/issues", params)

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """All comments of one issue or PR, oldest first."""
        url = f"/repos/{check_repo(repo)}/issues/{number}/comments"
        return [c for page in self.paginate(url, {"per_page": 100}) for c in page]


def _seconds(value: str | None, default: float) -> float:
    """A header's number of seconds (a malformed one counts as ``default``)."""
    try:
        number = float(value) if value is not None else default
    except ValueError:
        return default
    return number if number == number and abs(number) < 1e10 else default  # NaN, inf


def github_message(response: httpx.Response) -> str:
    """GitHub's own words for a failed call: its ``message`` and any validation errors."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if not isinstance(data, dict):
        return str(data)[:200]
    parts = [str(data.get("message") or response.reason_phrase)]
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            parts.append(str(error.get("message") or " ".join(
                str(error[k]) for k in ("resource", "field", "code") if error.get(k))))
        else:
            parts.append(str(error))
    return "; ".join(p for p in parts if p)[:300]


def forge_error(method: str, url: str, response: httpx.Response) -> ForgeError:
    """A ForgeError for a fatal answer, with the fix for its status."""
    status = response.status_code
    if status in (401, 403):
        fix = "set DEVREL_GITHUB__TOKEN (or GITHUB_TOKEN) to a token that can write issues"
    elif status in (404, 410):
        fix = "check the repository and issue number (and that the token can see the repository)"
    elif status == 422:
        fix = "change what GitHub's validation rejected"
    else:
        fix = "check the repository, the issue number and the token"
    return ForgeError(f"GitHub answered {status} to {method} {url}: {github_message(response)}.",
                      fix=fix)
