"""Commerce: the supply pool (products, SKUs, images, search terms, commission
overrides, showcases), orders (history, outbox, purchase limits) and payments
(payments, refunds, webhook receipts, and the sandbox provider's books).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "order_outbox",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_order_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_order_outbox_event_id")),
    )
    op.create_index(op.f("ix_order_outbox_order_id"), "order_outbox", ["order_id"], unique=False)
    op.create_table(
        "sandbox_callbacks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("notify_url", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_callbacks")),
    )
    op.create_index(
        op.f("ix_sandbox_callbacks_payment_id"), "sandbox_callbacks", ["payment_id"], unique=False
    )
    op.create_index(
        "ix_sandbox_callbacks_state_next",
        "sandbox_callbacks",
        ["state", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "sandbox_payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_reference", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("notify_url", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_payments")),
    )
    op.create_index(
        op.f("ix_sandbox_payments_merchant_reference"),
        "sandbox_payments",
        ["merchant_reference"],
        unique=False,
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipts")),
    )
    op.create_index(
        op.f("ix_webhook_receipts_received_at"), "webhook_receipts", ["received_at"], unique=False
    )
    op.create_table(
        "products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("price_min", sa.BigInteger(), nullable=False),
        sa.Column("price_max", sa.BigInteger(), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("max_per_user", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "commission_bps >= 0 AND commission_bps <= 9000", name=op.f("ck_products_commission")
        ),
        sa.CheckConstraint(
            "price_min > 0 AND price_min <= price_max", name=op.f("ck_products_price_range")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_products_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index("ix_products_state_category", "products", ["state", "category"], unique=False)
    op.create_index(op.f("ix_products_tenant_id"), "products", ["tenant_id"], unique=False)
    op.create_table(
        "sandbox_refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_reference", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["sandbox_payments.id"],
            name=op.f("fk_sandbox_refunds_payment_id_sandbox_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_refunds")),
        sa.UniqueConstraint(
            "merchant_reference", name=op.f("uq_sandbox_refunds_merchant_reference")
        ),
    )
    op.create_index(
        op.f("ix_sandbox_refunds_payment_id"), "sandbox_refunds", ["payment_id"], unique=False
    )
    op.create_table(
        "commission_overrides",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "commission_bps >= 0 AND commission_bps <= 9000",
            name=op.f("ck_commission_overrides_commission"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["tenants.id"],
            name=op.f("fk_commission_overrides_merchant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_commission_overrides_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commission_overrides_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_overrides")),
        sa.UniqueConstraint(
            "product_id", "merchant_id", name=op.f("uq_commission_overrides_product_id")
        ),
    )
    op.create_index(
        op.f("ix_commission_overrides_merchant_id"),
        "commission_overrides",
        ["merchant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_commission_overrides_product_id"),
        "commission_overrides",
        ["product_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_commission_overrides_tenant_id"),
        "commission_overrides",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "product_images",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_images_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_product_images_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_images")),
    )
    op.create_index(
        op.f("ix_product_images_product_id"), "product_images", ["product_id"], unique=False
    )
    op.create_index(
        op.f("ix_product_images_tenant_id"), "product_images", ["tenant_id"], unique=False
    )
    op.create_table(
        "product_terms",
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_terms_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "term", name=op.f("pk_product_terms")),
    )
    op.create_index(op.f("ix_product_terms_term"), "product_terms", ["term"], unique=False)
    op.create_table(
        "purchase_counts",
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_purchase_counts_quantity")),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_purchase_counts_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_purchase_counts_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("buyer_id", "product_id", name=op.f("pk_purchase_counts")),
    )
    op.create_table(
        "showcase_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_showcase_items_price")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_showcase_items_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_showcase_items_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_showcase_items")),
        sa.UniqueConstraint("tenant_id", "product_id", name=op.f("uq_showcase_items_tenant_id")),
    )
    op.create_index(
        op.f("ix_showcase_items_product_id"), "showcase_items", ["product_id"], unique=False
    )
    op.create_index(
        op.f("ix_showcase_items_tenant_id"), "showcase_items", ["tenant_id"], unique=False
    )
    op.create_table(
        "skus",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("available >= 0", name=op.f("ck_skus_available")),
        sa.CheckConstraint("price > 0", name=op.f("ck_skus_price")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_skus_reserved")),
        sa.CheckConstraint("sold >= 0", name=op.f("ck_skus_sold")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_skus_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_skus_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
        sa.UniqueConstraint("product_id", "code", name=op.f("uq_skus_product_id")),
    )
    op.create_index(op.f("ix_skus_product_id"), "skus", ["product_id"], unique=False)
    op.create_index(op.f("ix_skus_tenant_id"), "skus", ["tenant_id"], unique=False)
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("quota_taken", sa.Boolean(), nullable=False),
        sa.Column("refund_amount", sa.BigInteger(), nullable=True),
        sa.Column("refund_reason", sa.String(length=500), nullable=True),
        sa.Column("refund_from", sa.String(length=20), nullable=True),
        sa.Column("session", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=60), nullable=True),
        sa.Column("tracking_no", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount = unit_price * quantity", name=op.f("ck_orders_amount")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_quantity")),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount", name=op.f("ck_orders_refunded")
        ),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_orders_buyer_id_users")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["tenants.id"], name=op.f("fk_orders_merchant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_orders_product_id_products")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_orders_sku_id_skus")),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["tenants.id"], name=op.f("fk_orders_supplier_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_buyer_id"), "orders", ["buyer_id"], unique=False)
    op.create_index(op.f("ix_orders_merchant_id"), "orders", ["merchant_id"], unique=False)
    op.create_index(op.f("ix_orders_product_id"), "orders", ["product_id"], unique=False)
    op.create_index(op.f("ix_orders_sku_id"), "orders", ["sku_id"], unique=False)
    op.create_index("ix_orders_state_created_at", "orders", ["state", "created_at"], unique=False)
    op.create_index(op.f("ix_orders_supplier_id"), "orders", ["supplier_id"], unique=False)
    op.create_table(
        "order_history",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_tenant_id", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_history_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_history")),
    )
    op.create_index(op.f("ix_order_history_order_id"), "order_history", ["order_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("pay_url", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_payments_provider_ref")),
    )
    op.create_index(op.f("ix_payments_order_id"), "payments", ["order_id"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_order_id"), "refunds", ["order_id"], unique=False)
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"], unique=False)
    op.create_index("ix_refunds_state_sent_at", "refunds", ["state", "sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_refunds_state_sent_at", table_name="refunds")
    op.drop_index(op.f("ix_refunds_payment_id"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_order_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_index(op.f("ix_payments_order_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_order_history_order_id"), table_name="order_history")
    op.drop_table("order_history")
    op.drop_index(op.f("ix_orders_supplier_id"), table_name="orders")
    op.drop_index("ix_orders_state_created_at", table_name="orders")
    op.drop_index(op.f("ix_orders_sku_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_product_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_merchant_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_buyer_id"), table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_skus_tenant_id"), table_name="skus")
    op.drop_index(op.f("ix_skus_product_id"), table_name="skus")
    op.drop_table("skus")
    op.drop_index(op.f("ix_showcase_items_tenant_id"), table_name="showcase_items")
    op.drop_index(op.f("ix_showcase_items_product_id"), table_name="showcase_items")
    op.drop_table("showcase_items")
    op.drop_table("purchase_counts")
    op.drop_index(op.f("ix_product_terms_term"), table_name="product_terms")
    op.drop_table("product_terms")
    op.drop_index(op.f("ix_product_images_tenant_id"), table_name="product_images")
    op.drop_index(op.f("ix_product_images_product_id"), table_name="product_images")
    op.drop_table("product_images")
    op.drop_index(op.f("ix_commission_overrides_tenant_id"), table_name="commission_overrides")
    op.drop_index(op.f("ix_commission_overrides_product_id"), table_name="commission_overrides")
    op.drop_index(op.f("ix_commission_overrides_merchant_id"), table_name="commission_overrides")
    op.drop_table("commission_overrides")
    op.drop_index(op.f("ix_sandbox_refunds_payment_id"), table_name="sandbox_refunds")
    op.drop_table("sandbox_refunds")
    op.drop_index(op.f("ix_products_tenant_id"), table_name="products")
    op.drop_index("ix_products_state_category", table_name="products")
    op.drop_table("products")
    op.drop_index(op.f("ix_webhook_receipts_received_at"), table_name="webhook_receipts")
    op.drop_table("webhook_receipts")
    op.drop_index(op.f("ix_sandbox_payments_merchant_reference"), table_name="sandbox_payments")
    op.drop_table("sandbox_payments")
    op.drop_index("ix_sandbox_callbacks_state_next", table_name="sandbox_callbacks")
    op.drop_index(op.f("ix_sandbox_callbacks_payment_id"), table_name="sandbox_callbacks")
    op.drop_table("sandbox_callbacks")
    op.drop_index(op.f("ix_order_outbox_order_id"), table_name="order_outbox")
    op.drop_table("order_outbox")
