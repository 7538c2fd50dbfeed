"""Sphinx: the docs root and page URLs from ``conf.py``, read as a syntax tree (never run).

The HTML builder writes ``a/b.rst`` (or MyST ``a/b.md``) to ``a/b.html`` under
``html_baseurl`` (``html_file_suffix`` if set); section ids are docutils ids
(``ingest.anchors``, style ``sphinx``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from ingest.sites import DocsSite, SiteRoot, language_of_locale

_SEARCH = ("", "docs", "doc", "docs/source", "doc/source", "source", "documentation")


def read_conf(path: Path) -> dict[str, object]:
    """Top-level assignments of literals in a ``conf.py`` (anything computed is skipped)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError):
        return {}
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return values


def detect(checkout: Path, site_url: str | None = None) -> DocsSite | None:
    folder = next((checkout / f for f in _SEARCH if (checkout / f / "conf.py").is_file()), None)
    if folder is None:
        return None
    conf = read_conf(folder / "conf.py")
    base = site_url or conf.get("html_baseurl")
    origin = str(base).rstrip("/") + "/" if isinstance(base, str) and base.strip() else None
    suffix = conf.get("html_file_suffix")
    suffix = suffix if isinstance(suffix, str) and suffix else ".html"
    language = conf.get("language")

    def page_url(rel: str, meta: dict) -> str | None:
        return origin + rel.rsplit(".", 1)[0] + suffix if origin else None

    rel = folder.relative_to(checkout).as_posix()
    root = SiteRoot("" if rel == "." else rel,
                    language_of_locale(language) if isinstance(language, str) else None,
                    page_url)
    return DocsSite("sphinx", origin.rstrip("/") if origin else None, [root])
