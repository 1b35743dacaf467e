"""The real-time figures of live sessions, kept up to date event by event.

Every event the server accepts goes through :meth:`daihuo.events.sink.EventSink.record`;
the sink hands the accepted ones to :meth:`LiveFeed.add`, which folds them into per-session
totals. A feed (``GET /api/v1/sessions/{id}/live``) only reads those totals: nothing ever
scans a session's events again, so a read costs the same at minute 1 and at hour 3.

The figures follow shared/spec/metrics.md "over the events so far", with the report's
readings (``analytics/reference.py``):

* a repeated event id counts once (the store keeps the ids it has seen);
* user events before ``live_start`` or after ``live_end`` do not count; an order counts
  when its first ``order_created`` lies in the window, its first ``order_paid`` gives
  GMV and items whenever it comes (before or after its ``order_created`` arrived: a
  payment waits for its order), every ``order_refunded`` of a counted paid order adds
  to ``refund_amount``;
* presence: an ``enter`` of a user not in the room is a view and puts the user in; a
  ``leave`` takes the user out or changes nothing. ``online`` is the users in the room
  now; ``pcu`` the largest ``online`` seen after an event; ``online_per_minute[k]`` is
  the users in the room at ``start + k·60 s`` (recorded when the first event after that
  instant arrives, or read as ``online`` while nothing has arrived since);
* minutes are the spec's ``[start + k·60 s, start + (k+1)·60 s)``; views, comments,
  likes, orders and GMV of a minute are bucketed by event time (orders and GMV by their
  ``order_created`` time, as ``gmv_per_minute``).

Events are processed in arrival order; each batch is first sorted by time, leaves first
at an instant (the spec's processing order). The feed equals the report whenever no
event arrives after a later-timed one of another batch — true of one server, and within
a flush interval of several.

Where the state lives: :class:`MemoryTotals` (one process, the default) or
:class:`RedisTotals` (``DAIHUO_REDIS_URL`` set), where one Lua script applies a batch
atomically, so every process sees — and can serve — the same figures for every room,
whichever process recorded the events. Each event costs O(1) work (set and hash
operations, plus one step per minute boundary crossed); reads cost O(products + 6).
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from redis.asyncio import Redis

from daihuo.events.feed import BufferedFeed
from daihuo.events.model import Event

log = logging.getLogger("daihuo.analytics.live")

MINUTE_MS: Final = 60_000
TILE_MINUTES: Final = 5  # the live tile: the last five minutes
TOP_PRODUCTS: Final = 5
REDIS_TTL_S: Final = 2 * 24 * 3600  # a session's totals outlive it by two days
_COUNTED: Final = frozenset(
    {
        "live_start", "live_end", "enter", "leave", "comment", "like", "product_click",
        "order_created", "order_paid", "order_refunded",
    }
)  # fmt: skip
MINUTE_FIELDS: Final = ("views", "comments", "likes", "orders", "gmv")


def processing_order(events: Iterable[Event]) -> list[Event]:
    """The spec's order: by time, at one instant leaves before the rest (stable)."""
    return sorted(events, key=lambda e: (e.ts_ms, e.type != "leave"))


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


