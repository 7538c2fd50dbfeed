"""Gitee (API v5, https://gitee.com/api/v5/swagger): issue sync, comments, labels, publishing.

Gitee's issue ``number`` is a string such as ``I4ABCD``; the product keys issues by integers,
so it is read as the base-36 number it spells (``int("I4ABCD", 36)``), which is unique,
reversible (``gitee_ident``) and shown back in Gitee's own form wherever a person reads it.
Gitee states ``progressing`` and ``rejected`` read as open and closed (not planned). Gitee
says nothing like GitHub's ``author_association``: maintainers are the project's
``maintainers`` list (and the repo's collaborators, which the sync asks once per run).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from assistant.errors import ConfigError, ForgeError, InvalidInput
from assistant.forge.client import Hold
from assistant.forge.github import PublishedComment
from assistant.forge.rest import RestClient, RestForge, Wait
from assistant.forge.shapes import IssueInput, issue_from_json
from assistant.settings import Settings

PER_PAGE = 100
_STATES = {"open": ("open", ""), "progressing": ("open", ""), "closed": ("closed", "completed"),
           "rejected": ("closed", "not_planned")}
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gitee_number(ident: str) -> int:
    """Gitee's issue ident (``I4ABCD``) as the product's integer issue number."""
    ident = str(ident).strip().upper()
    if not ident or len(ident) > 12 or any(c not in _ALPHABET for c in ident):
        raise InvalidInput(f"{ident!r} is not a Gitee issue number.", fix="e.g. I4ABCD")
    return int(ident, 36)


def gitee_ident(number: int) -> str:
    """The Gitee ident an integer issue number stands for (inverse of ``gitee_number``)."""
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = _ALPHABET[rest] + digits
    return digits or "0"


def _token(settings: Settings) -> str:
    token = settings.gitee.token.get_secret_value() if settings.gitee.token else ""
    return token or os.environ.get("GITEE_TOKEN", "")


def _client(settings: Settings, on_wait: Wait | None = None, **options: Any) -> RestClient:
    token = _token(settings)
    return RestClient("Gitee", settings.gitee.api_url, headers={"Accept": "application/json"},
                      params={"access_token": token} if token else {},
                      timeout_s=settings.gitee.timeout_s, max_wait_s=settings.gitee.max_wait_s,
                      on_wait=on_wait, **options)


def as_github_issue(raw: dict[str, Any], associations: dict[str, str]) -> dict[str, Any]:
    """A Gitee issue in GitHub's REST shape (what ``records.issue_record_from_json`` reads)."""
    state, reason = _STATES.get(str(raw.get("state", "")).lower(), ("open", ""))
    login = str((raw.get("user") or {}).get("login", ""))
    return {
        "number": gitee_number(str(raw.get("number", ""))), "title": raw.get("title") or "",
        "body": raw.get("body") or "", "state": state, "state_reason": reason,
        "labels": [{"name": lb.get("name")} for lb in raw.get("labels") or []
                   if isinstance(lb, dict)],
        "user": {"login": login}, "author_association": associations.get(login.lower(), "NONE"),
        "created_at": raw.get("created_at") or "", "updated_at": raw.get("updated_at") or "",
        "closed_at": raw.get("finished_at") or "", "html_url": raw.get("html_url") or "",
        "comments": raw.get("comments") if isinstance(raw.get("comments"), int) else 0,
        "assignees": [{"login": a.get("login")} for a in raw.get("assignees") or []
                      if isinstance(a, dict)],
    }


def as_github_comment(raw: dict[str, Any], associations: dict[str, str]) -> dict[str, Any]:
    login = str((raw.get("user") or {}).get("login", ""))
    return {"id": raw.get("id"), "body": raw.get("body") or "", "user": {"login": login},
            "author_association": associations.get(login.lower(), "NONE"),
            "created_at": raw.get("created_at") or "",
            "html_url": raw.get("html_url") or raw.get("source") or ""}


