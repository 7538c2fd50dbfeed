"""Ingest entry points used by the CLI and the API: one function per source kind."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from assistant.errors import InvalidInput
from assistant.forge.client import GitHubClient
from assistant.forge.records import comment_from_json, issue_record_from_json
from assistant.forge.shapes import IssueInput
from assistant.providers.vector_index import VectorIndex
from assistant.repos import RepoRef, issue_key, project_repos, repo_key_for
from assistant.settings import DocsSiteSettings, Settings
from assistant.store.activity import ActivityStore, UpsertCounts
from ingest.docs import scan_docs
from ingest.files import Skipped
from ingest.issues import (
    IssueRecord,
    ParsedIssues,
    activity_row,
    attach_comments,
    issue_chunks,
    issue_path,
    read_issue_files,
)
from ingest.migrate import migrate_issue_keys
from ingest.notes import scan_notes
from ingest.sites import DocsSite
from ingest.sync import Progress, SyncReport, known_items, source_entries, sync_source

Note = Callable[[str], None]


def _max_bytes(settings: Settings) -> int:
    return int(settings.ingest.max_file_mb * 1024 * 1024)


def _refuse_empty(found: object, skipped: list[Skipped], what: str, root: Path | str,
                  fix: str) -> None:
    if found:
        return
    reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
    raise InvalidInput(
        f"No usable {what} under {root}" + (f" ({reasons})" if reasons else "")
        + "; the index was left as it was.",
        fix=fix,
    )


def _check_folder(root: Path, what: str, allow_file: bool = False) -> None:
    if not root.exists():
        raise InvalidInput(f"{root} does not exist.", fix=f"pass the path of {what}")
    if not root.is_dir() and not (allow_file and root.is_file()):
        raise InvalidInput(f"{root} is not a folder.", fix=f"pass the path of {what}")


def find_site(root: Path, configured: DocsSiteSettings) -> tuple[Path, DocsSite | None]:
    """The docs site ``root`` belongs to: its own, or (for a docs folder inside a checkout)
    the one configured in a folder above it, narrowed to the roots inside ``root``."""
    from ingest.sites import detect_site

    root = root.resolve()
    site = detect_site(root, configured)
    if site is not None:
        return root, site
    for parent in list(root.parents)[:4]:
        site = detect_site(parent, configured) if configured.generator != "none" else None
        if site is not None:
            inside = root.relative_to(parent).as_posix()
            site.roots = [r for r in site.roots
                          if r.path == inside or r.path.startswith(f"{inside}/")]
            return (parent, site) if site.roots else (root, None)
        if (parent / ".git").exists():
            break
    return root, None


def ingest_docs(
    settings: Settings,
    index: VectorIndex,
    root: Path,
    *,
    repo_path: str = "",
    progress: Progress | None = None,
) -> SyncReport:
    """Sync a docs folder or a docs site's checkout into the project's index; refuse a folder
    with nothing usable.

    A checkout with a Docusaurus, MkDocs or Sphinx config (or ``docs_site.roots`` in the
    project config) is read in one go: every root, each with its language and live URLs.
    ``repo_path`` (where a plain folder sits in the repo) is used when no site is found
    (``docs_site.generator: none`` turns detection off).
    """
    _check_folder(root, "a docs folder or a docs site's checkout")
    project = settings.project_settings(index.project)
    base, site = find_site(root, project.docs_site)
    source = f"docs:{root.resolve()}"
    existing = source_entries(index, source)
    scan = scan_docs(
        base, project=index.project, project_settings=project,
        repo_path=repo_path, max_tokens=settings.ingest.chunk_tokens,
        max_bytes=_max_bytes(settings), known=known_items(existing), site=site,
    )
    where = (f"the {site.generator} roots " + ", ".join(r.path or "." for r in site.roots)
             if site else str(root))
    _refuse_empty(scan.chunks_by_path or scan.unchanged, scan.skipped,
                  "Markdown, MDX, reStructuredText, HTML or text pages", where,
                  "point at a folder (or a docs site's checkout) with .md, .mdx, .rst, .html or "
                  ".txt pages" if scan.skipped else "the folder has no files at all: check the "
                  "path")
    report = sync_source(
        index, source, scan.chunks_by_path, unchanged=scan.unchanged, existing=existing,
        batch_size=settings.embedding.batch_size, write_batch=settings.ingest.write_batch,
        workers=settings.embedding.workers,
        progress=progress,
    )
    report.skipped = scan.skipped
    return report


def ingest_notes(
    settings: Settings, index: VectorIndex, root: Path, *, progress: Progress | None = None
) -> SyncReport:
    """Sync a folder (or one file) of meeting notes into the project's index."""
    _check_folder(root, "a folder of meeting notes", allow_file=True)
    scan = scan_notes(
        root, project=index.project, max_tokens=settings.ingest.chunk_tokens,
        max_bytes=_max_bytes(settings),
    )
    _refuse_empty(scan.chunks_by_path, scan.skipped, "Markdown or text notes", root,
                  "point at the folder that holds the notes")
    source = f"notes:{root.resolve()}"
    report = sync_source(
        index, source, scan.chunks_by_path, complete=root.is_dir(),
        batch_size=settings.embedding.batch_size, write_batch=settings.ingest.write_batch,
        workers=settings.embedding.workers,
        progress=progress,
    )
    report.skipped = scan.skipped
    return report


