"""An issue as the forge gives it: the typed ``IssueInput``, built from GitHub's REST shape
(``gh api`` / ``gh issue view --json``, webhooks) or from a JSON file of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from assistant.errors import InvalidInput
from assistant.forge.records import MAINTAINER_ASSOCIATIONS

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TITLE = 512
MAX_BODY = 60_000


class IssueInput(BaseModel):
    """An issue as a reporter wrote it (untrusted text)."""

    title: str = Field("", max_length=MAX_TITLE, examples=["database is locked after a crash"])
    body: str = Field("", max_length=MAX_BODY)
    author: str | None = Field(None, max_length=64)
    author_association: str | None = Field(
        None, max_length=32, description="GitHub's author_association (OWNER, MEMBER, NONE, ...)."
    )
    labels: list[str] = Field(
        default_factory=list, max_length=100,
        description="Labels already on the issue (e.g. set by the issue form).")
    repo: str | None = Field(None, max_length=140)
    number: int | None = None
    url: str | None = Field(None, max_length=500)

    @field_validator("title", "body")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return value.replace("\x00", "")

    def require_text(self) -> None:
        if not (self.title.strip() or self.body.strip()):
            raise InvalidInput(
                "The issue is empty (no title, no body).", fix="pass --title and/or --body"
            )

    @property
    def by_maintainer(self) -> bool:
        return (self.author_association or "").upper() in MAINTAINER_ASSOCIATIONS


def issue_from_json_file(path: Path) -> IssueInput:
    """An IssueInput from a JSON file, with a clear error for anything unusable."""
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file.", fix="pass a JSON file holding one issue")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(
            f"{path} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.",
            fix="pass one issue, not a dump",
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text.", fix="save it as UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).",
            fix="check the file, e.g. with `python -m json.tool`",
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must hold one JSON object (an issue).", fix="pass one issue")
    return issue_from_json(data, str(path))


def _label_names(value: Any) -> list[str]:
    """Label names from REST label objects or plain strings (anything else is ignored)."""
    names = [v.get("name") if isinstance(v, dict) else v for v in value or []] \
        if isinstance(value, list) else []
    return sorted({n.strip()[:100] for n in names if isinstance(n, str) and n.strip()})[:100]


def issue_from_json(data: dict[str, Any], where: str = "the issue") -> IssueInput:
    """An IssueInput from GitHub's REST shape (or ``gh issue view --json``)."""
    user = data.get("user") or data.get("author") or {}
    repo = None
    url = str(data.get("html_url") or data.get("url") or "")
    if "github.com/" in url:
        parts = url.split("github.com/", 1)[1].split("/")
        repo = "/".join(parts[:2]) if len(parts) >= 2 else None
    association = data.get("author_association") or data.get("authorAssociation")
    try:
        return IssueInput(
            title=str(data.get("title") or ""),
            body=str(data.get("body") or "")[:MAX_BODY],
            author=(user.get("login") if isinstance(user, dict) else None),
            author_association=str(association) if association else None,
            labels=_label_names(data.get("labels")),
            repo=repo,
            number=data.get("number") if isinstance(data.get("number"), int) else None,
            url=url[:500] or None,
        )
    except ValidationError as exc:
        raise InvalidInput.from_validation(f"issue in {where}", exc, "fix the issue") from None
