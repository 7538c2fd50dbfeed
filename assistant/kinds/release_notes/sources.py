"""Where release-note input comes from: the changes in a range, minus the release's own commits.

Two sources, both returning a :class:`ChangeSet` (the changes plus what was left out and why):

- :func:`changes_from_git` reads a local checkout with the ``git`` command: three quick
  ``rev-parse`` checks, then one ``git log`` for the range (fields and file names together)
  and one for the earlier authors, whatever the size of the range; never one call per commit.
- ``change_list.changes_from_json`` reads a list of changes (PRs or commits) from a file or
  from already-parsed data, including the ``commits`` of an eval record in
  ``evaldata/release_notes/*.jsonl``.

``forge_source`` reads the PRs merged between two tags on the forge into the same
``ChangeSet``.

The release's own changelog and version-bump commits are excluded, never read: their text
*is* the answer the notes are written to produce, so feeding it to a model would leak it.
Only subjects and file names are looked at, never a changelog diff.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, Field

from assistant.errors import InvalidInput, ProviderUnavailable
from assistant.kinds.release_notes.models import Change

GIT_TIMEOUT_S = 300
_FIELDS = ("%H", "%P", "%aN", "%aE", "%aI", "%s", "%b")

# Reasons recorded in ChangeSet.excluded (stable prefixes; callers and tests match on them).
RELEASE_SUBJECT = "release commit (subject)"
CHANGELOG_SUBJECT = "changelog commit (subject)"
CHANGELOG_FILES = "changelog files only"
MARKED_CHANGELOG = "marked is_changelog_commit"
DUPLICATE = "duplicate"


class ChangeSet(BaseModel):
    """The changes of a range, with what was left out of it and who contributed before it."""

    changes: list[Change] = Field(default_factory=list)
    excluded: list[tuple[str, str]] = Field(
        default_factory=list, description="(id, reason) for every change left out.")
    authors_before: set[str] = Field(
        default_factory=set, description="Authors of commits reachable from from_ref.")
    from_ref: str | None = None
    to_ref: str | None = None
    merge_prs: list[int] = Field(
        default_factory=list, description="PR numbers named by the range's merge commits.")
    dates: dict[str, str] = Field(default_factory=dict, description="Change id → ISO date.")

    def first_time_authors(self) -> list[str]:
        """Authors in the range never seen before from_ref (empty when that history is unknown)."""
        if not self.authors_before:
            return []
        seen: dict[str, None] = {}
        for change in self.changes:
            if change.author and change.author not in self.authors_before:
                seen.setdefault(change.author)
        return list(seen)


# ---------------------------------------------------------------- what counts as release work

_PR_REF = re.compile(r"\(#(\d+)\)")
_MERGE_PR = re.compile(r"^Merge pull request #(\d+)\b")
_MERGE_REQUEST = re.compile(r"See merge request [\w./-]+!(\d+)")
_TYPE = r"(?:[A-Za-z]+(?:\([^)]*\))?!?:\s*)"
_DOC_TYPE = r"(?:(?i:docs?|chore|build|ci|release)(?:\([^)]*\))?!?:\s*)"
_VERSION = r"v?\d+(?:\.\d+)+(?:[-+.]?[0-9A-Za-z][0-9A-Za-z.+-]*)?"

_RELEASE_RULES = [
    re.compile(r"^(?i:chore)\((?i:release)\)!?:"),                 # chore(release): 1.2.0
    re.compile(r"^(?i:release)(?:\([^)]*\))?!?:"),                  # release: v1.2.3
    # feat: release APISIX 3.8.0 / Release v1.2.3 / prepare release 2.0 / released 1.1
    re.compile(rf"^{_TYPE}?(?i:(?:prepare\s+(?:for\s+)?)?(?:the\s+)?releas(?:e|ed|ing))\s+"
               rf"(?:(?:[A-Z][\w.-]*|(?i:version))\s+){{0,2}}{_VERSION}\s*\S{{0,3}}$"),
    # Bump version to 1.2.3 / chore: bump version / chore: set version to 2.0
    re.compile(r"^" + _TYPE + r"?(?i:bump(?:ed|s)?\s+(?:the\s+)?(?:package\s+)?version)"
               r"(?![\w-])(?!\s+of\b)"),
    # bump to 1.2.3 / set version to 2.0 / updated version to v3.1.0
    re.compile(rf"^{_TYPE}?(?i:(?:bump(?:ed|s)?\s+(?:the\s+)?(?:version\s+)?|"
               rf"(?:set|update[sd]?)\s+(?:the\s+)?version\s+)(?:to|for|=)\s*){_VERSION}\s*$"),
    re.compile(rf"^{_TYPE}?(?i:version\s+)?{_VERSION}$"),                # v1.2.3 / chore: 1.2.3
    re.compile(rf"^{_TYPE}?(?i:version\s+packages)\b"),                # changesets' release PR
]
_CHANGELOG_WORD = r"(?:changelog|change\s+log|release\s+notes|changes\.(?:md|rst|txt))"
_EDIT = (r"(?:(?:add(?:s|ed)?|update[sd]?|(?:re)?generate[sd]?|prepare|write|finali[sz]e|"
         r"refine[sd]?|polish(?:e[sd])?|fix(?:e[sd])?|tweak(?:s|ed)?|correct(?:s|ed)?)\s+)?"
         r"(?:the\s+)?(?:missing\s+)?")
_CHANGELOG_RULES = [
    # docs: changelog / docs: update changelog for 6.6.1 / docs: add 6.4.3 changelog
    re.compile(rf"^{_DOC_TYPE}(?i:{_EDIT}(?:{_VERSION}\s+)?{_CHANGELOG_WORD}"
               r"(?:\.(?:md|rst|txt))?)(?=$|[\s:,;])"),
    # Without a type only a whole subject counts: Update CHANGELOG.md / Changelog for 1.2.0
    # (not "Release notes: add tests", a feature area of its own).
    re.compile(rf"^(?i:{_EDIT}(?:{_VERSION}\s+)?{_CHANGELOG_WORD}(?:\.(?:md|rst|txt))?"
               rf"(?:\s+(?:for|of)\s+{_VERSION})?)\s*$"),
    # docs: add missing AutoComplete changelog for 6.5.1
    re.compile(rf"^{_DOC_TYPE}.*(?i:\b{_CHANGELOG_WORD}\b).*\b{_VERSION}\b"),
    # chore: remove unnecessary backport PR in CHANGELOG.md
    re.compile(rf"^{_DOC_TYPE}.*\b(?:CHANGELOG|CHANGES|HISTORY|NEWS)(?:\.[\w-]+)*"
               r"\.(?:md|rst|txt)\b"),
]
_CHANGELOG_STEMS = r"(?:changelog|changes|history|news|release[-_]?notes)"
_CHANGELOG_UPPER = re.compile(r"^(?:CHANGELOG|CHANGES|HISTORY|NEWS|RELEASE[-_]?NOTES)(?:[._-].*)?$")
_CHANGELOG_LOWER = re.compile(
    rf"^{_CHANGELOG_STEMS}(?:[._-][a-z]{{2}}(?:[-_][a-z]{{2,4}})?(?=\.))?"
    r"(?:\.(?:md|markdown|rst|txt|adoc|org))?$", re.IGNORECASE)
_FRAGMENT_DIRS = {"changelog.d", "newsfragments", "changes.d", ".changeset", "changelogs"}


def _strip_pr_refs(subject: str) -> str:
    return _PR_REF.sub("", subject).strip()


def release_work_reason(subject: str) -> str | None:
    """Why a subject marks the release's own commit (version bump or changelog), or None."""
    core = _strip_pr_refs(subject)
    if any(rule.search(core) for rule in _RELEASE_RULES):
        return RELEASE_SUBJECT
    if any(rule.search(core) for rule in _CHANGELOG_RULES):
        return CHANGELOG_SUBJECT
    return None


