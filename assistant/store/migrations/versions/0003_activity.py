"""Issue and PR history for activity reports: activity_items and activity_comments.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "activity_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(1024), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("author_association", sa.String(32), nullable=False),
        sa.Column("labels", JSONType, nullable=False),
        sa.Column("assignees", JSONType, nullable=False),
        sa.Column("created_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("merged_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=True),
        sa.Column("ingested_at", TS, nullable=False),
        sa.UniqueConstraint("project", "number", name="uq_activity_items_number"),
    )
    op.create_index("ix_activity_items_project", "activity_items", ["project"])
    op.create_table(
        "activity_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer(),
                  sa.ForeignKey("activity_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("author_association", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=True),
    )
    op.create_index("ix_activity_comments_item_id", "activity_comments", ["item_id"])


def downgrade() -> None:
    op.drop_table("activity_comments")
    op.drop_table("activity_items")
