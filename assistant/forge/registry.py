"""The forge of a repo: GitHub, Gitee or GitLab behind the same ``Forge`` interface, and the
issue source a live sync reads."""

from __future__ import annotations

from typing import Any

from assistant.forge.github import Forge, GitHubForge
from assistant.forge.rest import Wait
from assistant.repos import RepoRef
from assistant.settings import Settings


def forge_for(settings: Settings, repo: RepoRef, **options: Any) -> Forge:
    """The configured client of ``repo``'s forge (``options`` reach the HTTP client)."""
    if repo.forge == "gitee":
        from assistant.forge.gitee import GiteeForge

        return GiteeForge(settings, **options)
    if repo.forge == "gitlab":
        from assistant.forge.gitlab import GitLabForge

        return GitLabForge(settings, **options)
    return GitHubForge(settings, **options)


def issue_source(settings: Settings, repo: RepoRef, *, on_wait: Wait | None = None,
                 maintainers: tuple[str, ...] = (), **options: Any) -> Any:
    """A Gitee or GitLab issue source (GitHub's is ``GitHubClient``), items in GitHub's shape."""
    if repo.forge == "gitee":
        from assistant.forge.gitee import GiteeSource

        return GiteeSource(settings, maintainers, on_wait=on_wait, **options)
    if repo.forge == "gitlab":
        from assistant.forge.gitlab import GitLabSource

        return GitLabSource(settings, maintainers, on_wait=on_wait, **options)
    raise ValueError(f"{repo.forge} has no separate issue source")
