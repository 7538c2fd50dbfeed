"""Docs dialects as generators read them (MDX, MkDocs, RST, MyST) and heading anchors as
each generator writes them."""

from __future__ import annotations

import pytest

from ingest.anchors import anchor_for
from ingest.formats import mdx_to_markdown, mkdocs_to_markdown, myst_to_markdown, to_markdown
from ingest.frontmatter import split_front_matter
from ingest.markdown import chunk_markdown

MDX = """---
title: Configure the gateway
slug: /config
---
import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';
export const Highlight = ({children}) => <span>{children}</span>;

{/* a comment the site never shows */}

:::caution Before you start
Back up `config.yaml`.
:::

<Tabs>
<TabItem value="docker" label="Docker">

```bash
docker run apache/apisix   # import stays: it is code
import os
```

</TabItem>
</Tabs>

## Reload {#hot-reload}

Send SIGHUP.
"""


def test_mdx_drops_esm_and_jsx_and_keeps_what_readers_see() -> None:
    text = mdx_to_markdown(MDX)
    assert text.startswith("# Configure the gateway")
    assert "import Tabs" not in text and "export const" not in text and "<Tabs>" not in text
    assert "a comment the site never shows" not in text
    assert "**Caution: Before you start**" in text and "Back up `config.yaml`." in text
    assert "**Docker**" in text
    assert "import os" in text and "docker run apache/apisix" in text  # code untouched
    sections = chunk_markdown(text, 350, "docusaurus")
    assert [s.anchor for s in sections][-1] == "hot-reload"
    assert sections[-1].trail[-1] == "Reload"


def test_mkdocs_admonitions_tabs_and_blocks_become_text() -> None:
    text = mkdocs_to_markdown(
        '# Install\n\n!!! warning "Old Python"\n    Python 3.7 is not supported.\n\n'
        '=== "pip"\n\n    ```bash\n    pip install x\n    ```\n\n'
        '/// details | Why uv\nIt is fast.\n///\n--8<-- "snippets/footer.md"\n')
    assert "**Warning: Old Python**" in text and "Python 3.7 is not supported." in text
    assert "**pip**" in text and "```bash\npip install x\n```" in text  # dedented, still code
    assert "**Details: Why uv**" in text and "///" not in text and "--8<--" not in text


def test_rst_roles_targets_admonitions_and_toctrees() -> None:
    text = to_markdown(
        ".. _quick:\n\nQuickstart\n==========\n\nSee :ref:`the API <api>` and :doc:`install`.\n\n"
        ".. note::\n   Needs ``Python 3.9``.\n\n.. toctree::\n   :maxdepth: 2\n\n   install\n"
        "   api\n\n.. _pip: https://pip.pypa.io\n", ".rst")
    assert "# Quickstart {#quick}" in text
    assert "See the API and install." in text
    assert "**Note:**" in text and "Needs `Python 3.9`." in text
    assert "maxdepth" not in text and "pip.pypa.io" not in text
    assert chunk_markdown(text, 350, "sphinx")[0].anchor == "quick"


def test_myst_directives_and_labels() -> None:
    text = myst_to_markdown(
        "(setup)=\n# Set up\n\n```{note}\nUse a venv.\n```\n\n```{code-block} python\n"
        ":linenos:\nimport flask\n```\n\n```{toctree}\nother\n```\n\nRead {ref}`the guide <g>`.\n")
    assert "# Set up {#setup}" in text and "**Note:**" in text and "Use a venv." in text
    assert "```python\nimport flask\n```" in text and ":linenos:" not in text
    assert "other" not in text and "Read the guide." in text


def test_markdown_flavour_is_chosen_by_the_site() -> None:
    page = '!!! tip\n    Use it.\n'
    assert to_markdown(page, ".md") == page  # plain Markdown passes through
    assert "**Tip:**" in to_markdown(page, ".md", "mkdocs")


@pytest.mark.parametrize("text", [
    "---\ntitle: [unclosed\n---\n# Body\n", "```\nunclosed fence\n:::tip\n", "\x00\x01" * 50,
    ":::note\n" * 500, "<Tabs>\n" * 100, "x" * 200_000,
])
def test_malformed_pages_convert_without_errors(text: str) -> None:
    for convert in (mdx_to_markdown, mkdocs_to_markdown, myst_to_markdown):
        assert isinstance(convert(text), str)
    assert isinstance(to_markdown(text, ".rst"), str)


def test_broken_front_matter_reads_as_empty_and_is_cut() -> None:
    meta, body = split_front_matter("---\ntitle: [oops\n---\n# Real title\n")
    assert meta == {} and body.strip() == "# Real title"
    assert split_front_matter("no front matter")[1] == "no front matter"


# Cases from each generator: github-slugger's tests, Python-Markdown's toc tests,
# docutils' make_id.
@pytest.mark.parametrize(("style", "headings", "ids"), [
    ("github", ["foo", "foo", "foo"], ["foo", "foo-1", "foo-2"]),
    ("github", ["Hello World!", "I ♥ unicode", "安装 指南"],
     ["hello-world", "i--unicode", "安装-指南"]),
    ("docusaurus", ["`code` and **bold**", "Requirements {#req}"], ["code-and-bold", "req"]),
    ("mkdocs", ["Header", "Header", "安装", "Héllo wörld"], ["header", "header_1", "_1", "hello-world"]),
    ("mkdocs", ["An optional *CLI argument* with a default"],
     ["an-optional-cli-argument-with-a-default"]),
    ("sphinx", ["User's Guide", "1. Intro", "安装", "User's Guide"],
     ["user-s-guide", "intro", "id1", "id2"]),
])
def test_anchor_styles(style: str, headings: list[str], ids: list[str]) -> None:
    seen: dict[str, int] = {}
    assert [anchor_for(h, style, seen) for h in headings] == ids
