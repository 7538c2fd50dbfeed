"""Read an issue from a JSON file in GitHub's REST shape (``gh api`` / ``gh issue view --json``)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from assistant.chains.triage_reply import MAX_BODY, IssueInput
from assistant.errors import InvalidInput

MAX_FILE_BYTES = 2 * 1024 * 1024


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
    user = data.get("user") or data.get("author") or {}
    repo = None
    url = str(data.get("html_url") or data.get("url") or "")
    if "github.com/" in url:
        parts = url.split("github.com/", 1)[1].split("/")
        repo = "/".join(parts[:2]) if len(parts) >= 2 else None
    try:
        return IssueInput(
            title=str(data.get("title") or ""),
            body=str(data.get("body") or "")[:MAX_BODY],
            author=(user.get("login") if isinstance(user, dict) else None),
            repo=repo,
            number=data.get("number") if isinstance(data.get("number"), int) else None,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(
            f"{path}: field {'.'.join(map(str, err['loc']))}: {err['msg']}.", fix="fix the issue"
        ) from None
