"""The live totals (analytics/live.py) equal the oracle's report of the same events."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings

from daihuo.analytics.live import MemoryTotals
from daihuo.events.model import Event

from tests.unit.analytics.live_oracle import check, server_order
from tests.unit.analytics.logs import (
    T0,
    created,
    end,
    enter,
    ev,
    event_logs,
    leave,
    paid,
    refunded,
    start,
)


def feed_of(events: list[Event], now_s: float = 10_000) -> dict:  # type: ignore[type-arg]
    store = MemoryTotals()
    store.apply_now("s", events)
    totals = store.sessions["s"].totals()
    return totals.snapshot("s", T0 + int(now_s * 1000))


def test_duplicates_count_once_and_leave_without_enter_changes_nothing() -> None:
    log = [
        start(0),
        leave(1, "ghost"),  # never entered
        enter(2, "a", eid="x1"),
        enter(2, "a", eid="x1"),  # the same event delivered twice
        enter(3, "a"),  # already in the room: a viewer, not a view
        enter(4, "b"),
        ev(5, "like", user="a", count=3, eid="l1"),
        ev(5, "like", user="a", count=3, eid="l1"),
        ev(6, "comment", user="b", text="多少钱"),
        leave(7, "a"),
        enter(70, "a"),  # a second view, in minute 1
    ]
    snap = feed_of(log, now_s=80)
    assert snap["views_pv"] == 3 and snap["viewer_uv"] == 2 and snap["pcu"] == 2
    assert snap["online"] == 2 and snap["like_count"] == 3 and snap["comment_count"] == 1
    assert [m["views"] for m in snap["minutes"]] == [2, 1]
    assert snap["last_minute"] == {
        "minute": 0, "online": 0, "views": 2, "comments": 1, "likes": 3, "orders": 0, "gmv": 0,
    }  # fmt: skip
    check(snap, server_order(log))


def test_orders_count_by_creation_in_the_window_and_refunds_add_up() -> None:
    log = [
        created(-5, "a", "early", amount=900),  # before the start: never counted
        start(0),
        enter(1, "a"),
        enter(1, "b"),
        paid(2, "a", "early", amount=900),
        created(3, "a", "o1", product="p1", amount=2000, qty=2),
        paid(4, "a", "o1", product="p1", amount=2000, qty=2),
        paid(4.5, "a", "o1", product="p1", amount=2000, qty=2),  # a re-sent callback
        created(5, "b", "o2", product="p2", amount=500),
        paid(6, "b", "o2", product="p2", amount=500),
        refunded(7, "b", "o2", amount=200),
        refunded(8, "b", "o2", amount=100),  # partial refunds add up
        ev(9, "product_click", user="a", product="p2"),
        ev(9.5, "product_click", user="b", product="p2"),
        created(10, "b", "unpaid", product="p3"),
        end(120),
        refunded(86_400, "a", "o1", amount=2000),  # a day later
    ]
    snap = feed_of(log)
    assert snap["state"] == "ended"
    assert snap["gmv"] == 2500 and snap["order_count"] == 2 and snap["buyer_uv"] == 2
    assert snap["items_sold"] == 3 and snap["refund_amount"] == 2300
    assert snap["conversion_rate"] == 1.0
    assert [p["product"] for p in snap["top_products"]] == ["p1", "p2"]
    assert snap["top_products"][1]["click_uv"] == 2
    check(snap, server_order(log))


def test_a_payment_that_arrives_before_its_order_waits_for_it() -> None:
    # Several processes: the payment's batch can reach the totals before the order's.
    log = [start(0), enter(1, "a"), paid(3, "a", "o1", amount=700)]
    log.append(created(2, "a", "o1", amount=700))
    store = MemoryTotals()
    store.apply_now("s", log)
    assert store.sessions["s"].gmv == 700 and store.sessions["s"].orders == 1


def test_top_products_rank_by_gmv_then_clicks() -> None:
    log = [start(0)]
    for n, user in enumerate(("a", "b", "c")):
        log.append(ev(1 + n, "product_click", user=user, product="many-clicks"))
    log.append(ev(5, "product_click", user="a", product="one-click"))
    log += [created(6, "a", "o1", product="sold"), paid(7, "a", "o1", product="sold", amount=1)]
    snap = feed_of(log)
    assert [p["product"] for p in snap["top_products"]] == ["sold", "many-clicks", "one-click"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(max_events=40))
def test_live_totals_equal_the_oracle_on_random_logs(log: list[Event]) -> None:
    for sid in {e.session for e in log}:
        events = session_log(log, sid)
        if events is None:
            continue
        ordered = server_order(events)
        store = MemoryTotals()
        store.apply_now(sid, ordered)
        snap = store.sessions[sid].totals().snapshot(sid, max(e.ts_ms for e in ordered))
        check(snap, events)


def session_log(log: list[Event], sid: str) -> list[Event] | None:
    """One session of a random log as a live session has it: a live_start, and one
    live_end (added after the last event when missing: the report of an unfinished
    session ends at its last event, which the feed, still running, does not). None
    when the log cannot be a server's (several ends, an end before the start)."""
    events = [e for e in log if e.session == sid]
    kept = server_order(events)
    starts = [e.ts_ms for e in kept if e.type == "live_start"]
    ends = {e.ts_ms for e in kept if e.type == "live_end"}
    if not starts or len(ends) > 1 or (ends and min(ends) < min(starts)):
        return None
    if not ends:
        last = max(e.ts_ms for e in kept if e.type not in ("order_paid", "order_refunded"))
        events.append(ev((last + 1 - T0) / 1000, "live_end", session=sid, eid=f"end-{sid}"))
        ends = {last + 1}
    # An enter in the very millisecond of the end: the report keeps it out of the PCU
    # (everybody leaves at the end); the feed counts it if it came first.
    assume(not any(e.type == "enter" and e.ts_ms in ends for e in kept))
    return events


def test_a_server_forgets_sessions_long_ended_when_new_ones_start() -> None:
    store = MemoryTotals(keep_ms=60_000)
    store.apply_now("old", [start(0, session="old"), end(10, session="old")])
    store.apply_now("recent", [start(20, session="recent"), end(100, session="recent")])
    store.apply_now("new", [start(120, session="new")])
    assert set(store.sessions) == {"recent", "new"}
