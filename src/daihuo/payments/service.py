"""Payment use cases. Services ``flush()``; the edge commits.

The webhook handler, in order: verify the signature over the raw body and the
timestamp's freshness; refuse an event id already received (replay); find *our*
payment or refund by its id (unknown → 404, nothing stored); compare the amount with
the one we recorded (the callback never sets it); then change state with conditional
UPDATEs, so the same outcome delivered twice, even concurrently, takes effect once.
The receipt is written in the same transaction as the effect: a callback that fails
half way leaves no receipt and the provider's retry is processed normally.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.clock import utcnow
from daihuo.core.db import Database, after_commit, commit
from daihuo.core.ids import new_id
from daihuo.orders import service as orders
from daihuo.payments import errors
from daihuo.payments.models import Payment, Refund, WebhookReceipt
from daihuo.payments.provider import PaymentProvider, ProviderError, WebhookEvent
from daihuo.payments.repository import PaymentsRepository
from daihuo.payments.schemas import WebhookAck
from daihuo.settlement.service import Policy
from daihuo.tenancy.domain import Principal

log = logging.getLogger("daihuo.payments")


async def start_payment(
    session: AsyncSession,
    ctx: Principal,
    provider: PaymentProvider,
    order_id: str,
    *,
    window: timedelta,
) -> Payment:
    """The buyer pays an unpaid order: a payment at the provider for the order's amount.

    A payment still pending for the order is handed out again rather than doubled.
    """
    payable = await orders.payable(session, ctx, order_id, window=window)
    repo = PaymentsRepository(session)
    pending = await repo.pending_payment(payable.order_id)
    if pending is not None and pending.provider == provider.name:
        return pending
    now = utcnow()
    payment = Payment(
        id=new_id("pay"),
        order_id=payable.order_id,
        provider=provider.name,
        amount=payable.amount,
        state="pending",
        created_at=now,
        updated_at=now,
    )
    try:
        made = await provider.create_payment(
            payment_id=payment.id, amount=payment.amount, description=payable.title
        )
    except ProviderError as exc:
        raise errors.ProviderRejected(f"The payment provider refused: {exc}") from exc
    payment.provider_ref, payment.pay_url = made.ref, made.pay_url
    repo.add(payment)
    await repo.flush()
    return payment


async def issue_refund(
    session: AsyncSession,
    ctx: Principal,
    provider: PaymentProvider,
    db: Database,
    order_id: str,
    amount: int | None,
) -> Refund:
    """The seller approves a refund; it is sent to the provider once this commits."""
    plan = await orders.approve_refund(session, ctx, order_id, amount)
    repo = PaymentsRepository(session)
    payment = await repo.succeeded_payment(plan.order_id)
    if payment is None:
        raise errors.NotPaid("The order has no successful payment to refund.")
    refund = _new_refund(payment, plan.amount, reason=plan.reason or None, automatic=False)
    repo.add(refund)
    await repo.flush()
    _send_after_commit(session, db, provider, refund.id)
    return refund


def _new_refund(payment: Payment, amount: int, *, reason: str | None, automatic: bool) -> Refund:
    now = utcnow()
    return Refund(
        id=new_id("rfd"),
        order_id=payment.order_id,
        payment_id=payment.id,
        amount=amount,
        state="pending",
        automatic=automatic,
        reason=reason,
        created_at=now,
        updated_at=now,
    )


def _send_after_commit(
    session: AsyncSession, db: Database, provider: PaymentProvider, refund_id: str
) -> None:
    async def send() -> None:
        try:
            await send_refund(db, provider, refund_id)
        except Exception:  # the resender picks it up again (refund ids refund once)
            log.exception("sending a refund failed", extra={"refund": refund_id})

    after_commit(session, send)


async def send_refund(db: Database, provider: PaymentProvider, refund_id: str) -> None:
    """Ask the provider to refund (idempotent per refund id); record that it was sent."""
    async with db.session(all_tenants=True) as session:
        repo = PaymentsRepository(session)
        refund = await repo.refund(refund_id)
        if refund is None or refund.state != "pending" or refund.sent_at is not None:
            return
        payment = await repo.payment(refund.payment_id)
        assert payment is not None and payment.provider_ref is not None
        amount, payment_ref = refund.amount, payment.provider_ref
    try:
        made = await provider.refund(payment_ref=payment_ref, refund_id=refund_id, amount=amount)
    except ProviderError as exc:
        async with db.session(all_tenants=True) as session:
            await _refund_failed(session, refund_id, str(exc))
            await commit(session)
        return
    async with db.session(all_tenants=True) as session:
        repo = PaymentsRepository(session)
        refund = await repo.refund(refund_id)
        if refund is not None and refund.sent_at is None:
            refund.sent_at, refund.provider_ref = utcnow(), made.ref
        await commit(session)


async def resend_unsent_refunds(
    db: Database, provider: PaymentProvider, *, older_than: float
) -> int:
    """Refunds approved but never acknowledged by the provider (a crash in between)."""
    async with db.session(all_tenants=True) as session:
        before = utcnow() - timedelta(seconds=older_than)
        ids = [r.id for r in await PaymentsRepository(session).unsent_refunds(before, 100)]
    for refund_id in ids:
        await send_refund(db, provider, refund_id)
    return len(ids)


async def prune_receipts(db: Database, *, before: datetime) -> None:
    """Forget callback ids older than the freshness window: a replay that old is stale."""
    async with db.session(all_tenants=True) as session:
        await PaymentsRepository(session).prune_receipts(before)
        await commit(session)


# --- the webhook -------------------------------------------------------------------------------


async def handle_webhook(
    session: AsyncSession,
    provider: PaymentProvider,
    db: Database,
    headers: Mapping[str, str],
    body: bytes,
    *,
    policy: Policy,
    now: float | None = None,
) -> WebhookAck:
    """Verify and apply one provider callback (see the module docstring)."""
    event = provider.verify_webhook(headers, body, now=time.time() if now is None else now)
    repo = PaymentsRepository(session)
    receipt_id = f"{provider.name}:{event.id}"
    if await repo.receipt_seen(receipt_id):
        raise errors.WebhookReplayed(f"Callback {event.id} was already received.")
    if event.type.startswith("payment."):
        effect = await _payment_event(session, repo, provider, db, event, policy)
    else:
        effect = await _refund_event(session, repo, event)
    repo.add(WebhookReceipt(id=receipt_id, type=event.type, received_at=utcnow()))
    try:
        await repo.flush()
    except IntegrityError as exc:  # the same callback, concurrently: the other one won
        raise errors.WebhookReplayed(f"Callback {event.id} was already received.") from exc
    return WebhookAck(event_id=event.id, effect=effect)


async def _payment_event(
    session: AsyncSession,
    repo: PaymentsRepository,
    provider: PaymentProvider,
    db: Database,
    event: WebhookEvent,
    policy: Policy,
) -> str:
    payment = await repo.payment(event.payment)
    if payment is None or payment.provider != provider.name:
        raise errors.PaymentNotFound(f"No payment {event.payment} from {provider.name}.")
    if event.amount != payment.amount:
        raise errors.WebhookAmountMismatch(
            f"The callback says {event.amount} fen; the payment is {payment.amount} fen.",
        )
    now = utcnow()
    if event.type == "payment.failed":
        changed = await repo.set_state(payment, "pending", state="failed", updated_at=now)
        return "payment failed" if changed else f"nothing: payment already {payment.state}"
    if not await repo.set_state(payment, "pending", state="succeeded", paid_at=now, updated_at=now):
        return f"nothing: payment already {payment.state}"
    if await orders.mark_paid(session, payment.order_id, payment_id=payment.id, policy=policy):
        return "order paid"
    # Money for an order that is no longer waiting for it (cancelled or expired first,
    # or paid by another payment): give it back.
    refund = _new_refund(
        payment, payment.amount, reason="the order was no longer payable", automatic=True
    )
    repo.add(refund)
    await repo.flush()
    _send_after_commit(session, db, provider, refund.id)
    return "refunded automatically: the order was no longer payable"


async def _refund_event(
    session: AsyncSession, repo: PaymentsRepository, event: WebhookEvent
) -> str:
    assert event.refund is not None
    refund = await repo.refund(event.refund)
    if refund is None or refund.payment_id != event.payment:
        raise errors.RefundNotFound(f"No refund {event.refund} of payment {event.payment}.")
    if event.amount != refund.amount:
        raise errors.WebhookAmountMismatch(
            f"The callback says {event.amount} fen; the refund is {refund.amount} fen.",
        )
    now = utcnow()
    if event.type == "refund.failed":
        if not await _refund_failed(session, refund.id, event.reason or "refused by the provider"):
            return f"nothing: refund already {refund.state}"
        return "refund failed"
    if not await repo.set_state(refund, "pending", state="succeeded", updated_at=now):
        return f"nothing: refund already {refund.state}"
    if not refund.automatic:
        await orders.refund_succeeded(
            session, refund.order_id, amount=refund.amount, refund_id=refund.id
        )
    return "order refunded" if not refund.automatic else "automatic refund done"


async def _refund_failed(session: AsyncSession, refund_id: str, reason: str) -> bool:
    repo = PaymentsRepository(session)
    refund = await repo.refund(refund_id)
    if refund is None or not await repo.set_state(
        refund, "pending", state="failed", updated_at=utcnow()
    ):
        return False
    if not refund.automatic:
        await orders.refund_failed(session, refund.order_id, refund_id=refund.id, reason=reason)
    return True