def is_changelog_file(path: str) -> bool:
    """CHANGELOG*, HISTORY*, NEWS*, CHANGES* (anywhere, e.g. docs/zh/CHANGELOG.md) or a fragment."""
    parts = PurePosixPath(path).parts
    if not parts:
        return False
    name = parts[-1]
    if _CHANGELOG_UPPER.match(name) or _CHANGELOG_LOWER.match(name):
        return True
    return any(part in _FRAGMENT_DIRS for part in parts[:-1])


def pr_numbers(subject: str) -> list[int]:
    """PR numbers written as ``(#1234)`` or ``Merge pull request #1234`` in a subject."""
    found = [int(n) for n in _PR_REF.findall(subject)]
    merge = _MERGE_PR.match(subject)
    if merge:
        found.append(int(merge.group(1)))
    return list(dict.fromkeys(found))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change(id_: str, title: str, *, body: str = "", prs: Iterable[int] = (),
            labels: Iterable[str] = (), author: str | None = None,
            url: str | None = None) -> Change:
    """A Change with untrusted text clipped to the model's limits instead of refused."""
    return Change(
        id=id_, title=_clip(title.strip(), 1000), body=_clip(body.strip(), 20_000),
        prs=list(dict.fromkeys(prs)), labels=list(dict.fromkeys(labels)),
        author=_clip(author.strip(), 100) if author and author.strip() else None,
        url=url if url and len(url) <= 500 else None,
    )


