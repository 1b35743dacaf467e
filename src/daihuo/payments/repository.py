"""Every query of the payments module: our payments, refunds and webhook receipts,
and the sandbox provider's books. None of these rows is tenant data of its own: a
payment is reached through its order, whose visibility the orders service decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from daihuo.payments.models import (
    Payment,
    Refund,
    SandboxCallback,
    SandboxPayment,
    SandboxRefund,
    WebhookReceipt,
)


class PaymentsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def payment(self, payment_id: str) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def pending_payment(self, order_id: str) -> Payment | None:
        stmt = (
            select(Payment)
            .where(Payment.order_id == order_id, Payment.state == "pending")
            .order_by(Payment.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar()

    async def succeeded_payment(self, order_id: str) -> Payment | None:
        stmt = select(Payment).where(Payment.order_id == order_id, Payment.state == "succeeded")
        return (await self.session.execute(stmt)).scalar()

    async def refund(self, refund_id: str) -> Refund | None:
        return await self.session.get(Refund, refund_id)

    async def unsent_refunds(self, before: datetime, limit: int) -> list[Refund]:
        stmt = (
            select(Refund)
            .where(Refund.state == "pending", Refund.sent_at.is_(None), Refund.created_at < before)
            .order_by(Refund.created_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def set_state(self, obj: Payment | Refund, expected: str, **values: Any) -> bool:
        """Conditional state change (``WHERE state = :expected``); True when it matched."""
        model = type(obj)
        stmt = (
            update(model)
            .where(model.id == obj.id, model.state == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        for key, value in values.items():
            set_committed_value(obj, key, value)
        return True

    async def receipt_seen(self, receipt_id: str) -> bool:
        return await self.session.get(WebhookReceipt, receipt_id) is not None

    async def prune_receipts(self, before: datetime) -> None:
        await self.session.execute(
            delete(WebhookReceipt).where(WebhookReceipt.received_at < before)
        )

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()


class SandboxRepository:
    """The sandbox provider's books (its own sessions, its own transactions)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def payment(self, ref: str) -> SandboxPayment | None:
        return await self.session.get(SandboxPayment, ref)

    async def refund_by_reference(self, reference: str) -> SandboxRefund | None:
        stmt = select(SandboxRefund).where(SandboxRefund.merchant_reference == reference)
        return (await self.session.execute(stmt)).scalar()

    async def settle(self, ref: str, state: str, now: datetime) -> bool:
        stmt = (
            update(SandboxPayment)
            .where(SandboxPayment.id == ref, SandboxPayment.state == "pending")
            .values(state=state, updated_at=now)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def add_refunded(self, ref: str, amount: int, now: datetime) -> bool:
        """``refunded += amount`` unless that exceeds what was paid (one conditional UPDATE)."""
        stmt = (
            update(SandboxPayment)
            .where(
                SandboxPayment.id == ref,
                SandboxPayment.state == "succeeded",
                SandboxPayment.refunded + amount <= SandboxPayment.amount,
            )
            .values(refunded=SandboxPayment.refunded + amount, updated_at=now)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def due_callbacks(self, now: datetime, limit: int) -> list[SandboxCallback]:
        stmt = (
            select(SandboxCallback)
            .where(SandboxCallback.state == "pending", SandboxCallback.next_attempt_at <= now)
            .order_by(SandboxCallback.next_attempt_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def callbacks_of(self, ref: str) -> list[SandboxCallback]:
        stmt = (
            select(SandboxCallback)
            .where(SandboxCallback.payment_id == ref)
            .order_by(SandboxCallback.created_at)
        )
        return list((await self.session.execute(stmt)).scalars())

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()
