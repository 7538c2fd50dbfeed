"""Ingest: turn a project's docs (and later issues, PRs, meeting notes) into indexed passages."""
