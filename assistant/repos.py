"""Which repo an issue lives in: a forge and a name, written ``owner/name`` on GitHub and
``FORGE:owner/name`` elsewhere, so that keys built before several forges existed stay valid.

Every issue, PR and comment is keyed by (repo key, number): two repos of one project may
both have an issue #12.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.errors import InvalidInput
from assistant.settings import FORGES, ForgeName, ProjectSettings, Settings

# GitHub and Gitee: owner/name; GitLab: group/subgroup/…/name.
_NAME = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+$")
_REF = re.compile(r"^(?:(?P<forge>[a-z]+):)?(?P<name>[A-Za-z0-9_./-]+)#(?P<number>\d{1,9})$")


@dataclass(frozen=True, order=True)
class RepoRef:
    """A repo on a forge."""

    forge: ForgeName
    name: str

    @property
    def key(self) -> str:
        """The repo's key in ids, metadata and the database: ``owner/name`` on GitHub,
        ``gitee:owner/name`` or ``gitlab:group/name`` elsewhere."""
        return self.name if self.forge == "github" else f"{self.forge}:{self.name}"

    def __str__(self) -> str:
        return self.key

    @classmethod
    def parse(cls, text: str, default_forge: ForgeName = "github") -> RepoRef:
        """``owner/name`` (on ``default_forge``) or ``FORGE:owner/name``, or a clear error."""
        forge, sep, name = (text or "").strip().partition(":")
        if not sep:
            forge, name = default_forge, forge
        if forge not in FORGES:
            raise InvalidInput(f"{text!r} names an unknown forge {forge!r}.",
                               fix="use owner/name, gitee:owner/name or gitlab:group/name")
        is_gitlab = forge == "gitlab"
        if (not _NAME.match(name) or any(p in (".", "..") for p in name.split("/"))
                or (not is_gitlab and name.count("/") != 1)):
            raise InvalidInput(f"{text!r} is not a repository name.",
                               fix="use OWNER/NAME (GitLab: GROUP/…/NAME)")
        return cls(forge, name)  # type: ignore[arg-type]


# The repo in an issue's, PR's or comment's own URL, on any of the three forges (web or API).
_URLS: tuple[tuple[ForgeName, re.Pattern[str]], ...] = (
    ("github", re.compile(r"^https?://(?:www\.)?github\.com/([^/]+/[^/]+)/(?:issues|pull)/")),
    ("github", re.compile(r"^https?://api\.github\.com/repos/([^/]+/[^/]+)/(?:issues|pulls)\b")),
    ("gitee", re.compile(r"^https?://gitee\.com/(?:api/v5/repos/)?([^/]+/[^/]+)/(?:issues|pulls)\b")),
    ("gitlab", re.compile(r"^https?://[^/]*gitlab[^/]*/(.+?)/-/(?:issues|merge_requests)/")),
)


def repo_of_url(url: str) -> RepoRef | None:
    """The repo an issue/PR/comment URL belongs to (GitHub, Gitee, GitLab), or None."""
    for forge, pattern in _URLS:
        match = pattern.match(url or "")
        if match:
            try:
                return RepoRef.parse(f"{forge}:{match.group(1)}")
            except InvalidInput:
                return None
    return None


def issue_key(repo: RepoRef | str, number: int) -> str:
    """``owner/name#12`` (or ``gitee:owner/name#12``): an issue's key across a project's repos."""
    return f"{repo}#{number}"


def parse_issue_key(text: str, default_forge: ForgeName = "github") -> tuple[RepoRef, int]:
    """``[FORGE:]owner/name#N`` as (repo, number), or a clear error."""
    match = _REF.match((text or "").strip())
    if not match:
        raise InvalidInput(f"{text!r} is not an issue reference.",
                           fix="use OWNER/REPO#NUMBER (or gitee:OWNER/REPO#NUMBER)")
    prefix = f"{match['forge']}:" if match["forge"] else ""
    return RepoRef.parse(prefix + match["name"], default_forge), int(match["number"])


def project_repos(project: ProjectSettings) -> list[RepoRef]:
    """The project's repos, the main one first; each once."""
    names = ([project.repo] if project.repo else []) + list(project.repos)
    found: list[RepoRef] = []
    for name in names:
        ref = RepoRef.parse(name, project.forge)
        if ref not in found:
            found.append(ref)
    return found


def repo_key_for(settings: Settings, project: str, repo: str | None) -> str:
    """The key of ``repo`` (as an issue names it; the project's forge when unprefixed), else
    of the project's main repo; "" when neither is known or ``repo`` is malformed."""
    config = settings.project_settings(project)
    if repo:
        try:
            return RepoRef.parse(repo, config.forge).key
        except InvalidInput:
            return ""
    repos = project_repos(config)
    return repos[0].key if repos else ""


def project_for_repo(settings: Settings, repo: RepoRef) -> str | None:
    """The configured project one of whose repos is ``repo`` (names compared case-insensitively)."""
    return settings.project_for_repo(repo.key)
