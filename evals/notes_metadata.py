"""How often ingest gets a meeting's date and language right, on real community notes.

Ground truth: ``meeting_notes/manifest.jsonl`` in ../shared/evaldata (dates and languages
taken from the source repositories). Usage: ``python evals/notes_metadata.py [--data DIR]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ingest.notes import scan_notes

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "evaldata")
    args = parser.parse_args()
    notes = args.data / "meeting_notes"
    truth = {
        row["file"]: row
        for row in map(json.loads, (notes / "manifest.jsonl").read_text().splitlines())
    }
    scan = scan_notes(notes, project="eval")
    rows = []
    for path, chunks in scan.chunks_by_path.items():
        want = truth.get(path.removeprefix("notes/"))
        if want:
            meta = chunks[0].metadata
            rows.append((path, meta["date"] == want["date"], meta["language"] == want["language"],
                         meta["date"], want["date"], meta["language"], want["language"]))
    n = len(rows)
    dates = sum(r[1] for r in rows)
    languages = sum(r[2] for r in rows)
    print(f"{n} notes with ground truth ({len(truth)} in the manifest); "
          f"date right {dates}/{n}, language right {languages}/{n}; "
          f"{sum(len(c) for c in scan.chunks_by_path.values())} passages")
    for path, date_ok, lang_ok, got_d, want_d, got_l, want_l in rows:
        if not (date_ok and lang_ok):
            print(f"  {path}: date {got_d!r} (want {want_d!r}), language {got_l} (want {want_l})")


if __name__ == "__main__":
    main()
