"""The in-process bus: one server process does everything in memory (the default)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from daihuo.core.bus.base import Bus, Handler, Unsubscribe, with_seq

log = logging.getLogger("daihuo.bus")


@dataclass
class _Topic:
    seq: int = 0
    buffer: deque[bytes] = field(default_factory=deque)
    kept: dict[str, deque[bytes]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    members: set[str] = field(default_factory=set)
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, stamp
    claims: dict[str, set[str]] = field(default_factory=dict)
    values: dict[str, tuple[int, float | None]] = field(default_factory=dict)  # value, expiry
    handlers: list[Handler] = field(default_factory=list)
    retired: bool = False


class MemoryBus(Bus):
    def __init__(self, *, replay: int = 1000, keep: int = 30) -> None:
        self.replay_size = replay
        self.keep_size = keep
        self._topics: dict[str, _Topic] = defaultdict(_Topic)

    async def publish(self, topic: str, body: bytes, *, keep: str | None = None) -> int:
        t = self._topics[topic]
        t.seq += 1
        message = with_seq(t.seq, body)
        t.buffer.append(message)
        if len(t.buffer) > self.replay_size:
            t.buffer.popleft()
        if keep is not None:
            kept = t.kept.setdefault(keep, deque(maxlen=self.keep_size))
            kept.append(message)
        for handler in list(t.handlers):
            try:
                handler(message)
            except Exception:  # one subscriber's bug must not stop the others
                log.exception("bus handler failed")
        return t.seq

    async def subscribe(self, topic: str, handler: Handler) -> Unsubscribe:
        t = self._topics[topic]
        t.handlers.append(handler)

        async def unsubscribe() -> None:
            if handler in t.handlers:
                t.handlers.remove(handler)
            if t.retired and not t.handlers and self._topics.get(topic) is t:
                del self._topics[topic]

        return unsubscribe

    async def replay(self, topic: str, after: int) -> tuple[int, list[bytes]] | None:
        t = self._topics[topic]
        first = t.seq - len(t.buffer) + 1
        if after > t.seq or after + 1 < first:
            return None
        return t.seq, list(t.buffer)[after + 1 - first :]

    async def kept(self, topic: str, names: Sequence[str]) -> tuple[int, dict[str, list[bytes]]]:
        t = self._topics[topic]
        return t.seq, {name: list(t.kept.get(name, ())) for name in names}

    async def forget(self, topic: str, name: str, needle: bytes) -> int:
        kept = self._topics[topic].kept.get(name)
        if not kept:
            return 0
        keep = [m for m in kept if needle not in m]
        removed = len(kept) - len(keep)
        kept.clear()
        kept.extend(keep)
        return removed

    async def put(self, topic: str, name: str, value: int, ttl_ms: int | None = None) -> None:
        expiry = time.monotonic() + ttl_ms / 1000 if ttl_ms is not None else None
        self._topics[topic].values[name] = (value, expiry)

    async def get(self, topic: str, name: str) -> int | None:
        values = self._topics[topic].values
        found = values.get(name)
        if found is None:
            return None
        if found[1] is not None and found[1] <= time.monotonic():
            del values[name]
            return None
        return found[0]

    async def add(self, topic: str, counter: str, by: int) -> int:
        counters = self._topics[topic].counters
        counters[counter] += by
        return counters[counter]

    async def counter(self, topic: str, counter: str) -> int:
        return self._topics[topic].counters[counter]

    async def claim(self, topic: str, name: str, member: str, limit: int) -> int:
        # No await between the check and the add: atomic on the event loop.
        members = self._topics[topic].claims.setdefault(name, set())
        if member in members:
            return 0
        if len(members) >= limit:
            return -1
        members.add(member)
        return len(members)

    async def unclaim(self, topic: str, name: str, member: str) -> None:
        self._topics[topic].claims.get(name, set()).discard(member)

    async def allow(self, topic: str, key: str, burst: int, per_second: float) -> float:
        buckets = self._topics[topic].buckets
        now = time.monotonic()
        tokens, stamp = buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - stamp) * per_second)
        if tokens >= 1:
            buckets[key] = (tokens - 1, now)
            return 0.0
        buckets[key] = (tokens, now)
        return (1 - tokens) / per_second

    async def join(self, topic: str, member: str) -> None:
        self._topics[topic].members.add(member)

    async def leave(self, topic: str, member: str) -> None:
        self._topics[topic].members.discard(member)

    async def refresh(self, topic: str, members: Sequence[str]) -> None:
        return None  # nothing can crash away from one process's memory

    async def present(self, topic: str) -> int:
        return len(self._topics[topic].members)

    async def lead(self, topic: str, owner: str, ttl_ms: int) -> bool:
        return True  # the only process leads

    async def retire(self, topic: str) -> None:
        # Delivery is synchronous here: whatever was published is with the subscribers.
        t = self._topics.pop(topic, None)
        if t is not None and t.handlers:
            # Rooms still open on the topic keep their subscription (and the end flag).
            t.buffer.clear()
            t.kept.clear()
            t.retired = True
            self._topics[topic] = t

    async def close(self) -> None:
        for t in self._topics.values():
            t.handlers.clear()
