"""The blind rubric: items for a judge (no system, no issue number), the key kept apart, and
the join of the judge's scores with the key (rubric: docs/triage_eval.md)."""

from __future__ import annotations

import hashlib
import json
import random
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .measures import auc

BODY_SHOWN = 1500
FLAGS = ("promise", "action_claim", "unsupported_claim", "thanks_docs")
SEED = 17


def item_id(system: str, key: str, commit: str, seed: int = SEED) -> str:
    """An opaque, stable id: nothing in it names the system or the issue."""
    return "j" + hashlib.sha256(f"{seed}|{commit}|{system}|{key}".encode()).hexdigest()[:10]


def shown_reply(row: dict[str, Any]) -> str:
    return row["reply"] or f"(no reply drafted: {row.get('no_reply_reason') or 'none'})"


def judge_items(rows: Sequence[dict[str, Any]], gold: dict[str, dict[str, Any]], commit: str,
                seed: int = SEED) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Items for incoming issues a maintainer answered (shuffled with ``seed``) and the key
    (id -> system, issue, confidence). ``gold``: issue key -> record."""
    items, keys = [], {}
    for row in rows:
        record = gold[row["key"]]
        answer = record["gold"]["maintainer_answer"]
        if not answer.strip():
            continue
        ident = item_id(row["system"], row["key"], commit, seed)
        items.append({"id": ident, "title": record["title"],
                      "body": (record.get("body") or "")[:BODY_SHOWN],
                      "maintainer_answer": answer, "answer_type": record["gold"]["answer_type"],
                      "reply": shown_reply(row)})
        keys[ident] = {"system": row["system"], "key": row["key"], "number": record["number"],
                       "commit": commit[:10], "confidence": row.get("confidence")}
    random.Random(seed).shuffle(items)
    return items, keys


def write_items(folder: Path, items: list[dict[str, Any]], keys: dict[str, Any]) -> None:
    with (folder / "judge_items.jsonl").open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    (folder / "judge_key.json").write_text(json.dumps(keys, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")


def merge_items(runs: Iterable[Path], seed: int = SEED) -> list[dict[str, Any]]:
    """Every run's items in one shuffled list (so a judge sees the systems mixed)."""
    items = [json.loads(line) for run in runs
             for line in (run / "judge_items.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    random.Random(seed).shuffle(items)
    return items


def read_judgments(path: Path) -> list[dict[str, Any]]:
    """Judgments (JSON Lines), checked: score 0/1/2, a one-line reason, the four booleans."""
    judged = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        j = json.loads(line)
        if j.get("score") not in (0, 1, 2):
            raise ValueError(f"{path}:{n}: score must be 0, 1 or 2")
        reason = str(j.get("reason") or "").strip()
        if not reason or "\n" in reason:
            raise ValueError(f"{path}:{n}: reason must be one non-empty line")
        for flag in FLAGS:
            if not isinstance(j.get(flag, False), bool):
                raise ValueError(f"{path}:{n}: {flag} must be true or false")
        judged.append({"id": j["id"], "score": j["score"], "reason": reason,
                       **{f: bool(j.get(f, False)) for f in FLAGS}})
    return judged


def join(judged: Sequence[dict[str, Any]], keys: dict[str, dict[str, Any]]
         ) -> tuple[list[dict[str, Any]], list[str]]:
    """Judgments joined with the key; and the keyed ids nobody judged. An id not in the key
    is an error (a judgment of something else)."""
    unknown = [j["id"] for j in judged if j["id"] not in keys]
    if unknown:
        raise ValueError(f"judgments for ids not in the key: {', '.join(unknown[:5])}")
    joined = [{**keys[j["id"]], **j} for j in judged]
    seen = {j["id"] for j in judged}
    return joined, [i for i in keys if i not in seen]


def system_label(row: dict[str, Any], ambiguous: set[str]) -> str:
    return f"{row['system']}@{row['commit']}" if row["system"] in ambiguous else row["system"]


def rubric_table(joined: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per system: n, share scored 2/1/0, mean, harmful drafts (any of the four flags), each
    flag's count, and the AUC of confidence for drafts scored 2 over those scored 0."""
    commits: dict[str, set[str]] = {}
    for row in joined:
        commits.setdefault(row["system"], set()).add(row["commit"])
    ambiguous = {s for s, c in commits.items() if len(c) > 1}
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in joined:
        groups.setdefault(system_label(row, ambiguous), []).append(row)
    table = {}
    for name, rows in groups.items():
        scores = [r["score"] for r in rows]
        conf = [r for r in rows if r.get("confidence") is not None]
        table[name] = {
            "n": len(rows), **{f"%{s}": round(100 * scores.count(s) / len(rows), 1)
                               for s in (2, 1, 0)},
            "mean": round(statistics.fmean(scores), 2),
            "harmful": sum(any(r[f] for f in FLAGS) for r in rows),
            **{f: sum(r[f] for r in rows) for f in FLAGS},
            "confidence_auc_2_over_0": auc([r["confidence"] for r in conf if r["score"] == 2],
                                           [r["confidence"] for r in conf if r["score"] == 0])
            if conf else None,
        }
    return table
