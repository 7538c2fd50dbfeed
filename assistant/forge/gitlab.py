"""GitLab (REST API v4, gitlab.com or self-managed): issue sync, notes, labels, publishing.

A project is addressed by its URL-encoded path (``group%2Fsub%2Fname``); issues by their
``iid``. Issues come ``order_by=updated_at&sort=asc`` with ``updated_after`` as the cursor and
``X-Next-Page`` pagination; system notes (label changes, mentions) are not comments. GitLab
says nothing like GitHub's ``author_association``: maintainers are the project's
``maintainers`` list and members with Developer access or more (asked once per run).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from assistant.errors import ConfigError, ForgeError, InvalidInput
from assistant.forge.client import Hold
from assistant.forge.github import PublishedComment
from assistant.forge.rest import RestClient, RestForge, Wait
from assistant.forge.shapes import IssueInput, issue_from_json
from assistant.settings import Settings

PER_PAGE = 100
DEVELOPER = 30  # GitLab access levels: 30 Developer, 40 Maintainer, 50 Owner


def _token(settings: Settings) -> str:
    token = settings.gitlab.token.get_secret_value() if settings.gitlab.token else ""
    return token or os.environ.get("GITLAB_TOKEN", "")


def _client(settings: Settings, on_wait: Wait | None = None, **options: Any) -> RestClient:
    token = _token(settings)
    return RestClient("GitLab", settings.gitlab.api_url,
                      headers={"PRIVATE-TOKEN": token} if token else {},
                      timeout_s=settings.gitlab.timeout_s, max_wait_s=settings.gitlab.max_wait_s,
                      on_wait=on_wait, **options)


def project_path(repo: str) -> str:
    return "/projects/" + quote(repo, safe="")


def as_github_issue(raw: dict[str, Any], roles: dict[str, str]) -> dict[str, Any]:
    """A GitLab issue in GitHub's REST shape (what ``records.issue_record_from_json`` reads)."""
    login = str((raw.get("author") or {}).get("username", ""))
    closed = str(raw.get("state", "")) == "closed"
    return {
        "number": raw.get("iid"), "title": raw.get("title") or "",
        "body": raw.get("description") or "", "state": "closed" if closed else "open",
        "state_reason": "completed" if closed else "",
        "labels": [{"name": name} for name in raw.get("labels") or [] if isinstance(name, str)],
        "user": {"login": login}, "author_association": roles.get(login.lower(), "NONE"),
        "created_at": raw.get("created_at") or "", "updated_at": raw.get("updated_at") or "",
        "closed_at": raw.get("closed_at") or "", "html_url": raw.get("web_url") or "",
        "comments": raw.get("user_notes_count") if isinstance(raw.get("user_notes_count"), int)
        else 0,
        "assignees": [{"login": a.get("username")} for a in raw.get("assignees") or []
                      if isinstance(a, dict)],
    }


def as_github_comment(raw: dict[str, Any], roles: dict[str, str], issue_url: str
                      ) -> dict[str, Any]:
    login = str((raw.get("author") or {}).get("username", ""))
    return {"id": raw.get("id"), "body": raw.get("body") or "", "user": {"login": login},
            "author_association": roles.get(login.lower(), "NONE"),
            "created_at": raw.get("created_at") or "",
            "html_url": f"{issue_url}#note_{raw.get('id')}" if issue_url else ""}


def _pages(rest: RestClient, path: str, params: dict[str, Any], hold: Hold | None = None
           ) -> Iterator[list[Any]]:
    page = 1
    while True:
        response = rest.request("GET", path, params={**params, "page": page,
                                                     "per_page": PER_PAGE}, hold=hold)
        items = response.json()
        if not isinstance(items, list):
            raise ForgeError(f"GitLab did not answer {path} with a list.",
                             fix="check gitlab.api_url")
        if items:
            yield items
        following = response.headers.get("x-next-page", "")
        if not following.isdigit() or not items:
            return
        page = int(following)


