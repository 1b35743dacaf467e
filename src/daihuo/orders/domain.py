"""Pure order rules: the state machine, who may move it, stock effects, refund limits,
and the order events of shared/spec/events.md. No I/O.

States (who may take each step in brackets)::

    created ─pay [provider]→ paid ─ship [supplier]→ shipped ─deliver [supplier]→ delivered
       │                      │                       │                            │
       │                      └─────── request_refund [buyer, merchant, supplier] ─┤
       ├─cancel [buyer, merchant]                                                  │
       └─expire [sweeper] → cancelled                   delivered ─complete [buyer]→ completed
                                                                                   ▼
    refund_requested ─approve [merchant, supplier]→ refunding ─confirm [provider]→ refunded
       │  ▲                                            │
       │  └──────────────── refund_failed [provider] ──┘
       └─reject [merchant, supplier] → back to paid / shipped / delivered

``refunding`` is the refund sent to the payment provider and not yet confirmed; it
keeps a second approval (a double refund) out. ``refunded`` is final, whether the
refund was the whole amount or part of it (``refunded_amount``).

Stock (per SKU, see ``catalog.models.Sku``): creating reserves (available → reserved);
paying sells (reserved → sold); cancelling or expiring releases (reserved →
available); a *full* refund of an order that never shipped puts the units back
(sold → available). Nothing else moves stock, so available + reserved + sold only
changes when the supplier restocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from daihuo.orders.errors import InvalidOrderTransition, InvalidRefundAmount, NotYourRole


class OrderState(StrEnum):
    created = "created"
    paid = "paid"
    shipped = "shipped"
    delivered = "delivered"
    completed = "completed"
    cancelled = "cancelled"
    refund_requested = "refund_requested"
    refunding = "refunding"
    refunded = "refunded"


class Actor(StrEnum):
    buyer = "buyer"
    merchant = "merchant"
    supplier = "supplier"
    platform = "platform"
    system = "system"
    provider = "provider"


class OrderAction(StrEnum):
    create = "create"  # recorded in the history; not a transition between states
    pay = "pay"
    cancel = "cancel"
    expire = "expire"
    ship = "ship"
    deliver = "deliver"
    complete = "complete"
    request_refund = "request_refund"
    reject_refund = "reject_refund"
    approve_refund = "approve_refund"
    refund_failed = "refund_failed"
    confirm_refund = "confirm_refund"


S = OrderState
A = Actor
REFUNDABLE = frozenset({S.paid, S.shipped, S.delivered})


@dataclass(frozen=True)
class Rule:
    sources: frozenset[OrderState]
    target: OrderState | None  # None: back to the state the refund was requested from
    actors: frozenset[Actor]


RULES: dict[OrderAction, Rule] = {
    OrderAction.pay: Rule(frozenset({S.created}), S.paid, frozenset({A.provider})),
    OrderAction.cancel: Rule(frozenset({S.created}), S.cancelled, frozenset({A.buyer, A.merchant})),
    OrderAction.expire: Rule(frozenset({S.created}), S.cancelled, frozenset({A.system})),
    OrderAction.ship: Rule(frozenset({S.paid}), S.shipped, frozenset({A.supplier})),
    OrderAction.deliver: Rule(
        frozenset({S.shipped}), S.delivered, frozenset({A.supplier, A.system})
    ),
    OrderAction.complete: Rule(
        frozenset({S.delivered}), S.completed, frozenset({A.buyer, A.system})
    ),
    OrderAction.request_refund: Rule(
        REFUNDABLE, S.refund_requested, frozenset({A.buyer, A.merchant, A.supplier})
    ),
    OrderAction.reject_refund: Rule(
        frozenset({S.refund_requested}), None, frozenset({A.merchant, A.supplier})
    ),
    OrderAction.approve_refund: Rule(
        frozenset({S.refund_requested}), S.refunding, frozenset({A.merchant, A.supplier})
    ),
    OrderAction.refund_failed: Rule(
        frozenset({S.refunding}), S.refund_requested, frozenset({A.provider})
    ),
    OrderAction.confirm_refund: Rule(frozenset({S.refunding}), S.refunded, frozenset({A.provider})),
}

TERMINAL = frozenset({S.completed, S.cancelled, S.refunded})


def transition(
    state: OrderState,
    action: OrderAction,
    actor: Actor,
    *,
    refund_from: OrderState | None = None,
) -> OrderState:
    """The state after ``action`` by ``actor``; raises when the rules forbid it."""
    rule = RULES[action]
    if actor not in rule.actors:
        who = ", ".join(sorted(a.value for a in rule.actors))
        raise NotYourRole(f"Only the {who} can {action.value.replace('_', ' ')} an order.")
    if state not in rule.sources:
        allowed = ", ".join(sorted(s.value for s in rule.sources))
        raise InvalidOrderTransition(
            f"Cannot {action.value.replace('_', ' ')} an order that is {state.value} "
            f"(only when {allowed}).",
            state=state.value,
        )
    if rule.target is not None:
        return rule.target
    if refund_from not in REFUNDABLE:
        raise InvalidOrderTransition("The order does not say where its refund came from.")
    assert refund_from is not None
    return refund_from


def actions_for(state: OrderState) -> list[OrderAction]:
    """Every action possible from ``state`` (for clients and the property tests)."""
    return [a for a, rule in RULES.items() if state in rule.sources]


StockMove = tuple[str, str]


def stock_move(
    action: OrderAction, *, refund_from: OrderState | None = None, full_refund: bool = False
) -> StockMove | None:
    """Which stock columns a transition moves the order's units between, if any."""
    if action is OrderAction.pay:
        return ("reserved", "sold")
    if action in (OrderAction.cancel, OrderAction.expire):
        return ("reserved", "available")
    if action is OrderAction.confirm_refund and full_refund and refund_from is S.paid:
        return ("sold", "available")
    return None


def check_refund_amount(amount: int, *, paid: int, refunded: int) -> None:
    """A refund is at least 1 fen and at most what was paid and not yet refunded."""
    left = paid - refunded
    if amount < 1:
        raise InvalidRefundAmount("A refund is at least 1 fen.")
    if amount > left:
        raise InvalidRefundAmount(
            f"A refund of {amount} fen is more than the {left} fen paid and not yet refunded.",
            refundable=left,
        )


def order_amount(unit_price: int, quantity: int) -> int:
    return unit_price * quantity


def event_ts(at: datetime) -> str:
    """A time in the events contract's one shape: ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def shop_session(merchant_id: str) -> str:
    """The pseudo-session of an order placed outside any live session."""
    return f"shop:{merchant_id}"


def order_event(
    type_: str,
    *,
    event_id: str,
    at: datetime,
    session: str,
    user: str,
    order: str,
    product: str,
    qty: int | None,
    amount: int,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event of shared/spec/events.md (order_created, order_paid, order_refunded).

    ``meta`` carries what the order's other readers need and the contract has no key
    for (merchant, supplier, SKU, commission rate; the refund id of a refund).
    """
    event: dict[str, Any] = {
        "id": event_id,
        "ts": event_ts(at),
        "session": session,
        "type": type_,
        "user": user,
        "product": product,
        "order": order,
        "amount": amount,
    }
    if qty is not None:
        event["qty"] = qty
    if meta:
        event["meta"] = meta
    return event
