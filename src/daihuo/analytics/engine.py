"""Every figure of shared/spec/metrics.md, computed in DuckDB SQL over the event store.

The answers are those of :mod:`daihuo.analytics.reference` (the plain-Python oracle,
whose docstring fixes the readings where the spec is silent); a property test holds the
two equal on random logs. Python only sends one query and shapes its rows into the
report; every number is computed by DuckDB. How each figure maps to SQL:

* **Clean-up.** The store keeps one row per id (the first to arrive), so nothing is
  de-duplicated here. "Processing order" is ``ts``, then leaves before anything else at
  the same instant, then arrival (``seq``): the reference's stable sort.
* **Window** (``win``): ``start`` is the earliest ``live_start``, else the earliest event
  other than ``order_paid``/``order_refunded``, else the earliest event; ``end`` the same
  with ``live_end`` and latest, never before ``start``. ``n`` minutes: ``ceil(dur/60 s)``.
* **Room events** (``uw``): every non-order user event with ``start <= ts <= end``.
* **Presence** (``edges``): per user, the enter/leave rows in processing order, with
  ``lag`` giving the previous row's type (``leave`` before the first). An ``enter``
  after anything but an ``enter`` opens a stay — that is a view; a ``leave`` after an
  ``enter`` closes it; every other row changes nothing. Stays need no pairing: watch time
  is the sum of closing ``leave`` times minus the sum of opening ``enter`` times, plus
  ``end`` for each user still in the room then.
* **PCU**: +1 at each opening enter, -1 at each closing leave (and for everyone still in,
  at ``end``), summed per instant, then a running sum in time order; its maximum.
  Summing an instant before adding it up is the same as processing its leaves before
  its enters: either way the level counted at ``t`` is ``entered <= t < left``. The
  running sum is taken per second first (``seconds``: the level ``before`` the second,
  ``after`` it, and ``up``, its +1s): the levels ``after`` are reached, and no instant of
  a second can exceed ``before + up``, so only the seconds where that beats the highest
  level ``after`` (``rising``, a few percent of them) are summed instant by instant.
  The maximum is exact; the window runs over seconds, not over every enter and leave.
* **Per-minute online**: a stay counts at the instants ``start + k*60 s`` with
  ``ceil((s - start)/60 s) <= k < ceil((e - start)/60 s)``: +1/-1 at those two ``k`` and
  a running sum over ``k = 0..n-1`` (leaving at ``end`` falls on ``k = n``, off the
  curve). Entries and GMV per minute bucket ``(ts - start) // 60 s`` below ``n``.
* **Users** (``users``): one row per (session, user) with a flag per kind of action, so
  each UV is a ``count(*) FILTER`` rather than a ``count(DISTINCT)`` per figure.
* **Orders**: an order is its first ``order_created`` (``row_number`` in processing
  order), counted when that lies in the window; paid by its first ``order_paid`` at any
  time (which gives ``qty`` and ``amount``); refunds sum every ``order_refunded``.
* **Ratios** are ``NULL`` when the denominator is 0, computed on doubles exactly as
  Python divides: ``gpm`` is ``gmv / views_pv * 1000`` in that order.
"""

# SQL here is built from constant fragments; session ids are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Final

import duckdb

from daihuo.core.warehouse import Warehouse
from daihuo.core.warehouse.duckdb import DuckDBWarehouse
from daihuo.events.parse import ParseSummary

SYSTEM: Final = "('live_start', 'live_end')"
ORDERS: Final = "('order_created', 'order_paid', 'order_refunded')"
SETTLEMENT: Final = "('order_paid', 'order_refunded')"
INTERACTIONS: Final = "('comment', 'like', 'share', 'follow')"

# Figures in the order of the spec's report; every one is a column of REPORT_SQL.
SCALARS: Final = (
    "duration_seconds",
    "exposure_uv",
    "viewer_uv",
    "views_pv",
    "entry_rate",
    "pcu",
    "acu",
    "total_watch_seconds",
    "avg_watch_seconds",
    "online_per_minute",
    "new_viewers_per_minute",
    "comment_count",
    "like_count",
    "share_count",
    "follow_uv",
    "interaction_uv",
    "interaction_rate",
    "product_impression_uv",
    "product_click_uv",
    "product_ctr",
    "cart_uv",
    "order_count",
    "buyer_uv",
    "items_sold",
    "gmv",
    "conversion_rate",
    "gpm",
    "uv_value",
    "aov",
    "refund_amount",
    "refund_rate",
    "gmv_per_minute",
)
FUNNEL: Final = (
    "exposure_uv",
    "viewer_uv",
    "product_impression_uv",
    "product_click_uv",
    "cart_uv",
    "buyer_uv",
)


def _ratio(num: str, den: str) -> str:
    return f"CASE WHEN ({den}) = 0 THEN NULL ELSE CAST({num} AS DOUBLE) / CAST({den} AS DOUBLE) END"


