"""Release-note input from the forge: the PRs merged between two tags, read from GitHub's REST API.

One ``compare`` listing gives the range's commits (paged, 100 at a time). A commit names its PR in
its subject (``(#123)`` after a squash, ``Merge pull request #123``); a commit that names none is
looked up (``commits/{sha}/pulls``, for rebase merges). Each PR is then read once for its title,
body, labels and author. The release's own commits and PRs (version bumps, changelogs) are left
out, as with a local clone. First-time contributors: one query per author for a commit of theirs
reachable from the earlier tag.

Requests go through ``assistant.forge.client.GitHubClient``: rate limits waited out, 5xx retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.errors import InvalidInput, ProviderUnavailable
from assistant.forge.client import check_repo, ref_path
from assistant.forge.github import Forge
from assistant.kinds.release_notes.sources import (
    DUPLICATE,
    ChangeSet,
    _change,
    pr_numbers,
    release_work_reason,
)

MAX_COMMITS = 10_000  # GitHub's compare lists at most this many
MAX_LOOKUPS = 300  # commits naming no PR that are looked up one by one
Progress = Callable[[int, int], None]


def _json(response: Any, what: str, kind: type) -> Any:
    data = response.json()
    if not isinstance(data, kind):
        raise ProviderUnavailable(f"GitHub answered {what} with a {type(data).__name__}.",
                                  fix="check github.api_url")
    return data


def range_commits(client: Any, repo: str, from_ref: str, to_ref: str) -> list[dict[str, Any]]:
    """The commits reachable from ``to_ref`` and not from ``from_ref``, oldest first."""
    commits: list[dict[str, Any]] = []
    page = 1
    while True:
        url = f"/repos/{check_repo(repo)}/compare/{ref_path(from_ref)}...{ref_path(to_ref)}"
        data = _json(client.get(url, {"per_page": 100, "page": page}), url, dict)
        batch = [c for c in data.get("commits") or [] if isinstance(c, dict) and c.get("sha")]
        commits += batch
        total = int(data.get("total_commits") or 0)
        if not batch or len(commits) >= min(total, MAX_COMMITS):
            return commits
        page += 1


def _subject(commit: dict[str, Any]) -> tuple[str, str]:
    message = str((commit.get("commit") or {}).get("message") or "")
    subject, _, body = message.partition("\n")
    return subject.strip(), body.strip()


def _login(commit: dict[str, Any]) -> str | None:
    author = commit.get("author") or {}
    name = author.get("login") if isinstance(author, dict) else None
    return name or ((commit.get("commit") or {}).get("author") or {}).get("name")


def changes_from_github(client: Any, repo: str, from_ref: str, to_ref: str,
                        progress: Progress | None = None) -> ChangeSet:
    """The merged PRs (and PR-less commits) between two refs, as a :class:`ChangeSet`."""
    if not from_ref or not to_ref:
        raise InvalidInput("A forge range needs both refs.", fix="give --from and --to")
    found = ChangeSet(from_ref=from_ref, to_ref=to_ref)
    commits = range_commits(client, repo, from_ref, to_ref)
    prs: dict[int, list[str]] = {}  # PR → shas
    lone: list[dict[str, Any]] = []
    lookups = 0
    for commit in commits:
        subject, _ = _subject(commit)
        if len(commit.get("parents") or []) > 1 and not pr_numbers(subject):
            found.excluded.append((commit["sha"], "merge commit"))
            continue
        if reason := release_work_reason(subject):
            found.excluded.append((commit["sha"], reason))
            continue
        numbers = pr_numbers(subject)
        if not numbers and lookups < MAX_LOOKUPS:
            lookups += 1
            url = f"/repos/{repo}/commits/{ref_path(str(commit['sha']))}/pulls"
            numbers = [int(p["number"]) for p in _json(client.get(url), url, list)
                       if isinstance(p, dict) and p.get("merged_at") and p.get("number")][:1]
        for number in numbers:
            prs.setdefault(number, []).append(commit["sha"])
        if not numbers:
            lone.append(commit)
    total = len(prs) + len(lone)
    for done, (number, shas) in enumerate(sorted(prs.items()), start=1):
        url = f"/repos/{repo}/pulls/{number}"
        pr = _json(client.get(url), url, dict)
        title = str(pr.get("title") or "")
        if reason := release_work_reason(title):
            found.excluded += [(f"pr-{number}", reason)]
        else:
            found.changes.append(_change(
                f"pr-{number}", title, body=str(pr.get("body") or ""), prs=[number],
                labels=[str(label.get("name")) for label in pr.get("labels") or []
                        if isinstance(label, dict) and label.get("name")],
                author=((pr.get("user") or {}).get("login")), url=pr.get("html_url")))
            found.merge_prs.append(number)
            if pr.get("merged_at"):
                found.dates[f"pr-{number}"] = str(pr["merged_at"])
        found.excluded += [(sha, f"{DUPLICATE}: part of PR #{number}") for sha in shas[1:]]
        if progress:
            progress(done, total)
    for done, commit in enumerate(lone, start=len(prs) + 1):
        subject, body = _subject(commit)
        found.changes.append(_change(commit["sha"], subject, body=body, author=_login(commit),
                                     url=commit.get("html_url")))
        if progress:
            progress(done, total)
    found.authors_before = _earlier_authors(client, repo, from_ref, found)
    return found


def _earlier_authors(client: Any, repo: str, from_ref: str, found: ChangeSet) -> set[str]:
    """The range's authors who have a commit reachable from ``from_ref``."""
    earlier = set()
    for author in {c.author for c in found.changes if c.author}:
        url = f"/repos/{repo}/commits"
        if _json(client.get(url, {"sha": from_ref, "author": author, "per_page": 1}), url, list):
            earlier.add(author)
    return earlier


def changes_from_forge(forge: Forge, repo: str, from_ref: str, to_ref: str,
                       progress: Progress | None = None) -> ChangeSet:
    """The PRs merged between two refs on the forge (release-note input), without the
    release's own."""
    return changes_from_github(forge.client, check_repo(repo), from_ref, to_ref, progress)
