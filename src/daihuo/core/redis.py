"""Redis connection for the scale-out backends (bus, presence, counters)."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

# Connections one process opens to Redis at most. Commands beyond them wait for a free
# connection (up to POOL_WAIT_S) instead of failing: redis-py's default pool refuses the
# 101st concurrent command with MaxConnectionsError, and a crowd leaving a room at once
# (the stream ends) runs thousands of presence updates together.
POOL_SIZE = 64
POOL_WAIT_S = 10.0


def make_redis(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=POOL_WAIT_S,
        decode_responses=False,
        socket_connect_timeout=2,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections


async def ping(client: Redis) -> None:
    await client.ping()
