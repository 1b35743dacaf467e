"""Cross-session sales in DuckDB SQL (analytics/cross.py) on a hand-written log: GMV and
refund-adjusted GMV with partial and repeated refunds, orders around the window, best
products, hours of the day in Asia/Shanghai across midnight, a supplier's scope."""

from __future__ import annotations

from daihuo.analytics import cross, engine
from daihuo.events.model import Event, parse_ts

from tests.unit.analytics.logs import (
    T0,
    created,
    end,
    enter,
    ev,
    paid,
    refunded,
    start,
    store_of,
)

# T0 is 2026-11-27 12:00 UTC, 20:00 in Shanghai.
H = 3600


def log() -> list[Event]:
    s1, s2, s3 = {"session": "s1"}, {"session": "s2"}, {"session": "s3"}
    return [
        # s1: 20:00-21:00 Shanghai.
        start(0, **s1),
        enter(10, "u1", **s1),
        enter(20, "u2", **s1),
        created(-60, "u4", "o4", "p1", amount=700, **s1),  # before the window: not counted
        paid(10, "u4", "o4", "p1", amount=700, **s1),
        created(60, "u1", "o1", "p1", qty=2, amount=3000, **s1),
        paid(70, "u1", "o1", "p1", qty=2, amount=3000, **s1),
        refunded(2 * H, "u1", "o1", 500, **s1),  # partial, after the end: counts
        created(120, "u2", "o2", "p2", amount=1990, **s1),
        paid(130, "u2", "o2", "p2", amount=1990, **s1),
        refunded(200, "u2", "o2", 990, **s1),  # two partial refunds: the whole order
        refunded(300, "u2", "o2", 1000, **s1),
        created(300, "u3", "o3", "p1", amount=1500, **s1),  # never paid
        created(400, "u3", "o5", "p2", amount=2000, **s1),
        paid(410, "u3", "o5", "p2", amount=2000, **s1),
        paid(420, "u3", "o5", "p2", amount=9999, **s1),  # a second payment: the first counts
        end(H, **s1),
        enter(H + 400, "u9", **s1),  # after the end: no viewer
        # s2: 23:45-00:15 Shanghai, across midnight.
        start(3 * H + 45 * 60, **s2),
        enter(3 * H + 46 * 60, "u1", **s2),
        created(3 * H + 50 * 60, "u1", "o6", "p1", amount=1000, **s2),  # 23:50
        paid(3 * H + 51 * 60, "u1", "o6", "p1", amount=1000, **s2),
        created(4 * H + 10 * 60, "u5", "o7", "p3", amount=2500, **s2),  # 00:10 the next day
        paid(4 * H + 11 * 60, "u5", "o7", "p3", amount=2500, **s2),
        refunded(5 * H, "u5", "o7", 1000, **s2),
        end(4 * H + 15 * 60, **s2),
        # s3: another merchant's session selling only p1.
        start(0, **s3),
        created(30, "u7", "o8", "p1", amount=800, **s3),
        paid(31, "u7", "o8", "p1", amount=800, **s3),
        end(600, **s3),
        # A shop's order outside any session: not a session of a supplier's report.
        created(40, "u7", "o9", "p2", amount=600, session="shop:m1"),
        paid(41, "u7", "o9", "p2", amount=600, session="shop:m1"),
    ]


