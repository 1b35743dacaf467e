"""Comment triage in the room, in real time: per-session state for the host's assistant.

Every event the server accepts passes through ``EventSink.record``; the sink hands the
accepted batch to :meth:`TriageFeed.add` (as it does to the analytics ``LiveFeed``).
``add`` only keeps the comments (never waits); a background task takes them every
``interval`` seconds, classifies them in a worker thread (``triage.classify``: the
model trains there on first use, never on the event loop or in the recording thread)
and folds the verdicts into the session's state:

* ``counts``: comments so far by intent;
* ``questions`` and ``complaints`` (after-sales): the latest ``QUEUE`` of each, newest
  first, with the link number a comment names (``slot``);
* purchase intents that name a link number, counted by number (``slots``), and those
  that name none, counted by ten-second bucket (``buckets``): a reader attributes a
  bucket to the product pinned for most of it (the pin history lives in the database).

A repeated event id counts once. The state lives in this process (:class:`MemoryTriage`)
or in Redis (:class:`RedisTriage`, ``DAIHUO_REDIS_URL`` set) where every process sees the
same state whichever process recorded the comment; keys expire two days after the
session's last comment. Reads call :meth:`TriageFeed.read`, which applies what is pending
first, so a read includes every comment recorded before it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from redis.asyncio import Redis

from daihuo.events.feed import BufferedFeed
from daihuo.events.model import Event

log = logging.getLogger("daihuo.assistant.room")

QUEUE: Final = 20  # questions and complaints kept per session
BUCKET_MS: Final = 10_000  # purchase intents naming no product, counted by bucket
TTL_S: Final = 2 * 24 * 3600
SEEN_MAX: Final = 200_000  # per session in memory; beyond it the oldest ids are forgotten


@dataclass(frozen=True, slots=True)
class Triaged:
    """One comment with its verdict, as the state keeps it."""

    id: str
    ts_ms: int
    user: str | None
    text: str
    intent: str
    slot: int | None
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at_ms": self.ts_ms,
            "user": self.user,
            "text": self.text,
            "intent": self.intent,
            "slot": self.slot,
            "score": round(self.score, 4),
        }


@dataclass
class TriageState:
    """A session's triage so far (what a reader gets from a store)."""

    counts: dict[str, int] = field(default_factory=dict)
    questions: list[dict[str, Any]] = field(default_factory=list)  # newest first
    complaints: list[dict[str, Any]] = field(default_factory=list)  # newest first
    slots: dict[int, int] = field(default_factory=dict)  # purchase intents by link number
    buckets: dict[int, int] = field(default_factory=dict)  # the rest: ts_ms // BUCKET_MS


