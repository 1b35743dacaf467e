"""Orders carry where they go: the buyer's delivery address (收货地址) for the supplier
who ships, and its hash, which the order's events carry (``meta.addr``) so that the
authenticity checks see orders shipped to one address without seeing the address.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("delivery", sa.Text(), nullable=True))
        batch.add_column(sa.Column("address_hash", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("address_hash")
        batch.drop_column("delivery")
