"""Chroma-style ``where`` filters: on one passage's metadata, or as a mask over many passages.

``FilterColumns`` keeps, per metadata field a filter has used, one value code per slot, so
a filter over 100k passages is a few vectorised comparisons instead of 100k dict lookups.
The operators are evaluated once per distinct value with the same functions as ``matches``,
so the mask always agrees with it passage by passage.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.providers.vector_index import Metadata

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$in": lambda value, arg: value in arg,
    "$nin": lambda value, arg: value not in arg,
    "$gte": lambda value, arg: value is not None and value >= arg,
    "$lte": lambda value, arg: value is not None and value <= arg,
    "$gt": lambda value, arg: value is not None and value > arg,
    "$lt": lambda value, arg: value is not None and value < arg,
}
MASK_CACHE = 64  # distinct filters remembered between two changes of the passages


def _conditions(cond: Any) -> dict[str, Any]:
    ops = cond if isinstance(cond, dict) else {"$eq": cond}
    for op in ops:
        if op not in _OPS:
            raise ValueError(f"unsupported filter operator {op}")
    return ops


def matches(meta: Metadata, where: dict[str, Any] | None) -> bool:
    """Whether metadata passes a Chroma-style filter ($and, $or and comparison operators)."""
    if not where:
        return True
    for key, cond in where.items():
        if key == "$and":
            if not all(matches(meta, c) for c in cond):
                return False
        elif key == "$or":
            if not any(matches(meta, c) for c in cond):
                return False
        else:
            value = meta.get(key)
            for op, arg in _conditions(cond).items():
                if not _OPS[op](value, arg):
                    return False
    return True


class _Column:
    """One field's value code per slot, and the distinct values behind the codes."""

    def __init__(self) -> None:
        self.codes = np.zeros(1024, dtype=np.int32)
        self.values: list[Any] = []
        self._code: dict[Any, int] = {}

    def code(self, value: Any) -> int:
        key = (type(value) is bool, value)  # True and 1 are one dict key, not one value
        found = self._code.get(key)
        if found is None:
            found = self._code[key] = len(self.values)
            self.values.append(value)
        return found

    def set(self, slot: int, value: Any) -> None:
        if slot >= len(self.codes):
            grown = np.zeros(max(slot + 1, 2 * len(self.codes)), dtype=np.int32)
            grown[: len(self.codes)] = self.codes
            self.codes = grown
        self.codes[slot] = self.code(value)

    def test(self, cond: Any, slots: int) -> np.ndarray:
        allowed = [c for c, value in enumerate(self.values)
                   if all(_OPS[op](value, arg) for op, arg in _conditions(cond).items())]
        codes = self.codes[:slots]
        if len(allowed) == 1:
            return codes == allowed[0]
        return np.isin(codes, np.asarray(allowed, dtype=np.int32))


class FilterColumns:
    """Per-field value columns over a view's slots, built on first use and kept up to date."""

    def __init__(self, metadatas: Sequence[Metadata | None]) -> None:
        self._metadatas = metadatas  # the view's list, slot-indexed (None for removed slots)
        self._columns: dict[str, _Column] = {}
        self._masks: dict[str, np.ndarray] = {}

    def reset(self) -> None:
        """Forget every column (after the slots were renumbered)."""
        self._columns.clear()
        self._masks.clear()

    def changed(self, slot: int) -> None:
        """A slot was added or its metadata replaced."""
        self._masks.clear()
        meta = self._metadatas[slot] or {}
        for field, column in self._columns.items():
            column.set(slot, meta.get(field))

    def removed(self) -> None:
        """A slot was removed (the caller's alive mask hides it)."""
        self._masks.clear()

    def _column(self, field: str) -> _Column:
        column = self._columns.get(field)
        if column is None:
            column = _Column()
            for slot, meta in enumerate(self._metadatas):
                column.set(slot, (meta or {}).get(field))
            self._columns[field] = column
        return column

    def mask(self, where: dict[str, Any]) -> np.ndarray:
        """Which slots pass the filter (removed slots included: AND with the alive mask)."""
        key = json.dumps(where, sort_keys=True, default=str)
        cached = self._masks.get(key)
        if cached is None or len(cached) != len(self._metadatas):
            if len(self._masks) >= MASK_CACHE:
                self._masks.clear()
            cached = self._masks[key] = self._evaluate(where, len(self._metadatas))
        return cached

    def _evaluate(self, where: dict[str, Any], slots: int) -> np.ndarray:
        mask = np.ones(slots, dtype=np.bool_)
        for key, cond in where.items():
            if key == "$and":
                for part in cond:
                    mask &= self._evaluate(part, slots)
            elif key == "$or":
                either = np.zeros(slots, dtype=np.bool_)
                for part in cond:
                    either |= self._evaluate(part, slots)
                mask &= either
            else:
                mask &= self._column(key).test(cond, slots)
        return mask
