"""Docs sites as their generators publish them: every page of three real docs trees
(tests/fixtures/sites, sources in each NOTICE.md) gets the URL its generator serves it at,
with the heading anchors the generator writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import DocsRootSettings, DocsSiteSettings, ProjectSettings
from ingest.docs import scan_docs
from ingest.sites import detect_site
from ingest.sites.docusaurus import doc_slug, strip_number_prefix

SITES = Path(__file__).parent / "fixtures" / "sites"

# The permalinks Docusaurus's own tests assert for these files (next = the unreleased
# current version, 1.0.1 = the last release, served without a version segment).
DOCUSAURUS_VERSIONED = {
    "docs/hello.md": "/docs/next/hello",
    "docs/foo/bar.md": "/docs/next/foo/bar",
    "docs/0-getting-started.md": "/docs/next/getting-started",
    "docs/3-API/00_api-overview.md": "/docs/next/API/api-overview",
    "docs/3-API/01_Core APIs/0 --- Client API.md": "/docs/next/API/Core%20APIs/Client%20API",
    "docs/Guides/02-guide2.md": "/docs/next/Guides/guide2",
    "versioned_docs/version-1.0.1/hello.md": "/docs/hello",
    "versioned_docs/version-1.0.0/foo/bar.md": "/docs/1.0.0/foo/bar",
    "versioned_docs/version-1.0.0/foo/baz.md": "/docs/1.0.0/foo/baz",
    "i18n/fr/docusaurus-plugin-content-docs/version-1.0.0/hello.md": "/fr/docs/1.0.0/",
}
ZH = "i18n/zh-Hans/docusaurus-plugin-content-docs/current"
# Live pages (and the anchors on them) as the sites serve them; the two bilingual Docusaurus
# sites were checked against the sitemap/HTML their repos hold (see their NOTICE).
LIVE = {
    "docusaurus-rest": (None, {
        "docs/intro.md": ("https://rest-go.com/docs/intro", set()),
        "docs/getting-started/start.md": ("https://rest-go.com/docs/getting-started/start",
                                          {"docker-image"}),
        "docs/guides/auth.mdx": ("https://rest-go.com/docs/guides/auth", set()),
        f"{ZH}/intro.md": ("https://rest-go.com/zh-Hans/docs/intro", set()),
        f"{ZH}/getting-started/start.md": (
            "https://rest-go.com/zh-Hans/docs/getting-started/start", {"docker%E9%95%9C%E5%83%8F"}),
    }),
    "docusaurus-captcha": (None, {
        "docs/01-intro.md": ("https://docs.captchax.top/docs/intro", set()),
        "docs/examples/05-integration-with-discord-gen.md": (
            "https://docs.captchax.top/docs/examples/integration-with-discord-gen", set()),
        f"{ZH}/01-intro.md": ("https://docs.captchax.top/zh-Hans/docs/intro", set()),
        f"{ZH}/examples/05-integration-with-discord-gen.md": (
            "https://docs.captchax.top/zh-Hans/docs/examples/integration-with-discord-gen",
            set()),
    }),
    "docusaurus-website": (None, {
        "versioned_docs/version-3.9.2/installation.mdx": (
            "https://docusaurus.io/docs/installation",
            {"requirements", "scaffold-project-website", "updating-your-docusaurus-version",
             "problems"}),
    }),
    "mkdocs-typer": (None, {
        "docs/index.md": ("https://typer.tiangolo.com/", {"installation"}),
        "docs/tutorial/index.md": ("https://typer.tiangolo.com/tutorial/", {"python-types"}),
        "docs/tutorial/install.md": ("https://typer.tiangolo.com/tutorial/install/",
                                     {"activate-the-virtual-environment"}),
        "docs/tutorial/arguments/default.md": (
            "https://typer.tiangolo.com/tutorial/arguments/default/",
            {"an-optional-cli-argument-with-a-default", "dynamic-default-value"}),
    }),
    "sphinx-flask": ("https://flask.palletsprojects.com/en/stable/", {
        "docs/index.rst": ("https://flask.palletsprojects.com/en/stable/",
                           {"user-s-guide"}),
        "docs/installation.rst": (
            "https://flask.palletsprojects.com/en/stable/installation/",
            {"virtualenv", "system-wide-installation", "windows-easy-install"}),
    }),
}


def _scan(name: str, site_url: str | None = None):
    settings = DocsSiteSettings(site_url=site_url)
    site = detect_site(SITES / name, settings)
    assert site is not None
    return scan_docs(SITES / name, project="p", project_settings=ProjectSettings(
        repo="acme/site", docs_site=settings), site=site), site


def test_docusaurus_urls_follow_the_generators_own_rules() -> None:
    scan, site = _scan("docusaurus-versioned", "https://site.example.org")
    assert site.generator == "docusaurus"
    urls = {path: chunks[0].metadata["url"].split("#")[0]
            for path, chunks in scan.chunks_by_path.items()}
    expected = {p: "https://site.example.org" + u for p, u in DOCUSAURUS_VERSIONED.items()}
    assert urls == expected  # every page, nothing else
    languages = {p: c[0].metadata["language"] for p, c in scan.chunks_by_path.items()}
    assert languages["i18n/fr/docusaurus-plugin-content-docs/version-1.0.0/hello.md"] == "fr"
    assert languages["docs/hello.md"] == "en"


@pytest.mark.parametrize("name", sorted(LIVE))
def test_every_citation_is_the_live_page_and_its_anchor(name: str) -> None:
    site_url, pages = LIVE[name]
    scan, _ = _scan(name, site_url)
    assert set(scan.chunks_by_path) == set(pages)
    for path, (page, anchors) in pages.items():
        urls = {c.metadata["url"] for c in scan.chunks_by_path[path]}
        assert {u.split("#")[0] for u in urls} == {page}, path
        found = {u.split("#", 1)[1] for u in urls if "#" in u}
        assert anchors <= found, (path, found)
        language = scan.chunks_by_path[path][0].metadata["language"]
        assert language == ("zh" if "/zh-Hans/" in page else "en"), (path, language)


def test_mdx_page_keeps_admonitions_and_drops_code_of_the_page_itself() -> None:
    scan, _ = _scan("docusaurus-website")
    text = "\n".join(c.text for c in
                     scan.chunks_by_path["versioned_docs/version-3.9.2/installation.mdx"])
    assert "**Tip:**" in text and "**Info: Meta-Only**" in text
    assert "import Tabs" not in text and "<UpgradeGuide" not in text and "{/*" not in text
    assert "npx create-docusaurus@latest my-website classic" in text  # code kept


def test_without_a_site_url_the_repo_file_is_linked_not_a_placeholder_host() -> None:
    scan, site = _scan("docusaurus-versioned")  # its url is your-docusaurus-test-site.com
    assert site.site_url is None
    url = scan.chunks_by_path["docs/hello.md"][0].metadata["url"]
    assert url.startswith("https://github.com/acme/site/blob/main/docs/hello.md")


def test_configured_roots_and_url_templates_win(tmp_path: Path) -> None:
    (tmp_path / "handbook" / "zh").mkdir(parents=True)
    (tmp_path / "handbook" / "zh" / "faq.md").write_text("# 常见问题\n\n## 安装失败\n\n请先升级。\n")
    settings = DocsSiteSettings(generator="none", site_url="https://docs.example.org", roots=[
        DocsRootSettings(path="handbook/zh", language="zh", url="{site}/zh/{stem}/")])
    site = detect_site(tmp_path, settings)
    scan = scan_docs(tmp_path, project="p", project_settings=ProjectSettings(), site=site)
    chunk = scan.chunks_by_path["handbook/zh/faq.md"][0]
    assert chunk.metadata["language"] == "zh"
    assert chunk.metadata["url"] == "https://docs.example.org/zh/faq/#%E5%AE%89%E8%A3%85%E5%A4%B1%E8%B4%A5"


@pytest.mark.parametrize(("name", "stripped"), [
    ("01-intro", "intro"), ("003 - myDoc", "myDoc"), ("0 --- Client API", "Client API"),
    ("2021-01-31-post", "2021-01-31-post"), ("8.0-release", "8.0-release"), ("intro", "intro"),
])
def test_number_prefixes_like_docusaurus(name: str, stripped: str) -> None:
    assert strip_number_prefix(name) == stripped


@pytest.mark.parametrize(("rel", "meta", "slug"), [
    ("foo/bar.md", {}, "/foo/bar"),
    ("foo/baz.md", {"slug": "bazSlug.html"}, "/foo/bazSlug.html"),
    ("hello.md", {"slug": "/"}, "/"),
    ("guides/index.md", {}, "/guides/"),
    ("guides/guides.md", {}, "/guides/"),
    ("01-guides/README.md", {}, "/guides/"),
    ("slugs/relativeSlug.md", {"slug": "../x/y"}, "/x/y"),
    ("a/b.md", {"id": "c"}, "/a/c"),
])
def test_slugs_like_docusaurus(rel: str, meta: dict, slug: str) -> None:
    assert doc_slug(rel, meta) == slug
