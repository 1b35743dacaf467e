"""The payment-provider interface: what a real provider (or the sandbox) offers.

A provider takes a payment request and answers with a page to send the buyer to;
later it calls our webhook, signed, to say the payment succeeded or failed. Refunds
are requested by our refund id (the provider refunds each id at most once) and
confirmed by webhook too. A provider never decides an amount for us: the webhook's
amount is checked against the payment we created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

EventType = Literal["payment.succeeded", "payment.failed", "refund.succeeded", "refund.failed"]
EVENT_TYPES: frozenset[str] = frozenset(
    {"payment.succeeded", "payment.failed", "refund.succeeded", "refund.failed"}
)


@dataclass(frozen=True)
class ProviderPayment:
    ref: str
    pay_url: str


@dataclass(frozen=True)
class ProviderRefund:
    ref: str


@dataclass(frozen=True)
class WebhookEvent:
    """A verified callback. ``payment`` / ``refund`` are *our* ids (merchant references)."""

    id: str
    type: EventType
    payment: str
    amount: int
    refund: str | None = None
    reason: str | None = None


class ProviderError(Exception):
    """The provider refused a request (its reason in ``str(exc)``)."""


class PaymentProvider(Protocol):
    name: str

    async def create_payment(
        self, *, payment_id: str, amount: int, description: str
    ) -> ProviderPayment:
        """Register a payment of ``amount`` fen; the buyer pays on ``pay_url``."""

    async def refund(self, *, payment_ref: str, refund_id: str, amount: int) -> ProviderRefund:
        """Refund ``amount`` fen of a paid payment; the same ``refund_id`` refunds once."""

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: float
    ) -> WebhookEvent:
        """Check the callback's signature and freshness and parse it; raises otherwise."""
