"""Products carry the supplier's facts for answering viewers (material, shipping
promise, usage, size chart, FAQ): one JSON object, ``{}`` for every existing product,
so nothing is invented for them and answer drafts say they do not know.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 21:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(
            sa.Column("facts", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("facts")