def _main_repo(settings: Settings, project: str) -> str:
    """The key of the project's main repo, or "" when it has none configured."""
    repos = project_repos(settings.project_settings(project))
    return repos[0].key if repos else ""


def sync_issues(
    settings: Settings,
    index: VectorIndex,
    parsed: ParsedIssues,
    *,
    source: str,
    prune: bool = False,
    progress: Progress | None = None,
    activity: ActivityStore | None = None,
) -> SyncReport:
    """Upsert parsed issues (each replaces its earlier version); ``prune`` drops unlisted ones.

    Their history (authors, comment and review times, merges, assignees) is upserted into the
    app database's activity tables too, for activity reports (``activity``: an open store).
    """
    project = settings.projects.get(index.project)
    maintainers = frozenset(m.lower() for m in project.maintainers) if project else frozenset()
    chunks_by_path = {
        issue_path(issue): issue_chunks(issue, index.project, settings.ingest.chunk_tokens,
                                        maintainers)
        for issue in parsed.issues.values()
    }
    report = sync_source(
        index, source, chunks_by_path, complete=prune,
        batch_size=settings.embedding.batch_size, write_batch=settings.ingest.write_batch,
        workers=settings.embedding.workers,
        progress=progress,
    )
    report.skipped = list(parsed.skipped) + [
        Skipped(f"comments of {issue_key(r, n) if r else f'#{n}'}",
                "their issue is not in the input")
        for r, n in sorted(parsed.orphan_comments)
    ]
    record_activity(settings, index.project, parsed, activity)
    return report


def index_incoming_issue(settings: Settings, index: VectorIndex, issue: IssueInput) -> bool:
    """Add a just-triaged issue (title and body) to the index, so the next incoming issue can
    find it as a duplicate. Only an issue with a number that the index does not hold yet (in
    its repo): a synced issue, with its comments and labels, is never replaced by the bare
    report."""
    if not issue.number:
        return False
    repo = repo_key_for(settings, index.project, issue.repo)
    record = IssueRecord(
        number=issue.number, title=issue.title.strip() or f"#{issue.number}", body=issue.body,
        state="open", state_reason="", labels=list(issue.labels), author=issue.author or "",
        author_association=issue.author_association or "", created_at="", updated_at="",
        closed_at="", url=issue.url or "", is_pull_request=False, repo=repo)
    migrate_issue_keys(index, _main_repo(settings, index.project))
    path = issue_path(record)
    if index.entries({"path": path}):
        return False
    chunks = issue_chunks(record, index.project, settings.ingest.chunk_tokens)
    sync_source(index, f"issues:{repo or index.project}", {path: chunks}, complete=False,
                batch_size=settings.embedding.batch_size, write_batch=settings.ingest.write_batch)
    return True


def record_activity(settings: Settings, project: str, parsed: ParsedIssues,
                    activity: ActivityStore | None = None) -> UpsertCounts:
    """Upsert the issues' history rows (idempotent: by project and number)."""
    if not parsed.issues:
        return UpsertCounts()
    store = activity or ActivityStore.open(settings)
    try:
        return store.upsert(project, [activity_row(i) for i in parsed.issues.values()])
    finally:
        if activity is None:
            store.close()