@dataclass
class Totals:
    """Plain figures read from a store; :meth:`snapshot` shapes them for the feed."""

    start: int | None
    end: int | None
    online: int
    views: int
    viewers: int
    pcu: int
    likes: int
    comments: int
    gmv: int
    orders: int
    buyers: int
    items: int
    refund: int
    online_per_minute: dict[int, int]  # recorded minute instants
    minutes: dict[int, dict[str, int]]  # k -> MINUTE_FIELDS
    products: dict[str, dict[str, int]]  # product -> gmv, order_count, items_sold, click_uv

    def snapshot(self, session_id: str, now_ms: int) -> dict[str, Any]:
        """The feed's message: the figures so far, the last minutes, the top products."""
        ended = self.end is not None
        current = None
        if self.start is not None:
            until = self.end if self.end is not None else max(now_ms, self.start)
            # the minute holding `until`; at an end on a minute boundary, the one before
            current = (until - self.start) // MINUTE_MS
            if ended and current > 0 and (until - self.start) % MINUTE_MS == 0:
                current -= 1
        minutes = []
        if current is not None:
            for k in range(max(0, current - TILE_MINUTES + 1), current + 1):
                row: dict[str, Any] = {"minute": k}
                row["online"] = self.online_per_minute.get(k, self.online)
                bucket = self.minutes.get(k, {})
                row.update({f: bucket.get(f, 0) for f in MINUTE_FIELDS})
                minutes.append(row)
        # the last complete minute: the one before the running one (after the end, the last)
        last = minutes[-1] if ended and minutes else (minutes[-2] if len(minutes) >= 2 else None)
        ranked = sorted(
            self.products.items(), key=lambda kv: (-kv[1]["gmv"], -kv[1]["click_uv"], kv[0])
        )
        top = [{"product": p, **row} for p, row in ranked[:TOP_PRODUCTS]]
        return {
            "session": session_id,
            "state": "ended" if ended else ("live" if self.start is not None else "waiting"),
            "at_ms": now_ms,
            "started_ms": self.start,
            "ended_ms": self.end,
            "online": 0 if ended else self.online,  # everyone leaves at the end
            "views_pv": self.views,
            "viewer_uv": self.viewers,
            "pcu": self.pcu,
            "like_count": self.likes,
            "comment_count": self.comments,
            "gmv": self.gmv,
            "order_count": self.orders,
            "buyer_uv": self.buyers,
            "items_sold": self.items,
            "refund_amount": self.refund,
            "conversion_rate": _ratio(self.buyers, self.viewers),
            "last_minute": last,
            "minutes": minutes,
            "top_products": top,
        }


# --- one process: the totals in Python --------------------------------------------


