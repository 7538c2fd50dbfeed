"""Newcomer guides: steps grounded in the ingested docs, and good-first issues that fit."""

from assistant.kinds.newcomer_guide.kind import KIND

__all__ = ["KIND"]
