"""Docusaurus: roots and page URLs from ``docusaurus.config.{js,ts,mjs,cjs}``.

The rules follow ``@docusaurus/plugin-content-docs`` (``src/slug.ts``, ``src/numberPrefix.ts``,
``src/docs.ts``' category-index rule, ``src/versions``): a page's slug is its front matter
``slug`` (absolute, or relative to its folder), else its ``id`` or file name, number prefixes
(``01-intro``) stripped from every segment; ``index``, ``README`` and a page named like its
folder stand for the folder. The URL is site url + baseUrl + locale (other than the default) +
routeBasePath + version (none for the last version, ``next`` for an unreleased current one) +
slug, with ``trailingSlash`` applied.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.sites import DocsSite, PageUrl, SiteRoot, language_of_locale

CONFIG_NAMES = tuple(f"docusaurus.config.{ext}" for ext in ("js", "ts", "mjs", "cjs"))
_DATE_OR_VERSION = re.compile(
    r"^((\d{2}|\d{4})[-_.]\d{2}([-_.](\d{2}|\d{4}))?)(.*)$|^(\d+[-_.]\d+)(.*)$")
_NUMBER_PREFIX = re.compile(r"^(\d+)(\s*[-_.]+\s*)(.*)$")
_PLACEHOLDER = re.compile(r"your-docusaurus|example\.com|localhost", re.I)


def strip_number_prefix(name: str) -> str:
    """``DefaultNumberPrefixParser``: ``01-intro`` → ``intro``; dates and versions kept."""
    if _DATE_OR_VERSION.match(name):
        return name
    match = _NUMBER_PREFIX.match(name)
    return match.group(3) if match else name


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(^|[\s,;{(\[])//[^\n]*", r"\1", text)


def _object_at(text: str, start: int) -> str:
    """The ``{…}`` starting at or after ``start`` (strings skipped), or ``""``."""
    begin = text.find("{", start)
    if begin < 0:
        return ""
    depth, i, quote = 0, begin, ""
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[begin : i + 1]
        i += 1
    return ""


def _top_level(block: str) -> str:
    """The block with its nested objects blanked out, so keys of inner objects are not read."""
    inner = block[1:-1] if block.startswith("{") else block
    out, depth = [], 0
    for char in inner:
        depth += char == "{"
        if depth == 0:
            out.append(char)
        depth -= char == "}" and depth > 0
    return "".join(out)


def _string(block: str, key: str) -> str | None:
    match = re.search(rf"(?<![\w$]){key}\s*:\s*(['\"`])(.*?)\1", block, re.S)
    return match.group(2) if match else None


def _bool(block: str, key: str) -> bool | None:
    match = re.search(rf"(?<![\w$]){key}\s*:\s*(true|false)\b", block)
    return None if match is None else match.group(1) == "true"


def _strings(block: str, key: str) -> list[str]:
    match = re.search(rf"(?<![\w$]){key}\s*:\s*\[([^\]]*)\]", block, re.S)
    return re.findall(r"['\"`]([^'\"`]+)['\"`]", match.group(1)) if match else []


@dataclass
class DocsPlugin:
    """One instance of the docs plugin."""

    id: str = "default"
    path: str = "docs"
    route: str = "docs"
    last_version: str | None = None
    version_paths: dict[str, str] | None = None


def _plugin(block: str) -> DocsPlugin:
    top = _top_level(block)
    paths: dict[str, str] = {}
    versions = re.search(r"(?<![\w$])versions\s*:\s*\{", block)
    if versions:
        versions_block = _object_at(block, versions.start())
        for key in re.finditer(r"(?:(['\"])([^'\"]+)\1|(\w+))\s*:\s*\{", versions_block[1:]):
            name = key.group(2) or key.group(3)
            path = _string(_top_level(_object_at(versions_block, key.start() + 1)), "path")
            if path is not None:
                paths[name] = path.strip("/")
    return DocsPlugin(
        id=_string(top, "id") or "default",
        path=(_string(top, "path") or "docs").strip("/").removeprefix("./"),
        route=(_string(top, "routeBasePath") if _string(top, "routeBasePath") is not None
               else "docs").strip("/"),
        last_version=_string(top, "lastVersion"),
        version_paths=paths,
    )


def _plugins(config: str) -> list[DocsPlugin]:
    plugins: list[DocsPlugin] = []
    preset = re.search(r"preset-classic|['\"]classic['\"]", config)
    if preset:
        docs = re.search(r"(?<![\w$])docs\s*:\s*(\{|false)", config[preset.end():])
        if docs and docs.group(1) == "{":
            plugins.append(_plugin(_object_at(config, preset.end() + docs.start())))
    for match in re.finditer(r"plugin-content-docs['\"]", config):
        block = _object_at(config, match.end())
        if block and not config[match.end(): config.find("{", match.end())].count("]"):
            plugins.append(_plugin(block))
    return plugins


def _resolve(to: str, base: str) -> str:
    """URL path resolution of ``to`` against the folder ``base`` (``/a/b/``)."""
    joined = posixpath.normpath(posixpath.join(base, to))
    if not joined.startswith("/"):
        joined = "/" + joined
    return joined + ("/" if to.endswith("/") and joined != "/" else "")


def doc_slug(rel: str, meta: dict) -> str:
    """``getSlug`` for a page at ``rel`` (path inside its version folder) with front matter."""
    dirname, filename = posixpath.split(rel)
    stem = filename.rsplit(".", 1)[0]
    base_id = str(meta.get("id") or strip_number_prefix(stem))
    fm_slug = meta.get("slug")
    fm_slug = str(fm_slug) if fm_slug not in (None, "") else None
    if fm_slug and fm_slug.startswith("/"):
        return fm_slug
    folder = "/".join(strip_number_prefix(part) for part in dirname.split("/")) if dirname else ""
    dir_slug = f"/{folder}/" if folder else "/"
    parent = dirname.rsplit("/", 1)[-1].lower() if dirname else ""
    if not fm_slug and stem.lower() in ("index", "readme", parent) and stem:
        return dir_slug
    return _resolve(fm_slug or base_id, dir_slug)


def _join(*parts: str) -> str:
    path = "/".join(p.strip("/") for p in parts if p.strip("/"))
    return "/" + path + ("/" if parts and parts[-1].endswith("/") and path else "")


def _page_url(origin: str, prefix: str, trailing: bool | None) -> PageUrl:
    def page_url(rel: str, meta: dict) -> str:
        path = _join(prefix, doc_slug(rel, meta))
        if trailing is True and not path.endswith("/"):
            path += "/"
        elif trailing is False and path != "/":
            path = path.rstrip("/")
        return origin + path
    return page_url


def find_config(checkout: Path) -> Path | None:
    """The Docusaurus config in the checkout or a folder one or two levels down."""
    for folder in (checkout, *sorted(p for p in checkout.iterdir() if p.is_dir()
                                     and not p.name.startswith(".") and p.name != "node_modules")):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def detect(checkout: Path, site_url: str | None = None) -> DocsSite | None:
    """Roots (each plugin's current and versioned docs, in every locale) and their URLs."""
    config_path = find_config(checkout)
    if config_path is None:
        return None
    config = _strip_comments(config_path.read_text(encoding="utf-8", errors="replace"))
    site_dir = config_path.parent
    base = site_dir.relative_to(checkout).as_posix()
    base = "" if base == "." else base
    url = site_url or _string(config, "url")
    if url and _PLACEHOLDER.search(url) and not site_url:
        url = None
    origin = url.rstrip("/") if url else None
    base_url = (_string(config, "baseUrl") or "/").strip("/")
    trailing = _bool(_top_level(_object_at(config, config.find("module.exports"))
                                if "module.exports" in config else config), "trailingSlash")
    i18n_at = re.search(r"(?<![\w$])i18n\s*:\s*\{", config)
    i18n = _object_at(config, i18n_at.start()) if i18n_at else ""
    default_locale = _string(i18n, "defaultLocale") or "en"
    locales = _strings(i18n, "locales") or [default_locale]
    roots: list[SiteRoot] = []
    for plugin in _plugins(config) or [DocsPlugin()]:
        prefix = "" if plugin.id == "default" else f"{plugin.id}_"
        versions_file = site_dir / f"{prefix}versions.json"
        try:
            versions = json.loads(versions_file.read_text()) if versions_file.is_file() else []
        except (OSError, ValueError):
            versions = []
        versions = [v for v in versions if isinstance(v, str)]
        last = plugin.last_version or (versions[0] if versions else "current")
        folders = [("current", plugin.path)] + [
            (v, f"{prefix}versioned_docs/version-{v}") for v in versions]
        plugin_dir = "docusaurus-plugin-content-docs" + ("" if plugin.id == "default"
                                                         else f"-{plugin.id}")
        def i18n_folder(locale: str, version: str, plugin_dir: str = plugin_dir) -> str:
            return f"i18n/{locale}/{plugin_dir}/" + (
                "current" if version == "current" else f"version-{version}")

        for version, source in folders:
            segment = (plugin.version_paths or {}).get(version)
            if segment is None:
                segment = "" if version == last else ("next" if version == "current" else version)
            # The source folder is the default locale's pages, unless that locale has its own
            # translation folder: then the source is served (and written) in the first locale
            # that has none, e.g. Chinese sources with an English translation.
            source_locale, source_language = default_locale, language_of_locale(default_locale)
            if (site_dir / i18n_folder(default_locale, version)).is_dir():
                untranslated = [x for x in locales if x != default_locale
                                and not (site_dir / i18n_folder(x, version)).is_dir()]
                source_locale = untranslated[0] if untranslated else default_locale
                source_language = language_of_locale(source_locale) if untranslated else None
            entries = [(source, source_locale, source_language)] + [
                (i18n_folder(x, version), x, language_of_locale(x)) for x in locales]
            for folder, locale, language in entries:
                if not (site_dir / folder).is_dir():
                    continue
                locale_part = "" if locale == default_locale else locale
                page = (_page_url(origin, _join(base_url, locale_part, plugin.route, segment),
                                  trailing) if origin else None)
                path = f"{base}/{folder}" if base else folder
                roots.append(SiteRoot(path.strip("/"), language, page))
    return DocsSite("docusaurus", origin, roots)
