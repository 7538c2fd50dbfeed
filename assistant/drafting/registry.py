"""Which kind drafts which ``DraftKind``: the package ``assistant.kinds.<value>`` of each
enum value, whose ``KIND`` is that kind. Adding a kind is its package, its enum value and its
prompt folder; a value without a package (or a package answering for another value) fails
here, when the registry is first imported, never in the middle of a draft."""

from __future__ import annotations

import importlib

from assistant.errors import InvalidInput
from assistant.kinds.base import Kind
from assistant.store.models import DraftKind


def _load(kind: DraftKind) -> Kind:
    module = importlib.import_module(f"assistant.kinds.{kind.value}")
    found = getattr(module, "KIND", None)
    if not isinstance(found, Kind) or found.name != kind:
        raise RuntimeError(f"assistant.kinds.{kind.value} must export KIND, the Kind whose "
                           f"name is DraftKind.{kind.name}")
    return found


KINDS: dict[DraftKind, Kind] = {kind: _load(kind) for kind in DraftKind}


def get_kind(name: str | Kind) -> Kind:
    """The kind named ``name`` (a configured instance is returned as it is); a clear error
    for an unknown one."""
    if isinstance(name, Kind):
        return name
    try:
        return KINDS[DraftKind(name)]
    except ValueError:
        raise InvalidInput(f"Unknown draft kind {name!r}.",
                           fix=f"use one of: {', '.join(KINDS)}") from None
