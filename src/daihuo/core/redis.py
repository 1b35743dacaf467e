"""Redis connection for the scale-out backends (bus, presence, counters)."""

from __future__ import annotations

from redis.asyncio import Redis


def make_redis(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=False, socket_connect_timeout=2)


async def ping(client: Redis) -> None:
    await client.ping()
