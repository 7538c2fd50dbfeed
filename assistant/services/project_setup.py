"""`devrel init`: look at a checkout, write a commented project config, print the commands.

Detection reads files only (the git config for the remote, the docs generator's config, the
label set and issue templates); nothing is run and nothing is fetched. The written file
carries a hash of what was generated, so a rerun can tell an untouched file (safe to
refresh) from one a person edited (shown as a diff; replaced only when they say so).
"""

from __future__ import annotations

import configparser
import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.errors import InvalidInput
from assistant.project_files import read_project_files
from assistant.repos import RepoRef
from assistant.settings import ForgeName

_STAMP = re.compile(r"^# generated-sha256: ([0-9a-f]{64})$", re.M)
_HOSTS: dict[str, ForgeName] = {"github.com": "github", "gitee.com": "gitee"}
# git@host:owner/name(.git) and https://host/owner/name(.git)
_REMOTE = re.compile(r"^(?:[\w.+-]+://)?(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?[:/](?P<path>.+?)"
                     r"(?:\.git)?/?$")


@dataclass
class DocsFound:
    """A docs root and how its pages are published."""

    path: str
    language: str | None
    generator: str
    site_url: str | None = None


@dataclass
class Detected:
    """What `devrel init` found in a checkout."""

    checkout: Path
    project: str
    repo: RepoRef | None
    remote: str | None
    branch: str
    docs: list[DocsFound] = field(default_factory=list)
    project_files: list[str] = field(default_factory=list)
    notes: Path | None = None
    issue_dumps: list[Path] = field(default_factory=list)


def forge_of_remote(url: str) -> RepoRef | None:
    """The repo a git remote URL points at (GitHub, Gitee, or a host named like GitLab)."""
    match = _REMOTE.match(url.strip())
    if not match:
        return None
    host, path = match["host"].lower(), match["path"].strip("/")
    forge = _HOSTS.get(host) or ("gitlab" if "gitlab" in host else None)
    if forge is None:
        return None
    try:
        return RepoRef.parse(f"{forge}:{path}")
    except InvalidInput:
        return None


