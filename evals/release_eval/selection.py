"""Where PR precision is lost in the code's selection (structure mode, no model): the PRs our
notes cite that the official section does not (false positives) and the official PRs we miss
(false negatives), by section, classification, conventional type and scope, and what candidate
per-project omission policies would make of precision and recall."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from assistant.kinds.release_notes.classify import CONVENTIONAL, classify, is_dependency_bump
from assistant.kinds.release_notes.models import Change, Item
from assistant.kinds.release_notes.notes import assemble, render_markdown

from .config import PROJECTS
from .data import model_input
from .glossary import GENERIC_SCOPES
from .text import cited_prs

FACETS = ("section", "how", "type", "kind")
FACET_TITLES = {"section": "our section (missed: the section its change classifies to)",
                "how": "how it was classified",
                "type": "conventional type",
                "kind": "conventional type(scope), component scopes collapsed to `(component)`"}
NOT_IN_INPUT = "(not in input)"
DEPS = {"deps", "deps-dev", "dependencies"}
SCOPES_OMITTED = sorted(GENERIC_SCOPES - DEPS)  # site, demo, docs, test, ci, type, ...
Policy = dict[str, set[str]]  # facet -> values whose items are left out
GENERIC: Policy = {"scope": set(SCOPES_OMITTED)}
POLICIES: list[tuple[str, Policy]] = [
    ("as now", {}),
    ("omit section docs", {"section": {"docs"}}),
    ("omit section other", {"section": {"other"}}),
    ("omit section dependencies", {"section": {"dependencies"}}),
    ("omit sections docs, dependencies", {"section": {"docs", "dependencies"}}),
    ("omit sections docs, dependencies, performance",
     {"section": {"docs", "dependencies", "performance"}}),
    ("omit sections docs, other, dependencies", {"section": {"docs", "other", "dependencies"}}),
    ("omit generic scopes", GENERIC),
    ("omit section dependencies + generic scopes", {"section": {"dependencies"}, **GENERIC}),
    ("omit sections docs, dependencies + generic scopes",
     {"section": {"docs", "dependencies"}, **GENERIC}),
    ("omit type refactor", {"type": {"refactor"}}),
    ("omit sections docs, dependencies + generic scopes + type refactor",
     {"section": {"docs", "dependencies"}, "type": {"refactor"}, **GENERIC}),
    ("omit sections docs, dependencies, performance + generic scopes + type refactor",
     {"section": {"docs", "dependencies", "performance"}, "type": {"refactor"}, **GENERIC}),
    ("omit non-conventional (keyword, default)", {"how": {"keyword", "default"}}),
]
RECALL_BUDGET = 0.03  # the greedy policy may lose at most this much recall


@dataclass
class Release:
    """Our cited PRs with their facets, the official PRs, and the missed ones with theirs."""

    cited: dict[int, dict[str, str]]
    official: set[int]
    missed: list[tuple[dict[str, str], str]]
    unattributed: int  # PRs of the rendered notes not attributed to a line, or the reverse


def facets(change: Change, section: str | None) -> dict[str, str]:
    """Section, classification, conventional type, scope and type(scope) of a change."""
    match = CONVENTIONAL.match(change.title)
    kind = match.group("type").lower() if match else "(not conventional)"
    scope = (match.group("scope") or "").strip().lower() if match else ""
    bump = is_dependency_bump(change)
    shown = f"({scope})" if scope in GENERIC_SCOPES else "(component)" if scope else ""
    return {"section": section or "left out (internal)",
            "how": "dependency bump" if bump else classify(change).how,
            "type": kind, "scope": scope or "(none)", "kind": kind + shown}


def release_prs(record: dict[str, Any], repo: str) -> Release:
    """The PRs our structure-mode notes of a release cite, each with the facets of the change
    carrying it (under the first line citing it), and the official PRs we miss, with theirs."""
    changes, _ = model_input(record)
    notes = assemble(repo, record["version"], changes)
    by_id = {c.id: c for c in changes}
    cited: dict[int, dict[str, str]] = {}
    for item in notes.items:
        mine = [by_id[cid] for cid in item.changes]
        for number in sorted(_item_prs(item, repo) - set(cited)):
            change = next((c for c in mine if number in c.prs), mine[0])
            cited[number] = facets(change, item.section)
        item.en = item.source_text
    rendered = cited_prs(render_markdown(notes, "en", changes, repo), repo)
    ours = set(cited)
    official = cited_prs(record["changelog_en"], repo)
    dropped = dict(d.split(": ", 1) for d in notes.dropped)
    missed: list[tuple[dict[str, str], str]] = []
    for number in sorted(official - ours):
        change = next((c for c in changes if number in c.prs), None)
        if change is None:
            missed.append(({f: NOT_IN_INPUT for f in FACETS}, "not in the input"))
            continue
        found = classify(change)
        section = "dependencies" if is_dependency_bump(change) else found.section
        why = dropped.get(change.id, "in the input, another line's commit")
        missed.append((facets(change, section), why))
    return Release(cited, official, missed, len(rendered ^ ours))


def _item_prs(item: Item, repo: str) -> set[int]:
    """The PRs one rendered line cites: its links, and any bare ``#N`` in its text."""
    return set(item.prs) | cited_prs(f"- **{item.scope}**: {item.source_text}", repo)