def ingest_issue_files(
    settings: Settings,
    index: VectorIndex,
    paths: list[Path],
    *,
    repo: str | None = None,
    prune: bool = False,
    progress: Progress | None = None,
) -> SyncReport:
    """Index issues/PRs from JSON dumps (REST or ``gh --json``); bad files are skipped.

    Each item is filed under the repo its own URL names, else ``repo`` (default: the project's
    main repo); items of several repos are synced repo by repo (``prune`` per repo)."""
    if not paths:
        raise InvalidInput("No files given.", fix="pass one or more JSON files")
    project = settings.project_settings(index.project)
    fallback = RepoRef.parse(repo, project.forge).key if repo else _main_repo(
        settings, index.project)
    migrate_issue_keys(index, _main_repo(settings, index.project))
    parsed = read_issue_files(paths, _max_bytes(settings), repo=fallback)
    if not parsed.issues:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in parsed.skipped[:3])
        raise InvalidInput(
            "No issues or pull requests found" + (f" ({reasons})" if reasons else "")
            + "; the index was left as it was.",
            fix="pass the output of `gh api repos/OWNER/REPO/issues` or `gh issue list --json …`",
        )
    total = SyncReport()
    repos = sorted({key[0] for key in parsed.issues})
    activity = ActivityStore.open(settings)
    try:
        for n, name in enumerate(repos):
            last = n == len(repos) - 1  # left-over comments and skips are reported once
            part = ParsedIssues(
                issues={k: v for k, v in parsed.issues.items() if k[0] == name},
                orphan_comments=parsed.orphan_comments if last else {},
                skipped=parsed.skipped if last else [])
            total.merge(sync_issues(settings, index, part, source=f"issues:{name or index.project}",
                                    prune=prune, progress=progress, activity=activity))
    finally:
        activity.close()
    return total


class IssueSource(Protocol):
    """Where a live sync reads a repo's issues: pages oldest update first, items in GitHub's
    JSON shape (``GitHubClient``; the Gitee and GitLab sources normalise to it)."""

    authenticated: bool

    def issue_pages(self, repo: str, since: str | None = None) -> Iterator[list[dict[str, Any]]]:
        ...

    def comments(self, repo: str, number: int) -> Iterable[dict[str, Any]]: ...

    def close(self) -> None: ...


def issue_source(settings: Settings, repo: RepoRef, note: Note | None = None,
                 project: str | None = None) -> IssueSource:
    """The configured API client for a repo's forge."""
    on_wait = (lambda s, why: note(f"waiting {s:.0f}s: {why}")) if note else None
    if repo.forge == "github":
        return GitHubClient(settings.github, on_wait=on_wait)
    from assistant.forge.registry import issue_source as other_forge

    maintainers = tuple(settings.project_settings(project).maintainers) if project else ()
    return other_forge(settings, repo, on_wait=on_wait, maintainers=maintainers)


def sync_github(settings: Settings, index: VectorIndex, repo: str, **options: Any) -> SyncReport:
    """``sync_repo`` for ``owner/name`` (or ``FORGE:owner/name``)."""
    forge = settings.project_settings(index.project).forge
    return sync_repo(settings, index, RepoRef.parse(repo, forge), **options)


