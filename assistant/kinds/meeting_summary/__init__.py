"""Meeting notes: summaries (decisions, action items, open questions traced to lines of the
note) and draft agendas for the next meeting from recent activity."""

from assistant.kinds.meeting_summary.kind import KIND

__all__ = ["KIND"]
