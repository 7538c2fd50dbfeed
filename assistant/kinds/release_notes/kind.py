"""The release-notes kind: changes from a git range, the forge or a list; structure in code,
lines the model improves (in batches, cached), EN and ZH rendered for review side by side."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import InvalidInput
from assistant.forge.github import Forge, build_forge
from assistant.kinds.base import DraftResult, Kind, Progress
from assistant.kinds.release_notes.models import Change, ReleaseNotesInput
from assistant.kinds.release_notes.sources import ChangeSet
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind

if TYPE_CHECKING:
    from assistant.context import AppContext

CACHE_FILE = "release_notes_cache.sqlite3"
"""The phrase cache (checked rewrites, translations, sections) in the data dir."""
PR_NUMBER = re.compile(r"\(#(\d+)\)|#(\d+)\b")


def changes_from_lines(lines: list[str]) -> list[Change]:
    """Changes given as titles (a PR number in them is kept as the link)."""
    changes = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        prs = sorted({int(a or b) for a, b in PR_NUMBER.findall(line)})
        changes.append(Change(id=f"line-{n}", title=line.strip()[:1000], prs=prs))
    return changes


def gather(ctx: AppContext, request: ReleaseNotesInput, project: str,
           clone: Path | None = None, forge: Forge | None = None,
           progress: Progress | None = None) -> tuple[list[Change], set[str] | None, list[str]]:
    """The input changes, the authors before the range (for first-timers), and the commits left
    out of the input (release and changelog work)."""
    if request.changes:
        return changes_from_lines(request.changes), None, []
    if not request.to_ref:
        raise InvalidInput("Release notes need a range (to_ref, from_ref) or a change list.",
                           fix="give the refs, or the changes one per line")
    settings = ctx.settings.project_settings(project)
    clone = clone or settings.sources.git
    use_forge = request.source == "forge" or (request.source == "auto" and clone is None)
    if use_forge:
        found = _from_forge(ctx, request, project, forge, progress)
    else:
        from assistant.kinds.release_notes.sources import changes_from_git, previous_tag

        if clone is None:
            raise InvalidInput(f"Project {project!r} has no local clone configured.",
                               fix=f"set projects.{project}.sources.git to a clone of the "
                                   "repository, or use source=forge")
        from_ref = request.from_ref or previous_tag(clone, request.to_ref)
        found = changes_from_git(clone, from_ref, request.to_ref)
    return found.changes, found.authors_before, [f"{cid}: {why}" for cid, why in found.excluded]


def _from_forge(ctx: AppContext, request: ReleaseNotesInput, project: str, forge: Forge | None,
                progress: Progress | None) -> ChangeSet:
    repo = ctx.settings.project_settings(project).repo
    if not repo:
        raise InvalidInput(f"Project {project!r} has neither a local clone nor a GitHub repo.",
                           fix=f"set projects.{project}.repo (owner/name) or "
                               f"projects.{project}.sources.git")
    if not request.from_ref or not request.to_ref:
        raise InvalidInput("Release notes from GitHub need both refs.",
                           fix="give from_ref (the previous tag) and to_ref")
    from assistant.kinds.release_notes.forge_source import changes_from_forge

    own = forge is None
    forge = forge or build_forge(ctx.settings)
    try:
        return changes_from_forge(forge, repo, request.from_ref, request.to_ref, progress)
    finally:
        if own:
            forge.close()


class ReleaseNotes(Kind[ReleaseNotesInput]):
    """Bilingual release notes; ``clone``, ``changes`` and ``forge`` replace the configured
    clone, the gathered changes and the configured forge (the CLI's --repo and --changes)."""

    name = DraftKind.RELEASE_NOTES
    input_model = ReleaseNotesInput
    summary = "Queue bilingual release notes for a version."
    progress_label = "Reading changes, phrasing lines"

    def __init__(self, *, clone: Path | None = None, changes: list[Change] | None = None,
                 forge: Forge | None = None) -> None:
        self.clone, self.changes, self.forge = clone, changes, forge

    def check(self, request: ReleaseNotesInput) -> None:
        if not (request.changes or request.to_ref or self.changes):
            raise InvalidInput("Release notes need a range (to_ref, and from_ref unless it is "
                               "the previous tag) or a list of changes.",
                               fix="give refs or changes")

    def title(self, request: ReleaseNotesInput) -> str:
        return f"Release notes {request.version}"

    def draft(self, ctx: AppContext, request: ReleaseNotesInput, project: str,
              progress: Progress | None = None) -> DraftResult:
        """Draft bilingual release notes for review."""
        from assistant.chains.generate import Usage
        from assistant.kinds.release_notes.cache import PhraseCache
        from assistant.kinds.release_notes.notes import assemble, render_markdown
        from assistant.kinds.release_notes.phrase import phrase_batched
        from assistant.kinds.release_notes.sections import model_sections
        from assistant.language import to_traditional
        from assistant.project_files import load_project_files
        from assistant.prompting import load_prompt
        from assistant.providers.chat import chat_model_name

        policy = ctx.settings.project_settings(project).release_notes
        authors_before: set[str] | None = None
        excluded: list[str] = []
        changes = self.changes
        if changes is None:
            changes, authors_before, excluded = gather(ctx, request, project, self.clone,
                                                       self.forge, progress)
        if not changes:
            raise InvalidInput("The range holds no changes.", fix="check the two refs")
        pinned = ctx.settings.prompt_versions
        chat = ctx.chat_model()
        model = chat_model_name(chat)
        cache = PhraseCache(ctx.settings.data_dir / CACHE_FILE)
        usage = Usage()
        fallback = model_sections(
            changes, chat_model=chat, settings=ctx.settings, usage=usage, model=model,
            cache=cache, prompt=load_prompt("release_sections", pinned.get("release_sections"))
        ) if policy.classify_with_model else None
        notes = assemble(project, request.version, changes, authors_before=authors_before,
                         from_ref=request.from_ref, to_ref=request.to_ref, fallback=fallback,
                         omit=[*policy.omit_sections, *(f"type:{t}" for t in policy.omit_types),
                               *(f"scope:{s}" for s in policy.omit_scopes)])
        notes.dropped = excluded + notes.dropped
        rewrite = load_prompt("release_lines", pinned.get("release_lines"))
        translate = load_prompt("translate_lines", pinned.get("translate_lines"))
        glossary = load_project_files(ctx.index(project)).glossary
        chinese_wanted = bool({"zh", "zh-Hant"} & set(request.languages))
        phrasing = phrase_batched(notes, chat_model=chat, settings=ctx.settings,
                                  rewrite=rewrite, translate=translate, glossary=glossary,
                                  model=model, cache=cache, usage=usage, progress=progress,
                                  languages=("en", "zh") if chinese_wanted else ("en",))
        repo = ctx.settings.project_settings(project).repo
        english = render_markdown(notes, "en", changes, repo)
        simplified = render_markdown(notes, "zh", changes, repo) if chinese_wanted else None
        traditional = (to_traditional(simplified, policy.traditional,
                                      protect=[t.zh for t in glossary.translations])
                       if simplified and "zh-Hant" in request.languages else None)
        chinese = simplified if "zh" in request.languages else traditional
        checked = sum(item.checked for item in notes.items) / max(1, len(notes.items))
        output = {"notes": notes.model_dump(mode="json"), "markdown_en": english,
                  "markdown_zh": simplified if "zh" in request.languages else None,
                  "markdown_zh_hant": traditional, "usage": usage.model_dump(),
                  "phrasing": phrasing.model_dump(),
                  "changes": len(changes)}
        return DraftResult(
            output=output, sources=[], content=DraftContent(text=english, translation=chinese),
            prompt_name=rewrite.name, prompt_version=rewrite.version, model=model,
            confidence=round(checked, 3), language="en")


KIND = ReleaseNotes()
