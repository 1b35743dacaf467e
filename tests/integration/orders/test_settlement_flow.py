"""Orders drive settlement: a payment splits the money into the three parties' held
accounts, a refund claws back, delivery starts the holding period and the releaser makes
the money available when it ends — all through the HTTP API, on both engines."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from daihuo.core.db import Database
from daihuo.settlement import service as settlement

from tests.conftest import client_for, make_settings
from tests.fixtures import Account
from tests.integration.orders.shop import FAST, Shop, create_shop, pay, place, wait_for_state

FEE_BPS = 300  # the platform's fee in these tests (the default is 500)


async def books(client: httpx.AsyncClient, who: Account) -> dict[str, int]:
    r = await client.get("/api/v1/settlement/balances", headers=who.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return {"held": body["held"], "available": body["available"]}


async def all_books(client: httpx.AsyncClient, shop: Shop) -> dict[str, dict[str, int]]:
    return {
        "supplier": await books(client, shop.supplier),
        "merchant": await books(client, shop.merchant),
        "platform": await books(client, shop.platform),
    }


async def journal(database_url: str) -> settlement.JournalReport:
    db = Database(database_url)
    try:
        async with db.session(all_tenants=True) as session:
            return await settlement.verify_journal(session)
    finally:
        await db.dispose()


def split(amount: int, commission_bps: int) -> dict[str, int]:
    """docs/settlement.md: commission and fee are floored, the supplier gets the rest."""
    merchant = amount * commission_bps // 10_000
    platform = amount * FEE_BPS // 10_000
    return {"supplier": amount - merchant - platform, "merchant": merchant, "platform": platform}


async def test_paid_refunded_delivered_and_released(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        **FAST,
        platform_fee_bps=FEE_BPS,
        settlement_holding_days=1 / 86_400,  # one second
        settlement_release_interval_seconds=0.05,
    )
    async with client_for(settings) as client:
        shop = await create_shop(client, database_url, price=3333, commission_bps=1550)
        buyer, supplier = shop.buyers[0], shop.supplier
        order = (await place(client, shop, buyer, 3)).json()
        amount = order["amount"]
        assert amount == 3 * 3333
        assert await all_books(client, shop) == {
            p: {"held": 0, "available": 0} for p in ("supplier", "merchant", "platform")
        }, "nothing is owed before the money arrives"

        await pay(client, buyer, order["id"])
        shares = split(amount, 1550)
        assert sum(shares.values()) == amount
        assert await all_books(client, shop) == {
            p: {"held": v, "available": 0} for p, v in shares.items()
        }

        # Delivery starts the holding period; the releaser moves the shares to available.
        await client.post(
            f"/api/v1/orders/{order['id']}/ship",
            json={"carrier": "中通快递", "tracking_no": "ZT9"},
            headers=supplier.headers,
        )
        r = await client.post(f"/api/v1/orders/{order['id']}/deliver", headers=supplier.headers)
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 15
        while (now := await all_books(client, shop))["supplier"]["held"]:
            assert time.monotonic() < deadline, now
            await asyncio.sleep(0.05)
        assert now == {p: {"held": 0, "available": v} for p, v in shares.items()}

        # A partial refund after the release claws back from available: exactly its
        # amount in all, pro rata within the D'Hondt remainder, nobody more than its share.
        r = await client.post(
            f"/api/v1/orders/{order['id']}/refund-request",
            json={"amount": 1000, "reason": "少发了一支"},
            headers=buyer.headers,
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/api/v1/orders/{order['id']}/refund", json={}, headers=supplier.headers
        )
        assert r.status_code == 201, r.text
        await wait_for_state(client, buyer, order["id"], "refunded")
        after = await all_books(client, shop)
        taken = {p: shares[p] - after[p]["available"] for p in shares}
        assert sum(taken.values()) == 1000
        for p, t in taken.items():
            assert after[p]["held"] == 0
            assert 0 <= t <= shares[p], (p, t)
            assert abs(t - 1000 * shares[p] / amount) < 2, (p, t)

    report = await journal(database_url)
    assert report.ok, report.problems
    assert (report.total, report.orders) == (0, 1)


async def test_an_unpaid_or_cancelled_order_posts_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with client_for(make_settings(database_url, tmp_path, **FAST)) as client:
        shop = await create_shop(client, database_url)
        buyer = shop.buyers[0]
        order = (await place(client, shop, buyer)).json()
        r = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer.headers)
        assert r.status_code == 200, r.text
        r = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers)
        assert r.status_code == 409, r.text
        books_now: dict[str, Any] = await all_books(client, shop)
    assert all(b == {"held": 0, "available": 0} for b in books_now.values())
    report = await journal(database_url)
    assert report.ok and (report.postings, report.orders) == (0, 0)
