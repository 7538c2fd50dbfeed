"""Announcements: blog, social and mailing-list posts (EN and ZH) from approved release notes."""

from assistant.kinds.announcement.kind import KIND

__all__ = ["KIND"]