REPORT_SQL: Final = f"""
WITH
ev AS NOT MATERIALIZED (
    SELECT session, seq, ts_ms AS ts, type, "user", source, product, "order", qty, amount, count
    FROM events
    WHERE {{where}}
),
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
win AS (
    SELECT session, st, greatest(st, en0) AS en, greatest(st, en0) - st AS dur,
           (greatest(st, en0) - st + 59999) // 60000 AS n
    FROM bounds
),
uw AS NOT MATERIALIZED (
    SELECT e.session, e.seq, e.ts, e.type, e."user", e.source, e.product, e.count, w.st, w.en
    FROM ev e JOIN win w USING (session)
    WHERE e.type NOT IN {SYSTEM} AND e.type NOT IN {ORDERS} AND e.ts BETWEEN w.st AND w.en
),
edges AS (
    SELECT session, ts, type, st, en
    FROM (
        SELECT session, ts, type, st, en,
               lag(type, 1, 'leave') OVER (
                   PARTITION BY session, "user" ORDER BY ts, type <> 'leave', seq
               ) AS prev
        FROM uw
        WHERE type IN ('enter', 'leave')
    )
    WHERE type <> prev
),
stay_totals AS (
    SELECT session,
           count(*) FILTER (WHERE type = 'enter') AS views,
           count(*) FILTER (WHERE type = 'enter') - count(*) FILTER (WHERE type = 'leave')
               AS still_in,
           coalesce(sum(ts) FILTER (WHERE type = 'leave'), 0)
               - coalesce(sum(ts) FILTER (WHERE type = 'enter'), 0) AS watch_ms_but_end,
           any_value(en) AS en
    FROM edges GROUP BY session
),
deltas AS (
    SELECT session, ts AS t, CASE type WHEN 'enter' THEN 1 ELSE -1 END AS d FROM edges
    UNION ALL SELECT session, en AS t, -still_in AS d FROM stay_totals
),
seconds AS (
    SELECT session, b, up, before, before + d AS after
    FROM (SELECT session, b, d, up,
                 coalesce(sum(d) OVER (PARTITION BY session ORDER BY b
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                     AS before
          FROM (SELECT session, t // 1000 AS b, sum(d) AS d, sum(greatest(d, 0)) AS up
                FROM deltas GROUP BY session, b))
),
reached AS (SELECT session, max(after) AS level FROM seconds GROUP BY session),
rising AS (
    SELECT s.session, s.b, s.before
    FROM seconds s JOIN reached r USING (session)
    WHERE s.before + s.up > r.level
),
peak AS (
    SELECT r.session, greatest(r.level, coalesce(max(f.level), r.level)) AS pcu
    FROM reached r
    LEFT JOIN (
        SELECT session, before + sum(d) OVER (PARTITION BY session, b ORDER BY t
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                   AS level
        FROM (SELECT x.session, x.b, x.before, e.t, sum(e.d) AS d
              FROM deltas e JOIN rising x ON x.session = e.session AND x.b = e.t // 1000
              GROUP BY x.session, x.b, x.before, e.t)
    ) f USING (session)
    GROUP BY r.session, r.level
),
minutes AS (SELECT session, unnest(range(n)) AS k FROM win),
online_steps AS (
    SELECT session, (ts - st + 59999) // 60000 AS k,
           sum(CASE type WHEN 'enter' THEN 1 ELSE -1 END) AS d
    FROM edges GROUP BY session, k
),
entries AS (
    SELECT session, (ts - st) // 60000 AS k, count(*) AS c
    FROM edges WHERE type = 'enter' GROUP BY session, k
),
users AS (
    SELECT session, "user",
           bool_or(type = 'impression') AS exposed,
           bool_or(type = 'enter') AS viewer,
           bool_or(type = 'follow') AS follower,
           bool_or(type IN {INTERACTIONS}) AS interacting,
           bool_or(type = 'product_impression') AS product_viewer,
           bool_or(type = 'product_click') AS product_clicker,
           bool_or(type = 'cart_add') AS carting,
           count(*) FILTER (WHERE type = 'comment') AS comments,
           sum(coalesce(count, 1)) FILTER (WHERE type = 'like') AS likes,
           count(*) FILTER (WHERE type = 'share') AS shares
    FROM uw GROUP BY session, "user"
),
audience AS (
    SELECT session,
           count(*) FILTER (WHERE exposed) AS exposure_uv,
           count(*) FILTER (WHERE viewer) AS viewer_uv,
           count(*) FILTER (WHERE exposed AND viewer) AS exposed_viewers,
           count(*) FILTER (WHERE follower) AS follow_uv,
           count(*) FILTER (WHERE interacting) AS interaction_uv,
           count(*) FILTER (WHERE product_viewer) AS product_impression_uv,
           count(*) FILTER (WHERE product_clicker) AS product_click_uv,
           count(*) FILTER (WHERE carting) AS cart_uv,
           sum(comments) AS comment_count,
           coalesce(sum(likes), 0) AS like_count,
           sum(shares) AS share_count
    FROM users GROUP BY session
),
created AS (
    SELECT session, "order", ts, "user", product
    FROM (SELECT session, "order", ts, "user", product,
                 row_number() OVER (PARTITION BY session, "order" ORDER BY ts, seq) AS nth
          FROM ev WHERE type = 'order_created')
    WHERE nth = 1
),
counted AS (
    SELECT c.*, w.st FROM created c JOIN win w USING (session) WHERE c.ts BETWEEN w.st AND w.en
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
    SELECT c.session, c."user", c.product, c.ts, c.st, p.qty, p.amount,
           coalesce(r.refund, 0) AS refund
    FROM counted c
    JOIN paid p USING (session, "order")
    LEFT JOIN refunds r USING (session, "order")
),
sales_totals AS (
    SELECT session, count(*) AS order_count, count(DISTINCT "user") AS buyer_uv,
           sum(qty) AS items_sold, sum(amount) AS gmv, sum(refund) AS refund_amount
    FROM sales GROUP BY session
),
sales_minutes AS (
    SELECT session, (ts - st) // 60000 AS k, sum(amount) AS gmv FROM sales GROUP BY session, k
),
curves AS (
    SELECT m.session,
           list(o.online ORDER BY m.k) AS online_per_minute,
           list(coalesce(en.c, 0) ORDER BY m.k) AS new_viewers_per_minute,
           list(coalesce(g.gmv, 0) ORDER BY m.k) AS gmv_per_minute
    FROM minutes m
    JOIN (SELECT m.session, m.k,
                 sum(coalesce(d.d, 0)) OVER (PARTITION BY m.session ORDER BY m.k) AS online
          FROM minutes m LEFT JOIN online_steps d USING (session, k)) o USING (session, k)
    LEFT JOIN entries en USING (session, k)
    LEFT JOIN sales_minutes g USING (session, k)
    GROUP BY m.session
),
product_users AS (
    SELECT session, product,
           count(*) FILTER (WHERE viewed) AS impression_uv,
           count(*) FILTER (WHERE clicked) AS click_uv
    FROM (SELECT session, product, "user",
                 bool_or(type = 'product_impression') AS viewed,
                 bool_or(type = 'product_click') AS clicked
          FROM uw WHERE type IN ('product_impression', 'product_click', 'cart_add')
          GROUP BY session, product, "user")
    GROUP BY session, product
),
product_sales AS (
    SELECT session, product, count(*) AS order_count, sum(qty) AS items_sold,
           sum(amount) AS gmv, sum(refund) AS refund_amount
    FROM sales GROUP BY session, product
),
product_rows AS (
    SELECT n.session,
           list(struct_pack(
               product := n.product,
               impression_uv := coalesce(u.impression_uv, 0),
               click_uv := coalesce(u.click_uv, 0),
               ctr := {_ratio("u.click_uv", "coalesce(u.impression_uv, 0)")},
               order_count := coalesce(s.order_count, 0),
               items_sold := coalesce(s.items_sold, 0),
               gmv := coalesce(s.gmv, 0),
               refund_amount := coalesce(s.refund_amount, 0)
           ) ORDER BY n.product) AS products
    FROM (SELECT session, product FROM product_users
          UNION SELECT session, product FROM counted) n
    LEFT JOIN product_users u USING (session, product)
    LEFT JOIN product_sales s USING (session, product)
    GROUP BY n.session
),
source_rows AS (
    SELECT session,
           list(struct_pack(source := source, exposure_uv := exposure_uv, viewer_uv := viewer_uv)
                ORDER BY source) AS sources
    FROM (SELECT session, source,
                 count(*) FILTER (WHERE exposed) AS exposure_uv,
                 count(*) FILTER (WHERE viewer) AS viewer_uv
          FROM (SELECT session, source, "user",
                       bool_or(type = 'impression') AS exposed,
                       bool_or(type = 'enter') AS viewer
                FROM uw WHERE type IN ('impression', 'enter')
                GROUP BY session, source, "user")
          GROUP BY session, source)
    GROUP BY session
),
figures AS (
    SELECT w.session,
           CAST(w.dur AS DOUBLE) / 1000 AS duration_seconds,
           coalesce(a.exposure_uv, 0) AS exposure_uv,
           coalesce(a.viewer_uv, 0) AS viewer_uv,
           coalesce(t.views, 0) AS views_pv,
           coalesce(a.exposed_viewers, 0) AS exposed_viewers,
           greatest(coalesce(p.pcu, 0), 0) AS pcu,
           CAST(coalesce(t.watch_ms_but_end + t.still_in * t.en, 0) AS DOUBLE) / 1000
               AS total_watch_seconds,
           coalesce(c.online_per_minute, []) AS online_per_minute,
           coalesce(c.new_viewers_per_minute, []) AS new_viewers_per_minute,
           coalesce(a.comment_count, 0) AS comment_count,
           coalesce(a.like_count, 0) AS like_count,
           coalesce(a.share_count, 0) AS share_count,
           coalesce(a.follow_uv, 0) AS follow_uv,
           coalesce(a.interaction_uv, 0) AS interaction_uv,
           coalesce(a.product_impression_uv, 0) AS product_impression_uv,
           coalesce(a.product_click_uv, 0) AS product_click_uv,
           coalesce(a.cart_uv, 0) AS cart_uv,
           coalesce(s.order_count, 0) AS order_count,
           coalesce(s.buyer_uv, 0) AS buyer_uv,
           coalesce(s.items_sold, 0) AS items_sold,
           coalesce(s.gmv, 0) AS gmv,
           coalesce(s.refund_amount, 0) AS refund_amount,
           coalesce(c.gmv_per_minute, []) AS gmv_per_minute,
           coalesce(pr.products, []) AS products,
           coalesce(so.sources, []) AS sources
    FROM win w
    LEFT JOIN audience a USING (session)
    LEFT JOIN stay_totals t USING (session)
    LEFT JOIN peak p USING (session)
    LEFT JOIN curves c USING (session)
    LEFT JOIN sales_totals s USING (session)
    LEFT JOIN product_rows pr USING (session)
    LEFT JOIN source_rows so USING (session)
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
       CASE WHEN views_pv = 0 THEN NULL
            ELSE CAST(gmv AS DOUBLE) / CAST(views_pv AS DOUBLE) * 1000 END AS gpm,
       {_ratio("gmv", "viewer_uv")} AS uv_value,
       {_ratio("gmv", "buyer_uv")} AS aov,
       refund_amount,
       {_ratio("refund_amount", "gmv")} AS refund_rate,
       gmv_per_minute, products, sources
FROM figures
ORDER BY session
"""


