"""Docs sites as their generators publish them: which folders hold pages, in which language,
and the live URL of each page, from the generator's own config (Docusaurus, MkDocs, Sphinx)
or from ``projects.<p>.docs_site`` in the project config.

Nothing is executed: ``docusaurus.config.*`` is read as text, ``mkdocs.yml`` as YAML and
``conf.py`` as a Python syntax tree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from assistant.errors import ConfigError
from assistant.settings import DocsSiteSettings

_URL_SAFE = ":/?#[]@!$&'()*+,;=%-._~"
PageUrl = Callable[[str, dict], str | None]  # (path inside the root, front matter) -> URL


@dataclass
class SiteRoot:
    """A folder of pages (relative to the checkout) and how they are published."""

    path: str
    language: str | None
    page_url: PageUrl | None = None  # None: no live site known, the forge's file link is used
    page_language: Callable[[str], str | None] | None = None  # per file (MkDocs suffixes)

    def url(self, rel: str, meta: dict) -> str | None:
        """The page's URL, percent-encoded (spaces and non-ASCII), so it also works as a
        Markdown link."""
        url = self.page_url(rel, meta) if self.page_url else None
        return quote(url, safe=_URL_SAFE) if url else None

    def language_of(self, rel: str) -> str | None:
        return (self.page_language(rel) if self.page_language else None) or self.language


@dataclass
class DocsSite:
    """A checkout's docs site: its generator, pages' dialect and anchors, and roots."""

    generator: str  # docusaurus | mkdocs | sphinx | none
    site_url: str | None
    roots: list[SiteRoot] = field(default_factory=list)

    @property
    def flavour(self) -> str | None:
        return self.generator if self.generator != "none" else None

    @property
    def anchor_style(self) -> str:
        return self.generator if self.generator in ("docusaurus", "mkdocs", "sphinx") else "github"


def language_of_locale(locale: str | None) -> str | None:
    """``zh-Hans``, ``zh_CN``, ``zh-TW`` → ``zh``; ``en-US`` → ``en``."""
    if not locale:
        return None
    return locale.replace("_", "-").split("-")[0].lower() or None


def _template_url(template: str, site_url: str | None) -> PageUrl:
    def page_url(rel: str, meta: dict) -> str | None:
        stem = rel.rsplit(".", 1)[0]
        try:
            return template.format(site=(site_url or "").rstrip("/"), rel=rel, stem=stem,
                                   slug=str(meta.get("slug") or stem).lstrip("/"))
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"docs_site root url {template!r} has an unknown field ({exc}).",
                              fix="use {site}, {rel}, {stem} or {slug}") from None
    return page_url


def detect_site(checkout: Path, configured: DocsSiteSettings | None = None) -> DocsSite | None:
    """The docs site of a checkout, or None when there is no generator config and no roots in
    the project config. Configured roots replace detected ones; a configured ``site_url``
    replaces the generator config's (which is often a placeholder)."""
    from ingest.sites import docusaurus, mkdocs, sphinx

    configured = configured or DocsSiteSettings()
    site: DocsSite | None = None
    detectors = {"docusaurus": docusaurus.detect, "mkdocs": mkdocs.detect,
                 "sphinx": sphinx.detect}
    if configured.generator != "none":
        names = [configured.generator] if configured.generator != "auto" else list(detectors)
        for name in names:
            site = detectors[name](checkout, configured.site_url)
            if site is not None:
                break
        if site is None and configured.generator != "auto":
            raise ConfigError(
                f"docs_site.generator is {configured.generator} but {checkout} has no "
                f"{configured.generator} config.",
                fix="point at the checkout that holds it, or set docs_site.generator: auto")
    if configured.roots:
        generator = site.generator if site else "none"
        site_url = configured.site_url or (site.site_url if site else None)
        detected = {r.path: r for r in site.roots} if site else {}
        roots = []
        for root in configured.roots:
            path = root.path.strip("/")
            if not (checkout / path).is_dir():
                raise ConfigError(f"docs_site root {root.path!r} is not a folder of {checkout}.",
                                  fix="give roots relative to the checkout")
            page_url = (_template_url(root.url, site_url) if root.url
                        else detected[path].page_url if path in detected else None)
            roots.append(SiteRoot(path, root.language, page_url))
        site = DocsSite(generator, site_url, roots)
    return site