class GiteeSource:
    """A repo's issues and comments, oldest update first, in GitHub's JSON shape."""

    def __init__(self, settings: Settings, maintainers: Iterable[str] = (),
                 on_wait: Wait | None = None, **options: Any) -> None:
        self._rest = _client(settings, on_wait, **options)
        self.authenticated = bool(_token(settings))
        self._maintainers = {m.lower() for m in maintainers}
        self._associations: dict[str, dict[str, str]] = {}

    def _roles(self, repo: str) -> dict[str, str]:
        if repo not in self._associations:
            roles = {login: "MEMBER" for login in self._maintainers}
            if self.authenticated:
                try:
                    for person in self._rest.get(f"/repos/{repo}/collaborators",
                                                 per_page=PER_PAGE).json() or []:
                        if isinstance(person, dict) and person.get("login"):
                            roles[str(person["login"]).lower()] = "COLLABORATOR"
                except (ConfigError, InvalidInput, ForgeError):
                    pass  # a token without that right: the configured maintainers only
            self._associations[repo] = roles
        return self._associations[repo]

    def issue_pages(self, repo: str, since: str | None = None) -> Iterator[list[dict[str, Any]]]:
        roles = self._roles(repo)
        page = 1
        while True:
            params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc",
                                      "page": page, "per_page": PER_PAGE}
            if since:
                params["since"] = since
            response = self._rest.get(f"/repos/{repo}/issues", **params)
            items = response.json()
            if not isinstance(items, list):
                raise ForgeError(f"Gitee did not answer with a list of issues for {repo}.",
                                 fix="check gitee.api_url")
            if items:
                yield [as_github_issue(i, roles) for i in items if isinstance(i, dict)]
            if _last_page(response, page, items):
                return
            page += 1

    def comments(self, repo: str, number: int) -> Iterable[dict[str, Any]]:
        roles = self._roles(repo)
        page = 1
        while True:
            response = self._rest.get(f"/repos/{repo}/issues/{gitee_ident(number)}/comments",
                                      page=page, per_page=PER_PAGE)
            items = response.json() if isinstance(response.json(), list) else []
            yield from (as_github_comment(c, roles) for c in items if isinstance(c, dict))
            if _last_page(response, page, items):
                return
            page += 1

    def close(self) -> None:
        self._rest.close()


class GiteeForge(RestForge):
    """The ``Forge`` interface on Gitee; a comment is published once per marker."""

    name, prefix = "Gitee", "gitee"

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(_client(settings, **options), _token(settings))
        self._settings = settings
        self._login: str | None = None

    def _comments_path(self, repo: str, number: int) -> str:
        return f"/repos/{repo}/issues/{gitee_ident(number)}/comments"

    def get_issue(self, repo: str, number: int) -> IssueInput:
        data = self._rest.get(f"/repos/{repo}/issues/{gitee_ident(number)}").json()
        if not isinstance(data, dict):
            raise InvalidInput(f"Gitee did not return an issue for {repo}.", fix="check it")
        issue = issue_from_json(as_github_issue(data, {}), f"gitee:{repo}")
        return issue.model_copy(update={"repo": f"gitee:{repo}"})

    def own_login(self, hold: Hold | None = None) -> str:
        if self._login is None:
            data = self._rest.request("GET", "/user", hold=hold).json()
            self._login = str(data.get("login", "")) if isinstance(data, dict) else ""
            if not self._login:
                raise ForgeError("Gitee did not say whose token this is (GET /user).",
                                 fix="use a token of the account that publishes")
        return self._login

    def _find(self, repo: str, number: int, marker: str, hold: Hold | None = None
              ) -> dict[str, Any] | None:
        login = self.own_login(hold).lower()
        page = 1
        while True:
            response = self._rest.request(
                "GET", f"/repos/{repo}/issues/{gitee_ident(number)}/comments",
                params={"page": page, "per_page": PER_PAGE}, hold=hold)
            items = response.json() if isinstance(response.json(), list) else []
            for comment in items:
                author = str(((comment or {}).get("user") or {}).get("login", "")).lower()
                if author == login and marker in str(comment.get("body") or ""):
                    return comment
            if _last_page(response, page, items):
                return None
            page += 1

    def add_labels(self, repo: str, number: int, labels: list[str],
                   hold: Hold | None = None) -> list[str]:
        if not labels:
            return []
        self._require_token(f"label gitee:{repo}")
        data = self._rest.request(
            "POST", f"/repos/{repo}/issues/{gitee_ident(number)}/labels", json=list(labels),
            hold=hold).json()
        return [str(lb.get("name")) for lb in data if isinstance(lb, dict)] \
            if isinstance(data, list) else list(labels)

    def _published(self, repo: str, number: int, comment: Any, *, created: bool
                   ) -> PublishedComment:
        if not isinstance(comment, dict) or not isinstance(comment.get("id"), int):
            raise ForgeError("Gitee did not answer with a comment.", fix="check gitee.api_url")
        return PublishedComment(id=comment["id"], url=str(comment.get("html_url") or ""),
                                created=created)


def _last_page(response: Any, page: int, items: list[Any]) -> bool:
    """Gitee says how many pages there are (``total_page``); without it, a short page ends."""
    total = int(response.headers.get("total_page", "0") or 0)
    return not items or (total and page >= total) or (not total and len(items) < PER_PAGE)
