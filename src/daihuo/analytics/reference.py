"""The reference report: shared/spec/metrics.md read literally, in plain Python.

This is the oracle that faster engines (DuckDB / ClickHouse SQL) are tested against, so
it favours the obvious over the clever. ``report(events)`` gives ``{"sessions": {id:
session_report}}`` with sessions sorted by id; ``session_report`` has exactly the keys,
order and types of the spec (money sums int fen, ratios float, seconds float, ``None``
where a denominator is 0).

Clean-up and ordering (events.md):

* A repeated ``id`` is dropped, the first in the given (file) order wins; ``report``
  does this across the whole file, before grouping by session.
* Events are sorted by ``ts`` (stable); at one instant every ``leave`` goes first, so
  it is processed before that instant's ``enter`` events. Other events keep file order.
* The window is ``[start, end]``, both ends included. ``start`` is the earliest
  ``live_start`` and ``end`` the latest ``live_end`` (several of either can only come
  from restarts or re-sent system events; the widest window keeps all of them).
* No ``live_end``: the session "ends at its last event", read as the latest ``ts`` of
  its events other than ``order_paid`` and ``order_refunded``. Those two are the only
  kinds the spec lets arrive after the end (a refund can come weeks later); letting
  them mark the end would stretch an unfinished session, and the watch time of
  everyone still in the room, up to that refund. (If a session has nothing else, all
  its events are used.)
* No ``live_start`` (the spec is silent): the mirror rule, the session starts at its
  first event in the same sense. A ``live_end`` before ``start`` gives an empty window
  of zero length at ``start``.
* Events of the user kinds count only when ``start <= ts <= end``, except orders:

  - an order is its first ``order_created`` (in processing order) and counts when that
    event lies in the window; the order's user (``buyer_uv``), product (``products``)
    and minute (``gmv_per_minute``) are taken from it;
  - ``order_paid``/``order_refunded`` count at any time, but only for counted orders,
    so a payment inside the window for an order created before it does not count;
  - several ``order_paid`` for one order (different ids, e.g. a re-sent payment
    callback): the order is paid once, the first ``order_paid`` gives its ``amount``
    (``gmv``) and ``qty`` (``items_sold``), later ones are ignored;
  - every ``order_refunded`` of a paid, counted order adds its ``amount`` (partial
    refunds add up) at any time; refunds of unpaid orders count nowhere, since
    ``refund_amount`` is over the paid orders. Nothing is capped, so inconsistent data
    can give ``refund_rate > 1``.

Presence:

* An ``enter`` in the window by a user not in the room opens a stay and is a view
  (``views_pv``, ``new_viewers_per_minute``); an ``enter`` while in the room changes
  nothing but still makes the user a viewer (``viewer_uv`` and ``sources`` are UVs of
  ``enter``). A ``leave`` closes the user's stay, or changes nothing. Everyone still in
  the room leaves at ``end``. Enters and leaves outside the window do not count, so
  watch time lies inside the window.
* A user is in the room at instant ``t`` when ``entered <= t < left``. That defines
  ``online_per_minute`` and ``pcu`` (the largest such count over ``t``, reached at some
  entry instant; an ``enter`` at exactly ``end`` is a view but never online).
* Minutes: instants ``start + k*60s < end``, minute ``k`` covering
  ``[start + k*60s, start + (k+1)*60s)``. When the duration is a whole number of
  minutes, a view or an order created at exactly ``end`` falls in no minute, so
  ``sum(new_viewers_per_minute) <= views_pv`` and ``sum(gmv_per_minute) <= gmv``.
* ``products`` rows: each product named by a counted ``product_impression``,
  ``product_click``, ``cart_add`` or counted order, sorted by product id. ``sources``:
  each source carried by a counted ``impression`` or ``enter``, sorted by name.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Final

from daihuo.events.model import SYSTEM_TYPES, Event

MINUTE_MS: Final = 60_000
_SETTLEMENT: Final = frozenset({"order_paid", "order_refunded"})


def clean(events: Iterable[Event]) -> list[Event]:
    """Drop repeated ids (first wins) and sort for processing: by ts, leaves first."""
    seen: set[str] = set()
    kept = []
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            kept.append(event)
    kept.sort(key=lambda e: (e.ts_ms, e.type != "leave"))  # stable: ties keep file order
    return kept


def window(events: Sequence[Event]) -> tuple[int, int]:
    """``(start, end)`` in epoch milliseconds of one session's events (see module docs)."""
    starts = [e.ts_ms for e in events if e.type == "live_start"]
    ends = [e.ts_ms for e in events if e.type == "live_end"]
    marks = [e.ts_ms for e in events if e.type not in _SETTLEMENT] or [e.ts_ms for e in events]
    start = min(starts) if starts else min(marks)
    end = max(ends) if ends else max(marks)
    return start, max(start, end)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def report(events: Iterable[Event]) -> dict[str, Any]:
    """The spec's report shape: ``{"sessions": {session id: session_report}}``."""
    by_session: dict[str, list[Event]] = {}
    seen: set[str] = set()
    for event in events:
        if event.id in seen:  # a repeated id is the same event, whatever its session says
            continue
        seen.add(event.id)
        by_session.setdefault(event.session, []).append(event)
    return {"sessions": {sid: session_report(by_session[sid]) for sid in sorted(by_session)}}


