"""Live-room fan-out: N viewers in one room while 100 comments a second go in — per-event
delivery latency (p50/p99, from the sender's clock to a sampled viewer's, same
machine) and the server's CPU, for one process in memory and for two processes over
Redis (``DAIHUO_TEST_REDIS_URL``; skipped when unset).

The viewers run in a separate process (``bench/fanout_clients.py``): most only read,
``SAMPLE`` of them parse every frame and time each comment. Ten senders in this
process comment ten times a second each, their send time in the text; the room also
broadcasts like totals and online counts. The room bundles messages into frames
(``DAIHUO_LIVE_FRAME_MS``, 100 ms) encoded once for every viewer, without per-message
compression, so the latency includes up to one frame interval by design. Comment rate
limits are raised for the senders (they stand for thousands of commenting viewers).
The server's CPU is its process's user + system time over the measured window, as a
share of one core; the client process and this one share the machine's two cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench.orders import PASSWORD, Server, _database, cheap_auth

REDIS_ENV = "DAIHUO_TEST_REDIS_URL"
SAMPLE = 50
SENDERS = 10
PER_SENDER = 10  # comments per second each: 100 events/s in all


def run(quick: bool) -> list[dict[str, Any]]:
    return asyncio.run(_run(quick))


async def _run(quick: bool) -> list[dict[str, Any]]:
    sizes = [200, 1000] if quick else [1000, 5000]
    seconds = 8 if quick else 20
    redis_url = os.environ.get(REDIS_ENV)
    cases: list[tuple[int, int, str | None]] = [(n, 1, None) for n in sizes]
    if redis_url:
        cases.append((sizes[-1] * 2, 2, redis_url))
    rows: list[dict[str, Any]] = []
    for viewers, processes, redis in cases:
        tmp = Path(tempfile.mkdtemp(prefix="daihuo-bench-fanout-"))
        try:
            rows += await _case(tmp, viewers, processes, redis, seconds)
        finally:
            if not os.environ.get("DAIHUO_BENCH_KEEP"):
                shutil.rmtree(tmp, ignore_errors=True)
    if not redis_url:
        rows.append(
            {"case": "two processes over Redis", "value": "skipped", "unit": f"set {REDIS_ENV}"}
        )
    return rows


async def _seed(url: str) -> str:
    """A merchant whose session is live; returns the session id."""

    from daihuo.core.db import Database, commit
    from daihuo.live import service as live
    from daihuo.live.schemas import LiveSessionCreate, LiveSessionStart
    from daihuo.tenancy import service as tenancy
    from daihuo.tenancy.domain import TenantKind, Via

    cfg = cheap_auth()
    db = Database(url)
    try:
        async with db.session(all_tenants=True) as session:
            user = await tenancy.create_user(
                session, cfg, email="host@bench.test", password=PASSWORD, display_name="host"
            )
            await tenancy.create_tenant(session, kind=TenantKind.merchant, name="host", owner=user)
            await commit(session)
            ctx = await tenancy.principal_for_user(session, user, via=Via.bearer, tenant_id=None)
        async with db.session(tenant_id=ctx.tenant_id) as session:
            made = await live.schedule(
                session, ctx, LiveSessionCreate(title="压测直播间", planned_start=datetime.now(UTC))
            )
            await live.start(session, ctx, made.id, LiveSessionStart())
            await commit(session)
        return made.id
    finally:
        await db.dispose()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _senders(bases: list[str], sid: str, secret: str, seconds: float) -> int:
    from daihuo.live.domain import issue_visitor_token, new_visitor_id, visitor_key

    key = visitor_key(secret.encode())
    sent = 0

    async def sender(n: int) -> None:
        nonlocal sent
        token = issue_visitor_token(key, sid, new_visitor_id(), int(time.time()) + 3600)
        url = f"{bases[n % len(bases)]}/ws/rooms/{sid}"
        async with connect(url, compression=None, max_size=2**22) as ws:
            await ws.send(json.dumps({"type": "hello", "v": 1, "visitor": token}))
            drain = asyncio.create_task(_drain(ws))
            start = time.perf_counter()
            for k in range(int(seconds * PER_SENDER)):
                await asyncio.sleep(max(0.0, start + k / PER_SENDER - time.perf_counter()))
                await ws.send(json.dumps({"type": "comment", "text": f"t={time.time():.6f}"}))
                sent += 1
            await asyncio.sleep(1.0)  # let the last frames arrive
            drain.cancel()

    await asyncio.gather(*(sender(n) for n in range(SENDERS)))
    return sent


async def _drain(ws: Any) -> None:
    async for _ in ws:
        pass


async def _case(
    tmp: Path, viewers: int, processes: int, redis: str | None, seconds: float
) -> list[dict[str, Any]]:
    url, drop = await _database("sqlite", tmp)
    sid = await _seed(url)
    secret = secrets.token_hex(32)
    env: dict[str, Any] = {
        "DAIHUO_SECRET_KEY": secret,
        "DAIHUO_LIVE_COMMENT_PER_SECOND": 100,
        "DAIHUO_LIVE_COMMENT_BURST": 100,
        "DAIHUO_LIVE_MAX_MESSAGES_PER_SECOND": 1000,
    }
    if redis:
        env |= {"DAIHUO_REDIS_URL": redis, "DAIHUO_REDIS_PREFIX": f"b{secrets.token_hex(4)}"}
    servers = [Server(url, tmp / f"p{n}", extra_env=env) for n in range(processes)]
    bases = [s.base.replace("http://", "ws://") for s in servers]
    config = {
        "bases": bases,
        "session": sid,
        "secret": secret,
        "viewers": viewers,
        "sample": SAMPLE,
    }
    clients = subprocess.Popen(  # noqa: ASYNC220 - once, before the measured window
        [sys.executable, "-m", "bench.fanout_clients", json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert clients.stdout is not None and clients.stdin is not None
        line = await asyncio.to_thread(clients.stdout.readline)
        if line.strip() != "READY":
            raise RuntimeError(f"viewers did not connect: {line!r}")
        cpu0 = [_cpu_seconds(s.proc.pid) for s in servers]
        t0 = time.perf_counter()
        sent = await _senders(bases, sid, secret, seconds)
        window = time.perf_counter() - t0
        cpu = [(_cpu_seconds(s.proc.pid) - c) / window for s, c in zip(servers, cpu0, strict=True)]
        out, _ = await asyncio.to_thread(clients.communicate, "", 120)
        result = json.loads(out.strip().splitlines()[-1])
    finally:
        if clients.poll() is None:
            clients.kill()
        for s in servers:
            s.stop()
        await drop()
    lat = sorted(result["latencies"])
    if not lat:
        raise RuntimeError(f"no comment reached a sampled viewer: {result['errors']}")
    label = f"{viewers} viewers, {processes} process{'es over Redis' if redis else ' in memory'}"
    expected = sent * max(1, SAMPLE)  # every sampled viewer should see every comment
    return [
        {
            "case": f"{label}: comment delivery p50",
            "value": round(_pct(lat, 50) * 1000, 1),
            "unit": "ms",
        },
        {
            "case": f"{label}: comment delivery p99",
            "value": round(_pct(lat, 99) * 1000, 1),
            "unit": "ms",
        },
        {
            "case": f"{label}: server CPU (each process)",
            "value": round(max(cpu) * 100, 1),
            "unit": "% of a core",
        },
        {
            "case": f"{label}: viewers let go as too slow (or lost)",
            "value": result["failed"],
            "unit": f"of {viewers}",
        },
        {
            "case": f"{label}: comments seen by the sampled viewers",
            "value": len(lat),
            "unit": f"of {expected}",
        },
    ]


def _pct(sorted_values: list[float], p: float) -> float:
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]
