"""Flash sales (秒杀): units of a SKU set aside at a sale price, each buyer's hold against
the per-person limit, and the sale an order was won in.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 13:33:39.786362
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flash_sales",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=True),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("per_user_limit", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_flash_sales_window")),
        sa.CheckConstraint("per_user_limit > 0", name=op.f("ck_flash_sales_per_user_limit")),
        sa.CheckConstraint("price > 0", name=op.f("ck_flash_sales_price")),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= units", name=op.f("ck_flash_sales_remaining")
        ),
        sa.CheckConstraint("units > 0", name=op.f("ck_flash_sales_units")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["showcase_items.id"],
            name=op.f("fk_flash_sales_item_id_showcase_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_flash_sales_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_flash_sales_sku_id_skus"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["tenants.id"],
            name=op.f("fk_flash_sales_supplier_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_flash_sales_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flash_sales")),
    )
    op.create_index(op.f("ix_flash_sales_session_id"), "flash_sales", ["session_id"], unique=False)
    op.create_index(op.f("ix_flash_sales_sku_id"), "flash_sales", ["sku_id"], unique=False)
    op.create_index(op.f("ix_flash_sales_tenant_id"), "flash_sales", ["tenant_id"], unique=False)
    op.create_table(
        "flash_holds",
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_flash_holds_quantity")),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_flash_holds_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["flash_sales.id"],
            name=op.f("fk_flash_holds_sale_id_flash_sales"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sale_id", "buyer_id", name=op.f("pk_flash_holds")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flash_sale_id", sa.String(length=40), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_orders_flash_sale_id"), ["flash_sale_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_flash_sale_id_flash_sales"),
            "flash_sales",
            ["flash_sale_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_orders_flash_sale_id_flash_sales"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_orders_flash_sale_id"))
        batch_op.drop_column("flash_sale_id")
    op.drop_table("flash_holds")
    op.drop_index(op.f("ix_flash_sales_tenant_id"), table_name="flash_sales")
    op.drop_index(op.f("ix_flash_sales_sku_id"), table_name="flash_sales")
    op.drop_index(op.f("ix_flash_sales_session_id"), table_name="flash_sales")
    op.drop_table("flash_sales")
