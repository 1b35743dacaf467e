"""Order tables.

An order has three parties — the buyer (a user, usually with no tenant), the merchant
that sold it and the supplier that ships it — so it is not a ``TenantScoped`` row of
one tenant. Its visibility is applied in one place instead, ``OrdersRepository``,
from the caller's party (see there); history rows are only reached through their order.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from daihuo.core.db import Base

ROW_ID: Any = BigInteger().with_variant(Integer(), "sqlite")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("amount = unit_price * quantity - discount", name="amount"),
        CheckConstraint("discount >= 0 AND discount < unit_price * quantity", name="discount"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunded"),
        Index("ix_orders_state_created_at", "state", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)  # what the buyer pays: gross − discount
    # A live-room coupon the buyer spent on the order (the merchant's, see live.coupons):
    # ``discount`` fen off the gross, paid out of the merchant's commission.
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    coupon_id: Mapped[str | None] = mapped_column(String(40))
    commission_bps: Mapped[int] = mapped_column(Integer)
    refunded_amount: Mapped[int] = mapped_column(BigInteger)
    quota_taken: Mapped[bool]  # counted against the product's per-user limit
    refund_amount: Mapped[int | None] = mapped_column(BigInteger)
    refund_reason: Mapped[str | None] = mapped_column(String(500))
    refund_from: Mapped[str | None] = mapped_column(String(20))
    session: Mapped[str] = mapped_column(String(64))
    # Bought in a flash sale: its units came from (and, unpaid, go back to) the sale.
    flash_sale_id: Mapped[str | None] = mapped_column(
        ForeignKey("flash_sales.id", ondelete="RESTRICT"), index=True
    )
    # The buyer's delivery address as JSON (recipient, phone, region, detail), and the
    # hash of its normalised place, which the order's events carry as ``meta.addr``.
    delivery_json: Mapped[str | None] = mapped_column("delivery", Text)
    address_hash: Mapped[str | None] = mapped_column(String(32))
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_no: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]

    @property
    def delivery(self) -> dict[str, Any] | None:
        return None if self.delivery_json is None else dict(json.loads(self.delivery_json))


class OrderHistory(Base):
    """Every transition of an order: from, to, who (kind, id, tenant), when, why."""

    __tablename__ = "order_history"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_tenant_id: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]


class OrderOutbox(Base):
    """Order events (shared/spec/events.md), written in the transaction that made them.

    ``seq`` is the consumers' cursor: analytics, the ledger and settlement read rows
    after the last ``seq`` they processed; a row is never changed or deleted here.
    """

    __tablename__ = "order_outbox"

    seq: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class PurchaseCount(Base):
    """Units a buyer holds of a product with a per-user limit (open or paid orders)."""

    __tablename__ = "purchase_counts"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity"),)

    buyer_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
