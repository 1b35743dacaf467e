"""Traceability: production batches of a product, the trace steps of each batch (with
the leaf index of their ``trace`` entry in the transparency log) and evidence files.

All three are tenant-scoped to the supplier. A step is stored with ``leaf_index`` NULL
and gets it once its entry is in the log; ``log_floor`` bounds where that entry can be
(see ``catalog.trace``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "trace_batches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_trace_batches_quantity")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_trace_batches_product_id_products"),
            ondelete="CASCADE",
        ),
        _tenant_fk("trace_batches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_batches")),
        sa.UniqueConstraint("product_id", "code", name=op.f("uq_trace_batches_product_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_trace_batches_public_id")),
    )
    op.create_index(
        op.f("ix_trace_batches_product_id"), "trace_batches", ["product_id"], unique=False
    )
    op.create_index(
        op.f("ix_trace_batches_tenant_id"), "trace_batches", ["tenant_id"], unique=False
    )

    op.create_table(
        "trace_steps",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_floor", sa.BigInteger(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["trace_batches.id"],
            name=op.f("fk_trace_steps_batch_id_trace_batches"),
            ondelete="CASCADE",
        ),
        _tenant_fk("trace_steps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_steps")),
    )
    op.create_index(op.f("ix_trace_steps_batch_id"), "trace_steps", ["batch_id"], unique=False)
    op.create_index(op.f("ix_trace_steps_leaf_index"), "trace_steps", ["leaf_index"], unique=False)
    op.create_index(op.f("ix_trace_steps_tenant_id"), "trace_steps", ["tenant_id"], unique=False)

    op.create_table(
        "trace_evidence",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=True),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["trace_batches.id"],
            name=op.f("fk_trace_evidence_batch_id_trace_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["trace_steps.id"],
            name=op.f("fk_trace_evidence_step_id_trace_steps"),
            ondelete="CASCADE",
        ),
        _tenant_fk("trace_evidence"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_evidence")),
    )
    op.create_index(
        op.f("ix_trace_evidence_batch_id"), "trace_evidence", ["batch_id"], unique=False
    )
    op.create_index(op.f("ix_trace_evidence_step_id"), "trace_evidence", ["step_id"], unique=False)
    op.create_index(
        op.f("ix_trace_evidence_tenant_id"), "trace_evidence", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    for table, columns in (
        ("trace_evidence", ("batch_id", "step_id", "tenant_id")),
        ("trace_steps", ("batch_id", "leaf_index", "tenant_id")),
        ("trace_batches", ("product_id", "tenant_id")),
    ):
        for column in columns:
            op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_table(table)
