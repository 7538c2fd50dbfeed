"""MkDocs: roots and page URLs from ``mkdocs.yml``.

MkDocs' rules (``mkdocs/structure/files.py``): with ``use_directory_urls`` (the default)
``a/b.md`` is served at ``a/b/`` and ``a/index.md`` (or ``README.md``) at ``a/``; without it,
at ``a/b.html`` and ``a/index.html``. The mkdocs-static-i18n plugin's two layouts are read:
``folder`` (``docs/<locale>/…``, the default language's pages at the site root, others under
``/<locale>/``) and ``suffix`` (``page.<locale>.md``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ingest.sites import DocsSite, PageUrl, SiteRoot, language_of_locale


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``!!python/name:…`` and ``!ENV`` tags as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_Loader.add_multi_constructor("", _any_tag)


def page_path(rel: str, directory_urls: bool) -> str:
    """The URL path (no leading slash) MkDocs gives the page at ``rel`` in ``docs_dir``."""
    dirname, filename = posixpath.split(rel)
    stem = filename.rsplit(".", 1)[0]
    if stem.lower() in ("index", "readme"):
        folder = f"{dirname}/" if dirname else ""
        return folder if directory_urls else f"{folder}index.html"
    path = f"{dirname}/{stem}" if dirname else stem
    return f"{path}/" if directory_urls else f"{path}.html"


def _i18n(config: dict) -> tuple[str | None, list[str], str]:
    """(default locale, locales, layout) of the mkdocs-static-i18n plugin, if configured."""
    plugins = config.get("plugins") or []
    entries = plugins.items() if isinstance(plugins, dict) else (
        (next(iter(p.items())) if isinstance(p, dict) else (p, {})) for p in plugins)
    for name, options in entries:
        if name != "i18n" or not isinstance(options, dict):
            continue
        layout = str(options.get("docs_structure") or "suffix")
        languages = options.get("languages") or []
        locales, default = [], None
        if isinstance(languages, list):
            for entry in languages:
                if isinstance(entry, dict) and entry.get("locale"):
                    locales.append(str(entry["locale"]))
                    if entry.get("default"):
                        default = str(entry["locale"])
        elif isinstance(languages, dict):
            locales = [str(k) for k in languages]
        default = default or str(options.get("default_language") or (locales or [None])[0])
        return default, locales, layout
    return None, [], ""


def detect(checkout: Path, site_url: str | None = None) -> DocsSite | None:
    config_path = next((checkout / n for n in ("mkdocs.yml", "mkdocs.yaml")
                        if (checkout / n).is_file()), None)
    if config_path is None:
        return None
    try:
        config = yaml.load(config_path.read_text(encoding="utf-8", errors="replace"),
                           Loader=_Loader) or {}
    except yaml.YAMLError:
        config = {}
    if not isinstance(config, dict):
        config = {}
    docs_dir = str(config.get("docs_dir") or "docs").strip("/").removeprefix("./")
    directory_urls = config.get("use_directory_urls", True) is not False
    url = site_url or (str(config["site_url"]) if config.get("site_url") else None)
    origin = url.rstrip("/") + "/" if url else None
    default, locales, layout = _i18n(config)
    site_language = config.get("theme", {}).get("language") if isinstance(
        config.get("theme"), dict) else None

    def url_of(prefix: str, suffix_locale: str | None = None) -> PageUrl:
        def page_url(rel: str, meta: dict) -> str | None:
            if suffix_locale is not None:  # suffix layout: page.zh.md is the zh page
                rel = re.sub(rf"\.{re.escape(suffix_locale)}(\.\w+)$", r"\1", rel)
            return origin + prefix + page_path(rel, directory_urls) if origin else None
        return page_url

    if locales and layout == "folder":
        roots = [SiteRoot(f"{docs_dir}/{locale}", language_of_locale(locale),
                          url_of("" if locale == default else f"{locale}/"))
                 for locale in locales if (checkout / docs_dir / locale).is_dir()]
    else:
        language = language_of_locale(default or site_language)
        roots = [SiteRoot(docs_dir, language if not locales else None, url_of(""))]
        if locales:  # suffix layout: one folder, the language from each file's suffix
            roots = [SiteRoot(docs_dir, language_of_locale(default),
                              _suffix_url(url_of, default, locales),
                              lambda rel: suffix_language(rel, locales))]
    return DocsSite("mkdocs", origin.rstrip("/") if origin else None, roots)


def _suffix_url(url_of: Callable[..., PageUrl], default: str | None,
                locales: list[str]) -> PageUrl:
    def page_url(rel: str, meta: dict) -> str | None:
        match = re.search(r"\.([A-Za-z_-]+)\.\w+$", rel)
        locale = match.group(1) if match and match.group(1) in locales else default
        prefix = "" if locale == default else f"{locale}/"
        return url_of(prefix, locale if locale != default else None)(rel, meta)
    return page_url


def suffix_language(rel: str, locales: list[str]) -> str | None:
    """The language of a ``page.<locale>.md`` file in the suffix layout."""
    match = re.search(r"\.([A-Za-z_-]+)\.\w+$", rel)
    return language_of_locale(match.group(1)) if match and match.group(1) in locales else None
