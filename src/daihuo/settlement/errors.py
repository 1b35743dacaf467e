"""Settlement errors, each with a stable problem type.

Hierarchy::

    ValidationFailed (422)
     ├── InvalidSettlementEvent  settlement-invalid-event    an amount, rate, id or time refused
     └── InvalidPeriod           settlement-invalid-period   not a statement period
    Conflict (409)
     ├── RefundExceedsPaid       refund-exceeds-paid         more refunded than was paid
     └── SettlementConflict      settlement-conflict         the same event again, other values
    NotFound (404)
     └── OrderNotSettled         settlement-order-not-found  no ``paid`` posting for that order
"""

from __future__ import annotations

from daihuo.core.errors import Conflict, NotFound, ValidationFailed


class InvalidSettlementEvent(ValidationFailed):
    slug, title = "settlement-invalid-event", "The settlement rules refuse this event"


class InvalidPeriod(ValidationFailed):
    slug, title = "settlement-invalid-period", "Not a valid statement period"


class RefundExceedsPaid(Conflict):
    slug, title = "refund-exceeds-paid", "Refund larger than what is left of the payment"


class SettlementConflict(Conflict):
    slug, title = "settlement-conflict", "This event was already settled with other values"


class OrderNotSettled(NotFound):
    slug, title = "settlement-order-not-found", "No settled payment for this order"
