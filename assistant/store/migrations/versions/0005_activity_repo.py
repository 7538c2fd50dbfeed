"""Several repos per project: activity items keyed by (project, repo, number).

Rows stored before have repo "" (which repo they came from was not recorded); the next sync of
a repo adopts each such row for the issue of the same number instead of adding a second one.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity_items") as batch:
        batch.add_column(sa.Column("repo", sa.String(160), nullable=False, server_default=""))
        batch.drop_constraint("uq_activity_items_number", type_="unique")
        batch.create_unique_constraint("uq_activity_items_repo_number",
                                       ["project", "repo", "number"])


def downgrade() -> None:
    with op.batch_alter_table("activity_items") as batch:
        batch.drop_constraint("uq_activity_items_repo_number", type_="unique")
        batch.create_unique_constraint("uq_activity_items_number", ["project", "number"])
        batch.drop_column("repo")