class GitLabSource:
    """A project's issues and notes, oldest update first, in GitHub's JSON shape."""

    def __init__(self, settings: Settings, maintainers: Iterable[str] = (),
                 on_wait: Wait | None = None, **options: Any) -> None:
        self._rest = _client(settings, on_wait, **options)
        self.authenticated = bool(_token(settings))
        self._maintainers = {m.lower() for m in maintainers}
        self._roles: dict[str, dict[str, str]] = {}
        self._urls: dict[tuple[str, int], str] = {}

    def _roles_of(self, repo: str) -> dict[str, str]:
        if repo not in self._roles:
            roles = {login: "MEMBER" for login in self._maintainers}
            try:
                for page in _pages(self._rest, f"{project_path(repo)}/members/all", {}):
                    for member in page:
                        if isinstance(member, dict) and int(member.get("access_level", 0)
                                                            or 0) >= DEVELOPER:
                            roles[str(member.get("username", "")).lower()] = "MEMBER"
            except (ConfigError, InvalidInput, ForgeError):
                pass  # members hidden from this token: the configured maintainers only
            self._roles[repo] = roles
        return self._roles[repo]

    def issue_pages(self, repo: str, since: str | None = None) -> Iterator[list[dict[str, Any]]]:
        roles = self._roles_of(repo)
        params: dict[str, Any] = {"scope": "all", "order_by": "updated_at", "sort": "asc"}
        if since:
            params["updated_after"] = since
        for page in _pages(self._rest, f"{project_path(repo)}/issues", params):
            issues = [as_github_issue(i, roles) for i in page if isinstance(i, dict)]
            for issue in issues:
                self._urls[(repo, int(issue["number"] or 0))] = str(issue["html_url"])
            yield issues

    def comments(self, repo: str, number: int) -> Iterable[dict[str, Any]]:
        roles = self._roles_of(repo)
        url = self._urls.get((repo, number), "")
        for page in _pages(self._rest, f"{project_path(repo)}/issues/{number}/notes",
                           {"sort": "asc", "order_by": "created_at"}):
            yield from (as_github_comment(n, roles, url) for n in page
                        if isinstance(n, dict) and not n.get("system"))

    def close(self) -> None:
        self._rest.close()


class GitLabForge(RestForge):
    """The ``Forge`` interface on GitLab; a note is published once per marker."""

    name, prefix = "GitLab", "gitlab"

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(_client(settings, **options), _token(settings))
        self._settings = settings
        self._user: str | None = None

    def _comments_path(self, repo: str, number: int) -> str:
        return f"{project_path(repo)}/issues/{number}/notes"

    def get_issue(self, repo: str, number: int) -> IssueInput:
        data = self._rest.get(f"{project_path(repo)}/issues/{number}").json()
        if not isinstance(data, dict):
            raise InvalidInput(f"GitLab did not return an issue for {repo}#{number}.",
                               fix="check the reference")
        issue = issue_from_json(as_github_issue(data, {}), f"gitlab:{repo}#{number}")
        return issue.model_copy(update={"repo": f"gitlab:{repo}"})

    def own_login(self, hold: Hold | None = None) -> str:
        if self._user is None:
            data = self._rest.request("GET", "/user", hold=hold).json()
            self._user = str(data.get("username", "")) if isinstance(data, dict) else ""
            if not self._user:
                raise ForgeError("GitLab did not say whose token this is (GET /user).",
                                 fix="use a token of the account that publishes")
        return self._user

    def _find(self, repo: str, number: int, marker: str, hold: Hold | None = None
              ) -> dict[str, Any] | None:
        user = self.own_login(hold).lower()
        for page in _pages(self._rest, f"{project_path(repo)}/issues/{number}/notes",
                           {"sort": "asc"}, hold):
            for note in page:
                author = str(((note or {}).get("author") or {}).get("username", "")).lower()
                if author == user and marker in str(note.get("body") or ""):
                    return note
        return None

    def _published(self, repo: str, number: int, note: Any, *, created: bool
                   ) -> PublishedComment:
        if not isinstance(note, dict) or not isinstance(note.get("id"), int):
            raise ForgeError("GitLab did not answer with a note.", fix="check gitlab.api_url")
        base = self._settings.gitlab.api_url.split("/api/v4")[0]
        return PublishedComment(id=note["id"], created=created,
                                url=f"{base}/{repo}/-/issues/{number}#note_{note['id']}")

    def add_labels(self, repo: str, number: int, labels: list[str],
                   hold: Hold | None = None) -> list[str]:
        if not labels:
            return []
        self._require_token(f"label gitlab:{repo}#{number}")
        data = self._rest.request("PUT", f"{project_path(repo)}/issues/{number}",
                                  json={"add_labels": ",".join(labels)}, hold=hold).json()
        found = data.get("labels") if isinstance(data, dict) else None
        return [str(x) for x in found] if isinstance(found, list) else list(labels)