def test_a_merchants_sessions_gmv_net_of_refunds_best_products_and_hours() -> None:
    with store_of(log()) as warehouse:
        got = cross.cross_sales(warehouse, sessions=["s1", "s2", "unknown"])
        report = engine.report(warehouse, ["s1", "s2"])["sessions"]
    s1, s2 = got.sessions
    assert (s1.session, s1.start_ms, s1.end_ms) == ("s1", T0, T0 + H * 1000)
    # o1 3000 + o2 1990 + o5 2000 (its first payment); o4 was created before the start
    # and o3 never paid. Refunds: o1 500 (after the end) + o2 990 + 1000.
    assert s1.figures() == {
        "order_count": 3, "items_sold": 4, "gmv": 6990, "refund_amount": 2490, "net_gmv": 4500,
    }  # fmt: skip
    assert s1.viewer_uv == 2  # u9 entered after the end
    assert s2.figures() == {
        "order_count": 2, "items_sold": 2, "gmv": 3500, "refund_amount": 1000, "net_gmv": 2500,
    }  # fmt: skip
    # The same readings as the session report.
    for s in (s1, s2):
        assert (s.gmv, s.refund_amount) == (
            report[s.session]["gmv"],
            report[s.session]["refund_amount"],
        )
    assert got.total.figures() == {
        "order_count": 5, "items_sold": 6, "gmv": 10490, "refund_amount": 3490, "net_gmv": 7000,
    }  # fmt: skip
    # p1: o1 3000 (500 back) + o6 1000 = net 3500; p2: o2 + o5 = 3990 - 1990 = 2000;
    # p3: 2500 - 1000 = 1500.
    assert [(p, s.gmv, s.refund_amount, s.net_gmv) for p, s in got.products] == [
        ("p1", 4000, 500, 3500),
        ("p2", 3990, 1990, 2000),
        ("p3", 2500, 1000, 1500),
    ]
    # Hours in Shanghai: s1's orders at 20:01-20:06, o6 at 23:50, o7 at 00:10.
    by_hour = {h: s.figures() for h, s in enumerate(got.hours) if s.order_count}
    assert by_hour == {
        20: {"order_count": 3, "items_sold": 4, "gmv": 6990, "refund_amount": 2490,
             "net_gmv": 4500},
        23: {"order_count": 1, "items_sold": 1, "gmv": 1000, "refund_amount": 0, "net_gmv": 1000},
        0: {"order_count": 1, "items_sold": 1, "gmv": 2500, "refund_amount": 1000,
            "net_gmv": 1500},
    }  # fmt: skip
    assert len(got.hours) == 24


def test_a_supplier_sees_only_its_products_sales_and_no_audience() -> None:
    with store_of(log()) as warehouse:
        got = cross.cross_sales(warehouse, products=["p2", "p3"])
    # s3 sold only p1: not the supplier's. In s1 only o2 and o5 (p2) are summed. The
    # shop's order o9 outside any session is left out.
    assert [(s.session, s.gmv, s.refund_amount, s.net_gmv, s.viewer_uv) for s in got.sessions] == [
        ("s1", 3990, 1990, 2000, None),
        ("s2", 2500, 1000, 1500, None),
    ]
    assert [p for p, _ in got.products] == ["p2", "p3"]
    assert got.total.net_gmv == 3500
    assert got.hours[20].gmv == 3990 and got.hours[0].gmv == 2500 and got.hours[23].gmv == 0


def test_sessions_before_the_period_and_empty_scopes_are_left_out() -> None:
    with store_of(log()) as warehouse:
        since = T0 + 3 * H * 1000
        got = cross.cross_sales(warehouse, sessions=["s1", "s2"], since_ms=since)
        assert [s.session for s in got.sessions] == ["s2"]
        assert [p for p, _ in got.products] == ["p3", "p1"]  # net 1500, then 1000
        assert cross.cross_sales(warehouse, sessions=[]).sessions == []
        assert cross.cross_sales(warehouse, products=["nothing"]).total.gmv == 0
        assert cross.session_window(warehouse, "s2") == (
            T0 + (3 * H + 45 * 60) * 1000,
            T0 + (4 * H + 15 * 60) * 1000,
        )
        assert cross.session_window(warehouse, "none") is None


def test_hours_of_the_day_are_shanghai_time() -> None:
    # 15:59:59.999 UTC is 23:59 in Shanghai, 16:00 UTC is midnight there.
    assert cross.hour_of_day(parse_ts(ev(3 * H + 3599.999, "live_start").ts)) == 23
    assert cross.hour_of_day(parse_ts(ev(4 * H, "live_start").ts)) == 0
    assert cross.hour_of_day(0) == 8
