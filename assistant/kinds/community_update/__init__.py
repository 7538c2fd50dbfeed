"""Community activity: metrics over issue/PR history (CHAOSS definitions), charts, report,
and the bilingual community update drafted from them."""

from assistant.kinds.community_update.kind import KIND

__all__ = ["KIND"]
