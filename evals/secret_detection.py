"""Secret redaction: recall on synthetic secrets, false positives and speed on the APISIX docs.

    python -m evals.secret_detection [--out results/secret_detection] [--repeat 3]

Three redactors side by side in one run: the hand-written one before issue 16 (``old``,
evals/secret_detection_baseline.py), the product's ``assistant.redact`` (``new``), and every
detect-secrets plugin with the library's default filters (``all plugins``: what the plugin
choice of assistant/redact/tokens.py is measured against).

- Recall: tests/data/secrets_corpus.jsonl (``python -m evals.secret_corpus``), 60+ shapes in
  English and Chinese text. A secret is caught when no 8 characters of it in a row (all of
  it, if shorter), past its public prefix, are left in the redacted text.
- False positives: every redaction on the APISIX docs (docs/{en,zh}/latest in ../shared/
  evaldata), sorted into placeholders (``$admin_key``, ``<your-api-key>``: never wanted),
  token-shaped samples (JWTs, key bodies, random strings: their shape is a secret's, redacting
  them is by design), sample credentials (``john-key``, ``p@ssw0rd``) and not-a-credential
  (prose, numbers), by rules below and the hand labels of evals/data/secret_docs_labels.json;
  values no rule or label covers are listed as unreviewed. Also: how many placeholder-style
  values assigned to credential keys in the docs each redactor keeps.
- Speed: µs per page (what ingest passes to ``redact``) and per passage (the pages cut by
  the product's chunker), best of ``--repeat`` runs.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.redact import REDACTED, redact
from evals.harness.corpora import ROOT, apisix_docs, read_jsonl
from evals.harness.run import EvalRun, markdown_table
from evals.secret_detection_baseline import redact as old_redact
from ingest.markdown import chunk_markdown

CORPUS = ROOT / "tests" / "data" / "secrets_corpus.jsonl"
LABELS = ROOT / "evals" / "data" / "secret_docs_labels.json"
LEAK_RUN = 8
# Redactions a docs maintainer would not want (the rest are token-shaped samples: by design).
UNWANTED = ("placeholder", "sample credential", "not a credential", "unreviewed")

Redactor = Callable[[str], str]


# ------------------------------------------------------------------------------ redactors


def all_plugins_redactor() -> Redactor:
    """Every detect-secrets plugin (high-entropy, keyword and IP included) with the library's
    default filters, through its ad-hoc ``scan_line``; each value found is replaced."""
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    def run(text: str) -> str:
        out = []
        with default_settings():
            for line in text.split("\n"):
                values = {s.secret_value for s in scan_line(line) if s.secret_value}
                for value in sorted(values, key=len, reverse=True):
                    line = line.replace(value, REDACTED)
                out.append(line)
        return "\n".join(out)

    return run


def plugin_hits(pages: Sequence[str]) -> Counter[str]:
    """Hits of each detect-secrets plugin (default filters) on the docs' lines."""
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    hits: Counter[str] = Counter()
    with default_settings():
        for page in pages:
            for line in page.split("\n"):
                hits.update(s.type for s in scan_line(line))
    return hits


# ------------------------------------------------------------------------------ recall


def leaked(secret: str, redacted: str) -> bool:
    """Whether a run of LEAK_RUN characters of the secret (all of it, if shorter) survived."""
    k = min(LEAK_RUN, len(secret))
    return any(secret[i:i + k] in redacted for i in range(len(secret) - k + 1))


def recall(records: list[dict[str, Any]], redactor: Redactor) -> dict[str, Any]:
    """Caught secrets overall, per shape and per language, and the shapes missed."""
    by_shape: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for record in records:
        out = redactor(record["text"])
        for s in record["secrets"]:
            secret = record["text"][s["start"] + s["prefix"]:s["end"]]
            ok = not leaked(secret, out)
            for bucket in (by_shape[record["shape"]], by_lang[record["lang"]]):
                bucket[0] += ok
                bucket[1] += 1
            if not ok:
                misses.append({"id": record["id"], "output": out[:240]})
    caught = sum(c for c, _ in by_shape.values())
    total = sum(n for _, n in by_shape.values())
    return {"caught": caught, "total": total, "recall": round(caught / total, 4),
            "by_shape": {k: v[0] / v[1] for k, v in sorted(by_shape.items())},
            "by_language": {k: round(v[0] / v[1], 4) for k, v in sorted(by_lang.items())},
            "misses": misses}


# ------------------------------------------------------------------------------ false positives