def session_report(events: Iterable[Event]) -> dict[str, Any]:
    """Every metric of metrics.md for the events of one session."""
    evs = clean(events)
    if not evs:
        raise ValueError("a session report needs at least one event")
    if len({e.session for e in evs}) > 1:
        raise ValueError("events of several sessions: use report()")
    start, end = window(evs)
    duration_ms = end - start
    n_minutes = -(-duration_ms // MINUTE_MS)  # k with start + k*60s < end

    def minute(ts_ms: int) -> int | None:
        k = (ts_ms - start) // MINUTE_MS
        return k if 0 <= k < n_minutes else None

    exposed: set[str] = set()
    viewers: set[str] = set()
    source_exposed: defaultdict[str, set[str]] = defaultdict(set)
    source_viewers: defaultdict[str, set[str]] = defaultdict(set)
    entered_at: dict[str, int] = {}  # users in the room -> when they entered
    stays: list[tuple[int, int]] = []
    views = 0
    new_viewers_per_minute = [0] * n_minutes
    comments = likes = shares = 0
    followers: set[str] = set()
    interacting: set[str] = set()
    product_viewers: defaultdict[str, set[str]] = defaultdict(set)
    product_clickers: defaultdict[str, set[str]] = defaultdict(set)
    products: set[str] = set()
    carting: set[str] = set()
    created: dict[str, Event] = {}
    paid: dict[str, Event] = {}
    refunded: defaultdict[str, int] = defaultdict(int)

    for e in evs:
        kind = e.type
        # Order events are collected whatever their time; which orders count is decided
        # below from the order_created alone.
        if kind == "order_created":
            assert e.order is not None
            created.setdefault(e.order, e)
            continue
        if kind == "order_paid":
            assert e.order is not None
            paid.setdefault(e.order, e)
            continue
        if kind == "order_refunded":
            assert e.order is not None and e.amount is not None
            refunded[e.order] += e.amount
            continue
        if kind in SYSTEM_TYPES or not start <= e.ts_ms <= end:
            continue
        user = e.user
        assert user is not None
        if kind == "enter":
            assert e.source is not None
            viewers.add(user)
            source_viewers[e.source].add(user)
            if user not in entered_at:
                entered_at[user] = e.ts_ms
                views += 1
                k = minute(e.ts_ms)
                if k is not None:
                    new_viewers_per_minute[k] += 1
        elif kind == "leave":
            since = entered_at.pop(user, None)
            if since is not None:
                stays.append((since, e.ts_ms))
        elif kind == "impression":
            assert e.source is not None
            exposed.add(user)
            source_exposed[e.source].add(user)
        elif kind == "comment":
            comments += 1
            interacting.add(user)
        elif kind == "like":
            likes += 1 if e.count is None else e.count
            interacting.add(user)
        elif kind == "share":
            shares += 1
            interacting.add(user)
        elif kind == "follow":
            followers.add(user)
            interacting.add(user)
        elif kind in ("product_impression", "product_click", "cart_add"):
            assert e.product is not None
            products.add(e.product)
            if kind == "product_impression":
                product_viewers[e.product].add(user)
            elif kind == "product_click":
                product_clickers[e.product].add(user)
            else:
                carting.add(user)
    stays.extend((since, end) for since in entered_at.values())  # everyone leaves at end

    # Presence: in the room at t when entered <= t < left.
    entries = sorted(since for since, _ in stays)
    exits = sorted(left for _, left in stays)

    def online(t: int) -> int:
        # stays with left <= t also have entered <= t, so the difference counts the rest
        return bisect_right(entries, t) - bisect_right(exits, t)

    online_per_minute = [online(start + k * MINUTE_MS) for k in range(n_minutes)]
    # the count only rises at entry instants; an enter at exactly end is never online,
    # since by then everybody has left
    pcu = max((online(t) for t in entries), default=0)
    duration_seconds = duration_ms / 1000
    total_watch_seconds = sum(left - since for since, left in stays) / 1000

    # Orders: created in the window and paid (at any time).
    sales: list[tuple[Event, Event]] = []
    for order, made in created.items():
        if start <= made.ts_ms <= end:
            assert made.product is not None
            products.add(made.product)
            if order in paid:
                sales.append((made, paid[order]))
    buyers = {made.user for made, _ in sales}
    gmv = 0
    items_sold = 0
    refund_amount = 0
    gmv_per_minute = [0] * n_minutes
    by_product: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for made, pay in sales:
        assert made.order is not None and made.product is not None
        assert pay.amount is not None and pay.qty is not None
        refund = refunded.get(made.order, 0)
        gmv += pay.amount
        items_sold += pay.qty
        refund_amount += refund
        k = minute(made.ts_ms)
        if k is not None:
            gmv_per_minute[k] += pay.amount
        row = by_product[made.product]  # order_count, items_sold, gmv, refund_amount
        row[0] += 1
        row[1] += pay.qty
        row[2] += pay.amount
        row[3] += refund

    viewer_uv = len(viewers)
    exposure_uv = len(exposed)
    product_impression_uv = len(set().union(*product_viewers.values()))
    product_click_uv = len(set().union(*product_clickers.values()))
    buyer_uv = len(buyers)
    product_rows = []
    for product in sorted(products):
        impression_uv = len(product_viewers.get(product, ()))
        click_uv = len(product_clickers.get(product, ()))
        order_count, sold, product_gmv, product_refund = by_product.get(product, [0, 0, 0, 0])
        product_rows.append(
            {
                "product": product,
                "impression_uv": impression_uv,
                "click_uv": click_uv,
                "ctr": _ratio(click_uv, impression_uv),
                "order_count": order_count,
                "items_sold": sold,
                "gmv": product_gmv,
                "refund_amount": product_refund,
            }
        )
    sources = {
        source: {
            "exposure_uv": len(source_exposed.get(source, ())),
            "viewer_uv": len(source_viewers.get(source, ())),
        }
        for source in sorted(source_exposed.keys() | source_viewers.keys())
    }

    return {
        "duration_seconds": duration_seconds,
        "exposure_uv": exposure_uv,
        "viewer_uv": viewer_uv,
        "views_pv": views,
        "entry_rate": _ratio(len(exposed & viewers), exposure_uv),
        "pcu": pcu,
        "acu": _ratio(total_watch_seconds, duration_seconds),
        "total_watch_seconds": total_watch_seconds,
        "avg_watch_seconds": _ratio(total_watch_seconds, viewer_uv),
        "online_per_minute": online_per_minute,
        "new_viewers_per_minute": new_viewers_per_minute,
        "comment_count": comments,
        "like_count": likes,
        "share_count": shares,
        "follow_uv": len(followers),
        "interaction_uv": len(interacting),
        "interaction_rate": _ratio(len(interacting), viewer_uv),
        "product_impression_uv": product_impression_uv,
        "product_click_uv": product_click_uv,
        "product_ctr": _ratio(product_click_uv, product_impression_uv),
        "cart_uv": len(carting),
        "order_count": len(sales),
        "buyer_uv": buyer_uv,
        "items_sold": items_sold,
        "gmv": gmv,
        "conversion_rate": _ratio(buyer_uv, viewer_uv),
        "gpm": None if views == 0 else gmv / views * 1000,
        "uv_value": _ratio(gmv, viewer_uv),
        "aov": _ratio(gmv, buyer_uv),
        "refund_amount": refund_amount,
        "refund_rate": _ratio(refund_amount, gmv),
        "gmv_per_minute": gmv_per_minute,
        "funnel": [
            exposure_uv,
            viewer_uv,
            product_impression_uv,
            product_click_uv,
            len(carting),
            buyer_uv,
        ],
        "products": product_rows,
        "sources": sources,
    }