@dataclass
class SessionTotals:
    """One session's running figures; :meth:`apply` is the state machine the Redis
    script mirrors line for line."""

    seen: set[str] = field(default_factory=set)
    start: int | None = None
    end: int | None = None
    in_room: set[str] = field(default_factory=set)
    viewers: set[str] = field(default_factory=set)
    buyers: set[str] = field(default_factory=set)
    views: int = 0
    pcu: int = 0
    likes: int = 0
    comments: int = 0
    gmv: int = 0
    orders: int = 0
    items: int = 0
    refund: int = 0
    next_minute: int = 0  # the first minute instant whose online count is not recorded
    online_per_minute: dict[int, int] = field(default_factory=dict)
    minutes: defaultdict[int, defaultdict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    created: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # ts, user, product
    paid: dict[str, tuple[int, int]] = field(default_factory=dict)  # amount, qty
    refunded: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    products: defaultdict[str, defaultdict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    clickers: set[tuple[str, str]] = field(default_factory=set)

    def _in_window(self, ts: int) -> bool:
        return (self.start is None or ts >= self.start) and (self.end is None or ts <= self.end)

    def _minute(self, ts: int) -> int | None:
        if self.start is None or ts < self.start:
            return None
        k = (ts - self.start) // MINUTE_MS
        if self.end is not None and self.start + k * MINUTE_MS >= self.end:
            return None  # the minutes are those whose instant start + k·60 s < end
        return k

    def _pass_minutes(self, ts: int) -> None:
        """Record the online count of every minute instant before ``ts``."""
        if self.start is None:
            return
        while True:
            instant = self.start + self.next_minute * MINUTE_MS
            if instant >= ts or (self.end is not None and instant >= self.end):
                return
            self.online_per_minute[self.next_minute] = len(self.in_room)
            self.next_minute += 1

    def _counted(self, order: str) -> bool:
        made = self.created.get(order)
        return made is not None and self._in_window(made[0])

    def _sale(self, order: str) -> None:
        """A counted order is paid: add it to the sales."""
        ts, user, product = self.created[order]
        amount, qty = self.paid[order]
        self.gmv += amount
        self.orders += 1
        self.items += qty
        self.refund += self.refunded.get(order, 0)
        self.buyers.add(user)
        row = self.products[product]
        row["gmv"] += amount
        row["order_count"] += 1
        row["items_sold"] += qty
        row["click_uv"] += 0
        k = self._minute(ts)
        if k is not None:
            self.minutes[k]["orders"] += 1
            self.minutes[k]["gmv"] += amount

    def apply(self, e: Event) -> None:
        if e.id in self.seen:
            return
        self.seen.add(e.id)
        kind, ts = e.type, e.ts_ms
        if kind == "live_start":
            self.start = ts if self.start is None else min(self.start, ts)
            return
        if kind == "live_end":
            self._pass_minutes(ts)
            self.end = ts if self.end is None else max(self.end, ts)
            return
        if kind == "order_created":
            assert e.order is not None and e.user is not None and e.product is not None
            if e.order in self.created:
                return
            self.created[e.order] = (ts, e.user, e.product)
            if e.order in self.paid and self._counted(e.order):
                self._sale(e.order)
            return
        if kind == "order_paid":
            assert e.order is not None and e.amount is not None and e.qty is not None
            if e.order in self.paid:
                return
            self.paid[e.order] = (e.amount, e.qty)
            if self._counted(e.order):
                self._sale(e.order)
            return
        if kind == "order_refunded":
            assert e.order is not None and e.amount is not None
            self.refunded[e.order] += e.amount
            if e.order in self.paid and self._counted(e.order):
                self.refund += e.amount
            return
        if not self._in_window(ts) or kind not in _COUNTED:
            return
        self._pass_minutes(ts)
        user = e.user
        assert user is not None
        k = self._minute(ts)
        if kind == "enter":
            self.viewers.add(user)
            if user not in self.in_room:
                self.in_room.add(user)
                self.views += 1
                self.pcu = max(self.pcu, len(self.in_room))
                if k is not None:
                    self.minutes[k]["views"] += 1
        elif kind == "leave":
            self.in_room.discard(user)
        elif kind == "comment":
            self.comments += 1
            if k is not None:
                self.minutes[k]["comments"] += 1
        elif kind == "like":
            n = 1 if e.count is None else e.count
            self.likes += n
            if k is not None:
                self.minutes[k]["likes"] += n
        elif kind == "product_click":
            assert e.product is not None
            if (e.product, user) not in self.clickers:
                self.clickers.add((e.product, user))
                row = self.products[e.product]
                row["click_uv"] += 1
                row["gmv"] += 0
                row["order_count"] += 0
                row["items_sold"] += 0

    def totals(self) -> Totals:
        return Totals(
            start=self.start, end=self.end, online=len(self.in_room), views=self.views,
            viewers=len(self.viewers), pcu=self.pcu, likes=self.likes, comments=self.comments,
            gmv=self.gmv, orders=self.orders, buyers=len(self.buyers), items=self.items,
            refund=self.refund, online_per_minute=dict(self.online_per_minute),
            minutes={k: dict(v) for k, v in self.minutes.items()},
            products={p: dict(v) for p, v in self.products.items()},
        )  # fmt: skip


class TotalsStore(ABC):
    """Where the running figures of every session live."""

    @abstractmethod
    async def apply(self, session_id: str, events: Sequence[Event]) -> None:
        """Fold a batch of one session's events (in processing order) into its totals."""

    @abstractmethod
    async def read(self, session_id: str, now_ms: int) -> Totals | None:
        """The session's totals; ``None`` if it has none (no event recorded)."""

    async def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release connections."""


class MemoryTotals(TotalsStore):
    """The totals in this process (one server, no Redis). A session's totals are dropped
    when a new session starts more than ``keep_ms`` after it ended (the Redis keys'
    lifetime), so a long-running server does not keep every session it ever had."""

    def __init__(self, keep_ms: int = REDIS_TTL_S * 1000) -> None:
        self.sessions: dict[str, SessionTotals] = {}
        self.keep_ms = keep_ms

    def _forget_old(self, now_ms: int) -> None:
        old = [
            sid for sid, t in self.sessions.items()
            if t.end is not None and t.end < now_ms - self.keep_ms
        ]  # fmt: skip
        for sid in old:
            del self.sessions[sid]

    def apply_now(self, session_id: str, events: Sequence[Event]) -> None:
        totals = self.sessions.get(session_id)
        if totals is None:
            self._forget_old(max(e.ts_ms for e in events))
            totals = self.sessions[session_id] = SessionTotals()
        for event in events:
            totals.apply(event)

    async def apply(self, session_id: str, events: Sequence[Event]) -> None:
        self.apply_now(session_id, events)

    async def read(self, session_id: str, now_ms: int) -> Totals | None:
        totals = self.sessions.get(session_id)
        return None if totals is None else totals.totals()


# --- several processes: the totals in Redis ------------------------------------------

# KEYS[1] is the session's key prefix. ARGV[1] is a JSON array of events, each
# [id, ts_ms, type, user, product, order, qty, amount, count] ("" / 0 when absent);
# ARGV[2] the keys' time to live in seconds. The same state machine as
# SessionTotals.apply: keep the two in step (tests run both against the oracle).
_APPLY = """
local p = KEYS[1]
local T, IDS, IN, VIEWERS, BUYERS = p..'t', p..'ids', p..'in', p..'viewers', p..'buyers'
local OC, OP, OR, OM, M, PR, PCL = p..'oc', p..'op', p..'or', p..'om', p..'m', p..'pr', p..'pcl'
local function num(key, f) return tonumber(redis.call('HGET', key, f) or false) end
local start, stop = num(T, 'start'), num(T, 'end')
local nextk = num(T, 'nextk') or 0
local function in_window(ts)
  return (start == nil or ts >= start) and (stop == nil or ts <= stop)
end
local function minute(ts)
  if start == nil or ts < start then return nil end
  local k = math.floor((ts - start) / 60000)
  if stop ~= nil and start + k * 60000 >= stop then return nil end
  return k
end
local function pass_minutes(ts)
  if start == nil then return end
  while true do
    local instant = start + nextk * 60000
    if instant >= ts or (stop ~= nil and instant >= stop) then break end
    redis.call('HSET', OM, nextk, redis.call('SCARD', IN))
    nextk = nextk + 1
  end
  redis.call('HSET', T, 'nextk', nextk)
end
local function counted(order)
  local made = redis.call('HGET', OC, order)
  if not made then return nil end
  local ts, user, product = string.match(made, '^(%d+)|([^|]*)|(.*)$')
  if not in_window(tonumber(ts)) then return nil end
  return tonumber(ts), user, product
end
local function sale(order)
  local ts, user, product = counted(order)
  local pay = redis.call('HGET', OP, order)
  local amount, qty = string.match(pay, '^(%d+)|(%d+)$')
  redis.call('HINCRBY', T, 'gmv', amount)
  redis.call('HINCRBY', T, 'orders', 1)
  redis.call('HINCRBY', T, 'items', qty)
  redis.call('HINCRBY', T, 'refund', redis.call('HGET', OR, order) or 0)
  redis.call('SADD', BUYERS, user)
  redis.call('HINCRBY', PR, product..'|gmv', amount)
  redis.call('HINCRBY', PR, product..'|order_count', 1)
  redis.call('HINCRBY', PR, product..'|items_sold', qty)
  redis.call('HINCRBY', PR, product..'|click_uv', 0)
  local k = minute(ts)
  if k ~= nil then
    redis.call('HINCRBY', M, k..'|orders', 1)
    redis.call('HINCRBY', M, k..'|gmv', amount)
  end
end
for _, e in ipairs(cjson.decode(ARGV[1])) do
  local id, ts, kind, user, product, order = e[1], e[2], e[3], e[4], e[5], e[6]
  if redis.call('SADD', IDS, id) == 1 then
    if kind == 'live_start' then
      if start == nil or ts < start then start = ts; redis.call('HSET', T, 'start', ts) end
    elseif kind == 'live_end' then
      pass_minutes(ts)
      if stop == nil or ts > stop then stop = ts; redis.call('HSET', T, 'end', ts) end
    elseif kind == 'order_created' then
      if redis.call('HSETNX', OC, order, ts..'|'..user..'|'..product) == 1 then
        if redis.call('HEXISTS', OP, order) == 1 and counted(order) then sale(order) end
      end
    elseif kind == 'order_paid' then
      if redis.call('HSETNX', OP, order, e[8]..'|'..e[7]) == 1 then
        if counted(order) then sale(order) end
      end
    elseif kind == 'order_refunded' then
      redis.call('HINCRBY', OR, order, e[8])
      if redis.call('HEXISTS', OP, order) == 1 and counted(order) then
        redis.call('HINCRBY', T, 'refund', e[8])
      end
    elseif in_window(ts) then
      pass_minutes(ts)
      local k = minute(ts)
      if kind == 'enter' then
        redis.call('SADD', VIEWERS, user)
        if redis.call('SADD', IN, user) == 1 then
          redis.call('HINCRBY', T, 'views', 1)
          local online = redis.call('SCARD', IN)
          if online > (num(T, 'pcu') or 0) then redis.call('HSET', T, 'pcu', online) end
          if k ~= nil then redis.call('HINCRBY', M, k..'|views', 1) end
        end
      elseif kind == 'leave' then
        redis.call('SREM', IN, user)
      elseif kind == 'comment' then
        redis.call('HINCRBY', T, 'comments', 1)
        if k ~= nil then redis.call('HINCRBY', M, k..'|comments', 1) end
      elseif kind == 'like' then
        local n = e[9]
        redis.call('HINCRBY', T, 'likes', n)
        if k ~= nil then redis.call('HINCRBY', M, k..'|likes', n) end
      elseif kind == 'product_click' then
        if redis.call('SADD', PCL, product..'|'..user) == 1 then
          redis.call('HINCRBY', PR, product..'|click_uv', 1)
          redis.call('HINCRBY', PR, product..'|gmv', 0)
          redis.call('HINCRBY', PR, product..'|order_count', 0)
          redis.call('HINCRBY', PR, product..'|items_sold', 0)
        end
      end
    end
  end
end
for _, key in ipairs({T, IDS, IN, VIEWERS, BUYERS, OC, OP, OR, OM, M, PR, PCL}) do
  redis.call('EXPIRE', key, ARGV[2])
end
return 1
"""

# One consistent read: the totals hash, the set sizes, the products, and the minute
# buckets of the tile's minutes only (ARGV: now in ms, the tile's length in minutes), so
# a read costs the same at minute 1 and at hour 3.
_READ = """
local p = KEYS[1]
if redis.call('EXISTS', p..'t') == 0 then return false end
local t = redis.call('HMGET', p..'t', 'start', 'end')
local start, stop = tonumber(t[1] or false), tonumber(t[2] or false)
local fields, ks = {}, {}
if start ~= nil then
  local untl = stop or math.max(tonumber(ARGV[1]), start)
  local cur = math.floor((untl - start) / 60000)
  if stop ~= nil and cur > 0 and (untl - start) % 60000 == 0 then cur = cur - 1 end
  for k = math.max(0, cur - tonumber(ARGV[2]) + 1), cur do
    table.insert(ks, k)
    for _, f in ipairs({'views', 'comments', 'likes', 'orders', 'gmv'}) do
      table.insert(fields, k..'|'..f)
    end
  end
end
local minutes, online = {}, {}
if #ks > 0 then
  minutes = redis.call('HMGET', p..'m', unpack(fields))
  online = redis.call('HMGET', p..'om', unpack(ks))
end
return {
  redis.call('HGETALL', p..'t'), redis.call('SCARD', p..'in'),
  redis.call('SCARD', p..'viewers'), redis.call('SCARD', p..'buyers'),
  ks, online, fields, minutes, redis.call('HGETALL', p..'pr')
}
"""


def _row(e: Event) -> list[str | int]:
    """An event as the script reads it: [id, ts_ms, type, user, product, order, qty,
    amount, count], "" or 0 where absent."""
    count = 1 if e.count is None else e.count
    return [e.id, e.ts_ms, e.type, e.user or "", e.product or "", e.order or "",
            e.qty or 0, e.amount or 0, count]  # fmt: skip


def _pairs(flat: list[bytes]) -> dict[str, str]:
    it = iter(flat)
    return {k.decode(): v.decode() for k, v in zip(it, it, strict=True)}


class RedisTotals(TotalsStore):
    """The totals in Redis, shared by every server process (one script per batch)."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_s: int = REDIS_TTL_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s
        self._apply = redis.register_script(_APPLY)
        self._read = redis.register_script(_READ)

    def key(self, session_id: str) -> str:
        # the braces: a Redis Cluster hash tag, so one script may touch all the keys
        return f"{self.prefix}feed:{{{session_id}}}:"

    async def apply(self, session_id: str, events: Sequence[Event]) -> None:
        rows = [_row(e) for e in events if e.type in _COUNTED]
        if rows:
            await self._apply(keys=[self.key(session_id)], args=[json.dumps(rows), self.ttl_s])

    async def read(self, session_id: str, now_ms: int) -> Totals | None:
        got = await self._read(keys=[self.key(session_id)], args=[now_ms, TILE_MINUTES])
        if not got:
            return None
        t = {k: int(v) for k, v in _pairs(got[0]).items()}
        online_per_minute = {
            int(k): int(v) for k, v in zip(got[4], got[5], strict=True) if v is not None
        }
        minutes: dict[int, dict[str, int]] = {}
        for name, value in zip(got[6], got[7], strict=True):
            k, f = name.decode().split("|")
            minutes.setdefault(int(k), {})[f] = 0 if value is None else int(value)
        products: dict[str, dict[str, int]] = {}
        for name, value in _pairs(got[8]).items():
            product, f = name.rsplit("|", 1)
            products.setdefault(product, {})[f] = int(value)
        return Totals(
            start=t.get("start"), end=t.get("end"), online=int(got[1]),
            views=t.get("views", 0), viewers=int(got[2]), pcu=t.get("pcu", 0),
            likes=t.get("likes", 0), comments=t.get("comments", 0), gmv=t.get("gmv", 0),
            orders=t.get("orders", 0), buyers=int(got[3]), items=t.get("items", 0),
            refund=t.get("refund", 0),
            online_per_minute=online_per_minute, minutes=minutes, products=products,
        )  # fmt: skip


# --- the feed: buffer what the sink accepted, apply it in batches ----------------------


class LiveFeed(BufferedFeed):
    """Takes the sink's accepted events (:meth:`add`, never waits) and applies them to the
    store: at once in memory, every ``interval`` seconds as one script per session in
    Redis. Orders outside any session (``shop:…``) have no feed and are skipped."""

    def __init__(
        self, store: TotalsStore, *, interval: float = 0.1, max_pending: int = 1_000_000
    ) -> None:
        super().__init__("live-feed", interval=interval, max_pending=max_pending)
        self.store = store

    def keep(self, events: Sequence[Event]) -> list[Event]:
        return [e for e in events if e.type in _COUNTED and not e.session.startswith("shop:")]

    def apply_now(self, events: list[Event]) -> bool:
        if not isinstance(self.store, MemoryTotals):
            return False
        for session_id, batch in _by_session(events).items():
            self.store.apply_now(session_id, processing_order(batch))
        self.applied += len(events)
        return True

    def background(self) -> bool:
        return not isinstance(self.store, MemoryTotals)

    async def flush(self) -> None:
        """Apply everything added so far."""
        for session_id, events in _by_session(self.take()).items():
            try:
                await self.store.apply(session_id, processing_order(events))
                self.applied += len(events)
            except Exception:
                log.exception("live totals of %s: applying %d events failed", session_id,
                              len(events))  # fmt: skip
                self.put_back(events)  # retried with the next batch, ahead of newer events

    async def close_store(self) -> None:
        await self.store.close()

    async def snapshot(
        self,
        session_id: str,
        now_ms: int | None = None,
        *,
        titles: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The feed message of a session now (zeros and ``waiting`` before any event),
        its top products titled from ``titles`` (product id → title) when given."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        totals = await self.store.read(session_id, now)
        if totals is None:
            totals = SessionTotals().totals()
        snap = totals.snapshot(session_id, now)
        if titles is not None:
            for row in snap["top_products"]:
                row["title"] = titles.get(row["product"], "")
        return snap


def _by_session(events: Iterable[Event]) -> dict[str, list[Event]]:
    out: dict[str, list[Event]] = {}
    for e in events:
        out.setdefault(e.session, []).append(e)
    return out


def make_totals(redis: Redis | None, *, prefix: str) -> TotalsStore:
    """Redis when configured (every process serves every room), else this process."""
    return MemoryTotals() if redis is None else RedisTotals(redis, prefix=prefix)
