"""The room's triage state in Redis equals the in-process one, for the same comments applied
in several batches with repeated ids (two processes sharing Redis count an id once)."""

from __future__ import annotations

import os
import secrets

import pytest
from redis.asyncio import Redis

from daihuo.assistant.room import QUEUE, MemoryTriage, RedisTriage, Triaged

from tests.conftest import REDIS_ENV
from tests.integration.live.rooms import flush_prefix

pytestmark = pytest.mark.redis

INTENTS = ("purchase_intent", "question", "after_sales", "praise_chat", "spam_abuse")


def comments(n: int) -> list[Triaged]:
    out = []
    for k in range(n):
        intent = INTENTS[k % 5]
        slot = (k % 3) + 1 if k % 2 else None
        out.append(
            Triaged(f"evt_{k}", 1_800_000_000_000 + k * 1_700, f"usr_{k % 7}", f"第{k}条",
                    intent, slot, 0.5 + (k % 5) / 10)
        )  # fmt: skip
    return out


async def test_redis_state_equals_memory_state() -> None:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests need {REDIS_ENV}")
    prefix = f"daihuo-test-{secrets.token_hex(4)}:"
    redis = Redis.from_url(url)
    try:
        a, b = RedisTriage(redis, prefix=prefix), RedisTriage(redis, prefix=prefix)
        memory = MemoryTriage()
        items = comments(120)
        batches = [items[:50], items[30:90], items[80:], items[:10]]  # overlapping ids
        for n, batch in enumerate(batches):
            await (a if n % 2 else b).apply("lsn_1", batch)
            await memory.apply("lsn_1", batch)
        got, want = await a.read("lsn_1"), await memory.read("lsn_1")
        assert got == want
        assert sum(got.counts.values()) == 120
        assert len(got.questions) == QUEUE and got.questions[0]["id"] == "evt_116"
        ttl = await redis.ttl(f"{prefix}triage:lsn_1:counts")
        assert 0 < ttl <= 2 * 24 * 3600
    finally:
        await redis.aclose()
        flush_prefix(url, prefix)