def redacted_values(original: str, redacted: str) -> list[str]:
    """What a redactor replaced: the text between the pieces it left, matched in order."""
    values: list[str] = []
    for line_original, line_redacted in _changed_lines(original, redacted):
        parts = line_redacted.split(REDACTED)
        match = re.fullmatch("(.*?)".join(map(re.escape, parts)), line_original, re.DOTALL)
        values += list(match.groups()) if match else ["<unaligned>"]
    return values


def _changed_lines(original: str, redacted: str) -> list[tuple[str, str]]:
    """The lines a redactor changed, paired (the whole texts if it took line breaks)."""
    o_lines, r_lines = original.split("\n"), redacted.split("\n")
    if len(o_lines) != len(r_lines):
        return [(original, redacted)]
    return [(o, r) for o, r in zip(o_lines, r_lines, strict=True) if o != r]


_PLACEHOLDER = re.compile(
    r"""^["'`]*$|[$<>{}]|your|example|replace|change|xxx|\*\*\*|\.\.\.|…|^["']?(?:password|secret|
    token|root|test|admin|pwd|bar|abc|xyz|value|true|false|123|321)["']?$""", re.I | re.X)
# Random-looking: a JWT, 20+ characters mixing digits, lower and upper case, 20+ hex digits, a
# UUID, or a key body.
_TOKEN_SHAPED = re.compile(
    r"eyJ|^(?=\S*\d)(?=\S*[a-z])(?=\S*[A-Z])[A-Za-z0-9+/=_.%#:-]{20,}$|^[0-9a-f]{20,}$"
    r"|^[0-9a-f]{8}-[0-9a-f]{4}-|^[A-Za-z0-9+/]{16,}={0,2}\s", re.S)


def classify(value: str, labels: dict[str, str]) -> str:
    """placeholder / token-shaped sample / a hand label / unreviewed."""
    if value in labels:
        return labels[value]
    if _PLACEHOLDER.search(value):
        return "placeholder"
    if _TOKEN_SHAPED.search(value) or "\n" in value or "\\n" in value:
        return "token-shaped sample"
    return "unreviewed"


def false_positives(pages: Sequence[str], redactor: Redactor,
                    labels: dict[str, str]) -> dict[str, Any]:
    """Every redaction on the docs, counted by category, with the distinct values."""
    values: Counter[str] = Counter()
    for page in pages:
        values.update(redacted_values(page, redactor(page)))
    by_category: Counter[str] = Counter()
    samples: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for value, n in values.most_common():
        category = classify(value, labels)
        by_category[category] += n
        if len(samples[category]) < 12:
            samples[category].append((value[:80], n))
    return {"redactions": sum(values.values()), "distinct": len(values),
            "by_category": dict(by_category), "samples": dict(samples),
            "distinct_values": {v[:200]: n for v, n in values.most_common()}}


# Values assigned to credential-named keys in the docs, found independently of the product.
_ASSIGNED = re.compile(
    r"""(?i)(?<![\w-])["']?[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|
    admin[_-]?key|private[_-]?key|auth[_-]?key)(?![\w-])["']?[ \t]*(?:=|:(?!//))[ \t]*
    (?P<value>"[^"\n]+"|'[^'\n]+'|[^\s,;'"`)\]]+)""", re.X)


def placeholders_kept(pages: Sequence[str], redactors: dict[str, Redactor]) -> dict[str, Any]:
    """Placeholder-style values (``_PLACEHOLDER``) assigned to credential keys in the docs,
    and how many each redactor leaves readable."""
    found = [Counter(v for m in _ASSIGNED.finditer(page)
                     if _PLACEHOLDER.search((v := m.group("value")).strip("'\"")))
             for page in pages]
    kept = {name: sum(min(n, redactor(page).count(value))
                      for page, values in zip(pages, found, strict=True) if values
                      for value, n in values.items())
            for name, redactor in redactors.items()}
    return {"placeholders": sum(sum(c.values()) for c in found),
            "distinct": len(set().union(*found)), "kept": kept}


# ------------------------------------------------------------------------------ speed


