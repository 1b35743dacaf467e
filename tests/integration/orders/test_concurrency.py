"""No overselling: 250 concurrent purchase requests through a real server process at
a SKU with 50 units — exactly 50 succeed, the rest get a clear out-of-stock problem, and
the SKU ends with 0 available and 50 reserved. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx

from tests.conftest import client_for, make_settings
from tests.fixtures import create_token
from tests.integration.orders.live import live_server
from tests.integration.orders.shop import FAST, create_shop, rows, stock

STOCK = 50
REQUESTS = 250
BUYERS = 25


async def test_concurrent_purchases_never_oversell(database_url: str, tmp_path: Path) -> None:
    async with client_for(make_settings(database_url, tmp_path, **FAST)) as client:
        shop = await create_shop(client, database_url, stock=STOCK, buyers=BUYERS)
    body = {"item_id": shop.item_id, "sku_id": shop.sku_id, "quantity": 1}

    with live_server(database_url, tmp_path) as base:
        limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as http:
            # Fresh tokens from the server itself, then everyone at once.
            tokens = [await create_token(http, b.email) for b in shop.buyers]
            start = asyncio.Event()

            async def buy(i: int) -> httpx.Response:
                await start.wait()
                headers = {"Authorization": f"Bearer {tokens[i % BUYERS]}"}
                return await http.post("/api/v1/orders", json=body, headers=headers)

            tasks = [asyncio.create_task(buy(i)) for i in range(REQUESTS)]
            await asyncio.sleep(0.2)
            start.set()
            answers = await asyncio.gather(*tasks)

    statuses = [r.status_code for r in answers]
    assert statuses.count(201) == STOCK, sorted(set(statuses))
    refused = [r for r in answers if r.status_code != 201]
    assert len(refused) == REQUESTS - STOCK
    for r in refused:
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "urn:daihuo:problem:out-of-stock"
    assert await stock(database_url, shop.sku_id) == (0, STOCK, 0)
    ids = {r.json()["id"] for r in answers if r.status_code == 201}
    assert len(ids) == STOCK
    assert await rows(database_url, "SELECT count(*), sum(quantity) FROM orders") == [
        (STOCK, STOCK)
    ]
    created = await rows(
        database_url, "SELECT count(*) FROM order_outbox WHERE type = 'order_created'"
    )
    assert created == [(STOCK,)]


async def test_a_mixed_race_keeps_every_rule_when_orders_are_placed_together(
    database_url: str, tmp_path: Path
) -> None:
    """The writer places concurrent orders together (orders/service.place_orders); a
    race that mixes quantities, a per-person limit, unknown items and oversize
    quantities must end exactly as if they had been placed one by one."""
    rng = random.Random(11)
    settings = make_settings(database_url, tmp_path, order_max_quantity=3, **FAST)
    async with client_for(settings) as client:
        hot = await create_shop(client, database_url, stock=40, buyers=12)
        limited = await create_shop(
            client, database_url, stock=100, platform=hot.platform, max_per_user=1
        )
        plan = []
        for i in range(120):
            buyer = hot.buyers[i % len(hot.buyers)]
            kind = rng.choice(["hot", "hot", "hot", "limited", "unknown", "too-many"])
            shop = limited if kind == "limited" else hot
            body = {"item_id": shop.item_id, "sku_id": shop.sku_id,
                    "quantity": rng.randint(1, 3)}  # fmt: skip
            if kind == "unknown":
                body["item_id"] = "shw_01NOSUCHITEM0000000000000"
            if kind == "too-many":
                body["quantity"] = 4
            plan.append((kind, buyer, body))
        answers = await asyncio.gather(
            *(client.post("/api/v1/orders", json=b, headers=u.headers) for _, u, b in plan)
        )

    available, reserved, sold = await stock(database_url, hot.sku_id)
    placed = 0
    per_buyer: dict[str, int] = {}
    for (kind, buyer, body), r in zip(plan, answers, strict=True):
        if kind == "unknown":
            assert r.status_code == 404, r.text
        elif kind == "too-many":
            assert r.json()["type"] == "urn:daihuo:problem:quantity-too-large", r.text
        elif kind == "limited" and r.status_code == 201:
            per_buyer[buyer.email] = per_buyer.get(buyer.email, 0) + body["quantity"]
        elif kind == "limited":
            assert r.json()["type"] == "urn:daihuo:problem:purchase-limit-reached", r.text
        elif r.status_code == 201:
            placed += body["quantity"]
        else:
            # Refused only if it asked for more than was left at the very end.
            assert r.json()["type"] == "urn:daihuo:problem:out-of-stock", r.text
            assert body["quantity"] > available
    assert (placed, available + reserved + sold) == (reserved, 40)
    assert per_buyer and all(q == 1 for q in per_buyer.values())  # max_per_user=1
    created = sum(1 for r in answers if r.status_code == 201)
    assert await rows(database_url, "SELECT count(*) FROM orders") == [(created,)]
    assert await rows(
        database_url, "SELECT count(*) FROM order_history WHERE action = 'create'"
    ) == [(created,)]
    assert await rows(
        database_url, "SELECT count(*) FROM order_outbox WHERE type = 'order_created'"
    ) == [(created,)]
