"""The live feed: how fast the incremental totals take events, and how long the live
tile of one room (its figures so far and the last five minutes) takes to read — against
DuckDB answering the same from the stored events, measured in the same run.

The input is bench/analytics.py's generated session (3 hours, 200 k events for
``--quick``, 2 M for the full run, 0.2 % re-delivered ids), cut two hours in: the
tile is read "live" at that instant. Cases:

* ``apply``: events/s folded into the totals — in memory (one process) and through the
  Redis script in batches of 1,000 (``DAIHUO_TEST_REDIS_URL``; skipped when unset) —
  against the sink's own cost of storing the same events (DuckDB appender, one batch);
* ``tile``: p50 and p99 of a tile read (``LiveFeed.snapshot``), against DuckDB
  computing the figures so far with the report's SQL (what re-querying the session
  every second would cost) and a bare last-five-minutes SQL (plain counts by minute of
  enters, comments, likes and created-and-paid orders: a floor for DuckDB, it has no
  presence, PCU or so-far totals);
* ``GET …/live/tile`` (with Redis): the whole request to a running server (``daihuo
  serve`` on SQLite, bearer token, tenancy check, Redis read), whose totals were applied
  to Redis from here — as another process would — against the same server's floor, an
  authenticated ``GET /api/v1/me``.

    python -m bench live_feed --quick
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from daihuo.analytics import engine
from daihuo.analytics.live import LiveFeed, MemoryTotals, RedisTotals, processing_order
from daihuo.core.warehouse.duckdb import DuckDBWarehouse
from daihuo.events.model import Event, event_from_obj
from daihuo.events.store import event_row

from bench.analytics import generate
from bench.orders import PASSWORD, Server, _database, cheap_auth

REDIS_ENV = "DAIHUO_TEST_REDIS_URL"
BATCH = 1_000
HOURS_IN = 2  # the tile is read two hours into the three-hour session

LAST_5_MINUTES_SQL = """
SELECT (ts_ms - $start) // 60000 AS minute,
       count(*) FILTER (WHERE type = 'enter') AS views,
       count(*) FILTER (WHERE type = 'comment') AS comments,
       coalesce(sum(coalesce("count", 1)) FILTER (WHERE type = 'like'), 0) AS likes,
       count(*) FILTER (WHERE type = 'order_paid') AS orders,
       coalesce(sum(amount) FILTER (WHERE type = 'order_paid'), 0) AS gmv
