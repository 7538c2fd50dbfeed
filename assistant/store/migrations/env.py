"""Alembic environment: runs on the connection handed over by ``assistant.store.db.upgrade``."""

from alembic import context

import assistant.store.activity  # noqa: F401  (its tables join Base.metadata)
from assistant.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
