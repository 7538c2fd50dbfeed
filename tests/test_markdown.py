from ingest.markdown import chunk_markdown, slugify, split_sections, title_of

DOC = """---
title: ignored front matter
---
# Install

Intro paragraph.

## From source

You need Rust.

```bash
# this is a comment, not a heading
cargo build --release
```

### On Windows

Use the MSVC toolchain.
"""


def test_sections_follow_headings_and_keep_code_whole() -> None:
    sections = split_sections(DOC)
    assert [s.trail for s in sections] == [
        ["Install"], ["Install", "From source"], ["Install", "From source", "On Windows"]
    ]
    code = sections[1].text
    assert "# this is a comment, not a heading\ncargo build --release\n```" in code
    assert "front matter" not in "".join(s.text for s in sections)
    assert title_of(DOC, "fallback") == "Install"


def test_chunks_are_bounded_but_never_split_a_code_block() -> None:
    block = "```\n" + "\n".join(f"line {i}" for i in range(200)) + "\n```"
    text = "# T\n\n" + "\n\n".join(["para " * 30] * 6) + "\n\n" + block
    chunks = chunk_markdown(text, max_chars=400)
    assert len(chunks) > 3
    assert all(len(c.text) <= 400 for c in chunks if "```" not in c.text)
    assert sum(c.text.count("```") for c in chunks) == 2
    assert any(block in c.text for c in chunks)


def test_github_anchors() -> None:
    assert slugify("Writes are slow with `sync_mode=full`") == "writes-are-slow-with-sync_modefull"
    assert slugify("Database is locked") == "database-is-locked"
    assert slugify("从源码构建 (Windows)") == "从源码构建-windows"
