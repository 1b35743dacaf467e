"""One session's events, reshaped per user and per order for the detectors.

Built from the events after the clean-up rules of events.md (``analytics.reference.clean``
and ``window``): repeated ids dropped, leaves before enters at one instant, user events
outside the window ignored, except payments and refunds of orders created in it. Stays
follow the presence rule (an ``enter`` while in the room changes nothing; whoever is in
at the end leaves then).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from daihuo.analytics.reference import clean, window
from daihuo.events.model import SYSTEM_TYPES, Event

_SETTLE = frozenset({"order_paid", "order_refunded"})


@dataclass(slots=True)
class User:
    id: str
    stays: list[tuple[int, int]] = field(default_factory=list)
    impressions: list[int] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    comments: list[tuple[int, str]] = field(default_factory=list)
    likes: list[tuple[int, int]] = field(default_factory=list)
    shares: int = 0
    follows: int = 0
    product_impressions: int = 0
    clicks: list[tuple[int, str]] = field(default_factory=list)
    carts: int = 0
    orders: list[str] = field(default_factory=list)
    devices: set[str] = field(default_factory=set)
    ips: set[str] = field(default_factory=set)

    @property
    def like_total(self) -> int:
        return sum(c for _, c in self.likes)

    @property
    def watch_ms(self) -> int:
        return sum(b - a for a, b in self.stays)

    @property
    def interacts(self) -> bool:
        return bool(self.comments or self.likes or self.shares or self.follows)


@dataclass(slots=True)
class Order:
    id: str
    user: str
    product: str
    created: int
    qty: int
    amount: int
    addr: str | None
    device: str | None
    ip: str | None
    paid: int | None = None
    paid_amount: int = 0
    refunded: int = 0
    refund_at: int | None = None


@dataclass(slots=True)
class SessionData:
    id: str
    start: int
    end: int
    users: dict[str, User]
    orders: dict[str, Order]

    @property
    def viewers(self) -> list[User]:
        return [u for u in self.users.values() if u.stays]


def build(session: str, events: Iterable[Event]) -> SessionData:
    """The per-user and per-order view of one session's events (any order, any duplicates)."""
    evs = clean(events)
    if not evs:
        return SessionData(session, 0, 0, {}, {})
    start, end = window(evs)
    users: dict[str, User] = {}
    orders: dict[str, Order] = {}
    open_at: dict[str, int] = {}
    for e in evs:
        etype = e.type
        if etype in SYSTEM_TYPES or e.user is None:
            continue
        inside = start <= e.ts_ms <= end
        if not inside and etype not in _SETTLE:
            continue
        u = users.get(e.user)
        if u is None:
            u = users[e.user] = User(e.user)
        if e.device:
            u.devices.add(e.device)
        if e.ip:
            u.ips.add(e.ip)
        if etype == "enter":
            if e.source:
                u.sources.add(e.source)
            if e.user not in open_at:
                open_at[e.user] = e.ts_ms
        elif etype == "leave":
            a = open_at.pop(e.user, None)
            if a is not None:
                u.stays.append((a, e.ts_ms))
        elif etype == "impression":
            u.impressions.append(e.ts_ms)
        elif etype == "comment":
            u.comments.append((e.ts_ms, e.text or ""))
        elif etype == "like":
            u.likes.append((e.ts_ms, e.count or 1))
        elif etype == "share":
            u.shares += 1
        elif etype == "follow":
            u.follows += 1
        elif etype == "product_impression":
            u.product_impressions += 1
        elif etype == "product_click":
            u.clicks.append((e.ts_ms, e.product or ""))
        elif etype == "cart_add":
            u.carts += 1
        elif etype == "order_created":
            if e.order and e.order not in orders and inside:
                addr = (e.meta or {}).get("addr")
                orders[e.order] = Order(
                    e.order, e.user, e.product or "", e.ts_ms, e.qty or 1, e.amount or 0,
                    addr if isinstance(addr, str) else None, e.device, e.ip,
                )  # fmt: skip
                u.orders.append(e.order)
        elif etype == "order_paid":
            o = orders.get(e.order or "")
            if o is not None and o.paid is None:
                o.paid, o.paid_amount = e.ts_ms, e.amount or 0
        elif etype == "order_refunded":
            o = orders.get(e.order or "")
            if o is not None and o.paid is not None:
                o.refunded += e.amount or 0
                o.refund_at = e.ts_ms if o.refund_at is None else o.refund_at
    for uid, a in open_at.items():
        users[uid].stays.append((a, end))
    return SessionData(session, start, end, users, orders)
