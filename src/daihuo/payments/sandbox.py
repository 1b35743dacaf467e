"""The built-in sandbox payment provider: it behaves like a real one.

* ``create_payment`` registers the payment and answers with a pay page
  (``/sandbox/pay/<ref>``) where whoever holds the link presses *pay* or *fail*
  (optionally *pay late*): the sandbox has no buyer accounts, like a provider's test mode.
* The outcome reaches the merchant as a webhook POST, signed with HMAC-SHA256 over
  ``"<timestamp>." + body`` (see ``payments.domain``). The call is queued in
  ``sandbox_callbacks`` and retried with exponential backoff until the merchant answers
  2xx, or a 409 ``webhook-replayed`` (the merchant already has it), or the attempts run
  out. The queue is in the database, so retries survive restarts.
* It can be told to fail every payment (``sandbox_fail_payments``), to delay every
  callback (``sandbox_callback_delay_seconds``) and to drop the next *n* deliveries as
  if the network failed (:attr:`SandboxProvider.fail_next_deliveries`).
* Refunds are idempotent per merchant refund id and never exceed what was paid.

It must be off in production (``DAIHUO_PAYMENTS_SANDBOX=false``): anyone with a pay
link can "pay".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from daihuo.core.clock import utcnow
from daihuo.core.db import Database
from daihuo.core.gate import write_gate
from daihuo.core.ids import new_id
from daihuo.payments import domain
from daihuo.payments.errors import WebhookMalformed
from daihuo.payments.models import SandboxCallback, SandboxPayment, SandboxRefund
from daihuo.payments.provider import (
    EVENT_TYPES,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    WebhookEvent,
)
from daihuo.payments.repository import SandboxRepository

log = logging.getLogger("daihuo.payments.sandbox")

Deliver = Callable[[str, dict[str, str], bytes], Awaitable[tuple[int, bytes]]]
NOTIFY_PATH = "/api/v1/payments/webhooks/sandbox"
MAX_ID = 64


def asgi_deliverer(app: Any) -> Deliver:
    """Deliver callbacks to relative URLs through the app itself (its full HTTP stack)."""

    async def deliver(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if url.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=10) as client:
                r = await client.post(url, content=body, headers=headers)
        else:
            transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 443))
            async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as c:
                r = await c.post(url, content=body, headers=headers)
        return r.status_code, r.content

    return deliver


def parse_event(body: bytes) -> WebhookEvent:
    """The callback body as an event; :class:`WebhookMalformed` when it is not one."""
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookMalformed("The body is not JSON.") from exc
    data = obj.get("data") if isinstance(obj, dict) else None
    if not isinstance(obj, dict) or not isinstance(data, dict):
        raise WebhookMalformed("The body must be an object with 'data'.")
    event_id, type_ = obj.get("id"), obj.get("type")
    payment, amount = data.get("payment"), data.get("amount")
    refund, reason = data.get("refund"), data.get("reason")
    ok = (
        isinstance(event_id, str)
        and 0 < len(event_id) <= MAX_ID
        and event_id.isascii()
        and type_ in EVENT_TYPES
        and isinstance(payment, str)
        and 0 < len(payment) <= 40
        and type(amount) is int
        and amount > 0
        and (refund is None or (isinstance(refund, str) and 0 < len(refund) <= 40))
        and (reason is None or isinstance(reason, str))
    )
    if not ok or (str(type_).startswith("refund.") and refund is None):
        raise WebhookMalformed("The event lacks id, type, data.payment or data.amount.")
    assert isinstance(event_id, str) and isinstance(payment, str) and isinstance(amount, int)
    return WebhookEvent(
        id=event_id,
        type=type_,  # type: ignore[arg-type]
        payment=payment,
        amount=amount,
        refund=refund,
        reason=reason[:300] if isinstance(reason, str) else None,
    )


class SandboxProvider:
    name = "sandbox"

    def __init__(
        self,
        db: Database,
        *,
        secret: bytes,
        deliver: Deliver,
        public_base: str = "",
        notify_url: str = NOTIFY_PATH,
        tolerance: int = 300,
        retry_seconds: float = 1.0,
        max_attempts: int = 8,
        delay_seconds: float = 0.0,
        fail_payments: bool = False,
    ) -> None:
        self.db = db
        self.secret = secret
        self.deliver = deliver
        self.public_base = public_base.rstrip("/")
        self.notify_url = notify_url
        self.tolerance = tolerance
        self.retry_seconds = retry_seconds
        self.max_attempts = max_attempts
        self.delay_seconds = delay_seconds
        self.fail_payments = fail_payments
        self.fail_next_deliveries = 0
        # Like a provider's per-merchant connection limit; it also keeps the burst of
        # writers a backlog of callbacks makes on SQLite small.
        self.parallel_deliveries = 4
        self._wake = asyncio.Event()

    # --- the merchant-facing API ------------------------------------------------------
    async def create_payment(
        self, *, payment_id: str, amount: int, description: str
    ) -> ProviderPayment:
        now = utcnow()
        ref = new_id("sbp")
        async with self.db.session(all_tenants=True) as session:
            SandboxRepository(session).add(
                SandboxPayment(
                    id=ref,
                    merchant_reference=payment_id,
                    amount=amount,
                    refunded=0,
                    state="pending",
                    description=description[:200],
                    notify_url=self.notify_url,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.commit()
        return ProviderPayment(ref=ref, pay_url=f"{self.public_base}/sandbox/pay/{ref}")

    async def refund(self, *, payment_ref: str, refund_id: str, amount: int) -> ProviderRefund:
        now = utcnow()
        async with self.db.session(all_tenants=True) as session:
            repo = SandboxRepository(session)
            existing = await repo.refund_by_reference(refund_id)
            if existing is not None:  # the same refund id refunds once
                return ProviderRefund(ref=existing.id)
            payment = await repo.payment(payment_ref)
            if payment is None:
                raise ProviderError(f"no sandbox payment {payment_ref}")
            if not await repo.add_refunded(payment_ref, amount, now):
                raise ProviderError("the payment is not paid, or the refund exceeds what is left")
            refund = SandboxRefund(
                id=new_id("sbr"),
                payment_id=payment_ref,
                merchant_reference=refund_id,
                amount=amount,
                created_at=now,
            )
            repo.add(refund)
            self._enqueue(repo, payment, "refund.succeeded", amount, now, refund=refund_id)
            await session.commit()
        self.wake()
        return ProviderRefund(ref=refund.id)

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: float
    ) -> WebhookEvent:
        domain.verify(
            self.secret,
            headers.get(domain.SIGNATURE_HEADER),
            body,
            now=now,
            tolerance=self.tolerance,
        )
        return parse_event(body)

    # --- the pay page ---------------------------------------------------------------------
    async def get(self, ref: str) -> SandboxPayment | None:
        async with self.db.session(all_tenants=True) as session:
            return await SandboxRepository(session).payment(ref)

    async def complete(self, ref: str, *, pay: bool, delay: float = 0.0) -> str:
        """The buyer pressed pay (or fail) on the page; the outcome is called back."""
        now = utcnow()
        outcome = "succeeded" if pay and not self.fail_payments else "failed"
        async with self.db.session(all_tenants=True) as session:
            repo = SandboxRepository(session)
            payment = await repo.payment(ref)
            if payment is None:
                raise ProviderError("no such sandbox payment")
            if not await repo.settle(ref, outcome, now):
                raise ProviderError(f"this payment is already {payment.state}")
            self._enqueue(repo, payment, f"payment.{outcome}", payment.amount, now, delay=delay)
            await session.commit()
        self.wake()
        return outcome

    def _enqueue(
        self,
        repo: SandboxRepository,
        payment: SandboxPayment,
        type_: str,
        amount: int,
        now: datetime,
        *,
        refund: str | None = None,
        delay: float = 0.0,
    ) -> None:
        event_id = new_id("sbe")
        data: dict[str, Any] = {
            "payment": payment.merchant_reference,
            "sandbox_payment": payment.id,
            "amount": amount,
            "currency": "CNY",
        }
        if refund is not None:
            data["refund"] = refund
        if type_.endswith(".failed"):
            data["reason"] = "declined in the sandbox"
        body = {"id": event_id, "type": type_, "created": int(now.timestamp()), "data": data}
        repo.add(
            SandboxCallback(
                id=event_id,
                payment_id=payment.id,
                type=type_,
                payload=json.dumps(body, separators=(",", ":")),
                notify_url=payment.notify_url,
                state="pending",
                attempts=0,
                next_attempt_at=now + timedelta(seconds=delay + self.delay_seconds),
                created_at=now,
            )
        )

    # --- delivering callbacks ------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    async def wait(self, seconds: float) -> None:
        """Until woken (a callback was queued) or ``seconds`` passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    def signed(self, payload: str) -> tuple[dict[str, str], bytes]:
        body = payload.encode()
        header = domain.sign(self.secret, int(time.time()), body)
        return {"content-type": "application/json", domain.SIGNATURE_HEADER: header}, body

    async def deliver_due(self, *, limit: int = 100) -> int:
        """Send every callback that is due; returns how many were delivered."""
        now = utcnow()
        async with self.db.session(all_tenants=True) as session:
            due = await SandboxRepository(session).due_callbacks(now, limit)
        gate = asyncio.Semaphore(self.parallel_deliveries)

        async def attempt(cb: SandboxCallback) -> tuple[int | None, str | None]:
            async with gate:
                return await self._attempt(cb)

        results = await asyncio.gather(*(attempt(cb) for cb in due))
        delivered = 0
        async with write_gate(self.db), self.db.session(all_tenants=True) as session:
            repo = SandboxRepository(session)
            for cb, (status, error) in zip(due, results, strict=True):
                session.add(cb)
                cb.attempts += 1
                cb.last_status = status
                cb.last_error = error
                if error is None:
                    cb.state, cb.delivered_at = "delivered", utcnow()
                    delivered += 1
                elif cb.attempts >= self.max_attempts:
                    cb.state = "abandoned"
                    log.warning("sandbox callback abandoned", extra={"event": cb.id})
                else:
                    wait = domain.backoff(cb.attempts, self.retry_seconds)
                    cb.next_attempt_at = utcnow() + timedelta(seconds=wait)
            await repo.flush()
            await session.commit()
        return delivered

    async def _attempt(self, cb: SandboxCallback) -> tuple[int | None, str | None]:
        if self.fail_next_deliveries > 0:
            self.fail_next_deliveries -= 1
            return None, "simulated network failure"
        headers, body = self.signed(cb.payload)
        try:
            status, answer = await self.deliver(cb.notify_url, headers, body)
        except (httpx.HTTPError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300]
        if 200 <= status < 300:
            return status, None
        if status == 409 and b"webhook-replayed" in answer:
            return status, None  # the merchant processed this event already
        return status, answer[:300].decode("utf-8", "replace")
