"""Flash sales (秒杀): exactly N units sold for N units set aside — under a race through
real server processes (one in memory, two sharing the gate over Redis), when unpaid
orders lapse, when the sale ends, and when a process dies holding grants. On SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from daihuo.core.redis import make_redis
from daihuo.live.flash import MemoryFlashGate, RedisFlashGate, Verdict

from tests.conftest import REDIS_ENV, client_for, make_settings
from tests.fixtures import Account, create_token, create_user
from tests.integration.live.test_sessions_api import problem, schedule
from tests.integration.orders.live import live_server
from tests.integration.orders.shop import FAST, Shop, create_shop, pay, rows, stock

STOCK = 100
REDIS_URL = os.environ.get(REDIS_ENV)


async def live_shop(
    client: httpx.AsyncClient, database_url: str, *, buyers: int = 2
) -> tuple[Shop, str]:
    """A shop whose merchant is live with the shop's item on its list."""
    shop = await create_shop(client, database_url, stock=STOCK, buyers=buyers)
    r = await schedule(client, shop.merchant, products=[shop.item_id])
    assert r.status_code == 201, r.text
    sid = str(r.json()["id"])
    r = await client.post(f"/api/v1/live-sessions/{sid}/start", headers=shop.merchant.headers)
    assert r.status_code == 200, r.text
    return shop, sid


async def start_sale(
    client: httpx.AsyncClient, shop: Shop, sid: str, **body: Any
) -> dict[str, Any]:
    payload = {"item_id": shop.item_id, "sku_id": shop.sku_id, "price": 1500, "units": 10}
    payload.update(body)
    r = await client.post(
        f"/api/v1/live-sessions/{sid}/flash-sales", json=payload, headers=shop.merchant.headers
    )
    assert r.status_code == 201, r.text
    sale: dict[str, Any] = r.json()
    return sale


async def buy(
    client: httpx.AsyncClient, buyer: Account, sale_id: str, qty: int = 1
) -> httpx.Response:
    return await client.post(
        f"/api/v1/flash-sales/{sale_id}/buy", json={"quantity": qty}, headers=buyer.headers
    )


async def sale_row(database_url: str, sale_id: str) -> tuple[Any, ...]:
    got = await rows(
        database_url, "SELECT remaining, ended_at IS NULL FROM flash_sales WHERE id = :i", i=sale_id
    )
    return got[0]


# --- the race through real processes ----------------------------------------------------

UNITS = 30
BUYERS = 40
REQUESTS = 200


@pytest.mark.parametrize("gate", ["memory", "redis-two-processes"])
async def test_a_race_sells_exactly_the_units_of_the_sale(
    database_url: str, tmp_path: Path, gate: str
) -> None:
    if gate != "memory" and REDIS_URL is None:
        pytest.skip("set DAIHUO_TEST_REDIS_URL for the Redis gate")
    async with client_for(make_settings(database_url, tmp_path, **FAST)) as client:
        shop, sid = await live_shop(client, database_url, buyers=BUYERS)
        sale = await start_sale(client, shop, sid, units=UNITS, per_user_limit=1)
    env: dict[str, str] = {}
    if gate != "memory":
        assert REDIS_URL is not None
        env = {"DAIHUO_REDIS_URL": REDIS_URL, "DAIHUO_REDIS_PREFIX": f"t{secrets.token_hex(4)}"}
    processes = 1 if gate == "memory" else 2
    with contextlib_servers(database_url, tmp_path, processes, env) as bases:
        clients = [
            httpx.AsyncClient(
                base_url=b,
                limits=httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS),
                timeout=120,
            )
            for b in bases
        ]
        try:
            tokens = [await create_token(clients[0], b.email) for b in shop.buyers]
            go = asyncio.Event()

            async def one(i: int) -> httpx.Response:
                await go.wait()
                http = clients[i % len(clients)]
                headers = {"Authorization": f"Bearer {tokens[i % BUYERS]}"}
                return await http.post(
                    f"/api/v1/flash-sales/{sale['id']}/buy", json={"quantity": 1}, headers=headers
                )

            tasks = [asyncio.create_task(one(i)) for i in range(REQUESTS)]
            await asyncio.sleep(0.2)
            go.set()
            answers = await asyncio.gather(*tasks)
        finally:
            for c in clients:
                await c.aclose()

    won = [r for r in answers if r.status_code == 201]
    assert len(won) == UNITS, sorted({r.status_code for r in answers})
    for r in answers:
        if r.status_code != 201:
            assert r.status_code == 409, r.text
            assert r.json()["type"] in (
                "urn:daihuo:problem:flash-sale-sold-out",
                "urn:daihuo:problem:flash-sale-limit-reached",
            )
    assert len({r.json()["buyer_id"] for r in won}) == UNITS  # one per person
    assert all(r.json()["unit_price"] == 1500 for r in won)
    assert await sale_row(database_url, sale["id"]) == (0, True)
    assert await stock(database_url, shop.sku_id) == (STOCK - UNITS, UNITS, 0)
    assert await rows(
        database_url,
        "SELECT count(*), sum(quantity) FROM orders WHERE flash_sale_id = :i",
        i=sale["id"],
    ) == [(UNITS, UNITS)]
    assert await rows(
        database_url, "SELECT sum(quantity) FROM flash_holds WHERE sale_id = :i", i=sale["id"]
    ) == [(UNITS,)]


