"""Payment tables, and the sandbox provider's own tables.

``payments`` / ``refunds`` are ours; ``webhook_receipts`` remembers every callback id
received (replays are refused). The ``sandbox_*`` tables are the sandbox provider's
side — it plays an outside party that happens to keep its books in our database, so
its callbacks and their retries survive restarts like a real provider's would.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from daihuo.core.db import Base


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))  # pending | succeeded | failed
    pay_url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_refunds_state_sent_at", "state", "sent_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))  # pending | succeeded | failed
    automatic: Mapped[bool]  # money that arrived for an order no longer payable
    reason: Mapped[str | None] = mapped_column(String(500))
    provider_ref: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookReceipt(Base):
    """A callback id already processed (``<provider>:<event id>``)."""

    __tablename__ = "webhook_receipts"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(index=True)


class SandboxPayment(Base):
    __tablename__ = "sandbox_payments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_reference: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))  # pending | succeeded | failed
    description: Mapped[str] = mapped_column(String(200))
    notify_url: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SandboxRefund(Base):
    __tablename__ = "sandbox_refunds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("sandbox_payments.id"), index=True)
    merchant_reference: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class SandboxCallback(Base):
    """A webhook call the sandbox owes the merchant, retried with backoff until 2xx."""

    __tablename__ = "sandbox_callbacks"
    __table_args__ = (Index("ix_sandbox_callbacks_state_next", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the event id
    payment_id: Mapped[str] = mapped_column(String(40), index=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    notify_url: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | abandoned
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
