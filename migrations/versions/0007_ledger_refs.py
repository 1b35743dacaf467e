"""Ledger refs: which leaf holds each business event's entry (per-record proof links).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:31:21.075228
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_refs",
        sa.Column("ref", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("source_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_ledger_refs")),
    )
    with op.batch_alter_table("ledger_refs", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_refs_record", ["kind", "record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_refs", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_refs_record")

    op.drop_table("ledger_refs")