def speed(texts: Sequence[str], redactor: Redactor, repeat: int) -> float:
    """Best-of-``repeat`` µs per text."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            redactor(text)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


# ------------------------------------------------------------------------------ run


def docs_pages(data: Path) -> list[str]:
    root = apisix_docs(data) / "docs"
    return [p.read_text(encoding="utf-8", errors="replace")
            for lang in ("en", "zh") for p in sorted((root / lang / "latest").rglob("*"))
            if p.is_file()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = EvalRun.parser("secret_detection", __doc__)
    parser.add_argument("--repeat", type=int, default=3, help="speed runs (best is kept)")
    parser.add_argument("--skip-all-plugins", action="store_true",
                        help="leave out the slow all-detect-secrets-plugins redactor")
    with EvalRun.start("secret_detection", parser, argv) as run:
        records = read_jsonl(CORPUS)
        pages = docs_pages(run.args.data)
        passages = [s.text for page in pages for s in chunk_markdown(page, 350)]
        labels = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]
        redactors: dict[str, Redactor] = {"old": old_redact, "new": redact}
        if not run.args.skip_all_plugins:
            redactors["all plugins"] = all_plugins_redactor()
        results: dict[str, Any] = {}
        for name, redactor in redactors.items():
            results[name] = {
                "recall": recall(records, redactor),
                "docs": false_positives(pages, redactor, labels),
                "us_per_page": round(speed(pages, redactor, 1 if name == "all plugins"
                                           else run.args.repeat), 1),
                "us_per_passage": round(speed(passages, redactor, 1 if name == "all plugins"
                                              else run.args.repeat), 1),
            }
        placeholders = placeholders_kept(pages, {k: redactors[k] for k in ("old", "new")})
        hits = plugin_hits(pages) if not run.args.skip_all_plugins else Counter()
        payload = {"corpus": {"records": len(records), "secrets": results["new"]["recall"]["total"],
                              "shapes": len({r["shape"] for r in records})},
                   "docs": {"pages": len(pages), "passages": len(passages)},
                   "placeholders": placeholders, "plugin_hits_on_docs": dict(hits),
                   "redactors": results}
        lines = report_lines(payload)
        print("\n".join(lines[:40]))
        run.write(payload, "Secret redaction: recall, false positives, speed", lines)


def report_lines(p: dict[str, Any]) -> list[str]:
    r = p["redactors"]
    names = list(r)
    categories = sorted({c for x in r.values() for c in x["docs"]["by_category"]})
    lines = [f"Corpus: {p['corpus']['secrets']} synthetic secrets of {p['corpus']['shapes']} "
             f"shapes in {p['corpus']['records']} texts (EN + ZH); docs: {p['docs']['pages']} "
             f"APISIX pages, {p['docs']['passages']} passages.", "",
             *markdown_table(["", *names], [
                 ["recall", *(f"{x['recall']['recall']:.3f} ({x['recall']['caught']}/"
                              f"{x['recall']['total']})" for x in r.values())],
                 ["recall EN / ZH", *(" / ".join(f"{v:.3f}" for v in x["recall"]["by_language"]
                                                  .values()) for x in r.values())],
                 ["docs redactions (distinct)",
                  *(f"{x['docs']['redactions']} ({x['docs']['distinct']})" for x in r.values())],
                 ["  unwanted (false positives)", *(sum(x["docs"]["by_category"].get(c, 0)
                                                        for c in UNWANTED) for x in r.values())],
                 *([f"  {c}", *(x["docs"]["by_category"].get(c, 0) for x in r.values())]
                   for c in categories),
                 [f"placeholders kept (of {p['placeholders']['placeholders']})",
                  *(p["placeholders"]["kept"].get(n, "") for n in names)],
                 ["µs per page", *(x["us_per_page"] for x in r.values())],
                 ["µs per passage", *(x["us_per_passage"] for x in r.values())],
             ]), "", "## Recall per shape", "",
             *markdown_table(["shape", *names], (
                 [shape, *(f"{x['recall']['by_shape'][shape]:.2f}" for x in r.values())]
                 for shape in r["new"]["recall"]["by_shape"])), ""]
    for name in names:
        misses = r[name]["recall"]["misses"]
        if name == "new" and misses:
            lines += ["## Missed by new", "", *(f"- `{m['id']}`: {m['output'][:160]!r}"
                                                for m in misses), ""]
    for name in ("new", "old"):
        lines += [f"## Docs redactions by {name}, samples", ""]
        for category, samples in r[name]["docs"]["samples"].items():
            lines.append(f"- {category}: " + ", ".join(f"`{v!r}` x{n}" for v, n in samples))
        lines.append("")
    if p["plugin_hits_on_docs"]:
        lines += ["## detect-secrets plugin hits on the docs (default filters)", "",
                  *markdown_table(["plugin", "hits"], sorted(p["plugin_hits_on_docs"].items(),
                                                             key=lambda kv: -kv[1])), ""]
    return lines


if __name__ == "__main__":
    main()
