"""Figures across sessions, in DuckDB SQL over the event store: a merchant's sessions over
time, GMV and refund-adjusted GMV, best products and best hours; the same for a
supplier's products in any merchant's sessions; and a session's window (for the review's
markers).

Invariants, the same readings as :mod:`daihuo.analytics.engine` (a test holds them equal
to the session report's ``gmv`` and ``refund_amount``):

* **Window** of a session: ``start`` is its earliest ``live_start``, else its earliest
  event other than ``order_paid``/``order_refunded``, else its earliest event; ``end``
  likewise with ``live_end`` and latest, never before ``start``. Every event of the
  session counts for the window, whoever's products they are about.
* **Orders**: an order is its first ``order_created``; it counts for its session when
  that lies in the window; it is paid by its first ``order_paid`` at any time (``qty``,
  ``amount``); its refunds are the sum of every ``order_refunded``.
* **GMV** is the paid amount of counted orders, **refund-adjusted GMV** (``net_gmv``)
  that minus their refunds: integers in fen.
* **Hours** are hours of the day of ``order_created`` in Asia/Shanghai. China has kept
  UTC+8 without daylight saving since 1991, so the hour is ``(ts + 8 h) // 1 h mod 24``
  — no time-zone database needed, and the same in every engine.
* **Scope**: a merchant's scope is a list of its own session ids (from the OLTP
  database); a supplier's is its product ids, in live sessions (not a shop's orders
  outside any session, ``shop:<tenant>``), and then only orders of those products are
  summed — a supplier never sees a merchant's other sales or audience (its rows carry
  no viewer count).
"""

# SQL here is built from constant fragments; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from daihuo.analytics.engine import SETTLEMENT, _connection
from daihuo.core.warehouse import Warehouse

HOUR_MS: Final = 3_600_000
SHANGHAI_OFFSET_MS: Final = 8 * HOUR_MS
TOP_PRODUCTS: Final = 10

_WINDOW: Final = f"""
bounds AS (
    SELECT session,
           coalesce(min(ts) FILTER (WHERE type = 'live_start'),
                    min(ts) FILTER (WHERE type NOT IN {SETTLEMENT}),
                    min(ts)) AS st,
           coalesce(max(ts) FILTER (WHERE type = 'live_end'),
                    max(ts) FILTER (WHERE type NOT IN {SETTLEMENT}),
                    max(ts)) AS en0
    FROM ev GROUP BY session
),
win AS (SELECT session, st, greatest(st, en0) AS en FROM bounds)
"""

WINDOW_SQL: Final = f"""
WITH ev AS (SELECT session, ts_ms AS ts, type FROM events WHERE session = $session),
{_WINDOW}
SELECT st, en FROM win
"""

# {scope}: which sessions to read; {own}: which of their orders are summed.
CROSS_SQL: Final = f"""
WITH
scope AS (SELECT DISTINCT session FROM events WHERE {{scope}}),
ev AS (
    SELECT e.session, e.seq, e.ts_ms AS ts, e.type, e."user", e.product, e."order", e.qty,
           e.amount, e.meta
    FROM events e SEMI JOIN scope s ON e.session = s.session
),
{_WINDOW},
kept AS (SELECT * FROM win WHERE st >= $since),
created AS (
    SELECT session, "order", ts, "user", product, meta
    FROM (SELECT session, "order", ts, "user", product, meta,
                 row_number() OVER (PARTITION BY session, "order" ORDER BY ts, seq) AS nth
          FROM ev WHERE type = 'order_created')
    WHERE nth = 1
),
counted AS (
    SELECT c.* FROM created c JOIN kept w USING (session)
    WHERE c.ts BETWEEN w.st AND w.en AND {{own}}
),
paid AS (
    SELECT session, "order", qty, amount
    FROM (SELECT session, "order", qty, amount,
                 row_number() OVER (PARTITION BY session, "order" ORDER BY ts, seq) AS nth
          FROM ev WHERE type = 'order_paid')
    WHERE nth = 1
),
refunds AS (
    SELECT session, "order", sum(amount) AS refund
    FROM ev WHERE type = 'order_refunded' GROUP BY session, "order"
),
sales AS (
    SELECT c.session, c."user", c.product, c.meta, p.qty, p.amount,
           coalesce(r.refund, 0) AS refund,
           ((c.ts + {SHANGHAI_OFFSET_MS}) // {HOUR_MS}) % 24 AS hour
    FROM counted c
    JOIN paid p USING (session, "order")
    LEFT JOIN refunds r USING (session, "order")
),
viewers AS (
    SELECT e.session, count(DISTINCT e."user") AS viewer_uv
    FROM ev e JOIN kept w USING (session)
    WHERE e.type = 'enter' AND e.ts BETWEEN w.st AND w.en
    GROUP BY e.session
),
per_session AS (
    SELECT session, count(*) AS order_count, sum(qty) AS items_sold, sum(amount) AS gmv,
           sum(refund) AS refund_amount,
           min(json_extract_string(meta, '$.merchant')) AS merchant
    FROM sales GROUP BY session
)
SELECT 'session' AS dim, w.session AS key, w.st, w.en, v.viewer_uv, s.merchant,
       coalesce(s.order_count, 0) AS order_count, coalesce(s.items_sold, 0) AS items_sold,
       coalesce(s.gmv, 0) AS gmv, coalesce(s.refund_amount, 0) AS refund_amount
FROM kept w
LEFT JOIN per_session s USING (session)
LEFT JOIN viewers v USING (session)
WHERE $all_sessions OR s.session IS NOT NULL
UNION ALL
SELECT 'product', product, NULL, NULL, NULL, NULL,
       count(*), sum(qty), sum(amount), sum(refund)
FROM sales GROUP BY product
UNION ALL
SELECT 'hour', CAST(hour AS VARCHAR), NULL, NULL, NULL, NULL,
       count(*), sum(qty), sum(amount), sum(refund)
FROM sales GROUP BY hour
"""


