"""Security pass: revision 1 for drafts completed before revisions existed, the request hash of
an idempotency key, and the server's own secrets.

Drafts completed under 0001 have an output but no revision: approvable with no text, then
unpublishable. Their revision 1 is rebuilt from the output the model wrote (the reply, its
English translation, labels and duplicates), as the worker builds it today.

Revision ID: 0004
Revises: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
REVIEWED = ("pending_review", "approved", "rejected", "published")


def content_from_output(output: dict[str, Any] | None) -> dict[str, Any] | None:
    """Revision 1's content from a draft's stored output, or None when it holds no text."""
    if not isinstance(output, dict):
        return None
    text = output.get("reply_markdown") or output.get("markdown") or output.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    if output.get("reply_needed") is False:
        text = ""
    translation = output.get("reply_en") or output.get("translation")
    return {
        "text": text,
        "translation": translation if isinstance(translation, str) else None,
        "labels": [str(x["name"]) for x in output.get("labels") or []
                   if isinstance(x, dict) and x.get("name")],
        "duplicates": [int(x["number"]) for x in output.get("duplicates") or []
                       if isinstance(x, dict) and isinstance(x.get("number"), int)],
    }


def backfill_revisions(bind: sa.engine.Connection) -> None:
    drafts = sa.table("drafts", sa.column("id", sa.Integer), sa.column("status", sa.String),
                      sa.column("output", JSONType), sa.column("model", sa.String),
                      sa.column("revision", sa.Integer), sa.column("created_at", TS),
                      sa.column("approved_revision", sa.Integer))
    revisions = sa.table("draft_revisions", sa.column("draft_id", sa.Integer),
                         sa.column("number", sa.Integer), sa.column("content", JSONType),
                         sa.column("author", sa.String), sa.column("note", sa.Text),
                         sa.column("created_at", TS))
    has_revision = sa.select(revisions.c.draft_id).where(revisions.c.draft_id == drafts.c.id)
    rows = bind.execute(
        sa.select(drafts.c.id, drafts.c.output, drafts.c.model, drafts.c.created_at)
        .where(drafts.c.status.in_(REVIEWED), ~sa.exists(has_revision))).all()
    for draft_id, output, model, created in rows:
        content = content_from_output(output)
        if content is None:  # nothing a reviewer could approve: failed, to be redrafted
            bind.execute(sa.update(drafts).where(drafts.c.id == draft_id).values(
                status="failed", approved_revision=None))
            continue
        bind.execute(sa.insert(revisions).values(
            draft_id=draft_id, number=1, content=content, author=(model or "model")[:100],
            note="rebuilt from the stored output (migration 0004)", created_at=created))
        bind.execute(sa.update(drafts).where(drafts.c.id == draft_id).values(revision=1))


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("request_hash", sa.String(64), nullable=True))
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    backfill_revisions(op.get_bind())


def downgrade() -> None:
    op.drop_table("server_secrets")
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("request_hash")