FROM events
WHERE session = $session AND ts_ms >= $since AND ts_ms <= $now
GROUP BY minute ORDER BY minute
"""


def _quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99


def _timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def _atimed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _events(n: int) -> tuple[str, list[Event], int]:
    path = generate(n)
    with path.open(encoding="utf-8") as handle:
        events = [event_from_obj(json.loads(line)) for line in handle if line.strip()]
    sid = events[0].session
    events = [e for e in events if e.session == sid]
    start = min(e.ts_ms for e in events if e.type == "live_start")
    now = start + HOURS_IN * 3_600_000
    # what the server would have recorded by then, in arrival (file) order
    return sid, [e for e in events if e.ts_ms <= now and e.type != "live_end"], now


def run(quick: bool) -> list[dict[str, Any]]:
    return asyncio.run(_run(quick))


async def _run(quick: bool) -> list[dict[str, Any]]:
    n = 200_000 if quick else 2_000_000
    reads = 200 if quick else 1000
    sid, events, now = _events(n)
    rows: list[dict[str, Any]] = []
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]

    # The sink's own cost: the same events appended to DuckDB (rows built, one append).
    started = time.perf_counter()
    warehouse = DuckDBWarehouse(None)
    warehouse.append([event_row(e) for e in events])
    store_rate = len(events) / (time.perf_counter() - started)

    memory = LiveFeed(MemoryTotals())
    started = time.perf_counter()
    for batch in batches:
        memory.add(batch)
    mem_rate = len(events) / (time.perf_counter() - started)
    rows.append({"case": f"apply {len(events):,} events, memory (per batch of {BATCH:,})",
                 "value": round(mem_rate), "unit": "events/s", "baseline": round(store_rate),
                 "ratio": round(mem_rate / store_rate, 2)})  # fmt: skip

    # The tile, read from memory; against DuckDB answering from the stored events.
    mem_ms = await _atimed(lambda: memory.snapshot(sid, now), reads)
    report_ms = _timed(lambda: engine.session_report(warehouse, sid), 10 if quick else 5)
    start = min(e.ts_ms for e in events if e.type == "live_start")
    params = {"session": sid, "start": start, "since": now - 5 * 60_000, "now": now}

    def last5() -> Any:
        cur = warehouse.cursor()
        try:
            return cur.execute(LAST_5_MINUTES_SQL, params).fetchall()
        finally:
            cur.close()

    last5_ms = _timed(last5, 50)
    snap = await memory.snapshot(sid, now)
    report = engine.session_report(warehouse, sid)
    assert report is not None and snap["gmv"] == report["gmv"], "the tile and report agree"
    p50, p99 = _quantiles(mem_ms)
    r50, r99 = _quantiles(report_ms)
    l50, l99 = _quantiles(last5_ms)
    rows.append({"case": "tile read p50, memory (vs DuckDB report so far p50)", "value": p50,
                 "unit": "ms", "baseline": r50, "ratio": round(p50 / r50, 4)})  # fmt: skip
    rows.append({"case": "tile read p99, memory (vs DuckDB report so far p99)", "value": p99,
                 "unit": "ms", "baseline": r99, "ratio": round(p99 / r99, 4)})  # fmt: skip
    rows.append({"case": "DuckDB last-5-minutes counts p50 / p99 (floor, no presence)",
                 "value": l50, "unit": "ms", "baseline": l99})  # fmt: skip

    url = os.environ.get(REDIS_ENV)
    if url:
        redis = Redis.from_url(url)
        prefix = f"daihuo-bench-{secrets.token_hex(4)}:"
        try:
            store = RedisTotals(redis, prefix=prefix)
            started = time.perf_counter()
            for batch in batches:
                await store.apply(sid, processing_order(batch))
            redis_rate = len(events) / (time.perf_counter() - started)
            rows.append({"case": f"apply {len(events):,} events, Redis script per batch",
                         "value": round(redis_rate), "unit": "events/s",
                         "baseline": round(store_rate),
                         "ratio": round(redis_rate / store_rate, 2)})  # fmt: skip
            feed = LiveFeed(store)
            red_ms = await _atimed(lambda: feed.snapshot(sid, now), reads)
            assert (await feed.snapshot(sid, now))["gmv"] == snap["gmv"]
            p50, p99 = _quantiles(red_ms)
            rows.append({"case": "tile read p50, Redis (vs DuckDB last-5-minutes p50)",
                         "value": p50, "unit": "ms", "baseline": l50,
                         "ratio": round(p50 / l50, 3)})  # fmt: skip
            rows.append({"case": "tile read p99, Redis (vs DuckDB last-5-minutes p99)",
                         "value": p99, "unit": "ms", "baseline": l99,
                         "ratio": round(p99 / l99, 3)})  # fmt: skip
            rows += await _http_tile(url, prefix, batches, snap["gmv"], reads)
        finally:
            keys = [k async for k in redis.scan_iter(match=f"{prefix}*", count=1000)]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()
    warehouse.close()
    return rows


async def _merchant_session(url: str) -> tuple[str, str]:
    """A merchant's bearer token and one of its live sessions (scheduled: the tile reads
    the totals in any state)."""
    from daihuo.core.db import Database, commit
    from daihuo.live import service as live
    from daihuo.live.schemas import LiveSessionCreate
    from daihuo.tenancy import service as tenancy
    from daihuo.tenancy.domain import TenantKind, Via

    cfg = cheap_auth()
    db = Database(url)
    try:
        async with db.session(all_tenants=True) as session:
            user = await tenancy.create_user(
                session, cfg, email="host@bench.test", password=PASSWORD, display_name="host"
            )
            await tenancy.create_tenant(session, kind=TenantKind.merchant, name="店", owner=user)
            token = (await tenancy.issue_token(session, cfg, user, kind=Via.bearer)).secret
            await commit(session)
        async with db.session(all_tenants=True) as session:
            ctx = await tenancy.principal_for_user(session, user, via=Via.bearer, tenant_id=None)
        async with db.session(tenant_id=ctx.tenant_id) as session:
            data = LiveSessionCreate(title="压测直播", planned_start=datetime.now(UTC))
            made = await live.schedule(session, ctx, data)
            await commit(session)
        return token, made.id
    finally:
        await db.dispose()


async def _http_tile(
    redis_url: str, prefix: str, batches: list[list[Event]], gmv: int, reads: int
) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="daihuo-bench-live-"))
    try:
        url, _ = await _database("sqlite", tmp)
        token, sid = await _merchant_session(url)
        redis = Redis.from_url(redis_url)
        try:
            store = RedisTotals(redis, prefix=prefix)
            for batch in batches:  # what the processes recording the room would apply
                await store.apply(sid, processing_order(batch))
        finally:
            await redis.aclose()
        env = {"DAIHUO_REDIS_URL": redis_url, "DAIHUO_REDIS_PREFIX": prefix}
        server = Server(url, tmp / "var", extra_env=env)
        try:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=server.base, headers=headers) as client:
                path = f"/api/v1/sessions/{sid}/live/tile"
                r = await client.get(path)
                assert r.status_code == 200 and r.json()["gmv"] == gmv, r.text
                for _ in range(20):  # warm up
                    await client.get(path)
                    await client.get("/api/v1/me")
                tile_ms = await _atimed(lambda: client.get(path), reads)
                floor_ms = await _atimed(lambda: client.get("/api/v1/me"), reads)
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    p50, p99 = _quantiles(tile_ms)
    f50, f99 = _quantiles(floor_ms)
    return [
        {"case": "GET /live/tile p50 over HTTP, Redis (vs GET /api/v1/me p50)", "value": p50,
         "unit": "ms", "baseline": f50, "ratio": round(p50 / f50, 2)},
        {"case": "GET /live/tile p99 over HTTP, Redis (vs GET /api/v1/me p99)", "value": p99,
         "unit": "ms", "baseline": f99, "ratio": round(p99 / f99, 2)},
    ]  # fmt: skip
