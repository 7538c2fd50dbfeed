"""GitHub's JSON shapes of issues, pull requests and comments as typed records (REST or
``gh … --json``, camelCase or snake_case), for the index and the activity history."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DUPLICATE_OF = re.compile(
    r"(?im)^\s*(?:\*\*)?duplicate\s+of\s+((?:[a-z]+:)?[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)?#(\d+)")
MAINTAINER_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
MAX_BODY_CHARS = 65_536  # GitHub's own limit on an issue or comment body


@dataclass
class Comment:
    """One comment on an issue or pull request."""

    author: str
    author_association: str
    body: str
    created_at: str
    url: str = ""
    kind: str = "comment"  # or "review" (a PR review, from ``gh pr … --json reviews``)


@dataclass
class IssueRecord:
    """An issue or pull request, normalised from whichever JSON shape it came in."""

    number: int
    title: str
    body: str
    state: str
    state_reason: str
    labels: list[str]
    author: str
    author_association: str
    created_at: str
    updated_at: str
    closed_at: str
    url: str
    is_pull_request: bool
    comments: list[Comment] = field(default_factory=list)
    comment_count: int = 0
    assignees: list[str] = field(default_factory=list)
    merged_at: str = ""  # PRs: REST ``pull_request.merged_at`` / ``merged_at``, gh ``mergedAt``
    reviews: list[Comment] = field(default_factory=list)  # gh ``reviews``; not indexed
    repo: str = ""  # the RepoRef key (``owner/name``, ``gitee:owner/name``); "" = not known

    @property
    def key(self) -> tuple[str, int]:
        """(repo, number): unique across a project's repos."""
        return self.repo, self.number

    @property
    def duplicate_key(self) -> tuple[str, int] | None:
        """The issue this one duplicates as (repo, number): ``#N`` is in the same repo,
        ``owner/name#N`` in that one."""
        for text in [self.body, *(c.body for c in self.comments)]:
            match = DUPLICATE_OF.search(text or "")
            if match:
                repo = match.group(1) or self.repo
                number = int(match.group(2))
                if (repo, number) != self.key:
                    return repo, number
        return None

    @property
    def duplicate_of(self) -> int | None:
        """The issue this one duplicates, from a "Duplicate of #N" line in the body or comments."""
        key = self.duplicate_key
        return key[1] if key and key[0] == self.repo else None

    @property
    def is_duplicate(self) -> bool:
        return self.state_reason == "duplicate" or "duplicate" in self.labels or (
            self.state == "closed" and self.duplicate_key is not None
        )


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _login(value: Any) -> str:
    return text_of(value.get("login")) if isinstance(value, dict) else ""


def _labels(value: Any) -> list[str]:
    names = []
    for label in value or []:
        name = label.get("name") if isinstance(label, dict) else label
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return sorted(set(names))


def _logins(value: Any) -> list[str]:
    """Logins from REST ``assignees`` (user objects) or gh ``assignees`` (``{"login": …}``)."""
    if isinstance(value, dict):  # gh GraphQL-style connection: {"nodes": [...]}
        value = value.get("nodes")
    logins = [_login(v) if isinstance(v, dict) else text_of(v) for v in value or []] \
        if isinstance(value, list) else []
    return sorted({login.strip() for login in logins if login.strip()})


def _merged_at(raw: dict[str, Any]) -> str:
    pull = raw.get("pull_request")
    nested = pull.get("merged_at") if isinstance(pull, dict) else None
    return text_of(raw.get("mergedAt") or raw.get("merged_at") or nested)


def comment_from_json(raw: dict[str, Any], kind: str = "comment") -> Comment:
    """A Comment from a REST or ``gh --json`` comment (or review) object."""
    return Comment(
        author=_login(raw.get("user") or raw.get("author")),
        author_association=text_of(raw.get("author_association") or raw.get("authorAssociation")),
        body=text_of(raw.get("body"))[:MAX_BODY_CHARS],
        created_at=text_of(raw.get("created_at") or raw.get("createdAt") or raw.get("submitted_at")
                         or raw.get("submittedAt")),
        url=text_of(raw.get("html_url") or raw.get("url")),
        kind=kind,
    )


def issue_record_from_json(raw: dict[str, Any]) -> IssueRecord:
    """An IssueRecord from a REST or ``gh --json`` object; KeyError/ValueError if it is not one."""
    number = raw["number"]
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise ValueError("number is not a positive integer")
    title = text_of(raw.get("title")).strip()
    if not title:
        raise ValueError("no title")
    url = text_of(raw.get("html_url") or raw.get("url"))
    is_pr = bool(raw.get("pull_request")) or "/pull/" in url or "isDraft" in raw or (
        "mergedAt" in raw
    )
    comments_raw = raw.get("comments")
    comments = [comment_from_json(c) for c in comments_raw if isinstance(c, dict)] if isinstance(
        comments_raw, list) else []
    count = comments_raw if isinstance(comments_raw, int) else len(comments)
    reviews_raw = raw.get("reviews")
    reviews = [comment_from_json(r, "review") for r in reviews_raw if isinstance(r, dict)] \
        if isinstance(reviews_raw, list) else []
    from assistant.repos import repo_of_url

    repo = repo_of_url(url) or repo_of_url(text_of(raw.get("repository_url")) + "/issues/")
    return IssueRecord(
        repo=repo.key if repo else "",
        number=number,
        title=title[:1024],
        body=text_of(raw.get("body"))[:MAX_BODY_CHARS],
        state=text_of(raw.get("state")).lower(),
        state_reason=text_of(raw.get("state_reason") or raw.get("stateReason")).lower(),
        labels=_labels(raw.get("labels")),
        author=_login(raw.get("user") or raw.get("author")),
        author_association=text_of(raw.get("author_association") or raw.get("authorAssociation")),
        created_at=text_of(raw.get("created_at") or raw.get("createdAt")),
        updated_at=text_of(raw.get("updated_at") or raw.get("updatedAt")),
        closed_at=text_of(raw.get("closed_at") or raw.get("closedAt")),
        url=url,
        is_pull_request=is_pr,
        comments=comments,
        comment_count=count,
        assignees=_logins(raw.get("assignees")),
        merged_at=_merged_at(raw) if is_pr else "",
        reviews=[r for r in reviews if r.created_at],
    )