def _shape(names: Sequence[str], row: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """One result row as the spec's session report (keys, order and types of reference.py)."""
    values = dict(zip(names, row, strict=True))
    figures: dict[str, Any] = {key: values[key] for key in SCALARS}
    for key in ("online_per_minute", "new_viewers_per_minute", "gmv_per_minute"):
        figures[key] = [int(v) for v in figures[key]]
    figures["funnel"] = [figures[key] for key in FUNNEL]
    figures["products"] = [dict(p) for p in values["products"]]
    figures["sources"] = {
        s["source"]: {"exposure_uv": s["exposure_uv"], "viewer_uv": s["viewer_uv"]}
        for s in values["sources"]
    }
    return values["session"], figures


def query(con: duckdb.DuckDBPyConnection, sessions: Sequence[str] | None = None) -> dict[str, Any]:
    """The report of the stored sessions (all, or those named) on a store connection."""
    if sessions is None:
        where, params = "true", None
    else:
        where, params = "session IN (SELECT unnest($sessions))", {"sessions": list(sessions)}
    result = con.execute(REPORT_SQL.replace("{where}", where), params)
    names = [d[0] for d in result.description or ()]
    rows = result.fetchall()
    return {"sessions": dict(_shape(names, row) for row in rows)}


def _connection(warehouse: Warehouse) -> duckdb.DuckDBPyConnection:
    if not isinstance(warehouse, DuckDBWarehouse):
        raise TypeError(f"the DuckDB report engine cannot read {type(warehouse).__name__}")
    return warehouse.cursor()


def report(warehouse: Warehouse, sessions: Sequence[str] | None = None) -> dict[str, Any]:
    """``{"sessions": {id: figures}}`` for the stored sessions (all, or those named)."""
    if not isinstance(warehouse, DuckDBWarehouse):  # the ClickHouse dialect has its own SQL
        from daihuo.analytics import engine_clickhouse

        return engine_clickhouse.report(warehouse, sessions)
    return query(_connection(warehouse), sessions)


def session_report(warehouse: Warehouse, session: str) -> dict[str, Any] | None:
    """The figures of one stored session, or ``None`` when it has no events."""
    figures: dict[str, Any] | None = report(warehouse, [session])["sessions"].get(session)
    return figures


def report_file(
    path: str | os.PathLike[str], *, max_rejects: int = 1000
) -> tuple[dict[str, Any], ParseSummary]:
    """Report a JSON Lines file straight from disk: an in-memory store, no import kept."""
    from daihuo.events.store import import_file

    with DuckDBWarehouse(None) as warehouse:
        summary = import_file(warehouse, path, max_rejects=max_rejects)
        return report(warehouse), summary
