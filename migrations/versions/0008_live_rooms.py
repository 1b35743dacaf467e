"""Live rooms: a session goes live (with an optional stream URL) and ends, the host pins
the product being explained; merchants' own sensitive words for comments.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 10:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pinned_item_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_live_sessions_pinned_item_id_showcase_items"),
            "showcase_items",
            ["pinned_item_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "live_word_lists",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_live_word_lists_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_live_word_lists")),
    )


def downgrade() -> None:
    op.drop_table("live_word_lists")
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_live_sessions_pinned_item_id_showcase_items"), type_="foreignkey"
        )
        batch_op.drop_column("pinned_item_id")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("stream_url")
