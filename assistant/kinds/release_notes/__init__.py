"""Release notes: changes in a range → grouped, traceable, bilingual notes (structure in code)."""

from assistant.kinds.release_notes.kind import KIND

__all__ = ["KIND"]
