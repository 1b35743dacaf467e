"""Event logs for the analytics tests: small builders and a hypothesis strategy.

The strategy aims at the rules that are easy to get wrong in SQL: several sessions in
one log, ties at one millisecond (most instants are whole seconds), repeated ids that
carry other figures, enter twice, leave without enter, orders created before, inside
and after the window and paid or refunded at any time, sessions without
``live_start``/``live_end``, and sessions with only system events.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from daihuo.core.warehouse import Warehouse, make_warehouse
from daihuo.events.model import SOURCES, Event, event_from_obj, event_to_obj, format_ts, parse_ts
from daihuo.events.store import event_row

T0 = parse_ts("2026-11-27T12:00:00.000Z")
MINUTE_MS = 60_000
_ids = itertools.count(1)


def ev(
    seconds: float, etype: str, *, eid: str | None = None, session: str = "s", **keys: Any
) -> Event:
    """An event ``seconds`` after T0, validated like any parsed line."""
    obj = {
        "id": eid or f"e{next(_ids)}",
        "ts": format_ts(T0 + round(seconds * 1000)),
        "session": session,
        "type": etype,
        **keys,
    }
    return event_from_obj(obj)


def start(seconds: float = 0, **keys: Any) -> Event:
    return ev(seconds, "live_start", **keys)


def end(seconds: float, **keys: Any) -> Event:
    return ev(seconds, "live_end", **keys)


def enter(seconds: float, user: str, source: str = "feed", **keys: Any) -> Event:
    return ev(seconds, "enter", user=user, source=source, **keys)


def leave(seconds: float, user: str, **keys: Any) -> Event:
    return ev(seconds, "leave", user=user, **keys)


def impression(seconds: float, user: str, source: str = "feed", **keys: Any) -> Event:
    return ev(seconds, "impression", user=user, source=source, **keys)


def created(
    seconds: float,
    user: str,
    order: str,
    product: str = "p1",
    qty: int = 1,
    amount: int = 1000,
    **keys: Any,
) -> Event:
    return ev(
        seconds,
        "order_created",
        user=user,
        order=order,
        product=product,
        qty=qty,
        amount=amount,
        **keys,
    )


def paid(
    seconds: float,
    user: str,
    order: str,
    product: str = "p1",
    qty: int = 1,
    amount: int = 1000,
    **keys: Any,
) -> Event:
    return ev(
        seconds,
        "order_paid",
        user=user,
        order=order,
        product=product,
        qty=qty,
        amount=amount,
        **keys,
    )


def refunded(seconds: float, user: str, order: str, amount: int, **keys: Any) -> Event:
    return ev(seconds, "order_refunded", user=user, order=order, amount=amount, **keys)


def store_of(events: Iterable[Event], url: str = "duckdb:///:memory:") -> Warehouse:
    """A scratch store (DuckDB unless ``url`` names another) holding ``events``, appended
    in the given (file) order."""
    warehouse = make_warehouse(url)
    warehouse.append([event_row(e) for e in events])
    return warehouse


def write_jsonl(path: Path, events: Iterable[Event], *, ensure_ascii: bool = False) -> Path:
    path.write_text(
        "".join(json.dumps(event_to_obj(e), ensure_ascii=ensure_ascii) + "\n" for e in events),
        encoding="utf-8",
    )
    return path


# --- random logs ------------------------------------------------------------------------

USERS = ("u1", "u2", "u3", "u4", "用户5")
PRODUCTS = ("p1", "p2", "p10")
ORDERS = ("o1", "o2", "o3")
# enter/leave and orders weighted up: they drive the subtle rules
TYPES = (
    *("enter", "enter", "enter", "enter", "leave", "leave", "leave"),
    *("order_created", "order_created", "order_paid", "order_paid", "order_refunded"),
    *("impression", "impression", "comment", "like", "share", "follow"),
    *("product_impression", "product_click", "cart_add"),
    *("live_start", "live_end"),
)


@st.composite
def event_logs(draw: st.DrawFn, max_events: int = 40) -> list[Event]:
    """A log of one to three sessions in file order, with re-deliveries of some ids."""
    sessions = draw(st.lists(st.sampled_from(("s", "t", "直播3")), min_size=1, max_size=3))
    rows: list[tuple[int, str, str, dict[str, Any]]] = []
    for session in dict.fromkeys(sessions):
        duration_ms = draw(
            st.one_of(st.integers(0, 5).map(lambda m: m * MINUTE_MS), st.integers(0, 300_000))
        )
        # whole seconds most of the time, so that ties at one millisecond are common
        instants = st.one_of(
            st.integers(-60, duration_ms // 1000 + 60).map(lambda s: s * 1000),
            st.integers(-60_000, duration_ms + 60_000),
        )
        if draw(st.integers(0, 5)):  # usually, not always, a live_start
            rows.append((0, session, "live_start", {}))
        if draw(st.integers(0, 5)):
            rows.append((duration_ms, session, "live_end", {}))
        for _ in range(draw(st.integers(0, max_events))):
            etype = draw(st.sampled_from(TYPES))
            keys: dict[str, Any] = {}
            if etype not in ("live_start", "live_end"):
                keys["user"] = draw(st.sampled_from(USERS))
            if etype in ("impression", "enter"):
                keys["source"] = draw(st.sampled_from(SOURCES))
            if etype.startswith("product_") or etype in ("cart_add", "order_created", "order_paid"):
                keys["product"] = draw(st.sampled_from(PRODUCTS))
            if etype.startswith("order_"):
                keys["order"] = draw(st.sampled_from(ORDERS))
                keys["amount"] = draw(st.integers(0, 5000))
            if etype in ("cart_add", "order_created", "order_paid"):
                keys["qty"] = draw(st.integers(1, 3))
            if etype == "comment":
                keys["text"] = draw(st.sampled_from(("hi", "这个多少钱", "", 'say "hi"\n')))
            if etype == "like" and draw(st.booleans()):
                keys["count"] = draw(st.integers(1, 5))
            if etype not in ("live_start", "live_end") and draw(st.integers(0, 9)) == 0:
                # optional keys where the metrics do not look for them: no source or product row
                keys.setdefault("source", draw(st.sampled_from(SOURCES)))
                keys.setdefault("product", draw(st.sampled_from(PRODUCTS)))
            if etype == "order_refunded" and draw(st.integers(0, 3)) == 0:
                rows.append((draw(st.integers(0, 30)) * 86_400_000, session, etype, keys))
                continue  # a refund days later
            rows.append((draw(instants), session, etype, keys))
    if not rows:
        rows.append((0, sessions[0], "live_start", {}))
    order = draw(st.permutations(range(len(rows))))
    log = [
        event_from_obj(
            {
                "id": f"r{i}",
                "ts": format_ts(T0 + rows[i][0]),
                "session": rows[i][1],
                "type": rows[i][2],
            }
            | rows[i][3]
        )
        for i in order
    ]
    # re-deliveries: the same id again, sometimes with other figures, session or time
    for _ in range(draw(st.integers(0, 4))):
        first = draw(st.sampled_from(log))
        other = draw(st.sampled_from(log))
        copy = other._replace(id=first.id)
        log.insert(draw(st.integers(0, len(log))), copy)
    return log
