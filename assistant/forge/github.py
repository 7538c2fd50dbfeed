"""The forge interface: where issues come from and where approved drafts go. One
implementation, GitHub's REST API; the rest of the code sees ``Forge``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from assistant.errors import ForgeError, InvalidInput
from assistant.forge.client import GitHubClient, Hold, check_repo
from assistant.forge.shapes import IssueInput, issue_from_json
from assistant.settings import Settings

_REF = re.compile(r"^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(\d{1,9})$")
WRITE_RETRIES = 3  # a write is tried at most four times


def parse_issue_ref(ref: str) -> tuple[str, int]:
    """``OWNER/REPO#N`` as (repo, number), or a clear error."""
    match = _REF.match(ref.strip())
    if not match:
        raise InvalidInput(f"{ref!r} is not an issue reference.", fix="use OWNER/REPO#NUMBER")
    return match.group(1), int(match.group(2))


@dataclass(frozen=True)
class PublishedComment:
    """A comment on the forge; ``created`` is False when an earlier publish had posted it."""

    id: int
    url: str
    created: bool


class Forge(Protocol):
    """What the assistant reads from and writes to a code-hosting forge."""

    def get_issue(self, repo: str, number: int) -> IssueInput: ...

    def publish_comment(
        self, repo: str, number: int, body: str, marker: str, hold: Hold | None = None
    ) -> PublishedComment: ...

    def add_labels(self, repo: str, number: int, labels: list[str],
                   hold: Hold | None = None) -> list[str]: ...

    def find_comment(self, repo: str, number: int, marker: str) -> PublishedComment | None: ...

    @property
    def client(self) -> GitHubClient:
        """The REST client, for reads the features make themselves (e.g. a compare)."""
        ...

    def close(self) -> None: ...


class _AlreadyPosted(Exception):
    """Stops the retries of a comment post that did go through."""

    def __init__(self, comment: dict[str, Any]) -> None:
        super().__init__("already posted")
        self.comment = comment


class GitHubForge:
    """GitHub through its REST API, with the rate-limit waits of the sync client."""

    def __init__(self, settings: Settings, **client_options: object) -> None:
        self._client = GitHubClient(settings.github, **client_options)  # type: ignore[arg-type]
        self._login: str | None = None

    @property
    def client(self) -> GitHubClient:
        return self._client

    def get_issue(self, repo: str, number: int) -> IssueInput:
        data = self._client.get(f"/repos/{check_repo(repo)}/issues/{number}").json()
        if not isinstance(data, dict):
            raise InvalidInput(f"GitHub did not return an issue for {repo}#{number}.",
                               fix="check the reference")
        issue = issue_from_json(data, f"{repo}#{number}")
        return issue.model_copy(update={"repo": issue.repo or repo})

    def publish_comment(self, repo: str, number: int, body: str, marker: str,
                        hold: Hold | None = None) -> PublishedComment:
        """Post ``body`` followed by ``marker`` once per marker.

        Only a comment by the token's own account counts as carrying the marker: anyone can
        write the marker's text in a comment. One found first is returned
        (``created=False``). After any wait (a lost answer, a rate limit) the post is retried
        only if the marker is still absent; found then, it was this call's post
        (``created=True``). ``hold`` is renewed before every request and while waiting.
        """
        if not marker.strip():
            raise InvalidInput("A comment needs a marker to be published once.",
                               fix="pass a marker such as <!-- devrel-assistant:draft-42 -->")
        url = self._issue_url(repo, number, "comments")
        self._require_token(f"comment on {repo}#{number}")
        login = self.own_login(hold)
        if found := self._find_comment(url, marker, login, hold):
            return _published(found, created=False)

        def check_posted() -> None:
            if comment := self._find_comment(url, marker, login, hold):
                raise _AlreadyPosted(comment)

        try:
            response = self._client.request(
                "POST", url, json={"body": f"{body}\n\n{marker}"}, retries=WRITE_RETRIES,
                before_retry=check_posted, hold=hold,
            )
        except _AlreadyPosted as posted:
            return _published(posted.comment, created=True)
        return _published(response.json(), created=True)

    def add_labels(self, repo: str, number: int, labels: list[str],
                   hold: Hold | None = None) -> list[str]:
        """Add ``labels`` (adding twice is harmless); the issue's label names afterwards.
        No labels: no request, and ``[]``."""
        if not labels:
            return []
        url = self._issue_url(repo, number, "labels")
        self._require_token(f"label {repo}#{number}")
        data = self._client.request("POST", url, json={"labels": list(labels)},
                                    retries=WRITE_RETRIES, hold=hold).json()
        if not isinstance(data, list):
            raise ForgeError(f"GitHub answered POST {url} with a {type(data).__name__}.",
                             fix="check github.api_url")
        return [str(label.get("name")) if isinstance(label, dict) else str(label)
                for label in data]

    def _issue_url(self, repo: str, number: int, what: str) -> str:
        if number <= 0:
            raise InvalidInput(f"{number} is not an issue number.", fix="use a positive number")
        return f"/repos/{check_repo(repo)}/issues/{number}/{what}"

    def _require_token(self, action: str) -> None:
        if not self._client.authenticated:
            raise ForgeError(f"Cannot {action}: no GitHub token is configured.",
                             fix="set DEVREL_GITHUB__TOKEN or GITHUB_TOKEN to a token that can "
                                 "write issues")

    def find_comment(self, repo: str, number: int, marker: str) -> PublishedComment | None:
        """The own account's comment carrying ``marker``, if one was posted."""
        url = self._issue_url(repo, number, "comments")
        found = self._find_comment(url, marker, self.own_login())
        return _published(found, created=True) if found else None

    def own_login(self, hold: Hold | None = None) -> str:
        """The login of the account the token belongs to (asked once)."""
        if self._login is None:
            data = self._client.request("GET", "/user", hold=hold).json()
            login = data.get("login") if isinstance(data, dict) else None
            if not isinstance(login, str) or not login:
                raise ForgeError("GitHub did not say whose token this is (GET /user).",
                                 fix="use a token of the account that publishes")
            self._login = login
        return self._login

    def _find_comment(self, url: str, marker: str, login: str,
                      hold: Hold | None = None) -> dict[str, Any] | None:
        """The first comment by ``login`` that carries ``marker``."""
        fetch = partial(self._client.request, "GET", hold=hold)
        for page in self._client.paginate(url, {"per_page": 100}, fetch=fetch):
            for comment in page:
                if not isinstance(comment, dict) or marker not in str(comment.get("body") or ""):
                    continue
                author = comment.get("user")
                if isinstance(author, dict) and str(author.get("login", "")).lower() == \
                        login.lower():
                    return comment
        return None

    def close(self) -> None:
        self._client.close()


def _published(comment: Any, *, created: bool) -> PublishedComment:
    if not isinstance(comment, dict) or not isinstance(comment.get("id"), int):
        raise ForgeError("GitHub did not answer with a comment.", fix="check github.api_url")
    return PublishedComment(id=comment["id"], url=str(comment.get("html_url") or ""),
                            created=created)


def build_forge(settings: Settings) -> GitHubForge:
    """The configured forge (GitHub, at ``github.api_url``)."""
    return GitHubForge(settings)
