"""How often ingest gets a meeting's date and language right, on real community notes.

    python -m evals.notes_metadata [--data ../shared/evaldata]

Ground truth: ``meeting_notes/manifest.jsonl`` in ../shared/evaldata (dates and languages
taken from the source repositories). Writes report.md and results.json under --out.
"""

from __future__ import annotations

from collections.abc import Sequence

from evals.harness.corpora import read_jsonl
from evals.harness.run import EvalRun
from ingest.notes import scan_notes


def main(argv: Sequence[str] | None = None) -> None:
    with EvalRun.start("notes_metadata", EvalRun.parser("notes_metadata", __doc__), argv) as run:
        notes = run.args.data / "meeting_notes"
        truth = {row["file"]: row for row in read_jsonl(notes / "manifest.jsonl")}
        scan = scan_notes(notes, project="eval")
        rows = []
        for path, chunks in scan.chunks_by_path.items():
            want = truth.get(path.removeprefix("notes/"))
            if want:
                meta = chunks[0].metadata
                rows.append({"path": path, "date_ok": meta["date"] == want["date"],
                             "language_ok": meta["language"] == want["language"],
                             "date": meta["date"], "want_date": want["date"],
                             "language": meta["language"], "want_language": want["language"]})
        n = len(rows)
        summary = {"notes": n, "manifest": len(truth),
                   "dates_right": sum(r["date_ok"] for r in rows),
                   "languages_right": sum(r["language_ok"] for r in rows),
                   "passages": sum(len(c) for c in scan.chunks_by_path.values())}
        wrong = [r for r in rows if not (r["date_ok"] and r["language_ok"])]
        lines = [f"{n} notes with ground truth ({len(truth)} in the manifest); "
                 f"date right {summary['dates_right']}/{n}, language right "
                 f"{summary['languages_right']}/{n}; {summary['passages']} passages"]
        lines += [f"  {r['path']}: date {r['date']!r} (want {r['want_date']!r}), language "
                  f"{r['language']} (want {r['want_language']})" for r in wrong]
        print("\n".join(lines))
        run.write({"summary": summary, "wrong": wrong},
                  "Meeting-notes metadata: dates and languages", lines)


if __name__ == "__main__":
    main()