@dataclass
class Sales:
    order_count: int = 0
    items_sold: int = 0
    gmv: int = 0
    refund_amount: int = 0

    @property
    def net_gmv(self) -> int:
        return self.gmv - self.refund_amount

    def figures(self) -> dict[str, int]:
        return {
            "order_count": self.order_count,
            "items_sold": self.items_sold,
            "gmv": self.gmv,
            "refund_amount": self.refund_amount,
            "net_gmv": self.net_gmv,
        }


@dataclass
class SessionSales(Sales):
    session: str = ""
    start_ms: int = 0
    end_ms: int = 0
    viewer_uv: int | None = None
    merchant: str | None = None


@dataclass
class CrossSales:
    """The rows of one cross-session query: sessions (oldest first), products (best
    refund-adjusted GMV first, all of them), and the 24 hours of the day."""

    sessions: list[SessionSales] = field(default_factory=list)
    products: list[tuple[str, Sales]] = field(default_factory=list)
    hours: list[Sales] = field(default_factory=lambda: [Sales() for _ in range(24)])

    @property
    def total(self) -> Sales:
        out = Sales()
        for s in self.sessions:
            out.order_count += s.order_count
            out.items_sold += s.items_sold
            out.gmv += s.gmv
            out.refund_amount += s.refund_amount
        return out


def _sales(row: Sequence[Any]) -> dict[str, int]:
    order_count, items_sold, gmv, refund = row
    return {
        "order_count": int(order_count or 0),
        "items_sold": int(items_sold or 0),
        "gmv": int(gmv or 0),
        "refund_amount": int(refund or 0),
    }


def cross_sales(
    warehouse: Warehouse,
    *,
    sessions: Sequence[str] | None = None,
    products: Sequence[str] | None = None,
    since_ms: int = 0,
) -> CrossSales:
    """Sales across sessions whose window starts at ``since_ms`` or later: the sessions
    named (a merchant's: every one of them, with its viewers), or else every session
    where one of ``products`` was ordered (a supplier's: only those products' orders)."""
    if sessions is not None:
        scope, own = "session IN (SELECT unnest($sessions))", "true"
        params: dict[str, Any] = {"sessions": list(sessions), "all_sessions": True}
    elif products is not None:
        # Live sessions only: a merchant's shop orders outside any session
        # (``shop:<tenant>``) are not a session of the report, as for the merchant.
        scope = (
            "type = 'order_created' AND product IN (SELECT unnest($products))"
            " AND NOT starts_with(session, 'shop:')"
        )
        own = "c.product IN (SELECT unnest($products))"
        params = {"products": list(products), "all_sessions": False}
    else:
        raise ValueError("name the sessions or the products")
    out = CrossSales()
    if not (sessions or products):
        return out
    params["since"] = since_ms
    sql = CROSS_SQL.replace("{scope}", scope).replace("{own}", own)
    rows = _connection(warehouse).execute(sql, params).fetchall()
    for dim, key, st, en, viewer_uv, merchant, *sold in rows:
        if dim == "session":
            out.sessions.append(
                SessionSales(
                    **_sales(sold),
                    session=key,
                    start_ms=int(st),
                    end_ms=int(en),
                    viewer_uv=None if products is not None else int(viewer_uv or 0),
                    merchant=merchant,
                )
            )
        elif dim == "product":
            out.products.append((key, Sales(**_sales(sold))))
        else:
            out.hours[int(key)] = Sales(**_sales(sold))
    out.sessions.sort(key=lambda s: (s.start_ms, s.session))
    out.products.sort(key=lambda p: (-p[1].net_gmv, -p[1].gmv, p[0]))
    return out


def session_window(warehouse: Warehouse, session: str) -> tuple[int, int] | None:
    """``(start, end)`` in ms of a stored session's window, or None without events."""
    row = _connection(warehouse).execute(WINDOW_SQL, {"session": session}).fetchone()
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


def hour_of_day(ts_ms: int) -> int:
    """The hour of the day in Asia/Shanghai (UTC+8, no daylight saving) of a UTC instant."""
    return ((ts_ms + SHANGHAI_OFFSET_MS) // HOUR_MS) % 24
