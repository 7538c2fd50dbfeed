"""The drafts store: SQLAlchemy models, Alembic migrations, a repository for drafts."""
