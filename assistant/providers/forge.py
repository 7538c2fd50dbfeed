"""The forge interface: where issues come from (and, with the review queue, where approved
drafts go). One implementation, GitHub's REST API; the rest of the code sees ``Forge``."""

from __future__ import annotations

import re
from typing import Protocol

from assistant.errors import InvalidInput
from assistant.issue_files import issue_from_json
from assistant.settings import Settings
from assistant.triage.models import IssueInput

_REF = re.compile(r"^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(\d{1,9})$")


def parse_issue_ref(ref: str) -> tuple[str, int]:
    """``OWNER/REPO#N`` as (repo, number), or a clear error."""
    match = _REF.match(ref.strip())
    if not match:
        raise InvalidInput(f"{ref!r} is not an issue reference.", fix="use OWNER/REPO#NUMBER")
    return match.group(1), int(match.group(2))


class Forge(Protocol):
    """What the assistant reads from (and later writes to) a code-hosting forge."""

    def get_issue(self, repo: str, number: int) -> IssueInput: ...


class GitHubForge:
    """GitHub through its REST API, with the rate-limit waits of the sync client."""

    def __init__(self, settings: Settings, **client_options: object) -> None:
        from ingest.github import GitHubClient

        self._client = GitHubClient(settings.github, **client_options)  # type: ignore[arg-type]

    def get_issue(self, repo: str, number: int) -> IssueInput:
        from ingest.github import check_repo

        data = self._client.get(f"/repos/{check_repo(repo)}/issues/{number}").json()
        if not isinstance(data, dict):
            raise InvalidInput(f"GitHub did not return an issue for {repo}#{number}.",
                               fix="check the reference")
        issue = issue_from_json(data, f"{repo}#{number}")
        return issue.model_copy(update={"repo": issue.repo or repo})

    def close(self) -> None:
        self._client.close()


def build_forge(settings: Settings) -> GitHubForge:
    """The configured forge (GitHub, at ``github.api_url``)."""
    return GitHubForge(settings)
