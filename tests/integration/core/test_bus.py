"""The room bus contract, run against both implementations: in memory and real Redis
(DB of DAIHUO_TEST_REDIS_URL, keys under a fresh prefix that is deleted afterwards)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import AsyncIterator

import pytest

from daihuo.core.bus import Bus, MemoryBus, RedisBus, message_seq
from daihuo.core.redis import make_redis

from tests.conftest import REDIS_ENV


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    """Two buses on one shared state: two processes' view of it (memory: the same one)."""
    if request.param == "memory":
        bus = MemoryBus(replay=5, keep=3)
        yield bus, bus
        await bus.close()
        return
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests need {REDIS_ENV}")
    prefix = f"daihuo-test-{secrets.token_hex(4)}:"
    clients = [make_redis(url), make_redis(url)]
    pair = [RedisBus(c, prefix=prefix, replay=5, keep=3) for c in clients]
    yield pair[0], pair[1]
    for bus in pair:
        await bus.close()
    keys = [k async for k in clients[0].scan_iter(match=f"{prefix}*")]
    if keys:
        await clients[0].delete(*keys)
    for c in clients:
        await c.aclose()


def body(n: int) -> bytes:
    return json.dumps({"type": "t", "n": n}).encode()


async def settle(received: list[bytes], count: int) -> None:
    for _ in range(200):
        if len(received) >= count:
            return
        await asyncio.sleep(0.01)


async def test_concurrent_publishers_are_delivered_in_one_numbered_order(
    buses: tuple[Bus, Bus],
) -> None:
    a, b = buses
    got_a: list[bytes] = []
    got_b: list[bytes] = []
    unsub_a = await a.subscribe("room1", got_a.append)
    unsub_b = await b.subscribe("room1", got_b.append)
    seqs = await asyncio.gather(*(bus.publish("room1", body(n)) for n in range(40)
                                  for bus in (a, b)))  # fmt: skip
    assert sorted(seqs) == list(range(1, 81))
    await settle(got_a, 80)
    await settle(got_b, 80)
    assert got_a == got_b
    assert [message_seq(m) for m in got_a] == list(range(1, 81))
    assert json.loads(got_a[0])["seq"] == 1
    await unsub_a()
    await b.publish("room1", body(99))
    await settle(got_b, 81)
    await asyncio.sleep(0.05)
    assert len(got_a) == 80 and len(got_b) == 81
    await unsub_b()


async def test_replay_gives_what_is_buffered_or_says_it_is_gone(buses: tuple[Bus, Bus]) -> None:
    a, b = buses
    assert await a.replay("r", 0) == (0, [])
    for n in range(8):
        await a.publish("r", body(n), keep="comments" if n % 2 else None)
    last, msgs = await b.replay("r", 5) or (0, [])
    assert last == 8 and [message_seq(m) for m in msgs] == [6, 7, 8]
    assert await b.replay("r", 8) == (8, [])
    assert [message_seq(m) for m in (await b.replay("r", 3) or (0, []))[1]] == [4, 5, 6, 7, 8]
    assert await b.replay("r", 2) is None  # seq 3 has left the buffer of 5
    assert await b.replay("r", 9) is None  # from the future
    last, kept = await b.kept("r", ["comments", "none"])
    assert last == 8 and [message_seq(m) for m in kept["comments"]] == [4, 6, 8]  # last 3
    assert kept["none"] == []


async def test_counters_presence_and_leadership(buses: tuple[Bus, Bus]) -> None:
    a, b = buses
    assert await a.counter("r", "likes") == 0
    await asyncio.gather(*(bus.add("r", "likes", 3) for bus in (a, b) for _ in range(10)))
    assert await b.counter("r", "likes") == 60
    await a.join("r", "c1")
    await b.join("r", "c2")
    await b.join("r", "c2")
    assert await a.present("r") == 2
    await a.leave("r", "c1")
    assert await b.present("r") == 1
    assert await a.lead("r", "p1", 1000)
    assert await a.lead("r", "p1", 1000)  # kept by its owner
    leads = await b.lead("r", "p2", 1000)
    assert leads == isinstance(b, MemoryBus)  # in memory the only process always leads


