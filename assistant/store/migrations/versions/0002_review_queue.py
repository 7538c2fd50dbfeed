"""Review queue: job lease columns, revisions, audit log, API keys, webhook deliveries.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("claim_token", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", TS, nullable=True))
        batch.add_column(sa.Column("enqueued_at", TS, nullable=True))
        batch.add_column(sa.Column("requested_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("dedupe_key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("approved_revision", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("reject_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("published_at", TS, nullable=True))
        batch.add_column(sa.Column("published_url", sa.String(500), nullable=True))
        batch.create_unique_constraint("uq_drafts_dedupe_key", ["dedupe_key"])
    op.create_index("ix_drafts_language", "drafts", ["language"])
    op.create_table(
        "draft_revisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("draft_id", sa.Integer(), sa.ForeignKey("drafts.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", JSONType, nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("draft_id", "number"),
    )
    op.create_index("ix_draft_revisions_draft_id", "draft_revisions", ["draft_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", JSONType, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_audit_log_draft_id", "audit_log", ["draft_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(100), primary_key=True),
        sa.Column("event", sa.String(50), nullable=False),
        sa.Column("outcome", sa.String(300), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("received_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("webhook_deliveries", "api_keys", "audit_log", "draft_revisions"):
        op.drop_table(table)
    op.drop_index("ix_drafts_language", "drafts")
    with op.batch_alter_table("drafts") as batch:
        batch.drop_constraint("uq_drafts_dedupe_key")
        for column in ("attempts", "claim_token", "lease_until", "enqueued_at", "requested_by",
                       "dedupe_key", "revision", "approved_revision", "reviewed_by",
                       "reject_reason", "published_at", "published_url"):
            batch.drop_column(column)