class TriageStore(ABC):
    """Where the per-session triage state lives."""

    @abstractmethod
    async def apply(self, session_id: str, items: Sequence[Triaged]) -> None:
        """Fold verdicts into a session's state (a repeated id counts once)."""

    @abstractmethod
    async def read(self, session_id: str) -> TriageState:
        """The session's state (empty before its first comment)."""

    async def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release what the store holds."""


@dataclass
class _Session:
    seen: set[str] = field(default_factory=set)
    order: deque[str] = field(default_factory=deque)
    counts: Counter[str] = field(default_factory=Counter)
    questions: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=QUEUE))
    complaints: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=QUEUE))
    slots: Counter[int] = field(default_factory=Counter)
    buckets: Counter[int] = field(default_factory=Counter)

    def apply(self, t: Triaged) -> None:
        if t.id in self.seen:
            return
        self.seen.add(t.id)
        self.order.append(t.id)
        if len(self.order) > SEEN_MAX:
            self.seen.discard(self.order.popleft())
        self.counts[t.intent] += 1
        if t.intent == "question":
            self.questions.appendleft(t.as_dict())
        elif t.intent == "after_sales":
            self.complaints.appendleft(t.as_dict())
        elif t.intent == "purchase_intent":
            if t.slot is not None:
                self.slots[t.slot] += 1
            else:
                self.buckets[t.ts_ms // BUCKET_MS] += 1


class MemoryTriage(TriageStore):
    """The state in this process (one server)."""

    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    async def apply(self, session_id: str, items: Sequence[Triaged]) -> None:
        with self._lock:
            state = self._sessions.setdefault(session_id, _Session())
            for t in items:
                state.apply(t)

    async def read(self, session_id: str) -> TriageState:
        with self._lock:
            s = self._sessions.get(session_id)
            if s is None:
                return TriageState()
            return TriageState(
                counts=dict(s.counts),
                questions=list(s.questions),
                complaints=list(s.complaints),
                slots=dict(s.slots),
                buckets=dict(s.buckets),
            )


class RedisTriage(TriageStore):
    """The state in Redis: a set of seen ids, hashes of counts, two capped lists."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_s: int = TTL_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s

    def _key(self, session_id: str, part: str) -> str:
        return f"{self.prefix}triage:{session_id}:{part}"

    async def apply(self, session_id: str, items: Sequence[Triaged]) -> None:
        if not items:
            return
        seen = self._key(session_id, "seen")
        # SADD answers 1 only to the first process adding an id: that one counts it.
        async with self.redis.pipeline(transaction=False) as pipe:
            for t in items:
                pipe.sadd(seen, t.id)
            fresh = [t for t, added in zip(items, await pipe.execute(), strict=True) if added]
        keys = [self._key(session_id, p) for p in ("counts", "slots", "buckets", "q", "c")]
        counts, slots, buckets, questions, complaints = keys
        async with self.redis.pipeline(transaction=True) as pipe:
            for t in fresh:
                pipe.hincrby(counts, t.intent, 1)
                if t.intent == "question":
                    pipe.lpush(questions, json.dumps(t.as_dict(), ensure_ascii=False))
                elif t.intent == "after_sales":
                    pipe.lpush(complaints, json.dumps(t.as_dict(), ensure_ascii=False))
                elif t.intent == "purchase_intent":
                    if t.slot is not None:
                        pipe.hincrby(slots, str(t.slot), 1)
                    else:
                        pipe.hincrby(buckets, str(t.ts_ms // BUCKET_MS), 1)
            pipe.ltrim(questions, 0, QUEUE - 1)
            pipe.ltrim(complaints, 0, QUEUE - 1)
            for key in (seen, *keys):
                pipe.expire(key, self.ttl_s)
            await pipe.execute()

    async def read(self, session_id: str) -> TriageState:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key(session_id, "counts"))
            pipe.lrange(self._key(session_id, "q"), 0, QUEUE - 1)
            pipe.lrange(self._key(session_id, "c"), 0, QUEUE - 1)
            pipe.hgetall(self._key(session_id, "slots"))
            pipe.hgetall(self._key(session_id, "buckets"))
            counts, questions, complaints, slots, buckets = await pipe.execute()

        def text(v: bytes | str) -> str:
            return v.decode() if isinstance(v, bytes) else v

        return TriageState(
            counts={text(k): int(v) for k, v in counts.items()},
            questions=[json.loads(v) for v in questions],
            complaints=[json.loads(v) for v in complaints],
            slots={int(text(k)): int(v) for k, v in slots.items()},
            buckets={int(text(k)): int(v) for k, v in buckets.items()},
        )


def make_store(redis: Redis | None, *, prefix: str) -> TriageStore:
    """Redis when configured (every process serves every room), else this process."""
    return MemoryTriage() if redis is None else RedisTriage(redis, prefix=prefix)


def triage_comments(events: Sequence[Event]) -> dict[str, list[Triaged]]:
    """Classify comment events (pure CPU; run it off the event loop), by session."""
    from daihuo.assistant.triage import classify

    verdicts = classify([e.text or "" for e in events])
    out: dict[str, list[Triaged]] = {}
    for e, v in zip(events, verdicts, strict=True):
        out.setdefault(e.session, []).append(
            Triaged(e.id, e.ts_ms, e.user, e.text or "", v.intent, v.slot, v.score)
        )
    return out


def warm_up() -> threading.Thread:
    """Train the triage model in a daemon thread now (it is built once per process)."""

    def train() -> None:
        from daihuo.assistant.triage import model

        try:
            model()
        except Exception:  # the first comment trains it again, and says why it failed
            log.exception("comment triage: warming the model up failed")

    thread = threading.Thread(target=train, name="triage-warm-up", daemon=True)
    thread.start()
    return thread


class TriageFeed(BufferedFeed):
    """Takes the sink's accepted events (:meth:`add`, never waits), classifies the
    comments off the loop every ``interval`` seconds and applies them to the store."""

    def __init__(
        self, store: TriageStore, *, interval: float = 0.2, max_pending: int = 200_000
    ) -> None:
        super().__init__("comment-triage", interval=interval, max_pending=max_pending)
        self.store = store
        self._flushing = asyncio.Lock()

    def keep(self, events: Sequence[Event]) -> list[Event]:
        return [e for e in events if e.type == "comment" and not e.session.startswith("shop:")]

    async def flush(self) -> None:
        """Classify and apply everything added so far."""
        async with self._flushing:
            batch = self.take()
            if not batch:
                return
            by_session = await asyncio.to_thread(triage_comments, batch)
            for session_id, items in by_session.items():
                try:
                    await self.store.apply(session_id, items)
                    self.applied += len(items)
                except Exception:
                    log.exception("comment triage of %s: %d comments not applied",
                                  session_id, len(items))  # fmt: skip

    async def close_store(self) -> None:
        await self.store.close()

    async def read(self, session_id: str) -> TriageState:
        """The session's state, including every comment added before the call."""
        await self.flush()
        return await self.store.read(session_id)


# --- what the host's screen reads: the state with the session's products -------------


@dataclass(frozen=True, slots=True)
class RoomProduct:
    """A product of the session: its link number (position), ids and title."""

    position: int
    item_id: str
    product_id: str
    title: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "item_id": self.item_id,
            "product_id": self.product_id,
            "title": self.title,
        }


