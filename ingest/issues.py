"""GitHub issues and pull requests: read the JSON dumps people have, cut them into passages.

Accepted shapes, in one file or several:
- the REST API (``gh api repos/O/R/issues``): one issue, a list, a ``--paginate``
  dump (arrays one after another) or a ``--slurp`` dump (a list of lists);
- ``gh issue list --json …`` / ``gh pr list --json …`` (camelCase, comments inline);
- REST comments (``gh api repos/O/R/issues/comments``), matched to issues by ``issue_url``;
- JSON Lines of any of the above.
Records that are not issues or comments are reported, not guessed at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.forge.records import (
    MAINTAINER_ASSOCIATIONS,
    Comment,
    IssueRecord,
    comment_from_json,
    issue_record_from_json,
    text_of,
)
from assistant.language import reporter_language
from assistant.providers.vector_index import Chunk, Metadata
from assistant.redact import redact
from assistant.repos import repo_of_url
from assistant.store.activity import EventRow, ItemRow
from ingest.docs import chunk_id
from ingest.files import Skipped
from ingest.markdown import chunk_markdown, count_tokens

Key = tuple[str, int]  # (repo key, number): repos of one project may share numbers


@dataclass
class ParsedIssues:
    """Issues found in some JSON, plus comments that did not match any issue there, keyed by
    (repo, number); ``repo`` is "" where neither the item's URL nor the caller says."""

    issues: dict[Key, IssueRecord] = field(default_factory=dict)
    orphan_comments: dict[Key, list[Comment]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)

    def one(self, number: int) -> IssueRecord:
        """The issue numbered ``number`` when only one repo has one (KeyError otherwise)."""
        found = [issue for (_, n), issue in self.issues.items() if n == number]
        if len(found) != 1:
            raise KeyError(number)
        return found[0]

    def add(self, issue: IssueRecord) -> None:
        """Keep the newest record of an issue (and the comments an older one carried)."""
        previous = self.issues.get(issue.key)
        if previous is None or issue.updated_at >= previous.updated_at:
            if previous and not issue.comments:
                issue.comments = previous.comments
            self.issues[issue.key] = issue

    def assume_repo(self, repo: str) -> None:
        """File issues and comments whose URLs name no repo under ``repo``."""
        for key in [k for k in self.issues if not k[0]]:
            issue = self.issues.pop(key)
            issue.repo = repo
            self.add(issue)
        for key in [k for k in self.orphan_comments if not k[0]]:
            self.orphan_comments.setdefault((repo, key[1]), []).extend(
                self.orphan_comments.pop(key))


def _json_values(text: str) -> Iterator[Any]:
    """Every top-level JSON value in a text: one document, concatenated arrays, or JSON Lines."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if position >= len(text):
            return
        value, position = decoder.raw_decode(text, position)
        yield value


def _records(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _records(item)
    else:
        yield value


def parse_issue_json(text: str, origin: str, into: ParsedIssues | None = None) -> ParsedIssues:
    """Issues and comments from JSON text. Malformed JSON raises ValueError with the position."""
    parsed = into or ParsedIssues()
    try:
        values = list(_json_values(text))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    for n, record in enumerate(r for v in values for r in _records(v)):
        where = f"{origin}[{n}]"
        if not isinstance(record, dict):
            parsed.skipped.append(Skipped(where, "not a JSON object"))
            continue
        if "issue_url" in record and "title" not in record:
            issue_url = text_of(record.get("issue_url"))
            match = re.search(r"/issues/(\d+)$", issue_url)
            if not match:
                parsed.skipped.append(Skipped(where, "comment without an issue number"))
                continue
            comment = comment_from_json(record)
            repo = repo_of_url(issue_url)
            key = (repo.key if repo else "", int(match.group(1)))
            parsed.orphan_comments.setdefault(key, []).append(comment)
            continue
        try:
            issue = issue_record_from_json(record)
        except (KeyError, ValueError, TypeError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            parsed.skipped.append(Skipped(where, f"not an issue or comment ({detail})"))
            continue
        parsed.add(issue)
    return parsed


def attach_comments(parsed: ParsedIssues) -> None:
    """Move comments listed separately onto their issues (sorted by time, without repeats)."""
    for key, comments in list(parsed.orphan_comments.items()):
        issue = parsed.issues.get(key)
        if issue is None:
            continue
        seen = {(c.created_at, c.author, c.body) for c in issue.comments}
        issue.comments += [c for c in comments if (c.created_at, c.author, c.body) not in seen]
        issue.comments.sort(key=lambda c: c.created_at)
        del parsed.orphan_comments[key]


def read_issue_files(paths: list[Path], max_bytes: int, repo: str = "") -> ParsedIssues:
    """Parse issue dumps; a file that is unusable is skipped with a reason, the rest still count.
    Items whose URLs name no repo are filed under ``repo``."""
    parsed = ParsedIssues()
    for path in paths:
        try:
            size = path.stat().st_size
        except OSError as exc:
            parsed.skipped.append(Skipped(str(path), f"unreadable ({exc.strerror})"))
            continue
        if size > max_bytes:
            parsed.skipped.append(
                Skipped(str(path), f"too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)")
            )
            continue
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            parsed.skipped.append(Skipped(str(path), f"not UTF-8 text (byte {exc.start})"))
            continue
        except OSError as exc:
            parsed.skipped.append(Skipped(str(path), f"unreadable ({exc.strerror})"))
            continue
        try:
            parse_issue_json(text, path.name, parsed)
        except ValueError as exc:
            parsed.skipped.append(Skipped(str(path), f"{exc}; nothing from this file was used"))
    if repo:
        parsed.assume_repo(repo)
    attach_comments(parsed)
    return parsed


def issue_path(issue: IssueRecord) -> str:
    """The manifest key of an issue or PR: ``issues/<repo key>/<n>`` (``issues/<n>`` when
    the repo is not known)."""
    kind = "pulls" if issue.is_pull_request else "issues"
    return f"{kind}/{issue.repo}/{issue.number}" if issue.repo else f"{kind}/{issue.number}"


ANSWER_MIN_CHARS = 40  # shorter maintainer comments ("thanks", "/close") are not answers


def is_maintainer_answer(comment: Comment, issue: IssueRecord,
                         maintainers: frozenset[str] = frozenset()) -> bool:
    """A substantive comment by a maintainer (OWNER/MEMBER/COLLABORATOR, or a login the
    project lists) on someone else's issue; bots never count."""
    login = (comment.author or "").lower()
    if not login or login.endswith("[bot]") or login == (issue.author or "").lower():
        return False
    trusted = (comment.author_association or "").upper() in MAINTAINER_ASSOCIATIONS or \
        login in maintainers
    return trusted and len(comment.body.strip()) >= ANSWER_MIN_CHARS


