"""Settlement: accounts, the double-entry journal (postings and entries) and each order's
settlement state.

``settlement_accounts`` is tenant-scoped (owner = tenant id, or "platform"); postings,
entries and orders are the platform's journal. Zero-sum postings are enforced by the
service, the journal's only writer, and checked by ``service.verify_journal``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "settlement_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("account_type", sa.String(length=32), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_accounts")),
        sa.UniqueConstraint(
            "tenant_id", "owner_kind", "account_type", name="uq_settlement_accounts_owner_type"
        ),
    )
    with op.batch_alter_table("settlement_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_accounts_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "settlement_postings",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_settlement_postings")),
        sa.UniqueConstraint("reference", name=op.f("uq_settlement_postings_reference")),
    )
    with op.batch_alter_table("settlement_postings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_postings_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "settlement_entries",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("posting_seq", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["settlement_accounts.id"],
            name=op.f("fk_settlement_entries_account_id_settlement_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["posting_seq"],
            ["settlement_postings.seq"],
            name=op.f("fk_settlement_entries_posting_seq_settlement_postings"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_entries")),
        sa.UniqueConstraint(
            "posting_seq", "account_id", name="uq_settlement_entries_posting_account"
        ),
    )
    with op.batch_alter_table("settlement_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_settlement_entries_account_at", ["account_id", "at", "posting_seq"], unique=False
        )

    op.create_table(
        "settlement_orders",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_tenant_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_tenant_id", sa.String(length=40), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("commission_rate", sa.Integer(), nullable=False),
        sa.Column("platform_fee_rate", sa.Integer(), nullable=False),
        sa.Column("supplier_share", sa.BigInteger(), nullable=False),
        sa.Column("merchant_commission", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_settlement_orders_merchant_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_settlement_orders_supplier_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_settlement_orders")),
    )
    with op.batch_alter_table("settlement_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_orders_merchant_tenant_id"),
            ["merchant_tenant_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_orders_release_due_at"), ["release_due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_orders_supplier_tenant_id"),
            ["supplier_tenant_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("settlement_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_orders_supplier_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_orders_release_due_at"))
        batch_op.drop_index(batch_op.f("ix_settlement_orders_merchant_tenant_id"))
    op.drop_table("settlement_orders")
    with op.batch_alter_table("settlement_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_settlement_entries_account_at")
    op.drop_table("settlement_entries")
    with op.batch_alter_table("settlement_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_postings_order_id"))
    op.drop_table("settlement_postings")
    with op.batch_alter_table("settlement_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_accounts_tenant_id"))
    op.drop_table("settlement_accounts")
