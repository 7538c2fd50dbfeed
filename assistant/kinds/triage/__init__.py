"""Issue triage: labels, duplicates, docs, missing information and the reply, as one typed draft."""

from assistant.kinds.triage.kind import KIND

__all__ = ["KIND"]
