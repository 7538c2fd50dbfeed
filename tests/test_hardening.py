"""Issue 16 hardening: hostile sizes, shapes and paths in what the assistant reads."""

from __future__ import annotations

import time

import pytest

from ingest.markdown import chunk_markdown, count_tokens


@pytest.mark.parametrize("line", ["x" * 4_000_000, "word " * 800_000, "中" * 1_400_000],
                         ids=["letters", "words", "cjk"])
def test_a_4_mb_unbroken_line_is_chunked_in_linear_time(line: str) -> None:
    started = time.perf_counter()
    chunks = chunk_markdown(f"# Big\n\n{line}\n", max_tokens=350)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"{elapsed:.1f} s for {len(line)} characters"  # was ~68 s (letters)
    assert all(count_tokens(c.text) <= 350 for c in chunks)
    assert "".join(c.text for c in chunks) == line  # cut, nothing lost or repeated
