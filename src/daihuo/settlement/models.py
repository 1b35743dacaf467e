"""Settlement tables: accounts, the journal (postings and their entries) and the
per-order settlement state.

Tenancy
    A posting touches up to three owners at once — the supplier, the merchant and the
    platform — so it cannot live in any one tenant's scope: a session scoped to the
    supplier may neither read nor write the merchant's rows (``daihuo.core.db`` refuses
    it, rightly). So:

    * ``settlement_accounts`` rows *are* :class:`TenantScoped` (``tenant_id`` is the
      owner: a supplier's or merchant's tenant id, or ``"platform"`` for the platform's
      own accounts). A tenant's session sees its own accounts only — the same automatic
      scoping as every other tenant row — so every read that joins entries to accounts
      is limited to the caller's accounts even if a query forgot to filter.
    * ``settlement_postings``, ``settlement_entries`` and ``settlement_orders`` are the
      platform's journal: not tenant-scoped. Only :mod:`daihuo.settlement.service` writes
      them, from whatever session the caller has (the payment webhook has no tenant, the
      sweeper sees all); its writes to accounts say so with ``UNSCOPED``.
    * Tenants read through the service, which takes the owner explicitly from the
      caller's principal; entries are only ever selected joined to (scoped) accounts.
      The authorization matrix and the isolation tests prove it.

Balances
    ``settlement_accounts.balance`` is the sum of the account's entries, kept in the same
    transaction as the entries by an atomic ``balance = balance + :amount``;
    ``service.verify_journal`` recomputes it from the entries.

Uniqueness
    ``settlement_postings.reference`` is unique (``order:<id>:paid``,
    ``order:<id>:refund:<refund id>``, ``order:<id>:release``): the same order event never
    posts twice. ``settlement_orders.order_id`` is the primary key and is claimed with
    ``INSERT … ON CONFLICT DO NOTHING``, so concurrent ``paid`` events post once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daihuo.core.db import Base, TenantScoped

# INTEGER PRIMARY KEY is SQLite's rowid (and autoincrements); BIGINT elsewhere.
RowId = BigInteger().with_variant(Integer(), "sqlite")


class SettlementAccount(TenantScoped, Base):
    __tablename__ = "settlement_accounts"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "owner_kind",
            "account_type",
            name="uq_settlement_accounts_owner_type",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The owner: a tenant id, or "platform" for the platform's own accounts (no FK for that).
    tenant_id: Mapped[str] = mapped_column(String(40), index=True)
    owner_kind: Mapped[str] = mapped_column(String(16))
    account_type: Mapped[str] = mapped_column(String(32))
    balance: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class SettlementPosting(Base):
    __tablename__ = "settlement_postings"

    seq: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    refund_id: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    recorded_at: Mapped[datetime]


class SettlementEntry(Base):
    __tablename__ = "settlement_entries"
    __table_args__ = (
        Index("ix_settlement_entries_account_at", "account_id", "at", "posting_seq"),
        UniqueConstraint("posting_seq", "account_id", name="uq_settlement_entries_posting_account"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    posting_seq: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("settlement_postings.seq", ondelete="RESTRICT")
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("settlement_accounts.id", ondelete="RESTRICT")
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]  # the posting's date, repeated for statement range scans


class SettlementOrder(Base):
    """Where the settlement of one order stands (the state ``domain.OrderSettlement``)."""

    __tablename__ = "settlement_orders"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    merchant_tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    amount_paid: Mapped[int] = mapped_column(BigInteger)
    commission_rate: Mapped[int]  # basis points
    platform_fee_rate: Mapped[int]  # basis points
    supplier_share: Mapped[int] = mapped_column(BigInteger)
    merchant_commission: Mapped[int] = mapped_column(BigInteger)
    platform_fee: Mapped[int] = mapped_column(BigInteger)
    # The merchant's coupon on the order: fen off the gross, out of merchant_commission.
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    refunded: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    release_due_at: Mapped[datetime | None] = mapped_column(index=True)
    released_at: Mapped[datetime | None]
    version: Mapped[int]  # bumped by every change: the row lock the service takes first
