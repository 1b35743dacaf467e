"""Flash sales (秒杀): the race in front of the orders.

Thousands of buyers press "buy" in the same second for a few hundred units. Sending
each of them through a database transaction would make the losers queue behind the
winners for nothing, so a **gate** answers first: an atomic counter of the sale's
remaining units and of each buyer's units, in process memory by default or in Redis
(one Lua script per call) when Redis is configured, so that every server process
races on the same counters. A buyer the gate admits gets a *grant*; the order behind
it is written by the group-commit writer (core/batch.py) with the sale's conditional
UPDATEs in the database (catalog.take_flash_units). Then the grant is settled: kept if
the order committed, given back to the gate otherwise.

The database is the truth, the gate is a filter in front of it:

- **Never more**: the database refuses a unit the sale does not have, whatever the gate
  said (a gate that over-admits costs a refused buyer, never an oversold unit).
- **Never lost**: a grant taken by a process that died before settling it is *in
  flight* forever; and units of lapsed orders go back to the sale in the database, not
  in the gate. So the gate is reconciled from the database — when a sale is first
  raced on, and every ``interval`` seconds for running sales: remaining := the
  database's remaining minus the grants in flight younger than ``stale`` seconds (older
  ones belonged to a dead process: dropped), each buyer's count likewise.
"""

from __future__ import annotations

import enum
import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import FlashSaleRead
from daihuo.core.batch import GroupCommit
from daihuo.core.clock import utcnow
from daihuo.core.db import Database
from daihuo.core.tasks import Periodic
from daihuo.orders import service as orders
from daihuo.orders.models import Order
from daihuo.orders.schemas import DeliveryAddress
from daihuo.tenancy.domain import Principal

log = logging.getLogger(__name__)


class Verdict(enum.Enum):
    granted = "granted"
    sold_out = "sold_out"
    limit = "limit"
    unknown = "unknown"  # the gate has not loaded this sale yet


@dataclass(frozen=True)
class Grant:
    sale_id: str
    id: str
    user: str
    qty: int


class FlashGate(ABC):
    """Atomic counters of a sale: units left, units per buyer, grants in flight."""

    @abstractmethod
    async def take(
        self, sale_id: str, user: str, qty: int, limit: int
    ) -> tuple[Verdict, Grant | None]:
        """Take ``qty`` units for ``user`` if the sale has them and the limit allows."""

    @abstractmethod
    async def settle(self, grant: Grant, *, kept: bool) -> None:
        """The order behind ``grant`` committed (kept) or did not (units go back)."""

    @abstractmethod
    async def load(
        self, sale_id: str, remaining: int, holds: dict[str, int], *, stale_seconds: float
    ) -> int:
        """Reconcile with the database's figures; returns the gate's remaining."""

    @abstractmethod
    async def forget(self, sale_id: str) -> None:
        """The sale ended: drop its counters."""


def _grant_id() -> str:
    return secrets.token_hex(8)


@dataclass
class _Sale:
    remaining: int
    held: dict[str, int] = field(default_factory=dict)
    inflight: dict[str, tuple[float, str, int]] = field(default_factory=dict)


class MemoryFlashGate(FlashGate):
    """One process: plain counters (asyncio runs one coroutine at a time, so a method
    with no ``await`` inside is atomic)."""

    def __init__(self) -> None:
        self._sales: dict[str, _Sale] = {}

    async def take(
        self, sale_id: str, user: str, qty: int, limit: int
    ) -> tuple[Verdict, Grant | None]:
        sale = self._sales.get(sale_id)
        if sale is None:
            return Verdict.unknown, None
        if sale.remaining < qty:
            return Verdict.sold_out, None
        if sale.held.get(user, 0) + qty > limit:
            return Verdict.limit, None
        sale.remaining -= qty
        sale.held[user] = sale.held.get(user, 0) + qty
        grant = Grant(sale_id, _grant_id(), user, qty)
        sale.inflight[grant.id] = (time.monotonic(), user, qty)
        return Verdict.granted, grant

    async def settle(self, grant: Grant, *, kept: bool) -> None:
        sale = self._sales.get(grant.sale_id)
        if sale is None or sale.inflight.pop(grant.id, None) is None:
            return
        if not kept:
            sale.remaining += grant.qty
            sale.held[grant.user] = max(0, sale.held.get(grant.user, 0) - grant.qty)

    async def load(
        self, sale_id: str, remaining: int, holds: dict[str, int], *, stale_seconds: float
    ) -> int:
        sale = self._sales.setdefault(sale_id, _Sale(remaining=0))
        cutoff = time.monotonic() - stale_seconds
        sale.inflight = {g: v for g, v in sale.inflight.items() if v[0] >= cutoff}
        held = dict(holds)
        flying = 0
        for _, user, qty in sale.inflight.values():
            flying += qty
            held[user] = held.get(user, 0) + qty
        sale.remaining = max(0, remaining - flying)
        sale.held = held
        return sale.remaining

    async def forget(self, sale_id: str) -> None:
        self._sales.pop(sale_id, None)


