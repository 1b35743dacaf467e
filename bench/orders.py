"""Orders created and paid per second through the HTTP API, against the database's own
ceiling for the same stock reservation.

One server process (``daihuo serve``, uvicorn) per engine, with 1 and 32 concurrent
clients, for one hot SKU everyone buys and for 1,000 products bought in turn.

* "created" rows: ``POST /orders`` (reserves stock with a conditional UPDATE) sent by
  the lean load generator of ``bench/_rawload.py`` in its own process (raw keep-alive
  sockets, microseconds per request), so that the rate is the server's; the row also
  gives the server's CPU milliseconds per order.
* "created+paid" rows: a client's order is three requests from httpx clients in this
  process — ``POST /orders``, ``POST /orders/{id}/pay`` (a payment at the sandbox
  provider) and the sandbox pay page's "pay" button; the provider then calls the
  signed webhook, which marks the order paid. The time runs from the first request
  until the database shows every order of the case paid. httpx costs ~2 ms of CPU per
  request on these two cores, so these rows measure the client as much as the server.

Baseline, measured in the same run: the bare conditional UPDATE (``available -= 1,
reserved += 1 WHERE id = ? AND available >= 1``), one transaction each, from 1 and 32
connections straight to the database (sqlite3 with the app's pragmas; asyncpg). It is
the ceiling of a transaction-per-order design on that row; the ratio says how much of
it the whole HTTP path keeps. A second reference, the HTTP floor: authenticated ``GET
/api/v1/me`` per second on the same server with the same lean client
(``of_http_floor`` in the JSON is orders/s ÷ that).

PostgreSQL runs when ``DAIHUO_TEST_POSTGRES_URL`` is set. Both engines' durability
is the app's: SQLite in WAL with ``synchronous=FULL`` (core/db.py), PostgreSQL with
its default ``synchronous_commit=on``. The load generator shares the machine's CPUs
with the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

PG_ENV = "DAIHUO_TEST_POSTGRES_URL"
PRODUCTS = 1000
PASSWORD = "bench password"  # noqa: S105 - throwaway accounts in a throwaway database
HOT_STOCK = 10_000_000


def run(quick: bool) -> list[dict[str, Any]]:
    return asyncio.run(_run(quick))


async def _run(quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="daihuo-bench-orders-"))
    engines = ["sqlite"] + (["postgres"] if os.environ.get(PG_ENV) else [])
    try:
        for engine in engines:
            url, drop = await _database(engine, tmp)
            try:
                rows += await _engine(engine, url, tmp, quick)
            finally:
                await drop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if "postgres" not in engines:
        rows.append({"case": "postgres", "value": "skipped", "unit": f"set {PG_ENV}"})
    return rows


# --- databases ----------------------------------------------------------------------------


async def _database(engine: str, tmp: Path) -> tuple[str, Callable[[], Awaitable[None]]]:
    from daihuo.migrate import upgrade_async

    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'orders.db'}"
        await upgrade_async(url)

        async def nothing() -> None:
            return None

        return url, nothing
    import asyncpg

    admin = os.environ[PG_ENV]
    name = f"daihuo_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = admin.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+asyncpg://{base}/{name}"
    await upgrade_async(url)

    async def drop() -> None:
        c = await asyncpg.connect(admin)
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await c.close()

    return url, drop


def _raw_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


# --- seeding (through the services, not timed) ----------------------------------------------


def cheap_auth() -> Any:
    """The tenancy service's settings with cheap password hashing: seeding only."""
    from argon2 import PasswordHasher

    from daihuo.tenancy.service import AuthConfig

    return AuthConfig(
        hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
        token_ttl=timedelta(days=1),
        session_ttl=timedelta(days=1),
        max_failures=5,
        max_failures_per_ip=50,
        failure_window=timedelta(minutes=15),
    )


async def seed_parties(db: Any, buyers: int) -> tuple[dict[str, Any], list[str]]:
    """A supplier, a merchant and the platform (their principals, by label) and ``buyers``
    consumers' bearer tokens, with the benches' cheap password hashing."""
    from daihuo.core.db import commit
    from daihuo.tenancy import service as tenancy
    from daihuo.tenancy.domain import TenantKind, Via

    cfg = cheap_auth()
    users = {}
    async with db.session(all_tenants=True) as session:
        for label, kind in (
            ("supplier", TenantKind.supplier),
            ("merchant", TenantKind.merchant),
            ("platform", TenantKind.platform),
        ):
            user = await tenancy.create_user(
                session, cfg, email=f"{label}@bench.test", password=PASSWORD, display_name=label
            )
            await tenancy.create_tenant(session, kind=kind, name=label, owner=user)
            users[label] = user
        tokens = []
        for i in range(buyers):
            user = await tenancy.create_user(
                session, cfg, email=f"buyer{i}@bench.test", password=PASSWORD, display_name="b"
            )
            tokens.append((await tenancy.issue_token(session, cfg, user, kind=Via.bearer)).secret)
        await commit(session)
    parties = {}
    async with db.session(all_tenants=True) as session:
        for label, user in users.items():
            parties[label] = await tenancy.principal_for_user(
                session, user, via=Via.bearer, tenant_id=None
            )
    return parties, tokens


