"""Sphinx: the docs root and page URLs from ``conf.py``, read as a syntax tree (never run).

The HTML builder writes ``a/b.rst`` (or MyST ``a/b.md``) to ``a/b.html`` under
``html_baseurl`` (``html_file_suffix`` if set); the dirhtml builder (Read the Docs'
``sphinx.builder: dirhtml``) to ``a/b/``. Section ids are docutils ids (``ingest.anchors``,
style ``sphinx``).
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


def builder(checkout: Path) -> str:
    """The HTML builder Read the Docs uses (``sphinx.builder`` in ``.readthedocs.yaml``)."""
    import yaml

    for name in (".readthedocs.yaml", ".readthedocs.yml", "readthedocs.yml"):
        path = checkout / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
            except yaml.YAMLError:
                return "html"
            sphinx = data.get("sphinx") if isinstance(data, dict) else None
            value = sphinx.get("builder") if isinstance(sphinx, dict) else None
            return value if isinstance(value, str) else "html"
    return "html"


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
    dirhtml = builder(checkout) == "dirhtml"

    def page_url(rel: str, meta: dict) -> str | None:
        if not origin:
            return None
        docname = rel.rsplit(".", 1)[0]
        if dirhtml:  # a/b.rst -> a/b/, a/index.rst -> a/
            folder, _, name = docname.rpartition("/")
            return origin + (f"{folder}/" if folder else "") + ("" if name == "index"
                                                                else f"{name}/")
        return origin + docname + suffix

    rel = folder.relative_to(checkout).as_posix()
    root = SiteRoot("" if rel == "." else rel,
                    language_of_locale(language) if isinstance(language, str) else None,
                    page_url)
    return DocsSite("sphinx", origin.rstrip("/") if origin else None, [root])