def _omitted(found: dict[str, str], policy: Policy) -> bool:
    return any(found[facet] in values for facet, values in policy.items())


def evaluate(releases: list[Release], policy: Policy) -> dict[str, Any]:
    """Micro-averaged PR precision and recall over releases with the changes the policy matches
    left out (as ``select`` would drop them)."""
    cited = hit = official = 0
    for release in releases:
        ours = {n for n, found in release.cited.items() if not _omitted(found, policy)}
        cited, hit = cited + len(ours), hit + len(ours & release.official)
        official += len(release.official)
    return {"cited": cited, "hit": hit, "precision": hit / cited if cited else 0.0,
            "recall": hit / official if official else 0.0}


def greedy(releases: list[Release]) -> tuple[str, Policy]:
    """Leave out, one at a time, the section or type(scope) that raises precision most while
    recall stays within ``RECALL_BUDGET`` of the current selection's."""
    base = evaluate(releases, {})
    policy: Policy = {}
    options = {(f, found[f]) for release in releases for found in release.cited.values()
               for f in ("section", "kind")}
    best = base
    while True:
        tried = []
        for facet, value in options - {(f, v) for f, vs in policy.items() for v in vs}:
            trial = {**policy, facet: policy.get(facet, set()) | {value}}
            result = evaluate(releases, trial)
            if base["recall"] - result["recall"] <= RECALL_BUDGET + 1e-9 \
                    and result["precision"] > best["precision"] + 1e-9:
                tried.append((result["precision"], facet, value, trial, result))
        if not tried:
            break
        _, facet, value, policy, best = max(tried, key=lambda t: (t[0], t[1], t[2]))
    parts = [f"{'sections' if f == 'section' else 'type(scope)'} {', '.join(sorted(vs))}"
             for f, vs in sorted(policy.items())]
    return "greedy: omit " + ("; ".join(parts) or "nothing"), policy


