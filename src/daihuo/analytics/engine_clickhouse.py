"""Every figure of shared/spec/metrics.md, computed in ClickHouse SQL (chDB or a server).

The same report as :mod:`daihuo.analytics.engine` (DuckDB), step for step — see its
docstring for how each figure maps to SQL; a property test holds both equal to the
plain-Python oracle :mod:`daihuo.analytics.reference` on random logs. Where the dialect
differs:

* ``count(*) FILTER (WHERE c)`` is ``countIf(c)``, ``bool_or`` is ``max`` of a 0/1 test,
  ``lag`` is ``lagInFrame`` over an explicit ``ROWS`` frame, ``unnest(range(n))`` is
  ``arrayJoin(range(n))``, and ``list(x ORDER BY k)`` is ``groupArray((k, x))`` sorted.
* The first ``order_created``/``order_paid`` of an order is ``argMin(…, (ts, seq))``
  rather than a ``row_number()`` window: the same row, in one aggregation.
* ClickHouse joins fill missing values with defaults (0, ``''``) unless
  ``join_use_nulls = 1``, which the query sets, so ``coalesce`` reads as in DuckDB.
* ClickHouse sums ``Int64`` in 64 bits and wraps around (DuckDB widens to 128), so every
  sum of money, units, likes and milliseconds is taken over ``toInt128`` (the contract
  allows 64-bit values, two of which already overflow), and watch time is summed as
  offsets from ``start`` (``ts - st``).
* JSON output writes a whole ``Float64`` without a fraction (``150``), so Python turns
  the float figures back into floats while shaping; every number is still ClickHouse's.
* ClickHouse inlines a CTE at each reference, so ``win``, ``uw``, ``edges`` and ``sales``
  (read 3-8 times each) would be computed again each time. Where the engine has
  ``enable_materialized_cte`` (chDB 4.4 does; the setting is marked experimental) they
  are declared ``AS MATERIALIZED`` and computed once, which makes the report 2-3 times
  faster; elsewhere the same query runs inlined. Tests check both ways against the oracle.
"""

# SQL here is built from constant fragments; session ids go through literal().
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from daihuo.analytics.engine import FUNNEL, ORDERS, SCALARS, SETTLEMENT, SYSTEM
from daihuo.core.warehouse import Warehouse
from daihuo.core.warehouse.clickhouse import ClickHouseWarehouse, literal

INTERACTIONS: Final = "('comment', 'like', 'share', 'follow')"
FLOATS: Final = frozenset(
    {
        "duration_seconds",
        "total_watch_seconds",
        "entry_rate",
        "acu",
        "avg_watch_seconds",
        "interaction_rate",
        "product_ctr",
        "conversion_rate",
        "gpm",
        "uv_value",
        "aov",
        "refund_rate",
    }
)
PRODUCT_KEYS: Final = (
    "product",
    "impression_uv",
    "click_uv",
    "ctr",
    "order_count",
    "items_sold",
    "gmv",
    "refund_amount",
)
ROWS_FRAME: Final = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"


def _ratio(num: str, den: str) -> str:
    return f"if(({den}) = 0, NULL, toFloat64({num}) / toFloat64({den}))"


def _sorted_list(key: str, value: str) -> str:
    """``list(value ORDER BY key)`` of DuckDB."""
    return f"arrayMap(x -> x.2, arraySort(x -> x.1, groupArray(({key}, {value}))))"