def sync_repo(
    settings: Settings,
    index: VectorIndex,
    repo: RepoRef,
    *,
    client: IssueSource | None = None,
    full: bool = False,
    progress: Progress | None = None,
    note: Note | None = None,
) -> SyncReport:
    """Live sync of one repo from its forge's API, page by page, resuming from the last fully
    synced page.

    Issues come oldest update first; after each page is indexed its newest ``updated_at`` is
    saved with the index as the repo's cursor, so a run stopped by a crash or an exhausted rate
    limit loses nothing and resumes there. Every item is filed under ``repo``.
    """
    key = f"github:{repo.name}" if repo.forge == "github" else f"{repo.forge}:{repo.name}"
    since = None if full else index.get_state(key)
    migrate_issue_keys(index, _main_repo(settings, index.project))
    own_client = client is None
    client = client or issue_source(settings, repo, note, index.project)
    if note and not client.authenticated:
        note(f"no {repo.forge} token: public data only, at the anonymous rate limit; set "
             f"DEVREL_{repo.forge.upper()}__TOKEN or {repo.forge.upper()}_TOKEN")
    total = SyncReport()
    activity = ActivityStore.open(settings)
    try:
        for page in client.issue_pages(repo.name, since):
            parsed = ParsedIssues()
            for n, raw in enumerate(page):
                try:
                    issue = issue_record_from_json(raw)
                except (KeyError, ValueError, TypeError) as exc:
                    parsed.skipped.append(Skipped(f"{repo} item {n}", f"not an issue ({exc})"))
                    continue
                issue.repo = repo.key
                if issue.comment_count:
                    for raw_comment in client.comments(repo.name, issue.number):
                        parsed.orphan_comments.setdefault(issue.key, []).append(
                            comment_from_json(raw_comment))
                issue.comments = []
                parsed.issues[issue.key] = issue
            attach_comments(parsed)
            report = sync_issues(settings, index, parsed, source=f"issues:{repo.key}",
                                 progress=progress, activity=activity)
            total.merge(report)
            newest = max((i.updated_at for i in parsed.issues.values()), default="")
            if newest:
                index.set_state(key, newest)
            if note:
                note(f"page of {len(page)} synced (updated up to {newest or '?'})")
    finally:
        activity.close()
        if own_client:
            client.close()
    return total


def ingest_project_files(index: VectorIndex, root: Path) -> list[str]:
    """Keep a project's label set, issue templates and glossary with its index.

    What the folder does not have is left as it was stored; a folder with none of them is
    refused. Returns a line per file read.
    """
    from assistant.project_files import load_project_files, read_project_files, store_project_files

    _check_folder(root, "the project's root folder")
    found, read = read_project_files(root)
    if not read:
        raise InvalidInput(
            f"No labels.json, .github/ISSUE_TEMPLATE or glossary.yaml under {root}; "
            "the index was left as it was.", fix="pass the project's root folder")
    stored = load_project_files(index)
    store_project_files(index, stored.model_copy(update={
        "labels": found.labels or stored.labels,
        "templates": found.templates or stored.templates,
        "glossary": found.glossary if (found.glossary.keep or found.glossary.translations)
        else stored.glossary,
    }))
    return read


def sync_project(
    settings: Settings, index: VectorIndex, *, on_report: Callable[[str, SyncReport], None]
    | None = None, progress_for: Callable[[str], Progress | None] | None = None,
) -> list[str]:
    """Sync every configured source of a project (``projects.<name>.sources``).

    Returns a line per source; records the time in the index state ``last_sync``.
    """
    from datetime import UTC, datetime

    sources = settings.project_settings(index.project).sources
    project = settings.project_settings(index.project)
    lines: list[str] = []

    def note(what: str, report: SyncReport) -> None:
        lines.append(f"{what}: {len(report.added)} added, {len(report.updated)} updated, "
                     f"{len(report.removed)} removed, {len(report.unchanged)} unchanged, "
                     f"{report.chunks_embedded} passages embedded")
        if on_report:
            on_report(what, report)

    def bar(what: str) -> Progress | None:
        return progress_for(what) if progress_for else None

    if not (sources.root or sources.docs or sources.issues or sources.notes or sources.live
            or sources.github):
        raise InvalidInput(f"Project {index.project!r} has no sources configured.",
                           fix=f"set projects.{index.project}.sources in the config file")
    if sources.docs:
        note("docs", ingest_docs(settings, index, sources.docs, repo_path=sources.docs_repo_path,
                                 progress=bar("docs")))
    if sources.issues:
        note("issues", ingest_issue_files(settings, index, sources.issues, progress=bar("issues")))
    if sources.live or sources.github:
        for repo in project_repos(project):
            note(f"issues of {repo}", sync_repo(settings, index, repo,
                                                progress=bar(f"issues of {repo}")))
    if sources.notes:
        note("meeting notes", ingest_notes(settings, index, sources.notes,
                                           progress=bar("meeting notes")))
    if sources.root:
        lines.extend(ingest_project_files(index, sources.root))
    index.set_state("last_sync", datetime.now(UTC).isoformat(timespec="seconds"))
    return lines
