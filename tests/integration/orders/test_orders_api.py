"""Orders through the API on both engines: reservation, limits, bad input, the state
machine and its history, the outbox of order events, and the reservation sweeper."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from daihuo.events.model import event_from_obj
from daihuo.orders.events import HUB

from tests.conftest import client_for, make_settings
from tests.fixtures import create_member, create_user
from tests.integration.orders.shop import (
    ADDRESS,
    FAST,
    create_shop,
    order_of,
    pay,
    place,
    rows,
    stock,
    table_snapshot,
    wait_for_state,
)

PROBLEM = "application/problem+json"


def problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["type"] == f"urn:daihuo:problem:{slug}", body
    return body


async def outbox(database_url: str, order_id: str) -> list[dict[str, Any]]:
    found = await rows(
        database_url,
        "SELECT payload FROM order_outbox WHERE order_id = :o ORDER BY seq",
        o=order_id,
    )
    return [json.loads(p) for (p,) in found]


async def test_an_order_reserves_stock_at_the_shops_price(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, price=1990)
    buyer = shop.buyers[0]
    r = await place(client, shop, buyer, 3, session="live_01")
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["state"], order["quantity"], order["unit_price"], order["amount"]) == (
        "created",
        3,
        1990,
        5970,
    )
    assert order["merchant_id"] == shop.merchant.tenant_id
    assert order["supplier_id"] == shop.supplier.tenant_id
    assert order["commission_bps"] == 1500 and order["expires_at"] is not None
    assert await stock(database_url, shop.sku_id) == (97, 3, 0)
    history = (
        await client.get(f"/api/v1/orders/{order['id']}/history", headers=buyer.headers)
    ).json()
    assert [(h["action"], h["to_state"], h["actor"], h["actor_id"]) for h in history] == [
        ("create", "created", "buyer", buyer.user_id)
    ]
    [created] = await outbox(database_url, order["id"])
    event = event_from_obj(created)
    assert (event.type, event.user, event.order, event.product, event.qty, event.amount) == (
        "order_created",
        buyer.user_id,
        order["id"],
        shop.product_id,
        3,
        5970,
    )
    assert event.session == "live_01"
    assert HUB.of_order(order["id"]) == [created]


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": 0},
        {"quantity": -1},
        {"quantity": 1.5},
        {"quantity": "2"},
        {"quantity": 10**7},
        {"amount": 1},  # the client never sets a price
        {"unit_price": 1},
        {"sku_id": "../x"},
    ],
)
async def test_bad_orders_are_refused_and_change_nothing(
    client: httpx.AsyncClient, database_url: str, change: dict[str, Any]
) -> None:
    shop = await create_shop(client, database_url)
    before = await table_snapshot(database_url)
    body = {"item_id": shop.item_id, "sku_id": shop.sku_id, "quantity": 1, **change}
    r = await client.post("/api/v1/orders", json=body, headers=shop.buyers[0].headers)
    problem(r, 422, "validation-error")
    assert await table_snapshot(database_url) == before


async def test_more_than_the_largest_order_is_refused(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, stock=5000)
    before = await table_snapshot(database_url)
    problem(await place(client, shop, shop.buyers[0], 1000), 422, "quantity-too-large")
    assert await table_snapshot(database_url) == before


async def test_buying_what_is_not_for_sale_is_refused(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    s, p, buyer = shop.supplier, shop.platform, shop.buyers[0]
    await client.post(f"/api/v1/products/{shop.product_id}/delist", headers=s.headers)
    before = await table_snapshot(database_url)
    problem(await place(client, shop, buyer), 409, "product-not-listed")
    assert await table_snapshot(database_url) == before
    # Resubmitted and rejected: a draft again, of a tenant the buyer has nothing to do with.
    await client.post(f"/api/v1/products/{shop.product_id}/submit", headers=s.headers)
    await client.post(
        f"/api/v1/platform/products/{shop.product_id}/reject",
        json={"reason": "不合格"},
        headers=p.headers,
    )
    before = await table_snapshot(database_url)
    problem(await place(client, shop, buyer), 409, "product-not-listed")
    # Another supplier's draft SKU through this shop's item, and made-up ids: not found.
    r = await client.post(
        "/api/v1/products",
        json={
            "title": "草稿",
            "category": "其它",
            "price_min": 1,
            "price_max": 9,
            "commission_bps": 0,
            "skus": [{"code": "A", "price": 5, "stock": 5}],
        },
        headers=(await create_user(client, label="s2", tenant_kind="supplier")).headers,
    )
    draft_sku = r.json()["skus"][0]["id"]
    before = await table_snapshot(database_url)
    body = {"item_id": shop.item_id, "sku_id": draft_sku, "quantity": 1}
    problem(
        await client.post("/api/v1/orders", json=body, headers=buyer.headers),
        404,
        "product-not-found",
    )
    body = {"item_id": "shw_nope", "sku_id": shop.sku_id, "quantity": 1}
    problem(
        await client.post("/api/v1/orders", json=body, headers=buyer.headers),
        404,
        "product-not-found",
    )
    assert await table_snapshot(database_url) == before


async def test_a_shop_price_outside_a_narrowed_range_cannot_be_bought(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, price=1200)
    r = await client.patch(
        f"/api/v1/products/{shop.product_id}",
        json={"price_min": 1500},
        headers=shop.supplier.headers,
    )
    assert r.status_code == 200, r.text
    before = await table_snapshot(database_url)
    problem(await place(client, shop, shop.buyers[0]), 422, "price-out-of-range")
    assert await table_snapshot(database_url) == before


async def test_asking_for_more_than_is_left_is_out_of_stock(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, stock=3)
    buyer = shop.buyers[0]
    assert (await place(client, shop, buyer, 2)).status_code == 201
    before = await table_snapshot(database_url)
    published = list(HUB.recent)
    body = problem(await place(client, shop, buyer, 2), 409, "out-of-stock")
    assert body["sku_id"] == shop.sku_id
    assert await table_snapshot(database_url) == before
    assert list(HUB.recent) == published  # a rolled-back order announced nothing
    assert (await place(client, shop, buyer, 1)).status_code == 201
    assert await stock(database_url, shop.sku_id) == (0, 3, 0)


async def test_the_per_user_limit_counts_open_and_paid_orders(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, buyers=2, max_per_user=2)
    one, two = shop.buyers
    first = (await place(client, shop, one)).json()
    await pay(client, one, first["id"])
    second = (await place(client, shop, one)).json()
    before = await table_snapshot(database_url)
    body = problem(await place(client, shop, one), 409, "purchase-limit-reached")
    assert body["limit"] == 2
    assert await table_snapshot(database_url) == before
    assert (await place(client, shop, two, 2)).status_code == 201  # another buyer's own limit
    await client.post(f"/api/v1/orders/{second['id']}/cancel", headers=one.headers)
    assert (await place(client, shop, one)).status_code == 201  # a cancelled order frees it


async def test_cancelling_releases_stock_once_and_only_for_the_right_parties(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, buyers=2)
    buyer, stranger = shop.buyers
    mine = (await place(client, shop, buyer, 4)).json()
    url = f"/api/v1/orders/{mine['id']}/cancel"
    before = await table_snapshot(database_url)
    problem(await client.post(url, headers=stranger.headers), 404, "order-not-found")
    problem(await client.post(url, headers=shop.supplier.headers), 403, "not-your-role")
    assert await table_snapshot(database_url) == before
    r = await client.post(url, headers=buyer.headers)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert await stock(database_url, shop.sku_id) == (100, 0, 0)
    before = await table_snapshot(database_url)
    problem(await client.post(url, headers=buyer.headers), 409, "invalid-order-transition")
    assert await table_snapshot(database_url) == before
    # The merchant may cancel an unpaid order too.
    theirs = (await place(client, shop, stranger)).json()
    r = await client.post(f"/api/v1/orders/{theirs['id']}/cancel", headers=shop.merchant.headers)
    assert r.status_code == 200
    history = (
        await client.get(f"/api/v1/orders/{theirs['id']}/history", headers=stranger.headers)
    ).json()
    assert [(h["action"], h["actor"], h["actor_tenant_id"]) for h in history][-1] == (
        "cancel",
        "merchant",
        shop.merchant.tenant_id,
    )


async def test_fulfilment_is_checked_and_recorded_step_by_step(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer, s, m = shop.buyers[0], shop.supplier, shop.merchant
    order = (await place(client, shop, buyer, 2)).json()
    oid = order["id"]
    ship = {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}
    problem(
        await client.post(f"/api/v1/orders/{oid}/ship", json=ship, headers=s.headers),
        409,
        "invalid-order-transition",
    )
    await pay(client, buyer, oid)
    problem(
        await client.post(f"/api/v1/orders/{oid}/ship", json=ship, headers=m.headers),
        403,
        "not-your-role",
    )
    problem(
        await client.post(f"/api/v1/orders/{oid}/ship", json=ship, headers=buyer.headers),
        403,
        "not-your-role",
    )
    r = await client.post(f"/api/v1/orders/{oid}/ship", json=ship, headers=s.headers)
    assert r.json()["state"] == "shipped" and r.json()["tracking_no"] == "SF1234567890"
    problem(
        await client.post(f"/api/v1/orders/{oid}/complete", headers=buyer.headers),
        409,
        "invalid-order-transition",
    )
    assert (
        await client.post(f"/api/v1/orders/{oid}/deliver", headers=s.headers)
    ).status_code == 200
    problem(
        await client.post(f"/api/v1/orders/{oid}/complete", headers=s.headers), 403, "not-your-role"
    )
    r = await client.post(f"/api/v1/orders/{oid}/complete", headers=buyer.headers)
    assert r.json()["state"] == "completed" and r.json()["completed_at"] is not None
    history = (await client.get(f"/api/v1/orders/{oid}/history", headers=m.headers)).json()
    assert [(h["from_state"], h["to_state"], h["actor"]) for h in history] == [
        (None, "created", "buyer"),
        ("created", "paid", "provider"),
        ("paid", "shipped", "supplier"),
        ("shipped", "delivered", "supplier"),
        ("delivered", "completed", "buyer"),
    ]
    assert all(h["at"] for h in history)
    events = [event_from_obj(e) for e in await outbox(database_url, oid)]
    assert [(e.type, e.qty, e.amount) for e in events] == [
        ("order_created", 2, order["amount"]),
        ("order_paid", 2, order["amount"]),
    ]
    assert await stock(database_url, shop.sku_id) == (98, 0, 2)


async def test_each_party_lists_its_own_orders(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, buyers=2)
    one, two = shop.buyers
    a = (await place(client, shop, one)).json()
    b = (await place(client, shop, two)).json()
    other = await create_shop(client, database_url, platform=shop.platform)
    c = (await place(client, other, one)).json()

    async def ids(url: str, headers: dict[str, str]) -> set[str]:
        r = await client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        return {o["id"] for o in r.json()["items"]}

    assert await ids("/api/v1/me/orders", one.headers) == {a["id"], c["id"]}
    assert await ids("/api/v1/orders", shop.merchant.headers) == {a["id"], b["id"]}
    assert await ids("/api/v1/orders", shop.supplier.headers) == {a["id"], b["id"]}
    assert await ids("/api/v1/orders", other.merchant.headers) == {c["id"]}
    assert await ids("/api/v1/orders?state=paid", shop.merchant.headers) == set()
    problem(await client.get("/api/v1/orders", headers=one.headers), 403, "no-tenant")
    # A merchant's viewer reads the orders but cannot act on them.
    viewer, _ = await create_member(client, shop.merchant, role="viewer")
    assert await ids("/api/v1/orders", viewer.headers) == {a["id"], b["id"]}
    problem(
        await client.post(f"/api/v1/orders/{a['id']}/cancel", headers=viewer.headers),
        403,
        "not-your-role",
    )
    problem(
        await client.get(f"/api/v1/orders/{c['id']}", headers=shop.merchant.headers),
        404,
        "order-not-found",
    )


async def test_the_sweeper_expires_unpaid_orders(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        order_reservation_seconds=1,
        order_sweep_interval_seconds=0.1,
        **FAST,
    )
    async with client_for(settings) as client:
        shop = await create_shop(client, database_url, max_per_user=1)
        buyer = shop.buyers[0]
        order = (await place(client, shop, buyer)).json()
        assert await stock(database_url, shop.sku_id) == (99, 1, 0)
        expired = await wait_for_state(client, buyer, order["id"], "cancelled", seconds=15)
        assert expired["cancelled_at"] is not None
        history = (
            await client.get(f"/api/v1/orders/{order['id']}/history", headers=buyer.headers)
        ).json()
        assert [(h["action"], h["actor"], h["actor_id"]) for h in history][-1] == (
            "expire",
            "system",
            "sweeper",
        )
        assert await stock(database_url, shop.sku_id) == (100, 0, 0)
        # The limit's unit came back with the stock.
        assert (await place(client, shop, buyer)).status_code == 201
        problem(
            await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers),
            409,
            "invalid-order-transition",
        )


async def test_reservations_expire_even_if_no_process_ran_when_they_did(
    database_url: str, tmp_path: Path
) -> None:
    quiet = make_settings(
        database_url,
        tmp_path,
        order_reservation_seconds=1,
        order_sweep_interval_seconds=3600,
        **FAST,
    )
    async with client_for(quiet) as client:
        shop = await create_shop(client, database_url, buyers=1)
        orders = [(await place(client, shop, shop.buyers[0])).json() for _ in range(3)]
        paid = (await place(client, shop, shop.buyers[0])).json()
        await pay(client, shop.buyers[0], paid["id"])
    await asyncio.sleep(1.5)  # every reservation ran out while no server was up
    assert await stock(database_url, shop.sku_id) == (96, 3, 1)
    async with client_for(quiet) as client:  # a restart: the first round catches up
        for order in orders:
            await wait_for_state(client, shop.buyers[0], order["id"], "cancelled", seconds=10)
        assert (await order_of(client, shop.buyers[0], paid["id"]))["state"] == "paid"
    assert await stock(database_url, shop.sku_id) == (99, 0, 1)


async def test_an_order_ships_only_with_an_address_the_buyer_may_change_until_then(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, buyers=2)
    buyer, other = shop.buyers
    order = (await place(client, shop, buyer, address=None)).json()
    assert order["delivery"] is None
    oid = order["id"]
    await pay(client, buyer, oid)
    s = shop.supplier.headers
    ship = {"carrier": "顺丰速运", "tracking_no": "SF1"}
    r = await client.post(f"/api/v1/orders/{oid}/ship", json=ship, headers=s)
    assert r.status_code == 409 and r.json()["type"].endswith("address-missing")
    assert (await order_of(client, buyer, oid))["state"] == "paid"

    url = f"/api/v1/orders/{oid}/address"
    home = ADDRESS | {"detail": "文二路 8 号"}
    for who, code in ((other, 404), (shop.merchant, 403), (shop.supplier, 403)):
        r = await client.put(url, json=home, headers=who.headers)
        assert r.status_code == code, (who.email, r.text)
    r = await client.put(url, json=home | {"phone": "call me"}, headers=buyer.headers)
    assert r.status_code == 422
    assert (await order_of(client, buyer, oid))["delivery"] is None  # nothing changed

    r = await client.put(url, json=home, headers=buyer.headers)
    assert r.status_code == 200 and r.json()["delivery"] == home
    r = await client.put(url, json=ADDRESS, headers=buyer.headers)  # corrected before shipping
    assert r.status_code == 200 and r.json()["delivery"] == ADDRESS
    r = await client.post(f"/api/v1/orders/{oid}/ship", json=ship, headers=s)
    assert r.status_code == 200 and r.json()["state"] == "shipped"
    r = await client.put(url, json=home, headers=buyer.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("address-locked")
    assert (await order_of(client, buyer, oid))["delivery"] == ADDRESS