def project_breakdown(records: list[dict[str, Any]], repo: str) -> dict[str, Any]:
    """Counts per facet value, why official PRs are missed, and each policy's P/R."""
    releases = [release_prs(r, repo) for r in records]
    tables: dict[str, Counter[tuple[str, str]]] = {f: Counter() for f in FACETS}
    for release in releases:
        outcomes = [(found, "hit" if n in release.official else "fp")
                    for n, found in release.cited.items()]
        outcomes += [(found, "missed") for found, _ in release.missed]
        for found, outcome in outcomes:
            for facet in FACETS:
                tables[facet][(found[facet], outcome)] += 1
    rows = {facet: sorted(
        ({"value": v, "hit": c[(v, "hit")], "fp": c[(v, "fp")], "missed": c[(v, "missed")]}
         for v in {v for v, _ in c}),
        key=lambda r: (-r["fp"], -r["missed"], r["value"])) for facet, c in tables.items()}
    why = Counter(reason for release in releases for _, reason in release.missed)
    policies = [*POLICIES, greedy(releases)]
    return {"releases": len(records), "official": sum(len(r.official) for r in releases),
            "unattributed": sum(r.unattributed for r in releases),
            "facets": rows, "missed_why": dict(why.most_common()),
            "policies": [{"name": name, **evaluate(releases, policy)}
                         for name, policy in policies]}


def selection_breakdown(records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The breakdown for every project loaded (structure selection, all its releases)."""
    return {project: project_breakdown(recs, PROJECTS[project])
            for project, recs in records.items()}


def _p(hit: int, cited: int) -> str:
    return f"{hit / cited:.2f}" if cited else "–"


def selection_report(selection: dict[str, Any]) -> list[str]:
    """The report section: counts per facet, why official PRs are missed, the policies."""
    scopes = ", ".join(f"`{s}`" for s in SCOPES_OMITTED)
    lines = ["## Where PR precision is lost (structure selection, all releases)", "",
             "Every PR our EN notes cite is counted once, under the input change carrying it "
             "(the dependency line cites every bump, each under its own change) in the first "
             "line citing it: *hit* if the official EN section cites it, *FP* otherwise. "
             "*Missed* = official PRs we do not cite, under the facets of the input change "
             "carrying the PR (section: where `classify` would put it; `left out (internal)` = "
             "dropped as a test/CI/chore/site/demo/type/style change), or `(not in input)`. "
             "*how* is `classify(change).how` (`dependency bump` for bot or `deps`-scope bumps, "
             "which `select` groups before classifying).", "",
             "A policy leaves out the changes it matches, as `select` would drop them "
             f"(*generic scopes*: {scopes}); P and R are micro-averaged over all releases of the "
             "project, as in the tables above. The greedy policy leaves out, one at a time, the "
             "section or type(scope) that raises precision most while recall stays within "
             f"{RECALL_BUDGET} of the current selection's; it is chosen on these same releases, "
             "so its figures are optimistic.", ""]
    for project, data in selection.items():
        base = data["policies"][0]
        lines += [f"### {project}", "",
                  f"{data['releases']} releases, {data['official']} official PRs, "
                  f"{base['cited']} cited by us, {base['hit']} hits, "
                  f"{base['cited'] - base['hit']} false positives, "
                  f"{data['official'] - base['hit']} missed; PR precision "
                  f"{base['precision']:.3f}, recall {base['recall']:.3f}"
                  + (f"; {data['unattributed']} cited PRs not attributable to a line"
                     if data["unattributed"] else "") + ".", ""]
        for facet in FACETS:
            lines += [f"By {FACET_TITLES[facet]}:", "",
                      "| value | cited | hit | FP | precision | missed |", "|" + "---|" * 6]
            lines += [f"| {r['value']} | {r['hit'] + r['fp']} | {r['hit']} | {r['fp']} | "
                      f"{_p(r['hit'], r['hit'] + r['fp'])} | {r['missed']} |"
                      for r in data["facets"][facet]]
            lines.append("")
        lines += ["Why official PRs are missed:", "", "| reason | PRs |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in data["missed_why"].items()]
        lines += ["", "Candidate policies:", "",
                  "| policy | cited | hit | PR precision | PR recall | ΔP | ΔR |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {p['name']} | {p['cited']} | {p['hit']} | {p['precision']:.3f} | "
                  f"{p['recall']:.3f} | {p['precision'] - base['precision']:+.3f} | "
                  f"{p['recall'] - base['recall']:+.3f} |" for p in data["policies"]]
        lines.append("")
    return lines
