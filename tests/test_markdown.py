from ingest.markdown import chunk_markdown, count_tokens, slugify, split_sections, title_of

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


def test_chunks_are_token_bounded_and_keep_code_blocks_whole() -> None:
    block = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(60)) + "\n```"
    assert 100 < count_tokens(block) <= 300  # over one budget, under three: kept whole
    text = "# T\n\n" + "\n\n".join(["para " * 30] * 6) + "\n\n" + block
    chunks = chunk_markdown(text, max_tokens=100)
    assert len(chunks) > 3
    assert all(count_tokens(c.text) <= 100 for c in chunks if "```" not in c.text)
    assert sum(c.text.count("```") for c in chunks) == 2
    assert any(block in c.text for c in chunks)


def test_oversized_blocks_are_cut_at_lines_and_sentences() -> None:
    huge_code = "```\n" + "\n".join(f"line {i}" for i in range(400)) + "\n```"
    prose = " ".join(f"Sentence number {i} is here." for i in range(200))
    chinese = "数据库被锁定时请运行解锁命令。" * 120
    for text in (huge_code, prose, chinese):
        chunks = chunk_markdown(f"# T\n\n{text}\n", max_tokens=100)
        assert len(chunks) > 2
        assert all(count_tokens(c.text) <= 130 for c in chunks)
    code_chunks = chunk_markdown(f"# T\n\n{huge_code}\n", max_tokens=100)
    assert all(c.text.startswith("```") and c.text.endswith("```") for c in code_chunks)
    lines = [ln for c in code_chunks for ln in c.text.splitlines() if ln.startswith("line ")]
    assert lines == [f"line {i}" for i in range(400)]  # nothing lost, nothing repeated


def test_github_anchors() -> None:
    assert slugify("Writes are slow with `sync_mode=full`") == "writes-are-slow-with-sync_modefull"
    assert slugify("Database is locked") == "database-is-locked"
    assert slugify("从源码构建 (Windows)") == "从源码构建-windows"


def test_licence_comments_and_head_blocks_are_not_content() -> None:
    doc = (
        "---\ntitle: JWT auth\n---\n<!--\n#\n# Licensed to the Apache Software Foundation\n#\n-->\n"
        "<head>\n  <link rel=\"canonical\" href=\"https://example.org\" />\n</head>\n\n"
        "Intro <!-- hidden --> text.\n\n## Usage\n\n```html\n<!-- kept: it is code -->\n```\n"
    )
    assert title_of(doc, "fallback") == "JWT auth"
    text = "\n".join(s.text for s in split_sections(doc))
    assert "Licensed" not in text and "canonical" not in text and "hidden" not in text
    assert "Intro  text." in text and "<!-- kept: it is code -->" in text
