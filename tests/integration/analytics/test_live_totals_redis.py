"""The Redis totals (one Lua script per batch) equal the in-memory ones and the oracle:
the same state machine, shared by every server process."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from redis.asyncio import Redis

from daihuo.analytics.live import LiveFeed, MemoryTotals, RedisTotals
from daihuo.events.model import Event

from tests.integration.live.test_scale_out import redis_prefix  # noqa: F401 - the fixture
from tests.unit.analytics.live_oracle import check, server_order
from tests.unit.analytics.logs import T0, created, end, enter, ev, event_logs, leave, paid, refunded
from tests.unit.analytics.logs import start as live_start
from tests.unit.analytics.test_live import session_log

pytestmark = pytest.mark.redis


async def redis_snapshot(
    url: str, prefix: str, sid: str, batches: list[list[Event]], now_ms: int
) -> dict:  # type: ignore[type-arg]
    redis = Redis.from_url(url)
    try:
        store = RedisTotals(redis, prefix=prefix)
        for batch in batches:
            await store.apply(sid, batch)
        totals = await store.read(sid, now_ms)
        assert totals is not None
        return totals.snapshot(sid, now_ms)
    finally:
        await redis.aclose()


EDGES = [
    created(-5, "a", "early", amount=900),
    live_start(0),
    leave(1, "ghost"),
    enter(2, "a", eid="dup"),
    enter(2, "a", eid="dup"),
    enter(3, "a"),
    enter(4, "b"),
    ev(5, "like", user="a", count=3, eid="l1"),
    ev(5, "like", user="a", count=3, eid="l1"),
    ev(6, "comment", user="b", text="多少钱"),
    paid(7, "a", "early", amount=900),
    created(8, "a", "o1", product="p|1", amount=2000, qty=2),
    paid(9, "a", "o1", product="p|1", amount=2000, qty=2),
    paid(9.5, "a", "o1", product="p|1", amount=2000, qty=2),
    created(10, "b", "o2", product="p2", amount=500),
    paid(11, "b", "o2", product="p2", amount=500),
    refunded(12, "b", "o2", amount=200),
    ev(13, "product_click", user="a", product="p2"),
    leave(14, "a"),
    enter(70, "a"),
    end(150),
    refunded(86_400, "a", "o1", amount=2000),
]


async def test_redis_totals_equal_memory_totals_and_the_oracle(
    redis_prefix: tuple[str, str],  # noqa: F811
) -> None:
    url, prefix = redis_prefix
    ordered = server_order(EDGES)
    # In batches of three, as a feed applies them; re-sent ids in a later batch count once.
    batches = [ordered[i : i + 3] for i in range(0, len(ordered), 3)] + [ordered[3:6]]
    now = T0 + 200_000
    got = await redis_snapshot(url, prefix, "s", batches, now)
    memory = MemoryTotals()
    memory.apply_now("s", ordered)
    assert got == memory.sessions["s"].totals().snapshot("s", now)
    check(got, EDGES)
    assert got["gmv"] == 2500 and got["refund_amount"] == 200 + 2000
    assert got["top_products"][0]["product"] == "p|1"


async def test_a_feed_applies_what_the_sink_hands_it_in_batches(
    redis_prefix: tuple[str, str],  # noqa: F811
) -> None:
    url, prefix = redis_prefix
    redis = Redis.from_url(url)
    feed = LiveFeed(RedisTotals(redis, prefix=prefix), interval=0.02)
    await feed.start()
    try:
        ordered = server_order(EDGES)
        for event in ordered:
            feed.add([event])
        feed.add([ev(1, "enter", session="shop:t1", user="x", source="feed")])  # no feed
        for _ in range(100):
            if feed.applied == len(ordered):
                break
            await asyncio.sleep(0.02)
        snap = await feed.snapshot("s", T0 + 200_000)
        check(snap, EDGES)
        assert snap["state"] == "ended"
        assert (await feed.snapshot("shop:t1"))["state"] == "waiting"
    finally:
        await feed.stop()
        await redis.aclose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(event_logs(max_events=30))
def test_redis_totals_equal_the_oracle_on_random_logs(
    redis_prefix: tuple[str, str],  # noqa: F811
    log: list[Event],
) -> None:
    url, prefix = redis_prefix
    for sid in {e.session for e in log}:
        events = session_log(log, sid)
        if events is None:
            continue
        ordered = server_order(events)
        key = f"{sid}-{secrets.token_hex(4)}"
        ordered = [e._replace(session=key) for e in ordered]
        now = max(e.ts_ms for e in ordered)
        got = asyncio.run(redis_snapshot(url, prefix, key, [ordered[:5], ordered[5:]], now))
        got["session"] = sid
        check(got, events)


async def test_events_wait_while_redis_is_unreachable_and_apply_once_it_answers(
    redis_prefix: tuple[str, str],  # noqa: F811
) -> None:
    url, prefix = redis_prefix
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    live = Redis.from_url(url)
    ordered = server_order(EDGES)
    feed = LiveFeed(RedisTotals(dead, prefix=prefix), max_pending=len(ordered) + 2)
    try:
        feed.add(ordered)
        await feed.flush()  # refused: nothing is lost
        assert feed.applied == 0 and feed.dropped == 0
        feed.add(
            [ev(200, "comment", user="late", text="晚到的评论", eid=f"c{i}") for i in range(5)]
        )
        assert feed.dropped == 3  # over the bound, the oldest go
        feed.store = RedisTotals(live, prefix=prefix)  # Redis is back
        await feed.flush()
        assert feed.applied == len(ordered) + 5 - 3
        snap = await feed.snapshot("s", T0 + 200_000)
        assert snap["state"] == "ended"
    finally:
        await dead.aclose()
        await live.aclose()