# ------------------------------------------------------------------------------------ git


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    cmd = ["git", "-C", str(repo), *args]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=GIT_TIMEOUT_S, check=False,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    except FileNotFoundError as exc:
        raise ProviderUnavailable("The git command is not installed.",
                                  fix="install git and make sure it is on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise InvalidInput(f"git {args[0]} took longer than {GIT_TIMEOUT_S}s in {repo}.",
                           fix="pass a narrower range (a later from_ref)") from exc
    if check and done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InvalidInput(f"git {args[0]} failed in {repo}: {err[-1] if err else 'no output'}.",
                           fix="check that the refs and the checkout are readable with git log")
    return done


def _check_repo(repo: Path) -> None:
    if not repo.is_dir():
        raise InvalidInput(f"The repository folder {repo} does not exist.",
                           fix="pass the path of a local git checkout")
    done = _git(repo, "rev-parse", "--git-dir", check=False)
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f" ({err[-1]})" if err and "not a git repository" not in err[-1] else ""
        raise InvalidInput(f"{repo} is not a git repository{detail}.",
                           fix="pass the folder of a git checkout (clone the project first)")


def _resolve(repo: Path, ref: str, name: str) -> str:
    if not ref or ref.startswith("-") or any(c.isspace() or ord(c) < 32 for c in ref):
        raise InvalidInput(f"{name} {ref!r} is not a valid git ref.",
                           fix="pass a tag, branch or commit sha such as v1.2.0")
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    sha = done.stdout.decode("ascii", "replace").strip()
    if done.returncode == 0 and sha:
        return sha
    tags = _git(repo, "tag", "--sort=-creatordate", check=False).stdout
    recent = tags.decode("utf-8", "replace").split()[:5]
    fix = f"use a tag, branch or commit that exists here (recent tags: {', '.join(recent)})" \
        if recent else "use a tag, branch or commit that exists here (this checkout has no tags)"
    shallow = _git(repo, "rev-parse", "--is-shallow-repository", check=False).stdout
    if shallow.strip() == b"true":
        fix += "; this is a shallow clone, run git fetch --unshallow --tags first"
    else:
        fix += "; run git fetch --tags if the tag exists only on the remote"
    raise InvalidInput(f"{name} {ref!r} is not a commit in {repo}.", fix=fix)


def _parse_log(raw: bytes) -> list[dict[str, Any]]:
    """Records of ``git log -z --name-only --format=%x00<fields joined by %x00>``.

    Each record is an empty token, the fields, then (if the commit changed files) the file
    names, the first one after a newline, ended by an empty token. Messages and paths cannot
    hold NUL, so splitting on it is exact.
    """
    tokens = raw.split(b"\0")
    records: list[dict[str, Any]] = []
    i, n = 0, len(tokens)
    while i < n:
        if not tokens[i]:
            i += 1
            continue
        if i + len(_FIELDS) > n:
            break
        sha, parents, name, email, date, subject, body = (
            t.decode("utf-8", "replace") for t in tokens[i:i + len(_FIELDS)])
        i += len(_FIELDS)
        files: list[str] = []
        while i < n and tokens[i]:
            token = tokens[i][1:] if not files and tokens[i].startswith(b"\n") else tokens[i]
            files.append(token.decode("utf-8", "replace"))
            i += 1
        records.append({"sha": sha.strip(), "parents": parents.split(), "author": name,
                        "email": email, "date": date, "subject": subject, "body": body,
                        "files": files})
    return records