# Only over Redis: presence leases are how a crashed process's members leave there.
@pytest.mark.parametrize("buses", ["redis"], indirect=True)
@pytest.mark.redis
async def test_a_crashed_processs_members_drop_out_after_their_lease(
    buses: tuple[Bus, Bus],
) -> None:
    a, b = buses
    assert isinstance(a, RedisBus) and isinstance(b, RedisBus)
    a.presence_lease_ms = b.presence_lease_ms = 200
    await a.join("r", "c1")
    await b.join("r", "c2")
    for _ in range(4):
        await asyncio.sleep(0.1)
        await b.refresh("r", ["c2"])  # b is alive, a stopped renewing
    assert await b.present("r") == 1


async def test_retiring_keeps_open_subscriptions_working(buses: tuple[Bus, Bus]) -> None:
    a, b = buses
    got: list[bytes] = []
    unsub = await b.subscribe("r", got.append)
    await a.add("r", "ended", 1)
    await a.publish("r", body(1))
    await a.retire("r")
    await settle(got, 1)
    assert [message_seq(m) for m in got] == [1]
    assert await b.counter("r", "ended") == 1
    await unsub()


async def test_a_rate_limit_is_shared_by_every_process(buses: tuple[Bus, Bus]) -> None:
    a, b = buses
    assert await a.allow("r", "comment:u1", 2, 1.0) == 0
    assert await b.allow("r", "comment:u1", 2, 1.0) == 0
    wait = await a.allow("r", "comment:u1", 2, 1.0)
    assert 0 < wait <= 1.0
    assert await b.allow("r", "comment:u2", 2, 1.0) == 0  # per key
    assert await b.allow("other", "comment:u1", 2, 1.0) == 0  # per topic
    await asyncio.sleep(wait + 0.05)
    assert await b.allow("r", "comment:u1", 2, 1.0) == 0  # refilled


async def test_values_expire_and_kept_messages_can_be_forgotten(buses: tuple[Bus, Bus]) -> None:
    a, b = buses
    assert await a.get("r", "slow_mode") is None
    await a.put("r", "slow_mode", 30)
    await a.put("r", "mute:u1", 1, ttl_ms=100)
    assert await b.get("r", "slow_mode") == 30
    assert await b.get("r", "mute:u1") == 1
    await asyncio.sleep(0.15)
    assert await b.get("r", "mute:u1") is None
    for n in range(3):
        body = json.dumps({"type": "c", "id": f"e{n}"}, separators=(",", ":")).encode()
        await a.publish("r", body, keep="comments")
    assert await b.forget("r", "comments", b'"id":"e1"') == 1
    assert await b.forget("r", "comments", b'"id":"e9"') == 0
    _, kept = await a.kept("r", ["comments"])
    assert [json.loads(m)["id"] for m in kept["comments"]] == ["e0", "e2"]
    _, replayed = await a.replay("r", 0) or (0, [])
    assert len(replayed) == 3  # history stays


async def test_claims_never_exceed_the_limit_nor_repeat_a_member_under_concurrency(
    buses: tuple[Bus, Bus],
) -> None:
    a, b = buses
    # 60 claims from two "processes" at once, 20 users each trying three times, limit 7.
    tries = [(bus, f"u{n % 20}") for n, bus in enumerate([a, b] * 30)]
    results = await asyncio.gather(*(bus.claim("r", "coupon:c1", u, 7) for bus, u in tries))
    taken = sorted(r for r in results if r > 0)
    assert taken == list(range(1, 8))  # each size handed out exactly once
    assert results.count(-1) + results.count(0) == len(tries) - 7
    assert await a.claim("r", "coupon:c1", "late", 7) == -1
    winners = [u for (_, u), r in zip(tries, results, strict=True) if r > 0]
    assert len(set(winners)) == 7
    assert await b.claim("r", "coupon:c1", winners[0], 7) == 0  # once per member
    await b.unclaim("r", "coupon:c1", winners[0])  # its claim failed further on
    assert await a.claim("r", "coupon:c1", "late", 7) == 7  # the freed place
    assert await a.claim("r", "coupon:c2", "late", 1) == 1  # sets are independent


async def test_a_crowd_joining_and_leaving_at_once_is_counted_without_errors(
    buses: tuple[Bus, Bus],
) -> None:
    """A stream's end lets thousands of viewers go in the same instant: every one of
    their presence updates lands, however many run at once (a pool that refused
    connections past its size left them counted as online)."""
    bus, _ = buses
    crowd = [f"v{n}" for n in range(2000)]
    await asyncio.gather(*(bus.join("room", v) for v in crowd))
    assert await bus.present("room") == len(crowd)
    await asyncio.gather(*(bus.leave("room", v) for v in crowd))
    assert await bus.present("room") == 0