async def seed_item(db: Any, parties: dict[str, Any], *, title: str, stock: int) -> Any:
    """A product of one SKU (price 19.90), listed and picked into the merchant's showcase;
    returns the showcase item (its ``product_id``) and the SKU id."""
    from daihuo.catalog import service as catalog
    from daihuo.catalog.schemas import ProductCreate, ShowcaseCreate, SkuCreate
    from daihuo.core.db import commit

    s, m, p = parties["supplier"], parties["merchant"], parties["platform"]
    data = ProductCreate(
        title=title,
        category="服饰/男装",
        price_min=100,
        price_max=100_000,
        commission_bps=1500,
        skus=[SkuCreate(code="A", price=1990, stock=stock)],
    )
    async with db.session(tenant_id=s.tenant_id) as session:
        made = await catalog.create_product(session, s, data)
        await catalog.submit_product(session, s, made.id)
        await commit(session)
    async with db.session(all_tenants=True) as session:
        await catalog.approve_product(session, p, made.id)
        await commit(session)
    async with db.session(tenant_id=m.tenant_id) as session:
        item = await catalog.add_to_showcase(
            session, m, ShowcaseCreate(product_id=made.id, price=1990)
        )
        await commit(session)
    return item, made.skus[0].id


async def _seed(url: str, buyers: int) -> dict[str, Any]:
    from daihuo.core.db import Database

    db = Database(url)
    try:
        parties, tokens = await seed_parties(db, buyers)
        items: list[tuple[str, str]] = []
        for i in range(PRODUCTS + 1):
            item, sku = await seed_item(
                db,
                parties,
                title=f"压测商品 {i} 号 纯棉短袖T恤",
                stock=HOT_STOCK if i == 0 else 100_000,
            )
            items.append((item.id, sku))
        return {"tokens": tokens, "hot": items[0], "spread": items[1:]}
    finally:
        await db.dispose()