def issue_chunks(issue: IssueRecord, project: str, max_tokens: int,
                 maintainers: frozenset[str] = frozenset()) -> list[Chunk]:
    """Title and body as the first unit (split only if huge), then the comments, packed.

    A maintainer's answer (``is_maintainer_answer``; ``maintainers``: lower-case logins) is a
    passage of its own (part ``answer``), so drafts can retrieve and quote what the project's
    maintainers said on similar issues."""
    kind = "pull_request" if issue.is_pull_request else "issue"
    path = issue_path(issue)
    body = redact(issue.body)
    language = reporter_language(issue.title, body)
    base: Metadata = {
        "source_kind": kind,
        "project": project,
        "path": path,
        "repo": issue.repo,
        "number": issue.number,
        "title": redact(issue.title),
        "state": issue.state,
        "state_reason": issue.state_reason,
        "labels": ",".join(issue.labels),
        "assignees": ",".join(issue.assignees),
        "author": issue.author,
        "author_association": issue.author_association,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.closed_at,
        "url": issue.url,
        "language": language,
        "duplicate_of": issue.duplicate_key[1] if issue.duplicate_key else 0,
        "duplicate_of_repo": issue.duplicate_key[0] if issue.duplicate_key else "",
        "is_duplicate": issue.is_duplicate,
        "comments": max(issue.comment_count, len(issue.comments)),
    }
    header = f"#{issue.number} {base['title']}"
    seen: dict[str, int] = {}
    chunks: list[Chunk] = []

    def add(text: str, part: str, heading: str) -> None:
        metadata = dict(base, part=part, heading=heading, position=len(chunks))
        chunks.append(Chunk(chunk_id(project, path, text, seen), text, metadata))

    if count_tokens(body) <= max_tokens:
        add(f"{header}\n\n{body}".strip(), "body", "")
    else:
        for section in chunk_markdown(body, max_tokens):
            add(f"{header}\n\n{section.text}", "body", " > ".join(section.trail))
    packed: list[str] = []
    size = 0
    for comment in issue.comments:
        if is_maintainer_answer(comment, issue, maintainers):
            answer = redact(comment.body).strip()
            if count_tokens(answer) > max_tokens:
                answer = chunk_markdown(answer, max_tokens)[0].text
            metadata = dict(base, part="answer", heading="answer", position=len(chunks),
                            answer_author=comment.author, answer_url=comment.url or issue.url,
                            answer_created=comment.created_at)
            text = f"{header} (answer)\n\n{answer}"
            chunks.append(Chunk(chunk_id(project, path, text, seen), text, metadata))
            continue
        text = f"{comment.author or 'someone'} ({comment.author_association or 'NONE'}) " \
            f"{comment.created_at[:10]}:\n{redact(comment.body).strip()}"
        tokens = count_tokens(text)
        if packed and size + tokens > max_tokens:
            add(f"{header} (comments)\n\n" + "\n\n".join(packed), "comments", "comments")
            packed, size = [], 0
        if tokens > max_tokens:
            for section in chunk_markdown(text, max_tokens):
                add(f"{header} (comments)\n\n{section.text}", "comments", "comments")
            continue
        packed.append(text)
        size += tokens
    if packed:
        add(f"{header} (comments)\n\n" + "\n\n".join(packed), "comments", "comments")
    return chunks


def parse_time(value: str) -> datetime | None:
    """An aware UTC datetime from GitHub's ISO 8601 (``2026-05-04T03:17:42Z``); None if unusable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def activity_row(issue: IssueRecord) -> ItemRow:
    """The compact history record of an issue/PR for the activity tables.

    Comments are replaced only when the input holds them: a REST issue dump without its comments
    file (``comments`` > 0 but none attached) keeps the comments stored earlier.
    """
    events = [EventRow(c.kind, c.author, c.author_association, parse_time(c.created_at))
              for c in [*issue.comments, *issue.reviews]]
    known = bool(events) or issue.comment_count == 0
    return ItemRow(
        repo=issue.repo, number=issue.number,
        kind="pull_request" if issue.is_pull_request else "issue",
        title=issue.title[:1024], url=issue.url[:500], state=issue.state[:16],
        author=issue.author[:100], author_association=issue.author_association[:32],
        labels=list(issue.labels), assignees=list(issue.assignees),
        created_at=parse_time(issue.created_at), closed_at=parse_time(issue.closed_at),
        merged_at=parse_time(issue.merged_at), updated_at=parse_time(issue.updated_at),
        events=events if known else None,
    )