REPORT_SQL: Final = f"""
WITH
ev AS (
    SELECT session, seq, ts_ms AS ts, type, `user`, source, product, `order`, qty, amount,
           `count`
    FROM events
    WHERE {{where}}
),
bounds AS (
    SELECT session,
           assumeNotNull(coalesce(minIfOrNull(ts, type = 'live_start'),
                                  minIfOrNull(ts, type NOT IN {SETTLEMENT}),
                                  min(ts))) AS st,
           assumeNotNull(coalesce(maxIfOrNull(ts, type = 'live_end'),
                                  maxIfOrNull(ts, type NOT IN {SETTLEMENT}),
                                  max(ts))) AS en0
    FROM ev GROUP BY session
),
win AS (
    SELECT session, st, greatest(st, en0) AS en, greatest(st, en0) - st AS dur,
           intDiv(greatest(st, en0) - st + 59999, 60000) AS n
    FROM bounds
),
uw AS (
    SELECT session, seq, ts, type, `user`, source, product, `count`, st, en
    FROM ev INNER JOIN win USING (session)
    WHERE type NOT IN {SYSTEM} AND type NOT IN {ORDERS} AND ts BETWEEN st AND en
),
edges AS (
    SELECT session, ts, type, st, en
    FROM (
        SELECT session, ts, type, st, en,
               lagInFrame(type, 1, 'leave') OVER (
                   PARTITION BY session, `user` ORDER BY ts, type != 'leave', seq {ROWS_FRAME}
               ) AS prev
        FROM uw
        WHERE type IN ('enter', 'leave')
    )
    WHERE type != prev
),
stay_totals AS (
    SELECT session,
           toInt64(countIf(type = 'enter')) AS views,
           toInt64(countIf(type = 'enter')) - toInt64(countIf(type = 'leave')) AS still_in,
           sumIf(toInt128(ts - st), type = 'leave') - sumIf(toInt128(ts - st), type = 'enter')
               AS watch_ms_but_end,
           any(en) - any(st) AS until_end
    FROM edges GROUP BY session
),
levels AS (
    SELECT session,
           sum(dt) OVER (PARTITION BY session ORDER BY t {ROWS_FRAME}) AS level
    FROM (
        SELECT session, t, sum(d) AS dt
        FROM (SELECT session, ts AS t, toInt64(if(type = 'enter', 1, -1)) AS d FROM edges
              UNION ALL
              SELECT session, en AS t, toInt64(-still_in) AS d
              FROM stay_totals INNER JOIN win USING (session))
        GROUP BY session, t
    )
),
peak AS (SELECT session, max(level) AS pcu FROM levels GROUP BY session),
minutes AS (SELECT session, toInt64(arrayJoin(range(toUInt64(n)))) AS k FROM win),
online_steps AS (
    SELECT session, toInt64(intDiv(ts - st + 59999, 60000)) AS k,
           sum(toInt64(if(type = 'enter', 1, -1))) AS d
    FROM edges GROUP BY session, k
),
entries AS (
    SELECT session, toInt64(intDiv(ts - st, 60000)) AS k, toInt64(count()) AS c
    FROM edges WHERE type = 'enter' GROUP BY session, k
),
users AS (
    SELECT session, `user`,
           max(type = 'impression') AS exposed,
           max(type = 'enter') AS viewer,
           max(type = 'follow') AS follower,
           max(type IN {INTERACTIONS}) AS interacting,
           max(type = 'product_impression') AS product_viewer,
           max(type = 'product_click') AS product_clicker,
           max(type = 'cart_add') AS carting,
           countIf(type = 'comment') AS comments,
           sumIf(toInt128(coalesce(`count`, 1)), type = 'like') AS likes,
           countIf(type = 'share') AS shares
    FROM uw GROUP BY session, `user`
),
audience AS (
    SELECT session,
           countIf(exposed) AS exposure_uv,
           countIf(viewer) AS viewer_uv,
           countIf(exposed AND viewer) AS exposed_viewers,
           countIf(follower) AS follow_uv,
           countIf(interacting) AS interaction_uv,
           countIf(product_viewer) AS product_impression_uv,
           countIf(product_clicker) AS product_click_uv,
           countIf(carting) AS cart_uv,
           sum(comments) AS comment_count,
           sum(likes) AS like_count,
           sum(shares) AS share_count
    FROM users GROUP BY session
),
created AS (
    SELECT session, `order`, min(ts) AS made_ts,
           argMin(`user`, (ts, seq)) AS buyer, argMin(product, (ts, seq)) AS made_product
    FROM ev WHERE type = 'order_created' GROUP BY session, `order`
),
counted AS (
    SELECT session, `order`, made_ts AS ts, buyer AS `user`, made_product AS product, st
    FROM created INNER JOIN win USING (session)
    WHERE made_ts BETWEEN st AND en
),
paid AS (
    SELECT session, `order`, argMin(qty, (ts, seq)) AS paid_qty,
           argMin(amount, (ts, seq)) AS paid_amount
    FROM ev WHERE type = 'order_paid' GROUP BY session, `order`
),
refunds AS (
    SELECT session, `order`, sum(toInt128(amount)) AS refund
    FROM ev WHERE type = 'order_refunded' GROUP BY session, `order`
),
sales AS (
    SELECT session, `user`, product, ts, st, paid_qty AS qty, paid_amount AS amount,
           coalesce(refund, 0) AS refund
    FROM counted
    INNER JOIN paid USING (session, `order`)
    LEFT JOIN refunds USING (session, `order`)
),
sales_totals AS (
    SELECT session, count() AS order_count, uniqExact(`user`) AS buyer_uv,
           sum(toInt128(qty)) AS items_sold, sum(toInt128(amount)) AS gmv,
           sum(refund) AS refund_amount
    FROM sales GROUP BY session
),
sales_minutes AS (
    SELECT session, toInt64(intDiv(ts - st, 60000)) AS k, sum(toInt128(amount)) AS gmv
    FROM sales GROUP BY session, k
),
online AS (
    SELECT session, k,
           sum(coalesce(d, 0)) OVER (PARTITION BY session ORDER BY k {ROWS_FRAME}) AS online
    FROM minutes LEFT JOIN online_steps USING (session, k)
),
curves AS (
    SELECT session,
           {_sorted_list("k", "online")} AS online_per_minute,
           {_sorted_list("k", "coalesce(c, 0)")} AS new_viewers_per_minute,
           {_sorted_list("k", "coalesce(gmv, 0)")} AS gmv_per_minute
    FROM online
    LEFT JOIN entries USING (session, k)
    LEFT JOIN sales_minutes USING (session, k)
    GROUP BY session
),
product_users AS (
    SELECT session, product,
           countIf(viewed) AS impression_uv,
           countIf(clicked) AS click_uv
    FROM (SELECT session, product, `user`,
                 max(type = 'product_impression') AS viewed,
                 max(type = 'product_click') AS clicked
          FROM uw WHERE type IN ('product_impression', 'product_click', 'cart_add')
          GROUP BY session, product, `user`)
    GROUP BY session, product
),
product_sales AS (
    SELECT session, product, count() AS order_count, sum(toInt128(qty)) AS items_sold,
           sum(toInt128(amount)) AS gmv, sum(refund) AS refund_amount
    FROM sales GROUP BY session, product
),
product_rows AS (
    SELECT session,
           arraySort(x -> x.1, groupArray((
               product,
               coalesce(impression_uv, 0),
               coalesce(click_uv, 0),
               {_ratio("click_uv", "coalesce(impression_uv, 0)")},
               coalesce(order_count, 0),
               coalesce(items_sold, 0),
               coalesce(gmv, 0),
               coalesce(refund_amount, 0)
           ))) AS products
    FROM (SELECT session, product FROM product_users
          UNION DISTINCT SELECT session, product FROM counted) AS named
    LEFT JOIN product_users USING (session, product)
    LEFT JOIN product_sales USING (session, product)
    GROUP BY session
),
source_rows AS (
    SELECT session,
           arraySort(x -> x.1, groupArray((source, exposure_uv, viewer_uv))) AS sources
    FROM (SELECT session, source,
                 countIf(exposed) AS exposure_uv,
                 countIf(viewer) AS viewer_uv
          FROM (SELECT session, source, `user`,
                       max(type = 'impression') AS exposed,
                       max(type = 'enter') AS viewer
                FROM uw WHERE type IN ('impression', 'enter')
                GROUP BY session, source, `user`)
          GROUP BY session, source)
    GROUP BY session
),
figures AS (
    SELECT session,
           toFloat64(dur) / 1000 AS duration_seconds,
           coalesce(exposure_uv, 0) AS exposure_uv,
           coalesce(viewer_uv, 0) AS viewer_uv,
           coalesce(views, 0) AS views_pv,
           coalesce(exposed_viewers, 0) AS exposed_viewers,
           greatest(coalesce(pcu, 0), 0) AS pcu,
           toFloat64(coalesce(watch_ms_but_end + still_in * until_end, 0)) / 1000
               AS total_watch_seconds,
           online_per_minute, new_viewers_per_minute,
           coalesce(comment_count, 0) AS comment_count,
           coalesce(like_count, 0) AS like_count,
           coalesce(share_count, 0) AS share_count,
           coalesce(follow_uv, 0) AS follow_uv,
           coalesce(interaction_uv, 0) AS interaction_uv,
           coalesce(product_impression_uv, 0) AS product_impression_uv,
           coalesce(product_click_uv, 0) AS product_click_uv,
           coalesce(cart_uv, 0) AS cart_uv,
           coalesce(order_count, 0) AS order_count,
           coalesce(buyer_uv, 0) AS buyer_uv,
           coalesce(items_sold, 0) AS items_sold,
           coalesce(gmv, 0) AS gmv,
           coalesce(refund_amount, 0) AS refund_amount,
           gmv_per_minute, products, sources
    FROM win
    LEFT JOIN audience USING (session)
    LEFT JOIN stay_totals USING (session)
    LEFT JOIN peak USING (session)
    LEFT JOIN curves USING (session)
    LEFT JOIN sales_totals USING (session)
    LEFT JOIN product_rows USING (session)
    LEFT JOIN source_rows USING (session)
)
SELECT session,
       duration_seconds, exposure_uv, viewer_uv, views_pv,
       {_ratio("exposed_viewers", "exposure_uv")} AS entry_rate,
       pcu,
       {_ratio("total_watch_seconds", "duration_seconds")} AS acu,
       total_watch_seconds,
       {_ratio("total_watch_seconds", "viewer_uv")} AS avg_watch_seconds,
       online_per_minute, new_viewers_per_minute,
       comment_count, like_count, share_count, follow_uv, interaction_uv,
       {_ratio("interaction_uv", "viewer_uv")} AS interaction_rate,
       product_impression_uv, product_click_uv,
       {_ratio("product_click_uv", "product_impression_uv")} AS product_ctr,
       cart_uv, order_count, buyer_uv, items_sold, gmv,
       {_ratio("buyer_uv", "viewer_uv")} AS conversion_rate,
       if(views_pv = 0, NULL, toFloat64(gmv) / toFloat64(views_pv) * 1000) AS gpm,
       {_ratio("gmv", "viewer_uv")} AS uv_value,
       {_ratio("gmv", "buyer_uv")} AS aov,
       refund_amount,
       {_ratio("refund_amount", "gmv")} AS refund_rate,
       gmv_per_minute, products, sources
FROM figures
ORDER BY session
"""


