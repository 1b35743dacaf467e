"""The Redis bus: any number of server processes share each topic.

Per topic, under ``<prefix>room:{<topic>}:`` (the braces are a Redis Cluster hash tag:
a topic's keys share a slot, so one script may touch them all): ``seq`` (INCR), ``buf``
(the replay list), ``keep:<name>`` (bounded lists such as the last comments), ``ctr`` (a
hash of counters), ``presence`` (a sorted set: member → lease expiry in ms), ``lead``
(the leadership lease), ``bucket:<key>`` (rate limits), ``claim:<name>`` (claim sets,
e.g. a coupon's claimants) and ``val:<name>`` (values such as mutes and the slow mode);
messages go out on the
channel ``<prefix>room:{<topic>}``.

Publishing is one Lua script — INCR, RPUSH + LTRIM, PUBLISH — so numbering, buffering and
delivery are atomic and every subscriber receives a topic's messages in sequence order,
whichever process published them. Reads that must agree with each other (the buffer
and the last number) are scripts too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from daihuo.core.bus.base import Bus, Handler, Unsubscribe

log = logging.getLogger("daihuo.bus")

PRESENCE_LEASE_MS = 10_000
SUBSCRIBE_TIMEOUT_S = 5.0
RETIRED_TTL_S = 3600

_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
local msg = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
if ARGV[4] == '1' then
  redis.call('RPUSH', KEYS[4], msg)
  redis.call('LTRIM', KEYS[4], -tonumber(ARGV[3]), -1)
end
redis.call('PUBLISH', KEYS[3], msg)
return seq
"""