@dataclass(frozen=True, slots=True)
class Pin:
    """The item pinned from ``start_ms`` until ``end_ms`` (None: still pinned)."""

    item_id: str
    start_ms: int
    end_ms: int | None


def _pinned_at(pins: Sequence[Pin], ts_ms: int) -> str | None:
    for p in pins:
        if p.start_ms <= ts_ms and (p.end_ms is None or ts_ms < p.end_ms):
            return p.item_id
    return None


def _pinned_most(pins: Sequence[Pin], start_ms: int, end_ms: int) -> str | None:
    """The item pinned for the longest part of [start_ms, end_ms), if any."""
    best, longest = None, 0
    for p in pins:
        overlap = min(end_ms, p.end_ms if p.end_ms is not None else end_ms) - max(
            start_ms, p.start_ms
        )
        if overlap > longest:
            best, longest = p.item_id, overlap
    return best


def shape(
    session_id: str, state: TriageState, products: Sequence[RoomProduct], pins: Sequence[Pin]
) -> dict[str, Any]:
    """The session's triage for the host: the question queue and the complaints with the
    product each refers to (its link number, else words of its title, else — questions
    only — the product pinned when it was asked), and purchase intents per product
    (by link number, else the product pinned for most of its ten seconds;
    ``unattributed`` the rest)."""
    from daihuo.assistant.triage import ProductRef, find_product, normalise

    by_position = {p.position: p for p in products}
    by_item = {p.item_id: p for p in products}
    refs = tuple(ProductRef(p.item_id, p.title, p.position) for p in products)

    def product_of(entry: dict[str, Any], *, pinned_fallback: bool) -> dict[str, Any] | None:
        slot = entry.get("slot")
        if slot is not None:
            found = by_position.get(int(slot))
            return found.as_dict() if found else None
        named = find_product(normalise(str(entry.get("text", ""))), refs)
        if named is not None:
            return by_item[named.id].as_dict()
        if pinned_fallback:
            item = _pinned_at(pins, int(entry.get("at_ms", 0)))
            if item is not None and item in by_item:
                return by_item[item].as_dict()
        return None

    meter: Counter[str] = Counter()
    unattributed = 0
    for slot, n in state.slots.items():
        if slot in by_position:
            meter[by_position[slot].item_id] += n
        else:
            unattributed += n
    for bucket, n in state.buckets.items():
        item = _pinned_most(pins, bucket * BUCKET_MS, (bucket + 1) * BUCKET_MS)
        if item is not None and item in by_item:
            meter[item] += n
        else:
            unattributed += n
    from daihuo.assistant.triage import INTENTS

    return {
        "session": session_id,
        "counts": {i: state.counts.get(i, 0) for i in INTENTS},
        "questions": [
            {**q, "product": product_of(q, pinned_fallback=True)} for q in state.questions
        ],
        "complaints": [
            {**c, "product": product_of(c, pinned_fallback=False)} for c in state.complaints
        ],
        "purchase_intent": [
            {**p.as_dict(), "count": meter.get(p.item_id, 0)}
            for p in sorted(products, key=lambda p: p.position)
        ],
        "purchase_intent_unattributed": unattributed,
    }
