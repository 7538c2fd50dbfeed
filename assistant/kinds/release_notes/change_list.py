"""Release-note input as a list of changes (PRs or commits) in JSON: a file, JSON text or
already-parsed data, including the ``commits`` of an eval record in
``evaldata/release_notes/*.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.errors import InvalidInput
from assistant.kinds.release_notes.models import Change
from assistant.kinds.release_notes.sources import (
    DUPLICATE,
    MARKED_CHANGELOG,
    ChangeSet,
    _change,
    pr_numbers,
    release_work_reason,
)


def _load(path_or_data: Any) -> Any:
    if isinstance(path_or_data, str) and path_or_data.lstrip()[:1] in ("[", "{"):
        text, where = path_or_data, "the JSON text"
    elif isinstance(path_or_data, str | Path):
        path = Path(path_or_data).expanduser()
        try:
            text, where = path.read_text(encoding="utf-8-sig"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Cannot read the changes file {path}: {exc}.",
                               fix="pass the path of a UTF-8 JSON file") from exc
    else:
        return path_or_data
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        try:
            if len(lines) > 1:
                return [json.loads(ln) for ln in lines]  # JSON Lines
        except json.JSONDecodeError:
            pass
        raise InvalidInput(
            f"{where} is not valid JSON (line {first.lineno}, column {first.colno}: {first.msg}).",
            fix="pass a JSON list of changes or one JSON object per line") from first


def _pick_record(data: list[Any], version: str | None) -> Any:
    records = [d for d in data if isinstance(d, dict) and "commits" in d]
    if not records:
        return data
    if version is not None:
        for record in records:
            if str(record.get("version")) == version:
                return record
        have = ", ".join(str(r.get("version")) for r in records[:8])
        raise InvalidInput(f"No release record has version {version!r}.",
                           fix=f"pick one of: {have}")
    if len(records) == 1:
        return records[0]
    raise InvalidInput(f"The input holds {len(records)} release records, not one list of changes.",
                       fix="pass version=... to pick a record, or pass one record")


def _text(item: dict[str, Any], where: str, *keys: str, required: bool = False) -> str | None:
    for key in keys:
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{where}: '{key}' must be a string, not {type(value).__name__}.",
                               fix=f"write '{key}' as a JSON string")
        if value.strip():
            return value
    if required:
        raise InvalidInput(f"{where}: missing '{keys[0]}'" + (
            f" (or '{keys[1]}')." if len(keys) > 1 else "."),
            fix=f"give each change a non-empty '{keys[0]}'")
    return None


def _number(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise InvalidInput(f"{where}: '{key}' must hold PR numbers, got {value!r}.",
                           fix=f"write '{key}' as a number such as 1234")
    return int(value)


def _item_change(item: Any, where: str) -> tuple[Change, bool]:
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} is a {type(item).__name__}, not an object.",
                           fix="make each change a JSON object with a title and a number or sha")
    title = _text(item, where, "title", "subject", required=True) or ""
    prs: list[int] = []
    if item.get("number") is not None:
        prs.append(_number(item["number"], where, "number"))
    raw_prs = item.get("pr_numbers", item.get("prs")) or []
    if not isinstance(raw_prs, list):
        raise InvalidInput(f"{where}: 'pr_numbers' must be a list.",
                           fix="write 'pr_numbers' as a list such as [1234]")
    prs += [_number(n, where, "pr_numbers") for n in raw_prs] + pr_numbers(title)
    sha = _text(item, where, "sha")
    if item.get("number") is not None:
        id_ = f"pr-{prs[0]}"  # a PR (even when it also names its merge sha)
    elif sha:
        id_ = sha.strip()
    else:
        raise InvalidInput(f"{where} has neither 'number' nor 'sha'.",
                           fix="give each change its PR 'number' or its commit 'sha'")
    labels_raw = item.get("labels") or []
    if not isinstance(labels_raw, list):
        raise InvalidInput(f"{where}: 'labels' must be a list.",
                           fix='write labels as ["bug"] or [{"name": "bug"}]')
    labels: list[str] = []
    for label in labels_raw:
        name = label.get("name") if isinstance(label, dict) else label
        if not isinstance(name, str):
            raise InvalidInput(f"{where}: label {label!r} is neither a string nor {{'name': ...}}.",
                               fix='write labels as ["bug"] or [{"name": "bug"}]')
        labels.append(name)
    author_raw = item.get("author", item.get("user"))
    if isinstance(author_raw, dict):
        author_raw = author_raw.get("login") or author_raw.get("name")
    if author_raw is not None and not isinstance(author_raw, str):
        raise InvalidInput(f"{where}: 'author' must be a string or {{'login': ...}}.",
                           fix='write the author as "octocat" or {"login": "octocat"}')
    body = _text(item, where, "body") or ""
    url = _text(item, where, "url", "html_url")
    marked = item.get("is_changelog_commit", False)
    if not isinstance(marked, bool):
        raise InvalidInput(f"{where}: 'is_changelog_commit' must be true or false.",
                           fix="write is_changelog_commit as a JSON boolean")
    change = _change(id_, title, body=body, prs=prs, labels=labels, author=author_raw, url=url)
    return change, marked


def changes_from_json(path_or_data: Any, *, version: str | None = None) -> ChangeSet:
    """Changes from JSON: a path, JSON text, or parsed data.

    Accepted shapes: a list of changes; ``{"changes": [...]}``; an eval release record
    (``{"commits": [...], "previous_tag": ..., "version": ...}``; its changelog fields are
    never read); a JSON Lines file of such records (pick one with ``version``). Each change
    has ``title`` or ``subject``, ``number`` (PR; id ``pr-<number>``) or ``sha`` (id the sha),
    and optionally ``labels``
    (strings or ``{"name": ...}``), ``author`` (string or ``{"login": ...}``), ``body``,
    ``pr_numbers`` and ``is_changelog_commit`` (true → excluded). The same subject rules as
    for git exclude release and changelog commits.
    """
    data = _load(path_or_data)
    if isinstance(data, list):
        data = _pick_record(data, version)
    result = ChangeSet()
    items: Any = data
    if isinstance(data, dict):
        key = "commits" if "commits" in data else "changes" if "changes" in data else None
        if key is None:
            raise InvalidInput("The JSON object has neither 'changes' nor 'commits'.",
                               fix="pass a list of changes or an object with a 'changes' list")
        items = data[key]
        result.from_ref = _opt_str(data.get("previous_tag", data.get("from_ref")))
        result.to_ref = _opt_str(data.get("version", data.get("to_ref")))
        before = data.get("authors_before") or []
        if not isinstance(before, list) or not all(isinstance(a, str) for a in before):
            raise InvalidInput("'authors_before' must be a list of names.",
                               fix='write it as ["alice", "bob"]')
        result.authors_before = set(before)
        merges = data.get("merge_commits") or []
        if isinstance(merges, list):
            result.merge_prs = sorted({n for m in merges if isinstance(m, str)
                                       for n in pr_numbers(m)})
    if not isinstance(items, list):
        raise InvalidInput(f"The changes must be a JSON list, not {type(items).__name__}.",
                           fix="pass a list of change objects")
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"change #{index + 1}"
        change, marked = _item_change(item, where)
        if change.id in seen:
            result.excluded.append((change.id, f"{DUPLICATE} of change #{seen[change.id] + 1}"))
            continue
        seen[change.id] = index
        reason = MARKED_CHANGELOG if marked else release_work_reason(change.title)
        if reason:
            result.excluded.append((change.id, reason))
            continue
        result.changes.append(change)
        if isinstance(item, dict) and isinstance(item.get("date"), str):
            result.dates[change.id] = item["date"]
    return result


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
