"""A flash sale (秒杀) race through the HTTP API: B buyers, each pressing "buy" once at
the same moment, for U units — successful reservations per second, latency of every
request (p50/p99), and a check that exactly U units were sold.

Two set-ups, each a fresh database: one server process with the in-memory gate, and two
server processes sharing the gate in Redis (``DAIHUO_TEST_REDIS_URL``; skipped when
unset), the buyers' requests split between them. Baseline, measured in the same run:
Redis's own ceiling for the gate's Lua script (``EVALSHA`` of the take script, from 32
connections) — the most any Redis-backed race could do; the in-memory set-up's ratio is
against the same figure for comparison. The load generator shares the machine's two
CPUs with the servers. The database is SQLite (the embedded default).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.orders import Server, _database, seed_item, seed_parties

REDIS_ENV = "DAIHUO_TEST_REDIS_URL"


def run(quick: bool) -> list[dict[str, Any]]:
    return asyncio.run(_run(quick))


async def _run(quick: bool) -> list[dict[str, Any]]:
    buyers, units = (1000, 100) if quick else (10_000, 500)
    redis_url = os.environ.get(REDIS_ENV)
    ceiling = await _lua_ceiling(redis_url, 5000 if quick else 50_000) if redis_url else None
    rows: list[dict[str, Any]] = []
    setups: list[tuple[str, int, str | None]] = [("in-memory gate, 1 process", 1, None)]
    if redis_url:
        setups.append(("Redis gate, 2 processes", 2, redis_url))
    for label, processes, redis in setups:
        tmp = Path(tempfile.mkdtemp(prefix="daihuo-bench-flash-"))
        try:
            rows += await _case(label, tmp, buyers, units, processes, redis, ceiling)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if ceiling is not None:
        rows.append(
            {
                "case": "Redis gate Lua script alone, 32 connections",
                "value": round(ceiling),
                "unit": "calls/s",
            }
        )
    else:
        rows.append({"case": "Redis gate", "value": "skipped", "unit": f"set {REDIS_ENV}"})
    return rows


async def _seed(url: str, buyers: int, units: int) -> dict[str, Any]:
    """A live session with a flash sale of ``units`` and ``buyers`` users with tokens."""
    from daihuo.catalog import service as catalog
    from daihuo.catalog.schemas import FlashSaleCreate
    from daihuo.core.db import Database, commit
    from daihuo.live import service as live
    from daihuo.live.schemas import LiveSessionCreate, LiveSessionStart

    db = Database(url)
    try:
        parties, tokens = await seed_parties(db, buyers)
        item, sku = await seed_item(db, parties, title="秒杀压测 纯棉短袖T恤", stock=units * 2)
        m = parties["merchant"]
        async with db.session(tenant_id=m.tenant_id) as session:
            scheduled = await live.schedule(
                session, m,
                LiveSessionCreate(title="秒杀专场", planned_start=datetime.now(UTC),
                                  products=[item.id]),
            )  # fmt: skip
            await live.start(session, m, scheduled.id, LiveSessionStart())
            sale = await catalog.create_flash_sale(
                session, m,
                FlashSaleCreate(item_id=item.id, sku_id=sku, price=990, units=units,
                                per_user_limit=1, duration_seconds=3600),
                session_id=scheduled.id,
            )  # fmt: skip
            await commit(session)
        return {"tokens": tokens, "sale": sale.id, "sku": sku}
    finally:
        await db.dispose()


async def _case(
    label: str,
    tmp: Path,
    buyers: int,
    units: int,
    processes: int,
    redis: str | None,
    ceiling: float | None,
) -> list[dict[str, Any]]:
    url, drop = await _database("sqlite", tmp)
    seed = await _seed(url, buyers, units)
    env = {"DAIHUO_REDIS_URL": redis, "DAIHUO_REDIS_PREFIX": f"b{secrets.token_hex(4)}"}
    servers = [
        Server(url, tmp / f"p{n}", extra_env=env if redis else None) for n in range(processes)
    ]
    try:
        latencies: list[float] = []
        won = 0
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        clients = [httpx.AsyncClient(base_url=s.base, limits=limits, timeout=300) for s in servers]
        sem = asyncio.Semaphore(256)  # at most 256 requests in flight, like a CDN's queue
        go = asyncio.Event()

        async def one(i: int) -> None:
            nonlocal won
            await go.wait()
            async with sem:
                headers = {"Authorization": f"Bearer {seed['tokens'][i]}"}
                t = time.perf_counter()
                r = await clients[i % processes].post(
                    f"/api/v1/flash-sales/{seed['sale']}/buy", json={"quantity": 1},
                    headers=headers,
                )  # fmt: skip
                latencies.append(time.perf_counter() - t)
            if r.status_code == 201:
                won += 1
            elif r.status_code != 409:
                raise RuntimeError(f"buy refused: {r.status_code} {r.text[:200]}")

        tasks = [asyncio.create_task(one(i)) for i in range(buyers)]
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
        for c in clients:
            await c.aclose()
    finally:
        for s in servers:
            s.stop()
    sold = _sold(url, seed["sale"])
    await drop()
    if won != units or sold != units:
        raise RuntimeError(f"{label}: {won} answers and {sold} orders for {units} units")
    latencies.sort()
    rows = [
        {
            "case": f"{label}: {buyers} buyers for {units} units, requests answered",
            "value": round(buyers / seconds, 1),
            "unit": "requests/s",
        },
        {
            "case": f"{label}: successful reservations (exactly {units} sold)",
            "value": round(units / seconds, 1),
            "unit": "reservations/s",
            **(
                {"baseline": round(ceiling), "ratio": round(units / seconds / ceiling, 4)}
                if ceiling
                else {}
            ),
        },
        {
            "case": f"{label}: request latency p50",
            "value": round(_pct(latencies, 50) * 1000, 1),
            "unit": "ms",
        },
        {
            "case": f"{label}: request latency p99",
            "value": round(_pct(latencies, 99) * 1000, 1),
            "unit": "ms",
        },
    ]
    return rows


def _pct(sorted_values: list[float], p: float) -> float:
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def _sold(url: str, sale_id: str) -> int:
    path = url.split(":///", 1)[1]
    with sqlite3.connect(path, timeout=30) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(quantity), 0) FROM orders WHERE flash_sale_id = ?", (sale_id,)
        ).fetchone()
    return int(row[0])


async def _lua_ceiling(redis_url: str, calls: int) -> float:
    """The gate's take script straight at Redis from 32 connections, one call each."""
    from daihuo.core.redis import make_redis
    from daihuo.live.flash import RedisFlashGate

    redis = make_redis(redis_url)
    gate = RedisFlashGate(redis, prefix=f"bench{secrets.token_hex(4)}")
    try:
        await gate.load("ceiling", calls, {}, stale_seconds=3600)
        left = calls

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await gate.take("ceiling", f"u{left}", 1, 1)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(32)))
        rate = calls / (time.perf_counter() - started)
        await gate.forget("ceiling")
        return rate
    finally:
        await redis.aclose()
