"""A small REST client shared by the Gitee and GitLab forges: retries with backoff on server
errors and dropped connections, rate limits waited out (``Retry-After``, ``RateLimit-Reset``)
up to a total wait, clear errors for the rest."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from assistant.errors import (
    ConfigError,
    DevrelError,
    ForgeError,
    InvalidInput,
    ProviderUnavailable,
)
from assistant.forge.client import GitHubClient, Hold
from assistant.forge.github import PublishedComment

RETRIES = 4
Wait = Callable[[float, str], None]


class RestClient:
    """JSON over HTTP to one forge's API; ``name`` is used in messages (Gitee, GitLab)."""

    def __init__(self, name: str, base_url: str, *, headers: dict[str, str],
                 params: dict[str, str] | None = None, timeout_s: float = 30.0,
                 max_wait_s: float = 900.0, sleep: Callable[[float], None] = time.sleep,
                 on_wait: Wait | None = None, transport: httpx.BaseTransport | None = None,
                 backoff_s: float = 1.0) -> None:
        self.name = name
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s,
                                  headers={"User-Agent": "devrel-assistant", **headers},
                                  transport=transport, follow_redirects=True)
        self._params = params or {}
        self._sleep, self._on_wait = sleep, on_wait
        self._max_wait, self._backoff = max_wait_s, backoff_s
        self.waited = 0.0

    def close(self) -> None:
        self._http.close()

    def _wait(self, seconds: float, why: str, hold: Hold | None) -> None:
        seconds = max(0.0, seconds)
        if hold is not None and seconds > hold.max_wait_s:
            raise ProviderUnavailable(
                f"{self.name} asked to wait {seconds:.0f}s ({why}), longer than a publish may "
                "hold its lease; nothing more was sent.",
                fix="publish again later: what was posted is found, not posted twice")
        if self.waited + seconds > self._max_wait:
            raise ProviderUnavailable(
                f"{self.name} asked to wait {seconds:.0f}s more ({why}), past the "
                f"{self._max_wait:.0f}s limit; everything synced so far is kept.",
                fix="run the same command again later: it resumes where it stopped")
        if self._on_wait:
            self._on_wait(seconds, why)
        self.waited += seconds
        if hold is not None:
            hold.renew()
        self._sleep(seconds)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, hold: Hold | None = None, retry: bool = True
                ) -> httpx.Response:
        """The response of a successful call; waits, retries or raises a clear error."""
        delay = self._backoff
        for attempt in range(RETRIES + 1):
            if hold is not None:
                hold.renew()
            try:
                response = self._http.request(method, path, params={**self._params,
                                                                     **(params or {})},
                                              json=json)
            except httpx.TransportError as exc:
                if attempt == RETRIES or not retry:
                    raise ProviderUnavailable(
                        f"{self.name} is unreachable ({type(exc).__name__}).",
                        fix="check the network and the forge's api_url, then run again") from None
                self._wait(delay, "connection failed", hold)
                delay *= 2
                continue
            status = response.status_code
            if status == 429 or (status == 403 and "rate limit" in response.text.lower()):
                after = response.headers.get("retry-after")
                reset = response.headers.get("ratelimit-reset")
                seconds = float(after) if after and after.isdigit() else (
                    max(1.0, float(reset) - time.time()) if reset and reset.isdigit() else 60.0)
                self._wait(seconds, "rate limit", hold)
                continue
            if status >= 500 and attempt < RETRIES and retry:
                self._wait(delay, f"server error {status}", hold)
                delay *= 2
                continue
            if status in (401, 403):
                raise ConfigError(f"{self.name} rejected the token ({status}) for {path}.",
                                  fix=f"set a token with access to the repository "
                                  f"(DEVREL_{self.name.upper()}__TOKEN)")
            if status == 404:
                raise InvalidInput(f"{self.name} has no {path} (404).",
                                   fix="check the repository name and the token's access")
            if status >= 400:
                raise ForgeError(f"{self.name} answered {status} for {method} {path}: "
                                 f"{response.text[:200]}",
                                 fix="check the request; the draft stays approved")
            return response
        raise ProviderUnavailable(f"{self.name} kept failing for {path}.",
                                  fix="run again later")

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.request("GET", path, params=params)


def post_once(post: Callable[[], Any], find: Callable[[], Any | None],
              published: Callable[..., Any], name: str, attempts: int = 3) -> Any:
    """A write that must happen once: after a failure whose outcome is unknown (a dropped
    connection, a server error) the marker is looked for (``find``) before posting again."""
    last: DevrelError | None = None
    for _ in range(attempts):
        try:
            return published(post(), created=True)
        except (ConfigError, InvalidInput):
            raise
        except DevrelError as exc:
            last = exc
            if (found := find()) is not None:
                return published(found, created=True)
    raise ForgeError(f"{name} kept failing to take the comment ({last}).",
                     fix="publish again: what was posted is found, not posted twice")


class RestForge:
    """What the Gitee and GitLab forges share: the token check, publishing once per marker
    (the own account's comment carrying it is looked for first, and after any failure whose
    outcome is unknown), and no release-notes client. Subclasses say where comments are."""

    name = ""  # Gitee, GitLab
    prefix = ""  # gitee, gitlab

    def __init__(self, rest: RestClient, token: str) -> None:
        self._rest = rest
        self._token = token

    @property
    def client(self) -> GitHubClient:
        raise ConfigError("Release notes from a range of tags read GitHub's API only.",
                          fix="use a local clone (projects.<p>.sources.git)")

    def _require_token(self, action: str) -> None:
        if not self._token:
            raise ForgeError(f"Cannot {action}: no {self.name} token is configured.",
                             fix=f"set DEVREL_{self.prefix.upper()}__TOKEN or "
                             f"{self.prefix.upper()}_TOKEN")

    def _comments_path(self, repo: str, number: int) -> str:
        raise NotImplementedError

    def _find(self, repo: str, number: int, marker: str, hold: Hold | None = None
              ) -> dict[str, Any] | None:
        raise NotImplementedError

    def _published(self, repo: str, number: int, comment: Any, *, created: bool
                   ) -> PublishedComment:
        raise NotImplementedError

    def find_comment(self, repo: str, number: int, marker: str) -> PublishedComment | None:
        """The own account's comment carrying ``marker``, if one was posted."""
        found = self._find(repo, number, marker)
        return self._published(repo, number, found, created=True) if found else None

    def publish_comment(self, repo: str, number: int, body: str, marker: str,
                        hold: Hold | None = None) -> PublishedComment:
        """Post ``body`` and ``marker`` once per marker (``created`` False when found)."""
        if not marker.strip():
            raise InvalidInput("A comment needs a marker to be published once.",
                               fix="pass a marker")
        self._require_token(f"comment on {self.prefix}:{repo}")
        if found := self._find(repo, number, marker, hold):
            return self._published(repo, number, found, created=False)
        path = self._comments_path(repo, number)
        return post_once(
            lambda: self._rest.request("POST", path, json={"body": f"{body}\n\n{marker}"},
                                       hold=hold, retry=False).json(),
            lambda: self._find(repo, number, marker, hold),
            lambda comment, created: self._published(repo, number, comment, created=created),
            self.name)

    def close(self) -> None:
        self._rest.close()