def _git_config(checkout: Path) -> tuple[str | None, str]:
    """The ``origin`` remote's URL (or the first remote's) and the current branch."""
    git = checkout / ".git"
    if git.is_file():  # a worktree: "gitdir: …"
        target = git.read_text(errors="replace").partition("gitdir:")[2].strip()
        git = (checkout / target).resolve()
        common = git / "commondir"
        config_dir = (git / common.read_text().strip()).resolve() if common.is_file() else git
    else:
        config_dir = git
    branch = "main"
    head = git / "HEAD"
    if head.is_file():
        ref = head.read_text(errors="replace").strip()
        if ref.startswith("ref: refs/heads/"):
            branch = ref.removeprefix("ref: refs/heads/")
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read(config_dir / "config", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None, branch
    remotes = [s for s in parser.sections() if s.startswith('remote "')]
    remotes.sort(key=lambda s: s != 'remote "origin"')
    for section in remotes:
        if parser.has_option(section, "url"):
            return parser.get(section, "url"), branch
    return None, branch


def _docs(checkout: Path) -> list[DocsFound]:
    """Docs roots from the generator's config, else a plain ``docs/`` folder."""
    from ingest.sites import detect_site

    site = detect_site(checkout)
    if site is not None:
        return [DocsFound(root.path, root.language, site.generator, site.site_url)
                for root in site.roots]
    for name in ("docs", "doc", "documentation"):
        if (checkout / name).is_dir():
            return [DocsFound(name, None, "none")]
    return []


def detect(checkout: Path, repo: str | None = None, project: str | None = None) -> Detected:
    """Everything `devrel init` can tell about a checkout; ``repo`` overrides the remote."""
    if not checkout.is_dir():
        raise InvalidInput(f"{checkout} is not a folder.", fix="pass a checkout of the project")
    checkout = checkout.resolve()
    remote, branch = _git_config(checkout)
    ref = RepoRef.parse(repo) if repo else (forge_of_remote(remote) if remote else None)
    name = project or (ref.name.rsplit("/", 1)[-1] if ref else checkout.name)
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", name).strip("-.") or "project"
    try:
        _, read = read_project_files(checkout)
    except InvalidInput:
        read = []
    notes = next((checkout / n for n in ("meeting_notes", "meetings", "community/meetings",
                                         "docs/meetings") if (checkout / n).is_dir()), None)
    dumps = sorted(p for p in checkout.glob("*.json") if p.stem in ("issues", "comments", "pulls"))
    return Detected(checkout, name[:63], ref, remote, branch, _docs(checkout), read, notes, dumps)


def render_config(found: Detected) -> str:
    """A commented YAML config for the project, ending with a hash of what was generated."""
    def q(value: Any) -> str:  # a JSON scalar or list is a YAML flow value
        return json.dumps(value, ensure_ascii=False)

    ref = found.repo
    lines = [
        f"# devrel-assistant config for {found.project}, written by `devrel init` from",
        f"# {found.checkout} on {datetime.now(UTC):%Y-%m-%d}. Edit freely: a rerun of",
        "# `devrel init` shows a diff and asks before it replaces anything you changed.",
        "# Every key is described in docs/configuration.md.",
        f"project: {q(found.project)}",
        "projects:",
        f"  {q(found.project)}:",
    ]
    if ref:
        lines += [
            f"    forge: {ref.forge}  # from the git remote {q(found.remote or '')}",
            f"    repo: {q(ref.name)}",
            "    # repos: [owner/other-repo, gitee:owner/mirror]  # more repos of this project",
        ]
    else:
        lines += ["    # forge: github  # no GitHub, Gitee or GitLab remote found",
                  "    # repo: owner/name"]
    lines.append(f"    ref: {q(found.branch)}  # the branch citation links point at")
    if found.docs:
        site = found.docs[0]
        lines.append("    docs_site:")
        lines.append(f"      generator: {site.generator}  # detected"
                     if site.generator != "none" else "      generator: none  # no docs "
                     "generator config found: links go to the repo's files")
        if site.site_url:
            lines.append(f"      site_url: {q(site.site_url)}")
        elif site.generator != "none":
            lines.append("      # site_url: https://docs.example.org  # SET THIS: the "
                         f"{site.generator} config names no live URL (or a placeholder), so "
                         "citations link the repo's files")
        lines.append("      roots:  # each docs folder and the language of its pages")
        for root in found.docs:
            lines.append(f"        - {{path: {q(root.path)}, language: {q(root.language)}}}")
    lines.append("    sources:")
    lines.append(f"      root: {q(str(found.checkout))}  # labels, issue templates, glossary"
                 + ("" if found.project_files else " (none found yet)"))
    if found.docs:
        lines.append(f"      docs: {q(str(found.checkout))}  # every docs root above, one ingest")
    if found.issue_dumps:
        lines.append(f"      issues: {q([str(p) for p in found.issue_dumps])}")
    if found.notes:
        lines.append(f"      notes: {q(str(found.notes))}")
    if ref:
        lines.append(f"      live: true  # sync issues live from {ref.forge} "
                     f"(token: {ref.forge.upper()}_TOKEN)")
    lines.append("    # maintainers: []  # logins whose comments count as maintainers' answers")
    for line in found.project_files:
        lines.append(f"    #   found {line}")
    body = "\n".join(lines) + "\n"
    return body + f"# generated-sha256: {_digest(body)}\n"


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _body_of(text: str) -> tuple[str, str | None]:
    match = _STAMP.search(text)
    return (text[: match.start()], match[1]) if match else (text, None)


@dataclass
class WritePlan:
    """What writing the config would do: ``create``, ``same``, ``refresh`` (an untouched
    generated file) or ``edited`` (a person changed it: ``diff`` shows how)."""

    action: str
    diff: str = ""


def plan_write(target: Path, text: str) -> WritePlan:
    """Compare the file on disk with the newly generated text."""
    if not target.exists():
        return WritePlan("create")
    old = target.read_text(encoding="utf-8", errors="replace")
    old_body, stamp = _body_of(old)
    new_body, _ = _body_of(text)
    if _strip_date(old_body) == _strip_date(new_body):
        return WritePlan("same")
    diff = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                        str(target), "devrel init"))
    if stamp is not None and stamp == _digest(old_body):
        return WritePlan("refresh", diff)
    return WritePlan("edited", diff)


def _strip_date(body: str) -> str:
    return re.sub(r" on \d{4}-\d{2}-\d{2}\. Edit freely", "", body)


def next_commands(found: Detected, config: Path) -> list[str]:
    """The commands that index the project and start the service, in order."""
    base = f"devrel --config {config}"
    commands = [f"{base} ingest project {found.checkout}"]
    if found.docs:
        commands.append(f"{base} ingest docs {found.checkout}")
    if found.issue_dumps:
        commands.append(f"{base} ingest issues " + " ".join(str(p) for p in found.issue_dumps))
    if found.repo:
        commands.append(f"{base} ingest issues --repo {found.repo.key}")
    if found.notes:
        commands.append(f"{base} ingest notes {found.notes}")
    commands.append(f"{base} serve")
    return commands