def _merge_attribution(records: list[dict[str, Any]], tip: str) -> dict[str, list[int]]:
    """sha → PR numbers of the merge commit(s) that brought it onto the first-parent line."""
    by_sha = {r["sha"]: r for r in records}
    mainline: list[str] = []
    sha: str | None = tip
    while sha in by_sha:
        mainline.append(sha)
        parents = by_sha[sha]["parents"]
        sha = parents[0] if parents else None
    seen: set[str] = set()
    result: dict[str, list[int]] = {}
    for sha in reversed(mainline):
        record = by_sha[sha]
        if len(record["parents"]) > 1:
            prs = pr_numbers(record["subject"]) + [
                int(n) for n in _MERGE_REQUEST.findall(record["body"])]
            stack = list(record["parents"][1:])
            while stack:
                side = stack.pop()
                if side in seen or side not in by_sha:
                    continue
                seen.add(side)
                if prs:
                    result.setdefault(side, []).extend(prs)
                stack.extend(by_sha[side]["parents"])
        seen.add(sha)
    return result


def previous_tag(repo: Path, ref: str) -> str:
    """The newest tag before ``ref`` (where a release webhook's range starts)."""
    done = _git(repo, "describe", "--tags", "--abbrev=0", f"{ref}^", check=False)
    if done.returncode != 0:
        raise InvalidInput(f"No tag before {ref!r} in {repo}.", fix="give from_ref explicitly")
    return done.stdout.decode("utf-8", "replace").strip()


def changes_from_git(repo: Path, from_ref: str, to_ref: str) -> ChangeSet:
    """The non-merge commits in ``from_ref..to_ref``, minus the release's own commits.

    Excluded, each with its reason: version-bump/release commits and changelog commits
    (by subject), and commits that change only changelog files (by file name; the diff is
    never read). Merge commits are not changes; the PR numbers they name are kept in
    ``merge_prs`` and added to the commits each merge brought in.
    """
    repo = Path(repo).expanduser()
    _check_repo(repo)
    from_sha = _resolve(repo, from_ref, "from_ref")
    to_sha = _resolve(repo, to_ref, "to_ref")
    fmt = "%x00" + "%x00".join(_FIELDS)
    raw = _git(repo, "log", "-z", "--name-only",
               "--no-show-signature", "--no-color", "--encoding=UTF-8", "--no-renames",
               f"--format={fmt}", f"{from_sha}..{to_sha}", "--").stdout
    records = _parse_log(raw)
    if not records and from_sha != to_sha:
        back = _git(repo, "merge-base", "--is-ancestor", to_sha, from_sha, check=False)
        if back.returncode == 0:
            raise InvalidInput(
                f"The range {from_ref}..{to_ref} is empty: {to_ref} is older than {from_ref}.",
                fix=f"swap them: from_ref={to_ref}, to_ref={from_ref}")
    merged_by = _merge_attribution(records, to_sha)
    result = ChangeSet(from_ref=from_ref, to_ref=to_ref)
    for record in records:
        if len(record["parents"]) > 1:
            result.merge_prs.extend(pr_numbers(record["subject"]))
            result.merge_prs.extend(int(n) for n in _MERGE_REQUEST.findall(record["body"]))
            continue
        sha, subject = record["sha"], record["subject"]
        reason = release_work_reason(subject)
        if reason is None and record["files"] and all(map(is_changelog_file, record["files"])):
            shown = ", ".join(record["files"][:3]) + (", …" if len(record["files"]) > 3 else "")
            reason = f"{CHANGELOG_FILES}: {shown}"
        if reason:
            result.excluded.append((sha, reason))
            continue
        result.changes.append(_change(
            sha, subject or "(no subject)", body=record["body"],
            prs=pr_numbers(subject) + merged_by.get(sha, []), author=record["author"]))
        result.dates[sha] = record["date"]
    result.merge_prs = sorted(set(result.merge_prs))
    names = _git(repo, "log", "-z", "--format=%aN", from_sha).stdout
    result.authors_before = {
        n.decode("utf-8", "replace").strip() for n in names.split(b"\0") if n.strip()}
    return result