class contextlib_servers:
    """``with contextlib_servers(url, tmp, n, env) as bases``: n server processes."""

    def __init__(self, url: str, tmp: Path, n: int, env: dict[str, str]) -> None:
        self._cms = [live_server(url, tmp, **env) for _ in range(n)]

    def __enter__(self) -> list[str]:
        return [cm.__enter__() for cm in self._cms]

    def __exit__(self, *exc: object) -> None:
        for cm in reversed(self._cms):
            cm.__exit__(None, None, None)


# --- the sale's life in one process ------------------------------------------------------


async def test_a_won_order_is_paid_at_the_sale_price_and_sold(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop, sid = await live_shop(client, database_url)
    sale = await start_sale(client, shop, sid, units=5, price=1200)
    r = await buy(client, shop.buyers[0], sale["id"])
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["unit_price"], order["amount"], order["flash_sale_id"]) == (
        1200,
        1200,
        sale["id"],
    )
    await pay(client, shop.buyers[0], order["id"])
    assert await stock(database_url, shop.sku_id) == (STOCK - 5, 4, 1)
    assert await sale_row(database_url, sale["id"]) == (4, True)


async def test_a_lapsed_order_gives_its_units_back_to_the_running_sale(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop, sid = await live_shop(client, database_url, buyers=2)
    sale = await start_sale(client, shop, sid, units=1, per_user_limit=1)
    first = await buy(client, shop.buyers[0], sale["id"])
    assert first.status_code == 201, first.text
    problem(await buy(client, shop.buyers[1], sale["id"]), 409, "flash-sale-sold-out")
    r = await client.post(
        f"/api/v1/orders/{first.json()['id']}/cancel", headers=shop.buyers[0].headers
    )
    assert r.status_code == 200, r.text
    assert await sale_row(database_url, sale["id"]) == (1, True)
    # The gate learns it from the database at its next reconciliation.
    flash = client._transport.app.state.flash  # type: ignore[attr-defined]
    await flash.reconcile(sale["id"])
    again = await buy(client, shop.buyers[1], sale["id"])
    assert again.status_code == 201, again.text
    # The first buyer's hold was given back with the units: the limit counts held units.
    assert await rows(
        database_url,
        "SELECT buyer_id, quantity FROM flash_holds WHERE sale_id = :i ORDER BY quantity",
        i=sale["id"],
    ) == sorted([(shop.buyers[0].user_id, 0), (shop.buyers[1].user_id, 1)], key=lambda t: t[1])


async def test_ending_a_sale_returns_what_nobody_holds_and_stops_buying(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop, sid = await live_shop(client, database_url, buyers=2)
    sale = await start_sale(client, shop, sid, units=10, per_user_limit=3)
    r = await buy(client, shop.buyers[0], sale["id"], qty=3)
    assert r.status_code == 201, r.text
    problem(await buy(client, shop.buyers[0], sale["id"]), 409, "flash-sale-limit-reached")
    r = await client.post(f"/api/v1/flash-sales/{sale['id']}/end", headers=shop.merchant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["ended_at"] is not None and r.json()["remaining"] == 0
    assert await stock(database_url, shop.sku_id) == (STOCK - 3, 3, 0)
    problem(await buy(client, shop.buyers[1], sale["id"]), 409, "flash-sale-not-running")
    # The held order lapses after the end: its units go to available, not to the sale.
    order_id = (await rows(database_url, "SELECT id FROM orders"))[0][0]
    r = await client.post(f"/api/v1/orders/{order_id}/cancel", headers=shop.buyers[0].headers)
    assert r.status_code == 200, r.text
    assert await stock(database_url, shop.sku_id) == (STOCK, 0, 0)
    assert await sale_row(database_url, sale["id"]) == (0, False)


async def test_bad_flash_sale_requests_are_refused_and_change_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop, sid = await live_shop(client, database_url, buyers=1)
    base = {"item_id": shop.item_id, "sku_id": shop.sku_id, "price": 1500, "units": 10}
    url = f"/api/v1/live-sessions/{sid}/flash-sales"
    before = await stock(database_url, shop.sku_id)
    cases = [
        ({**base, "units": STOCK + 1}, 409, "insufficient-stock"),
        ({**base, "price": 10}, 422, "price-out-of-range"),
        ({**base, "units": 0}, 422, "validation-error"),
        ({**base, "per_user_limit": 0}, 422, "validation-error"),
        ({**base, "price": -5}, 422, "validation-error"),
        ({**base, "item_id": "shw_nope"}, 404, "showcase-item-not-found"),
    ]
    for body, status, slug in cases:
        problem(await client.post(url, json=body, headers=shop.merchant.headers), status, slug)
    # Not the merchant's, and not by a buyer.
    other = await create_user(client, label="merchant2", tenant_kind="merchant")
    r = await client.post(url, json=base, headers=other.headers)
    assert r.status_code == 404, r.text
    r = await client.post(url, json=base, headers=shop.buyers[0].headers)
    assert r.status_code == 403, r.text
    assert await stock(database_url, shop.sku_id) == before
    assert await rows(database_url, "SELECT count(*) FROM flash_sales") == [(0,)]

    sale = await start_sale(client, shop, sid, units=2)
    for qty in (0, -1, 101):
        r = await buy(client, shop.buyers[0], sale["id"], qty=qty)
        assert r.status_code == 422, r.text
    r = await client.post(f"/api/v1/flash-sales/{sale['id']}/buy", json={"quantity": 1})
    assert r.status_code == 401
    problem(await buy(client, shop.buyers[0], "fls_nope"), 404, "flash-sale-not-found")
    r = await client.post(f"/api/v1/flash-sales/{sale['id']}/end", headers=other.headers)
    assert r.status_code == 404, r.text
    assert await rows(database_url, "SELECT count(*) FROM orders") == [(0,)]
    assert await sale_row(database_url, sale["id"]) == (2, True)


async def test_a_sale_needs_a_live_session(client: httpx.AsyncClient, database_url: str) -> None:
    shop = await create_shop(client, database_url, stock=STOCK)
    r = await schedule(client, shop.merchant, products=[shop.item_id])
    sid = r.json()["id"]
    body = {"item_id": shop.item_id, "sku_id": shop.sku_id, "price": 1500, "units": 1}
    r = await client.post(
        f"/api/v1/live-sessions/{sid}/flash-sales", json=body, headers=shop.merchant.headers
    )
    problem(r, 409, "session-state-conflict")


# --- the gate: grants of a dead process are not lost ------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def gate(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        yield MemoryFlashGate()
        return
    if REDIS_URL is None:
        pytest.skip("set DAIHUO_TEST_REDIS_URL for the Redis gate")
    redis = make_redis(REDIS_URL)
    yield RedisFlashGate(redis, prefix=f"t{secrets.token_hex(4)}")
    await redis.aclose()


async def test_the_gate_never_grants_more_than_it_holds(gate: Any) -> None:
    assert (await gate.take("s", "u1", 1, 5))[0] is Verdict.unknown
    await gate.load("s", 3, {}, stale_seconds=30)
    results = await asyncio.gather(*(gate.take("s", f"u{i}", 1, 1) for i in range(10)))
    assert [v for v, _ in results].count(Verdict.granted) == 3
    assert (await gate.take("s", "u0", 1, 1))[0] in (Verdict.limit, Verdict.sold_out)
    # A failed order gives its unit back; a kept one does not.
    grants = [g for v, g in results if g is not None]
    await gate.settle(grants[0], kept=False)
    await gate.settle(grants[1], kept=True)
    await gate.settle(grants[1], kept=False)  # settling twice changes nothing
    verdict, _ = await gate.take("s", "late", 1, 1)
    assert verdict is Verdict.granted
    assert (await gate.take("s", "later", 1, 1))[0] is Verdict.sold_out


async def test_grants_of_a_dead_process_come_back_at_reconciliation(gate: Any) -> None:
    await gate.load("s", 5, {}, stale_seconds=30)
    for i in range(4):  # a process took these and died before settling any
        assert (await gate.take("s", f"u{i}", 1, 1))[0] is Verdict.granted
    # Fresh grants in flight are not given away twice ...
    assert await gate.load("s", 5, {}, stale_seconds=30) == 1
    # ... stale ones are the dead process's: the database (5 left) is the truth.
    await asyncio.sleep(0.01)
    assert await gate.load("s", 5, {"u9": 1}, stale_seconds=0.001) == 5
    assert (await gate.take("s", "u9", 1, 1))[0] is Verdict.limit  # the database's hold
    assert (await gate.take("s", "u0", 1, 1))[0] is Verdict.granted


# --- a process killed in the middle of the race -----------------------------------------


def start_process(database_url: str, tmp: Path, env: dict[str, str]) -> tuple[Any, str]:
    """``(process, base URL)``; the process's ``log`` attribute is its open log file."""
    import subprocess
    import sys
    import time

    from tests.integration.orders.live import free_port

    port = free_port()
    log = (tmp / f"server-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "daihuo", "serve", "--port", str(port)],
        env={
            **os.environ,
            "DAIHUO_DATABASE_URL": database_url,
            "DAIHUO_DATA_DIR": str(tmp),
            "DAIHUO_PASSWORD_MEMORY_KIB": "64",
            "DAIHUO_PASSWORD_TIME_COST": "1",
            "DAIHUO_PASSWORD_PARALLELISM": "1",
            "DAIHUO_LOG_LEVEL": "WARNING",
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log = log  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)


async def test_a_process_killed_mid_race_loses_no_units(database_url: str, tmp_path: Path) -> None:
    if REDIS_URL is None:
        pytest.skip("set DAIHUO_TEST_REDIS_URL for the Redis gate")
    units, buyers = 40, 80
    async with client_for(make_settings(database_url, tmp_path, **FAST)) as client:
        shop, sid = await live_shop(client, database_url, buyers=buyers)
        sale = await start_sale(client, shop, sid, units=units, per_user_limit=1)
    env = {
        "DAIHUO_REDIS_URL": REDIS_URL,
        "DAIHUO_REDIS_PREFIX": f"t{secrets.token_hex(4)}",
        "DAIHUO_FLASH_SALE_INTERVAL_SECONDS": "0.2",
        "DAIHUO_FLASH_SALE_GRANT_STALE_SECONDS": "2",
    }
    first, base = start_process(database_url, tmp_path, env)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            tokens = [await create_token(http, b.email) for b in shop.buyers]

            first_sold = asyncio.Event()

            async def one(i: int) -> int:
                try:
                    r = await http.post(
                        f"/api/v1/flash-sales/{sale['id']}/buy",
                        json={"quantity": 1},
                        headers={"Authorization": f"Bearer {tokens[i]}"},
                    )
                except httpx.TransportError:
                    return 0  # the process died under this request
                if r.status_code == 201:
                    first_sold.set()
                return r.status_code

            tasks = [asyncio.create_task(one(i)) for i in range(buyers)]
            # Kill while the race is in flight: a fast machine finished it inside a fixed
            # 0.3 s, and on SQLite the group commit answers the whole race at once, so the
            # first 201 can come only after the last unit; 20 ms after the requests left
            # (or the first sale, if sooner) the grants are still in Redis.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(first_sold.wait(), timeout=0.02)
            first.kill()  # SIGKILL: no shutdown, grants in flight stay in Redis
            await asyncio.gather(*tasks)
    finally:
        first.kill()
        first.wait(10)
        first.log.close()
    sold_before = (
        await rows(
            database_url, "SELECT count(*) FROM orders WHERE flash_sale_id = :i", i=sale["id"]
        )
    )[0][0]
    assert sold_before < units, "the race finished before the kill: make it bigger"

    second, base = start_process(database_url, tmp_path, env)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            await asyncio.sleep(3)  # past the stale window: the dead grants come back
            holders = {
                r[0]
                for r in await rows(
                    database_url,
                    "SELECT buyer_id FROM orders WHERE flash_sale_id = :i",
                    i=sale["id"],
                )
            }
            late = [b for b in shop.buyers if b.user_id not in holders]

            async def late_buy(email: str) -> int:
                token = await create_token(http, email)
                r = await http.post(
                    f"/api/v1/flash-sales/{sale['id']}/buy",
                    json={"quantity": 1},
                    headers={"Authorization": f"Bearer {token}"},
                )
                return r.status_code

            statuses = list(await asyncio.gather(*(late_buy(b.email) for b in late)))
    finally:
        second.terminate()
        second.wait(30)
        second.log.close()
    assert statuses.count(201) == units - sold_before, statuses
    assert set(statuses) <= {201, 409}
    assert await rows(
        database_url, "SELECT count(*) FROM orders WHERE flash_sale_id = :i", i=sale["id"]
    ) == [(units,)]
    assert await sale_row(database_url, sale["id"]) == (0, True)


# --- the room hears of it -----------------------------------------------------------------


async def test_the_room_announces_a_sale_and_a_late_joiner_finds_it_in_the_snapshot(
    database_url: str, tmp_path: Path
) -> None:
    from tests.integration.live.rooms import ThreadServer, Viewer, visitor_token

    with ThreadServer(make_settings(database_url, tmp_path, **FAST)) as server:
        async with httpx.AsyncClient(base_url=server.http, timeout=60) as http:
            shop, sid = await live_shop(http, database_url)
            early = await Viewer.join(server.ws, sid, visitor=await visitor_token(http, sid))
            await early.expect("snapshot")
            sale = await start_sale(http, shop, sid, units=3)
            told = await early.until(lambda m: m.get("type") == "flash_sale")
            assert told["sale"]["id"] == sale["id"] and told["sale"]["remaining"] == 3
            late = await Viewer.join(server.ws, sid, visitor=await visitor_token(http, sid))
            snapshot = await late.expect("snapshot")
            assert [s["id"] for s in snapshot["flash_sales"]] == [sale["id"]]
            r = await http.post(
                f"/api/v1/flash-sales/{sale['id']}/end", headers=shop.merchant.headers
            )
            assert r.status_code == 200, r.text
            ended = await early.until(
                lambda m: m.get("type") == "flash_sale" and m["sale"]["ended_at"] is not None
            )
            assert ended["sale"]["remaining"] == 0
            third = await Viewer.join(server.ws, sid, visitor=await visitor_token(http, sid))
            assert (await third.expect("snapshot"))["flash_sales"] == []
            for v in (early, late, third):
                await v.close()