# KEYS: remaining, held (hash user -> units), inflight (hash grant -> "ms:user:qty")
# ARGV: user, qty, limit, grant id, now (ms)
_TAKE = """
local rem = redis.call('GET', KEYS[1])
if not rem then return 'unknown' end
local qty = tonumber(ARGV[2])
if tonumber(rem) < qty then return 'sold_out' end
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held + qty > tonumber(ARGV[3]) then return 'limit' end
redis.call('DECRBY', KEYS[1], qty)
redis.call('HINCRBY', KEYS[2], ARGV[1], qty)
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5] .. ':' .. ARGV[1] .. ':' .. ARGV[2])
return 'granted'
"""

# KEYS: remaining, held, inflight. ARGV: grant id, kept (1/0)
_SETTLE = """
local v = redis.call('HGET', KEYS[3], ARGV[1])
if not v then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[2] == '1' then return 1 end
local _, _, user, qty = string.find(v, '^%d+:(.+):(%d+)$')
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], qty)
  redis.call('HINCRBY', KEYS[2], user, -tonumber(qty))
end
return 1
"""

# KEYS: remaining, held, inflight. ARGV: db remaining, now (ms), stale (ms),
# then user, units pairs of the database's holds.
_LOAD = """
local now = tonumber(ARGV[2])
local stale = tonumber(ARGV[3])
local held = {}
for i = 4, #ARGV, 2 do held[ARGV[i]] = tonumber(ARGV[i + 1]) end
local flying = 0
local entries = redis.call('HGETALL', KEYS[3])
for i = 1, #entries, 2 do
  local _, _, ms, user, qty = string.find(entries[i + 1], '^(%d+):(.+):(%d+)$')
  if now - tonumber(ms) > stale then
    redis.call('HDEL', KEYS[3], entries[i])
  else
    flying = flying + tonumber(qty)
    held[user] = (held[user] or 0) + tonumber(qty)
  end
end
local rem = tonumber(ARGV[1]) - flying
if rem < 0 then rem = 0 end
redis.call('SET', KEYS[1], rem)
redis.call('DEL', KEYS[2])
for user, units in pairs(held) do
  if units > 0 then redis.call('HSET', KEYS[2], user, units) end
end
return rem
"""


class RedisFlashGate(FlashGate):
    """Every process of the deployment races on the same counters in Redis."""

    def __init__(self, redis: Redis, *, prefix: str = "daihuo") -> None:
        self.redis = redis
        self.prefix = prefix
        self._take = redis.register_script(_TAKE)
        self._settle = redis.register_script(_SETTLE)
        self._load = redis.register_script(_LOAD)

    def _keys(self, sale_id: str) -> list[str]:
        base = f"{self.prefix}:flash:{sale_id}"
        return [f"{base}:remaining", f"{base}:held", f"{base}:inflight"]

    async def take(
        self, sale_id: str, user: str, qty: int, limit: int
    ) -> tuple[Verdict, Grant | None]:
        grant = Grant(sale_id, _grant_id(), user, qty)
        now_ms = int(time.time() * 1000)
        got = await self._take(keys=self._keys(sale_id), args=[user, qty, limit, grant.id, now_ms])
        verdict = Verdict(got.decode() if isinstance(got, bytes) else got)
        return verdict, (grant if verdict is Verdict.granted else None)

    async def settle(self, grant: Grant, *, kept: bool) -> None:
        await self._settle(keys=self._keys(grant.sale_id), args=[grant.id, 1 if kept else 0])

    async def load(
        self, sale_id: str, remaining: int, holds: dict[str, int], *, stale_seconds: float
    ) -> int:
        args: list[Any] = [remaining, int(time.time() * 1000), int(stale_seconds * 1000)]
        for user, units in holds.items():
            args += [user, units]
        return int(await self._load(keys=self._keys(sale_id), args=args))

    async def forget(self, sale_id: str) -> None:
        await self.redis.delete(*self._keys(sale_id))


