"""Live sessions: a merchant's scheduled sessions and their product lists (running order).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:28:39.023989
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_live_sessions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_sessions_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "live_session_items",
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["showcase_items.id"],
            name=op.f("fk_live_session_items_item_id_showcase_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_session_items_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_live_session_items_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "item_id", name=op.f("pk_live_session_items")),
        sa.UniqueConstraint(
            "session_id", "position", name=op.f("uq_live_session_items_session_id")
        ),
    )
    with op.batch_alter_table("live_session_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_session_items_item_id"), ["item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_live_session_items_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("live_session_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_session_items_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_live_session_items_item_id"))

    op.drop_table("live_session_items")
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_sessions_tenant_id"))

    op.drop_table("live_sessions")
