"""The realtime bus of the live rooms: fan-out, replay, presence and counters per topic.

One interface (:class:`~daihuo.core.bus.base.Bus`), two implementations: in-process
(:class:`~daihuo.core.bus.memory.MemoryBus`, the default) and Redis
(:class:`~daihuo.core.bus.redis.RedisBus`, when ``DAIHUO_REDIS_URL`` is set) so that any
number of server processes serve the same topic.
"""

from __future__ import annotations

from redis.asyncio import Redis

from daihuo.core.bus.base import Bus, Handler, Unsubscribe, message_seq
from daihuo.core.bus.memory import MemoryBus
from daihuo.core.bus.redis import RedisBus

__all__ = ["Bus", "Handler", "MemoryBus", "RedisBus", "Unsubscribe", "make_bus", "message_seq"]


def make_bus(
    redis: Redis | None, *, prefix: str, replay: int, keep: int, presence_lease_ms: int
) -> Bus:
    """Redis when configured, else the in-process bus."""
    if redis is None:
        return MemoryBus(replay=replay, keep=keep)
    return RedisBus(
        redis, prefix=prefix, replay=replay, keep=keep, presence_lease_ms=presence_lease_ms
    )
