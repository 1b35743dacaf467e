"""Live host controls: the record of moderation acts, coupon drops and buyers' claims,
lucky draws (committed seed, entries, published result).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 13:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_coupons",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("claim_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_live_coupons_amount")),
        sa.CheckConstraint(
            "claimed >= 0 AND claimed <= quantity", name=op.f("ck_live_coupons_claimed")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_live_coupons_quantity")),
        sa.CheckConstraint("threshold >= 0", name=op.f("ck_live_coupons_threshold")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_coupons_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_live_coupons_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_coupons")),
    )
    with op.batch_alter_table("live_coupons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_coupons_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_live_coupons_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "live_draws",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("prize", sa.String(length=100), nullable=False),
        sa.Column("winner_count", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("keyword", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entrant_count", sa.Integer(), nullable=True),
        sa.Column("entrants_hash", sa.String(length=64), nullable=True),
        sa.Column("winners", sa.Text(), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("winner_count > 0", name=op.f("ck_live_draws_winner_count")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_draws_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_live_draws_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_draws")),
    )
    with op.batch_alter_table("live_draws", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_draws_session_id"), ["session_id"], unique=False)
        batch_op.create_index("ix_live_draws_state_ends_at", ["state", "ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_live_draws_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "live_moderation_acts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("act", sa.String(length=32), nullable=False),
        sa.Column("by_user_id", sa.String(length=40), nullable=True),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_moderation_acts_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_live_moderation_acts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_moderation_acts")),
    )
    with op.batch_alter_table("live_moderation_acts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_moderation_acts_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_live_moderation_acts_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "live_coupon_claims",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("coupon_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["live_coupons.id"],
            name=op.f("fk_live_coupon_claims_coupon_id_live_coupons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["tenants.id"],
            name=op.f("fk_live_coupon_claims_merchant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_coupon_claims_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_coupon_claims")),
        sa.UniqueConstraint("coupon_id", "user_id", name=op.f("uq_live_coupon_claims_coupon_id")),
    )
    with op.batch_alter_table("live_coupon_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_coupon_claims_merchant_id"), ["merchant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_live_coupon_claims_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "live_draw_entries",
        sa.Column("draw_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["live_draws.id"],
            name=op.f("fk_live_draw_entries_draw_id_live_draws"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_live_draw_entries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("draw_id", "user_id", name=op.f("pk_live_draw_entries")),
    )
    with op.batch_alter_table("live_draw_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_draw_entries_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("live_draw_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_draw_entries_tenant_id"))

    op.drop_table("live_draw_entries")
    with op.batch_alter_table("live_coupon_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_coupon_claims_user_id"))
        batch_op.drop_index(batch_op.f("ix_live_coupon_claims_merchant_id"))

    op.drop_table("live_coupon_claims")
    with op.batch_alter_table("live_moderation_acts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_moderation_acts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_live_moderation_acts_session_id"))

    op.drop_table("live_moderation_acts")
    with op.batch_alter_table("live_draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_draws_tenant_id"))
        batch_op.drop_index("ix_live_draws_state_ends_at")
        batch_op.drop_index(batch_op.f("ix_live_draws_session_id"))

    op.drop_table("live_draws")
    with op.batch_alter_table("live_coupons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_coupons_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_live_coupons_session_id"))

    op.drop_table("live_coupons")