MATERIALIZED: Final = ("win", "uw", "edges", "sales")


def report_sql(*, materialize: bool) -> str:
    """REPORT_SQL, with the CTEs read several times materialized or not."""
    if not materialize:
        return REPORT_SQL
    sql = REPORT_SQL
    for name in MATERIALIZED:
        sql = sql.replace(f"\n{name} AS (", f"\n{name} AS MATERIALIZED (", 1)
    return sql


def can_materialize(warehouse: ClickHouseWarehouse) -> bool:
    """Whether the engine knows ``enable_materialized_cte``."""
    _, rows = warehouse.query_json(
        "SELECT count() FROM system.settings WHERE name = 'enable_materialized_cte'"
    )
    return bool(rows and rows[0][0])


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _shape(names: Sequence[str], row: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """One result row as the spec's session report (keys, order and types of reference.py)."""
    values = dict(zip(names, row, strict=True))
    figures: dict[str, Any] = {
        key: _float(values[key]) if key in FLOATS else values[key] for key in SCALARS
    }
    figures["funnel"] = [figures[key] for key in FUNNEL]
    products = []
    for item in values["products"]:
        product = dict(zip(PRODUCT_KEYS, item, strict=True))
        product["ctr"] = _float(product["ctr"])
        products.append(product)
    figures["products"] = products
    figures["sources"] = {
        source: {"exposure_uv": exposure_uv, "viewer_uv": viewer_uv}
        for source, exposure_uv, viewer_uv in values["sources"]
    }
    return values["session"], figures


def query(
    warehouse: ClickHouseWarehouse,
    sessions: Sequence[str] | None = None,
    *,
    materialize: bool | None = None,
) -> dict[str, Any]:
    """The report of the stored sessions (all, or those named) of a ClickHouse store;
    ``materialize`` (default: when the engine can) computes shared CTEs once."""
    if sessions is None:
        where = "1"
    elif not sessions:
        return {"sessions": {}}
    else:
        where = f"session IN ({', '.join(literal(s) for s in sessions)})"
    if materialize is None:
        materialize = can_materialize(warehouse)
    settings = "join_use_nulls = 1" + (", enable_materialized_cte = 1" if materialize else "")
    sql = report_sql(materialize=materialize).replace("{where}", where)
    names, rows = warehouse.query_json(sql, settings=settings)
    return {"sessions": dict(_shape(names, row) for row in rows)}


def report(warehouse: Warehouse, sessions: Sequence[str] | None = None) -> dict[str, Any]:
    """``{"sessions": {id: figures}}`` for the stored sessions (all, or those named)."""
    if not isinstance(warehouse, ClickHouseWarehouse):
        raise TypeError(f"the ClickHouse report engine cannot read {type(warehouse).__name__}")
    return query(warehouse, sessions)
