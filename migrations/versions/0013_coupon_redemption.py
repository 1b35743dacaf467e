"""A claimed coupon can be spent on an order: orders carry the coupon and its discount
(``amount`` is what the buyer pays, the gross less the discount), a claim records the
order that used it, and settlement keeps the discount that came out of the merchant's
commission.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("discount", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("coupon_id", sa.String(length=40), nullable=True))
        batch.drop_constraint(op.f("ck_orders_amount"), type_="check")
        batch.create_check_constraint("amount", "amount = unit_price * quantity - discount")
        batch.create_check_constraint(
            "discount", "discount >= 0 AND discount < unit_price * quantity"
        )
    with op.batch_alter_table("live_coupon_claims") as batch:
        batch.add_column(sa.Column("order_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("used_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_live_coupon_claims_order_id", ["order_id"], unique=True)
    with op.batch_alter_table("settlement_orders") as batch:
        batch.add_column(sa.Column("discount", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("settlement_orders") as batch:
        batch.drop_column("discount")
    with op.batch_alter_table("live_coupon_claims") as batch:
        batch.drop_index("ix_live_coupon_claims_order_id")
        batch.drop_column("used_at")
        batch.drop_column("order_id")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_discount"), type_="check")
        batch.drop_constraint(op.f("ck_orders_amount"), type_="check")
        batch.create_check_constraint("amount", "amount = unit_price * quantity")
        batch.drop_column("coupon_id")
        batch.drop_column("discount")