_REPLAY = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = redis.call('LLEN', KEYS[2])
local first = last - n + 1
local after = tonumber(ARGV[1])
if after > last or after + 1 < first then return {-1} end
local items = redis.call('LRANGE', KEYS[2], after + 1 - first, -1)
table.insert(items, 1, last)
return items
"""

_KEPT = """
local out = {tonumber(redis.call('GET', KEYS[1]) or '0')}
for i = 2, #KEYS do
  local items = redis.call('LRANGE', KEYS[i], 0, -1)
  table.insert(out, #items)
  for _, item in ipairs(items) do table.insert(out, item) end
end
return out
"""

_LEAD = """
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# A token bucket on Redis's clock (TIME), so every process agrees on it. The time comes
# from the server; Redis replicates the script's effects, not the script.
_ALLOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(now - ts, 0) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return wait
"""

_FORGET = """
local removed = 0
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if string.find(item, ARGV[1], 1, true) then
    removed = removed + redis.call('LREM', KEYS[1], 1, item)
  end
end
return removed
"""

# A claim: one member at most once, never more members than the limit (one script, so
# no two processes can both take the last one).
_CLAIM = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
local n = redis.call('SCARD', KEYS[1])
if n >= tonumber(ARGV[2]) then return -1 end
redis.call('SADD', KEYS[1], ARGV[1])
return n + 1
"""

_PRESENT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


class RedisBus(Bus):
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "daihuo:",
        replay: int = 1000,
        keep: int = 30,
        presence_lease_ms: int = PRESENCE_LEASE_MS,
    ) -> None:
        self.redis = redis
        self.presence_lease_ms = presence_lease_ms
        self.prefix = prefix
        self.replay_size = replay
        self.keep_size = keep
        self._publish = redis.register_script(_PUBLISH)
        self._replay = redis.register_script(_REPLAY)
        self._kept = redis.register_script(_KEPT)
        self._lead = redis.register_script(_LEAD)
        self._present = redis.register_script(_PRESENT)
        self._allow = redis.register_script(_ALLOW)
        self._forget = redis.register_script(_FORGET)
        self._claim = redis.register_script(_CLAIM)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._handlers: dict[bytes, list[Handler]] = {}
        self._confirmed: dict[bytes, asyncio.Event] = {}
        self._lock = asyncio.Lock()

    def _key(self, topic: str, part: str) -> str:
        return f"{self.prefix}room:{{{topic}}}:{part}"

    def _channel(self, topic: str) -> bytes:
        return f"{self.prefix}room:{{{topic}}}".encode()

    async def publish(self, topic: str, body: bytes, *, keep: str | None = None) -> int:
        if not body.startswith(b"{") or body == b"{}":
            raise ValueError("a bus message is a JSON object with at least one key")
        keys: list[str | bytes] = [
            self._key(topic, "seq"),
            self._key(topic, "buf"),
            self._channel(topic),
            self._key(topic, f"keep:{keep or '-'}"),
        ]
        args: list[Any] = [body, self.replay_size, self.keep_size, "1" if keep else "0"]
        return int(await self._publish(keys=keys, args=args))

    async def subscribe(self, topic: str, handler: Handler) -> Unsubscribe:
        channel = self._channel(topic)
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self.redis.pubsub()
            handlers = self._handlers.setdefault(channel, [])
            handlers.append(handler)
            if len(handlers) == 1:
                confirmed = self._confirmed[channel] = asyncio.Event()
                await self._pubsub.subscribe(channel)
                if self._reader is None:
                    self._reader = asyncio.create_task(self._read(self._pubsub))
                # SUBSCRIBE only counts once Redis confirmed it: a message published in
                # between would otherwise be missed although its number is past a replay
                # or snapshot read after this returns.
                await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_TIMEOUT_S)

        async def unsubscribe() -> None:
            async with self._lock:
                handlers = self._handlers.get(channel, [])
                if handler in handlers:
                    handlers.remove(handler)
                if not handlers and channel in self._handlers:
                    del self._handlers[channel]
                    if self._pubsub is not None:
                        await self._pubsub.unsubscribe(channel)

        return unsubscribe

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            try:
                message = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis went away: redis-py reconnects and subscribes again on the next read.
                log.exception("bus subscription failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            if message.get("type") == "subscribe":
                confirmed = self._confirmed.pop(message["channel"], None)
                if confirmed is not None:
                    confirmed.set()
                continue
            if message.get("type") != "message":
                continue
            for handler in list(self._handlers.get(message["channel"], ())):
                try:
                    handler(message["data"])
                except Exception:
                    log.exception("bus handler failed")

    async def replay(self, topic: str, after: int) -> tuple[int, list[bytes]] | None:
        keys = [self._key(topic, "seq"), self._key(topic, "buf")]
        out = await self._replay(keys=keys, args=[after])
        if int(out[0]) < 0:
            return None
        return int(out[0]), list(out[1:])

    async def kept(self, topic: str, names: Sequence[str]) -> tuple[int, dict[str, list[bytes]]]:
        keys = [self._key(topic, "seq"), *(self._key(topic, f"keep:{n}") for n in names)]
        out = await self._kept(keys=keys)
        lists: dict[str, list[bytes]] = {}
        at = 1
        for name in names:
            count = int(out[at])
            lists[name] = list(out[at + 1 : at + 1 + count])
            at += 1 + count
        return int(out[0]), lists

    async def forget(self, topic: str, name: str, needle: bytes) -> int:
        return int(await self._forget(keys=[self._key(topic, f"keep:{name}")], args=[needle]))

    async def put(self, topic: str, name: str, value: int, ttl_ms: int | None = None) -> None:
        await self.redis.set(self._key(topic, f"val:{name}"), value, px=ttl_ms)

    async def get(self, topic: str, name: str) -> int | None:
        value = await self.redis.get(self._key(topic, f"val:{name}"))
        return int(value) if value is not None else None

    async def add(self, topic: str, counter: str, by: int) -> int:
        return int(await self.redis.hincrby(self._key(topic, "ctr"), counter, by))

    async def counter(self, topic: str, counter: str) -> int:
        value = await self.redis.hget(self._key(topic, "ctr"), counter)
        return int(value) if value is not None else 0

    async def claim(self, topic: str, name: str, member: str, limit: int) -> int:
        keys = [self._key(topic, f"claim:{name}")]
        return int(await self._claim(keys=keys, args=[member, limit]))

    async def unclaim(self, topic: str, name: str, member: str) -> None:
        await self.redis.srem(self._key(topic, f"claim:{name}"), member)

    async def allow(self, topic: str, key: str, burst: int, per_second: float) -> float:
        keys = [self._key(topic, f"bucket:{key}")]
        wait_ms = await self._allow(keys=keys, args=[burst, per_second / 1000])
        return int(wait_ms) / 1000

    async def join(self, topic: str, member: str) -> None:
        expiry = _now_ms() + self.presence_lease_ms
        await self.redis.zadd(self._key(topic, "presence"), {member: expiry})

    async def leave(self, topic: str, member: str) -> None:
        await self.redis.zrem(self._key(topic, "presence"), member)

    async def refresh(self, topic: str, members: Sequence[str]) -> None:
        if members:
            expiry = _now_ms() + self.presence_lease_ms
            await self.redis.zadd(self._key(topic, "presence"), dict.fromkeys(members, expiry))

    async def present(self, topic: str) -> int:
        return int(await self._present(keys=[self._key(topic, "presence")], args=[_now_ms()]))

    async def lead(self, topic: str, owner: str, ttl_ms: int) -> bool:
        return bool(await self._lead(keys=[self._key(topic, "lead")], args=[owner, ttl_ms]))

    async def retire(self, topic: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            # The braces of the hash tag are no glob characters: this matches the topic's keys.
            async for key in self.redis.scan_iter(match=self._key(topic, "*"), count=1000):
                pipe.expire(key, RETIRED_TTL_S)
            await pipe.execute()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None
        self._handlers.clear()
