"""The report engines against shared/spec/metrics.md: hand-worked logs (each answer
derived in the comments, each checked on DuckDB and on chDB), the worked example of the
spec, and random logs on which DuckDB must equal the plain-Python oracle exactly (chDB's
property test is tests/integration/analytics/test_engine_clickhouse.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from daihuo.analytics import engine, reference
from daihuo.events.model import Event
from daihuo.events.parse import load_events

from tests.unit.analytics.logs import (
    created,
    end,
    enter,
    ev,
    event_logs,
    impression,
    leave,
    paid,
    refunded,
    start,
    store_of,
)

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
EXAMPLES = SHARED / "spec" / "examples"
RATIOS = (
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
)


ENGINE_URLS = ("duckdb:///:memory:", "chdb:///:memory:")


def engine_report(events: list[Event]) -> dict[str, Any]:
    """The engines' report of a log (file order kept), checked equal to the oracle's."""
    expected = reference.report(events)
    for url in ENGINE_URLS:
        with store_of(events, url) as warehouse:
            got = engine.report(warehouse)
        assert got == expected, url
    return got


def figures(events: list[Event], session: str = "s") -> dict[str, Any]:
    return engine_report(events)["sessions"][session]


# --- ordering and clean-up ---------------------------------------------------------------


def test_leaves_go_before_enters_at_the_same_millisecond() -> None:
    r = figures(
        [
            start(0),
            enter(0, "a"),
            enter(10, "b"),
            enter(30, "c"),
            leave(30, "a"),  # written after c's enter, processed before it
            leave(30, "b"),
            enter(30, "b"),  # b back at once: the leave went first, so a new stay
            end(60),
        ]
    )
    # At 30 the leaves of a and b go first, then c and b enter: 2 in the room. With the
    # enters first it would have been a, b, c = 3, and b's second enter ignored.
    assert r["pcu"] == 2
    assert r["views_pv"] == 4  # a, b, c, b again
    assert r["viewer_uv"] == 3
    # a 0..30, b 10..30, c 30..60, b 30..60
    assert r["total_watch_seconds"] == 110.0
    assert r["acu"] == pytest.approx(110 / 60)
    assert r["avg_watch_seconds"] == pytest.approx(110 / 3)
    assert r["online_per_minute"] == [1]  # instant 0 only: a
    assert r["new_viewers_per_minute"] == [4]


def test_a_repeated_id_counts_once_and_the_first_line_wins() -> None:
    events = [
        start(0),
        ev(5, "like", eid="L", user="u1", count=3),
        ev(6, "like", eid="L", user="u2", count=9),  # same id: the same like, dropped
        enter(40, "u1", eid="E"),
        enter(10, "u1", eid="E"),  # earlier ts but a later line: dropped
        ev(20, "comment", eid="C", session="other", user="u3", text="hi"),
        ev(21, "comment", eid="C", user="u4", text="hi"),  # same id, other session: dropped
        end(60),
    ]
    report = engine_report(events)
    s = report["sessions"]["s"]
    assert (s["like_count"], s["interaction_uv"], s["comment_count"]) == (3, 1, 0)
    assert (s["views_pv"], s["total_watch_seconds"]) == (1, 20.0)  # u1 40..60
    # "other" has one comment at 20: its window is [20, 20], a session of no length
    other = report["sessions"]["other"]
    assert (other["duration_seconds"], other["comment_count"]) == (0.0, 1)
    assert (other["interaction_rate"], other["acu"]) == (None, None)  # 1 ÷ 0 viewers; ÷ 0 s
    assert list(report["sessions"]) == ["other", "s"]


def test_enter_twice_is_one_view_and_leave_without_enter_changes_nothing() -> None:
    r = figures(
        [
            start(0),
            leave(5, "u1"),  # not in the room: nothing
            enter(10, "u1", "feed"),
            enter(20, "u1", "search"),  # already in: not a view, but a viewer via search
            leave(40, "u1"),
            leave(50, "u1"),  # already out: nothing
            end(60),
        ]
    )
    assert (r["views_pv"], r["viewer_uv"], r["pcu"]) == (1, 1, 1)
    assert r["total_watch_seconds"] == 30.0  # 10..40
    assert r["sources"] == {
        "feed": {"exposure_uv": 0, "viewer_uv": 1},
        "search": {"exposure_uv": 0, "viewer_uv": 1},
    }


# --- orders ------------------------------------------------------------------------------------


def test_orders_count_by_their_creation_in_the_window_and_settle_at_any_time() -> None:
    r = figures(
        [
            start(0),
            enter(0, "b2"),
            enter(0, "b3"),
            # o1: created before the start, paid inside: not an order of this session
            created(-60, "b1", "o1", amount=500),
            paid(30, "b1", "o1", amount=500),
            # o2: created inside, paid after the end, refunded twice days later: counts
            created(100, "b2", "o2", product="p2", qty=2, amount=3000),
            paid(400, "b2", "o2", product="p2", qty=2, amount=3000),
            refunded(3 * 86_400, "b2", "o2", 1000),
            refunded(4 * 86_400, "b2", "o2", 500),
            # o3: created inside, never paid; its refund counts nowhere
            created(200, "b3", "o3", amount=800),
            refunded(250, "b3", "o3", 800),
            # o4: created after the end
            created(310, "b4", "o4"),
            paid(320, "b4", "o4"),
            # o5: paid twice (a re-sent callback with other figures): the first payment
            created(250, "b2", "o5", amount=700),
            paid(260, "b2", "o5", amount=700),
            paid(261, "b3", "o5", qty=5, amount=9999),
            end(300),
        ]
    )
    assert (r["order_count"], r["buyer_uv"], r["items_sold"]) == (2, 1, 3)  # o2, o5 by b2
    assert (r["gmv"], r["refund_amount"]) == (3700, 1500)
    assert r["refund_rate"] == pytest.approx(1500 / 3700)
    assert r["conversion_rate"] == 0.5  # 1 buyer ÷ 2 viewers
    assert r["gpm"] == 1_850_000.0  # 3700 ÷ 2 views × 1000
    assert (r["uv_value"], r["aov"]) == (1850.0, 3700.0)
    assert r["gmv_per_minute"] == [0, 3000, 0, 0, 700]  # o2 at 100 s, o5 at 250 s
    assert r["products"] == [
        # p1: o3 (unpaid) and o5 were created in the window; o1 and o4 were not
        {"product": "p1", "impression_uv": 0, "click_uv": 0, "ctr": None, "order_count": 1,
         "items_sold": 1, "gmv": 700, "refund_amount": 0},
        {"product": "p2", "impression_uv": 0, "click_uv": 0, "ctr": None, "order_count": 1,
         "items_sold": 2, "gmv": 3000, "refund_amount": 1500},
    ]  # fmt: skip
    # both viewers stay until the end: 2 × 300 s
    assert (r["total_watch_seconds"], r["acu"], r["online_per_minute"]) == (
        600.0,
        2.0,
        [2, 2, 2, 2, 2],
    )


def test_sums_beyond_64_bits_are_exact() -> None:
    # the contract allows any 64-bit count, qty or amount: two of 2**62 make 2**63, one
    # past the largest 64-bit integer (ClickHouse would wrap to -2**63 without Int128)
    big = 2**62
    r = figures(
        [
            start(0),
            ev(1, "like", user="u", count=big),
            ev(2, "like", user="v", count=big),
            created(3, "u", "o1", qty=big, amount=big),
            paid(4, "u", "o1", qty=big, amount=big),
            created(5, "u", "o2", qty=big, amount=big),
            paid(6, "u", "o2", qty=big, amount=big),
            refunded(7, "u", "o1", big),
            refunded(8, "u", "o1", big),
            end(60),
        ]
    )
    assert r["like_count"] == r["items_sold"] == r["gmv"] == r["refund_amount"] == 2**63
    assert r["gmv_per_minute"] == [2**63]
    assert r["aov"] == float(2**63) and r["refund_rate"] == 1.0
    [product] = r["products"]
    assert (product["items_sold"], product["gmv"], product["refund_amount"]) == (2**63,) * 3


# --- curves, funnel, products, sources ------------------------------------------------------


def test_pcu_peaks_inside_a_second_and_across_seconds() -> None:
    # The peak is counted per second first, then instant by instant where it could be
    # higher: here the level is 0 at the end of second 10 but 3 inside it.
    log = [
        start(0),
        enter(10.1, "u1"),
        enter(10.2, "u2"),
        enter(10.2, "u3"),
        leave(10.2, "u1"),  # leaves first at 10.2: 1, then 2 -> 3 is never reached there
        enter(10.3, "u1"),  # 3 at 10.3
        leave(10.4, "u1"),
        leave(10.5, "u2"),
        leave(10.9, "u3"),  # 0 again before 11
        enter(20, "u4"),
        enter(21.5, "u5"),  # 2 from 21.5 on, at a second's end too
        end(60),
    ]
    assert figures(log)["pcu"] == 3
    # A peak held across seconds, reached exactly at a second's end.
    log = [start(0), enter(5, "a"), enter(6, "b"), leave(7.5, "a"), end(60)]
    assert figures(log)["pcu"] == 2
    # Everyone leaving and entering at one instant: leaves first, so no double count.
    log = [start(0), enter(5, "a"), leave(9, "a"), enter(9, "b"), end(60)]
    assert figures(log)["pcu"] == 1


def test_minute_curves_count_instants_and_half_open_minutes() -> None:
    r = figures(
        [
            start(0),
            enter(0, "a"),
            leave(60, "a"),  # out at exactly 60: counted at 0, not at 60
            enter(60, "b"),  # counted at 60 and 120, stays to the end
            enter(119.999, "c"),
            leave(120, "c"),  # in for 1 ms, between two instants: never on the curve
            enter(180, "d"),  # at live_end: a view, no watch time, in no minute
            end(180),
        ]
    )
    assert r["online_per_minute"] == [1, 1, 1]  # instants 0, 60, 120
    assert r["new_viewers_per_minute"] == [1, 2, 0]  # a | b, c | -
    assert r["views_pv"] == 4
    assert r["pcu"] == 2  # b and c at 119.999
    assert r["total_watch_seconds"] == pytest.approx(180.001)  # 60 + 120 + 0.001 + 0


def test_funnel_products_and_sources_count_users() -> None:
    r = figures(
        [
            impression(-5, "u9", "share"),  # before the start: no "share" row
            start(0),
            impression(1, "u1", "feed"),
            impression(2, "u1", "search"),
            impression(3, "u2", "feed"),
            enter(4, "u1", "search"),
            enter(5, "u3", "ads"),
            ev(6, "product_impression", user="u1", product="p1"),
            ev(7, "product_impression", user="u2", product="p1"),
            ev(8, "product_impression", user="u1", product="p2"),
            ev(9, "product_click", user="u2", product="p1"),
            ev(10, "cart_add", user="u4", product="p3", qty=2),
            end(60),
        ]
    )
    assert (r["exposure_uv"], r["viewer_uv"]) == (2, 2)  # {u1, u2}; {u1, u3}
    assert r["entry_rate"] == 0.5  # {u1} ÷ 2
    assert r["sources"] == {
        "ads": {"exposure_uv": 0, "viewer_uv": 1},
        "feed": {"exposure_uv": 2, "viewer_uv": 0},
        "search": {"exposure_uv": 1, "viewer_uv": 1},
    }
    assert (r["product_impression_uv"], r["product_click_uv"], r["cart_uv"]) == (2, 1, 1)
    assert r["product_ctr"] == 0.5
    assert [(p["product"], p["impression_uv"], p["click_uv"], p["ctr"]) for p in r["products"]] == [
        ("p1", 2, 1, 0.5),
        ("p2", 1, 0, 0.0),
        ("p3", 0, 0, None),
    ]
    assert r["funnel"] == [2, 2, 2, 1, 1, 0]
    assert (r["interaction_uv"], r["interaction_rate"]) == (0, 0.0)


# --- windows and degenerate sessions -----------------------------------------------------------


def test_empty_session_has_zeros_and_null_ratios() -> None:
    r = figures([start(0), end(150)])
    assert r["duration_seconds"] == 150.0
    assert r["online_per_minute"] == r["new_viewers_per_minute"] == r["gmv_per_minute"] == [0] * 3
    assert (r["pcu"], r["total_watch_seconds"], r["acu"]) == (0, 0.0, 0.0)  # acu: 0 ÷ 150 s
    assert all(r[key] is None for key in RATIOS if key != "acu")
    assert (r["funnel"], r["products"], r["sources"]) == ([0] * 6, [], {})


def test_session_of_settlements_only_spans_them() -> None:
    # no live_start, no live_end and nothing but payments: the window is their span
    r = figures([paid(10, "u1", "o1"), refunded(20, "u1", "o1", 1000)])
    assert (r["duration_seconds"], r["online_per_minute"]) == (10.0, [0])
    assert (r["order_count"], r["gmv"], r["refund_amount"]) == (0, 0, 0)  # never created


def test_missing_live_end_ends_at_the_last_room_event_not_a_late_payment() -> None:
    r = figures([enter(10, "u1"), ev(50, "comment", user="u1", text="好"), paid(500, "u1", "o1")])
    assert r["duration_seconds"] == 40.0  # 10..50
    assert r["total_watch_seconds"] == 40.0
    assert (r["acu"], r["online_per_minute"]) == (1.0, [1])


def test_zero_length_session_has_no_minutes_and_nobody_online() -> None:
    r = figures([start(0), enter(0, "u1"), end(0)])
    assert (r["duration_seconds"], r["online_per_minute"], r["acu"]) == (0.0, [], None)
    # u1 enters at the end: a view, but online never (entered <= t < left is empty)
    assert (r["views_pv"], r["pcu"], r["total_watch_seconds"], r["avg_watch_seconds"]) == (
        1,
        0,
        0.0,
        0.0,
    )


@pytest.mark.parametrize("url", ENGINE_URLS)
def test_report_of_named_sessions_and_of_an_unknown_one(url: str) -> None:
    events = [start(0, session="a"), end(60, session="a"), start(0, session="b"), end(30)]
    with store_of(events, url) as warehouse:
        assert list(engine.report(warehouse, ["b"])["sessions"]) == ["b"]
        assert list(engine.report(warehouse)["sessions"]) == ["a", "b", "s"]
        assert engine.session_report(warehouse, "nope") is None
        one = engine.session_report(warehouse, "a")
        assert one is not None and one["duration_seconds"] == 60.0


# --- the worked example --------------------------------------------------------------------------


def assert_matches(actual: Any, expected: Any, where: str = "report") -> None:
    """Same keys in the same order, same types, floats approximately equal."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), where
        for key, value in expected.items():
            assert_matches(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) or isinstance(actual, float):
        # also covers the example's `"total_watch_seconds": 0` for session B, which the
        # spec ("Seconds are floats") makes 0.0
        assert actual == pytest.approx(expected), where
        assert type(actual) is float, where
    else:
        assert actual == expected and type(actual) is type(expected), where


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"shared spec folder {EXAMPLES} is absent")
def test_worked_example_gives_the_spec_report() -> None:
    events, summary = load_events(EXAMPLES / "edge-cases.events.jsonl")
    assert (summary.rejected, summary.duplicates) == (0, 1)
    expected = json.loads((EXAMPLES / "edge-cases.report.json").read_text(encoding="utf-8"))
    assert_matches(engine_report(events), expected)


# --- random logs: the engine is the oracle ------------------------------------------------


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(event_logs())
def test_engine_equals_the_reference_on_random_logs(log: list[Event]) -> None:
    with store_of(log) as warehouse:
        got = engine.report(warehouse)
        assert got == reference.report(log)  # exactly: same keys, order, types and floats
        for session, figures_ in got["sessions"].items():
            assert engine.session_report(warehouse, session) == figures_
