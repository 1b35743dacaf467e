"""Sales per merchant, product and session across the whole event store, for selection
recommendations (选品, :mod:`daihuo.assistant.selection`).

The readings are those of :mod:`daihuo.analytics.cross` (the same session window, the
same first ``order_created`` / first ``order_paid`` / summed ``order_refunded``; a test
holds the totals equal to :func:`cross.cross_sales`). The merchant of an order is the
``merchant`` of its ``order_created`` meta; viewers are a session's unique ``enter``
users inside its window (a shop's orders outside any session, ``shop:<tenant>``, have
none: ``viewer_uv`` 0).

Privacy: the rows name every merchant. They are for the recommender, which shows a
merchant only aggregates over other merchants; no endpoint returns them as they are.
"""

# SQL here is built from constant fragments; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from daihuo.analytics.cross import _WINDOW
from daihuo.analytics.engine import _connection
from daihuo.core.warehouse import Warehouse

PAIRS_SQL: Final = f"""
WITH
ev AS (
    SELECT session, seq, ts_ms AS ts, type, "user", product, "order", qty, amount, meta
    FROM events
),
{_WINDOW},
kept AS (SELECT * FROM win WHERE st >= $since),
created AS (
    SELECT session, "order", ts, product, meta
    FROM (SELECT session, "order", ts, product, meta,
                 row_number() OVER (PARTITION BY session, "order" ORDER BY ts, seq) AS nth
          FROM ev WHERE type = 'order_created')
    WHERE nth = 1
),
counted AS (
    SELECT c.*, w.st FROM created c JOIN kept w USING (session)
    WHERE c.ts BETWEEN w.st AND w.en
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
viewers AS (
    SELECT e.session, count(DISTINCT e."user") AS viewer_uv
    FROM ev e JOIN kept w USING (session)
    WHERE e.type = 'enter' AND e.ts BETWEEN w.st AND w.en
    GROUP BY e.session
)
SELECT json_extract_string(c.meta, '$.merchant') AS merchant, c.product, c.session,
       min(c.st) AS st, count(*) AS order_count, sum(p.amount) AS gmv,
       sum(coalesce(r.refund, 0)) AS refund_amount, coalesce(min(v.viewer_uv), 0) AS viewer_uv
FROM counted c
JOIN paid p USING (session, "order")
LEFT JOIN refunds r USING (session, "order")
LEFT JOIN viewers v USING (session)
WHERE json_extract_string(c.meta, '$.merchant') IS NOT NULL AND c.product IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""


@dataclass(frozen=True, slots=True)
class PairSales:
    merchant: str
    product: str
    session: str
    start_ms: int
    order_count: int
    gmv: int  # fen
    refund_amount: int  # fen
    viewer_uv: int  # 0 when the session has no viewers recorded

    @property
    def net_gmv(self) -> int:
        return self.gmv - self.refund_amount


def merchant_product_sales(warehouse: Warehouse, *, since_ms: int = 0) -> list[PairSales]:
    """Every merchant's paid orders per product and session, in sessions whose window
    starts at ``since_ms`` or later (ordered by merchant, product, session)."""
    rows = _connection(warehouse).execute(PAIRS_SQL, {"since": since_ms}).fetchall()
    return [
        PairSales(
            merchant=str(m),
            product=str(p),
            session=str(s),
            start_ms=int(st),
            order_count=int(n),
            gmv=int(g or 0),
            refund_amount=int(r or 0),
            viewer_uv=int(v or 0),
        )
        for m, p, s, st, n, g, r, v in rows
    ]