def make_flash_gate(redis: Redis | None, *, prefix: str = "daihuo") -> FlashGate:
    return RedisFlashGate(redis, prefix=prefix) if redis is not None else MemoryFlashGate()


class FlashSales(Periodic):
    """The flash sales of an app process: buys through the gate and the group-commit
    writer, sales ended when their time is up, and the gate reconciled every round."""

    def __init__(
        self,
        db: Database,
        writer: GroupCommit,
        gate: FlashGate,
        *,
        interval: float = 1.0,
        stale_seconds: float = 30.0,
        on_end: Callable[[FlashSaleRead], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__("flash-sales", self.round_once, interval=interval)
        self.db = db
        self.writer = writer
        self.gate = gate
        self.stale_seconds = stale_seconds
        self.on_end = on_end

    async def reconcile(self, sale_id: str) -> int:
        """Set the gate to the database's figures (minus the grants in flight)."""
        async with self.db.session(all_tenants=True) as session:
            remaining, holds = await catalog.flash_gate_state(session, sale_id)
        return await self.gate.load(sale_id, remaining, holds, stale_seconds=self.stale_seconds)

    async def buy(
        self,
        ctx: Principal,
        sale_id: str,
        qty: int,
        *,
        limit: int,
        session_tag: str | None = None,
        address: DeliveryAddress | None = None,
    ) -> Order:
        """Race for ``qty`` units; the winner gets an order holding them (committed)."""
        assert ctx.user_id is not None
        verdict, grant = await self.gate.take(sale_id, ctx.user_id, qty, limit)
        if verdict is Verdict.unknown:
            await self.reconcile(sale_id)
            verdict, grant = await self.gate.take(sale_id, ctx.user_id, qty, limit)
        if verdict is Verdict.sold_out or verdict is Verdict.unknown:
            raise catalog_errors.FlashSoldOut("Sold out: fewer units are left than you asked for.")
        if verdict is Verdict.limit:
            raise catalog_errors.FlashLimitReached(
                f"At most {limit} per person in this flash sale."
            )
        assert grant is not None

        async def work(session: AsyncSession) -> Order:
            return await orders.place_flash_order(
                session, ctx, sale_id, qty, session_tag=session_tag, address=address
            )

        try:
            order = await self.writer.run(work, tenant_id=None, all_tenants=True)
        except BaseException:
            await self.gate.settle(grant, kept=False)
            raise
        await self.gate.settle(grant, kept=True)
        return order

    async def end(self, sale_id: str) -> FlashSaleRead:
        """End a sale now: the units nobody holds go back to the SKU's stock."""

        async def work(session: AsyncSession) -> FlashSaleRead:
            sale = await catalog.get_flash_sale(session, sale_id)
            await catalog.end_flash_sale(session, sale)
            await session.refresh(sale)
            return catalog.flash_read(sale)

        sale = await self.writer.run(work, tenant_id=None, all_tenants=True)
        await self.gate.forget(sale_id)
        if self.on_end is not None:
            await self.on_end(sale)
        return sale

    async def round_once(self) -> None:
        now = utcnow()
        async with self.db.session(all_tenants=True) as session:
            sales = await catalog.list_flash_sales(session, running_at=None)
            open_ = [s for s in sales if s.ended_at is None]
        for sale in open_:
            if sale.ends_at <= now:
                await self.end(sale.id)
            elif sale.starts_at <= now:
                await self.reconcile(sale.id)