# --- the server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[Any], seconds: float = 60) -> None:
    """Poll ``url`` until it answers 200; raise if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start ({url})")
        time.sleep(0.1)


class Server:
    def __init__(
        self, url: str, data_dir: Path, *, extra_env: dict[str, Any] | None = None
    ) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DAIHUO_DATABASE_URL": url,
            "DAIHUO_DATA_DIR": str(data_dir),
            "DAIHUO_LOG_LEVEL": "WARNING",
            "DAIHUO_SANDBOX_POLL_SECONDS": "0.2",
            **{k: str(v) for k, v in (extra_env or {}).items()},
        }
        self.log = (data_dir / f"server-{self.port}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daihuo", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(f"{self.base}/healthz", self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still closing its sockets: do not hide the cause
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.log.close()


# --- the load -----------------------------------------------------------------------------


async def _count_paid(url: str, session_tag: str) -> int:
    sql = "SELECT count(*) FROM orders WHERE session = {} AND state = 'paid'"
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]

        def count() -> int:
            with sqlite3.connect(path, timeout=30) as conn:
                return int(conn.execute(sql.format("?"), (session_tag,)).fetchone()[0])

        return await asyncio.to_thread(count)
    import asyncpg

    conn = await asyncpg.connect(_raw_dsn(url))
    try:
        return int(await conn.fetchval(sql.format("$1"), session_tag))
    finally:
        await conn.close()


async def _load(
    server: Server,
    url: str,
    seed: dict[str, Any],
    *,
    target: str,
    clients: int,
    orders: int,
    pay: bool,
) -> float:
    tag = f"b{secrets.token_hex(6)}"
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    left = orders
    rng = random.Random(7)
    tokens = seed["tokens"]

    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=120) as http:

        async def client(n: int) -> None:
            nonlocal left
            headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
            while left > 0:
                left -= 1
                item, sku = seed["hot"] if target == "hot" else rng.choice(seed["spread"])
                body = {"item_id": item, "sku_id": sku, "quantity": 1, "session": tag}
                r = await http.post("/api/v1/orders", json=body, headers=headers)
                if r.status_code != 201:
                    raise RuntimeError(f"order refused: {r.status_code} {r.text[:200]}")
                if not pay:
                    continue
                r = await http.post(f"/api/v1/orders/{r.json()['id']}/pay", headers=headers)
                if r.status_code != 201:
                    raise RuntimeError(f"payment refused: {r.status_code} {r.text[:200]}")
                r = await http.post(r.json()["pay_url"], data={"outcome": "pay"})
                if r.status_code != 200:
                    raise RuntimeError(f"sandbox refused: {r.status_code} {r.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        if pay:
            deadline = time.monotonic() + 600
            while await _count_paid(url, tag) < orders:
                if time.monotonic() > deadline:
                    raise RuntimeError("orders were not all paid within 10 minutes")
                await asyncio.sleep(0.05)
        return orders / (time.perf_counter() - started)


# --- the baseline ---------------------------------------------------------------------------

UPDATE_SQLITE = (
    "UPDATE skus SET available = available - 1, reserved = reserved + 1 "
    "WHERE id = ? AND available >= 1"
)
UPDATE_PG = (
    "UPDATE skus SET available = available - 1, reserved = reserved + 1 "
    "WHERE id = $1 AND available >= 1"
)


def _sqlite_ceiling(path: str, skus: list[str], clients: int, updates: int) -> float:
    """Conditional UPDATEs, one committed transaction each, from ``clients`` threads."""
    left = [updates]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")
        try:
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                conn.execute("BEGIN IMMEDIATE")
                cur = conn.execute(UPDATE_SQLITE, (rng.choice(skus),))
                conn.execute("COMMIT")
                if cur.rowcount != 1:
                    raise RuntimeError("baseline ran out of stock")
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return updates / (time.perf_counter() - started)


async def _pg_ceiling(url: str, skus: list[str], clients: int, updates: int) -> float:
    import asyncpg

    pool = await asyncpg.create_pool(_raw_dsn(url), min_size=clients, max_size=clients)
    left = updates
    rng = random.Random(3)

    async def worker() -> None:
        nonlocal left
        async with pool.acquire() as conn:
            while left > 0:
                left -= 1
                done = await conn.execute(UPDATE_PG, rng.choice(skus))
                if done != "UPDATE 1":
                    raise RuntimeError("baseline ran out of stock")

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return updates / (time.perf_counter() - started)
    finally:
        await pool.close()


async def _ceiling(url: str, skus: list[str], clients: int, updates: int) -> float:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        return await asyncio.to_thread(_sqlite_ceiling, path, skus, clients, updates)
    return await _pg_ceiling(url, skus, clients, updates)


# --- one engine -----------------------------------------------------------------------------


def _bodies(seed: dict[str, Any], target: str) -> str:
    """The orders' JSON bodies, one per line: the hot SKU, or the 1,000 products in a
    shuffled order (the load generator sends them in turn)."""
    items = [seed["hot"]] if target == "hot" else list(seed["spread"])
    random.Random(3).shuffle(items)
    lines = [
        json.dumps({"item_id": item, "sku_id": sku, "quantity": 1, "session": "bench"})
        for item, sku in items
    ]
    return "\n".join(lines) + "\n"


def _order_row(
    engine: str, what: str, clients: int, label: str, rate: float, ceiling: float,
    floors: dict[int, float],
) -> dict[str, Any]:  # fmt: skip
    return {
        "case": f"{engine} {what} {clients} client(s): orders {label}",
        "value": round(rate, 1),
        "unit": "orders/s",
        "baseline": round(ceiling, 1),
        "ratio": round(rate / ceiling, 4),
        "of_http_floor": round(rate / floors[clients], 3),
    }


async def _engine(engine: str, url: str, tmp: Path, quick: bool) -> list[dict[str, Any]]:
    from bench.http_floor import _measure

    seed = await _seed(url, buyers=64)
    data_dir = tmp / engine
    data_dir.mkdir(exist_ok=True)
    server = Server(url, data_dir)
    rows: list[dict[str, Any]] = []
    floors: dict[int, float] = {}
    try:
        for target in ("hot", "spread"):
            skus = [seed["hot"][1]] if target == "hot" else [s for _, s in seed["spread"]]
            for clients in (1, 32):
                n = (40 if clients == 1 else 160) if quick else (150 if clients == 1 else 600)
                seconds = 3.0 if quick else 8.0
                base_n = 2000 if quick else 10_000
                ceiling = await _ceiling(url, skus, clients, base_n)
                what = "hot SKU" if target == "hot" else f"{PRODUCTS} products"
                header = f"Authorization: Bearer {seed['tokens'][0]}"
                if clients not in floors:
                    floor, cpu = _measure(
                        server.port, server.proc.pid, clients, seconds, "/api/v1/me", header
                    )
                    floors[clients] = floor
                    rows.append(
                        {
                            "case": f"{engine} {clients} client(s): authenticated GET /me"
                            " (HTTP stack alone)",
                            "value": round(floor, 1),
                            "unit": "requests/s",
                            "server_cpu_ms": round(cpu, 3),
                        }
                    )
                bodies = tmp / f"{engine}-{target}.jsonl"
                bodies.write_text(_bodies(seed, target), encoding="utf-8")
                rate, cpu = _measure(
                    server.port, server.proc.pid, clients, seconds, "/api/v1/orders", header,
                    f"@{bodies}",
                )  # fmt: skip
                rows.append(_order_row(engine, what, clients, "created", rate, ceiling, floors))
                rows[-1]["server_cpu_ms"] = round(cpu, 3)
                rate = await _load(
                    server, url, seed, target=target, clients=clients, orders=n, pay=True
                )
                rows.append(
                    _order_row(engine, what, clients, "created+paid (httpx clients)", rate,
                               ceiling, floors)
                )  # fmt: skip
    finally:
        server.stop()
    return rows
