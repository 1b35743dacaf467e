"""A merchant schedules live sessions and arranges their product lists from its showcase;
nobody else can see or change them, and bad lists change nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures import Account, create_member, create_user
from tests.integration.orders.shop import Shop, create_listed_product, create_shop, rows

START = "2026-12-12T20:00:00+08:00"


async def second_item(client: httpx.AsyncClient, shop: Shop, title: str) -> str:
    made = await create_listed_product(client, shop.supplier, shop.platform, title=title)
    r = await client.post(
        "/api/v1/showcase",
        json={"product_id": made["id"], "price": 2590},
        headers=shop.merchant.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def schedule(client: httpx.AsyncClient, who: Account, **body: Any) -> httpx.Response:
    return await client.post(
        "/api/v1/live-sessions",
        json={"title": "双十二美妆专场", "planned_start": START, **body},
        headers=who.headers,
    )


def problem(r: httpx.Response, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == f"urn:daihuo:problem:{slug}", r.text


async def test_schedule_rearrange_and_read(client: httpx.AsyncClient, database_url: str) -> None:
    shop = await create_shop(client, database_url, price=1990)
    scarf = await second_item(client, shop, "真丝方巾 莫兰迪色")
    m = shop.merchant
    r = await schedule(client, m, products=[scarf, shop.item_id])
    assert r.status_code == 201, r.text
    live = r.json()
    assert live["state"] == "scheduled"
    assert live["planned_start"].startswith("2026-12-12T12:00:00")  # stored in UTC
    assert [(p["position"], p["item_id"], p["price"]) for p in live["products"]] == [
        (1, scarf, 2590),
        (2, shop.item_id, 1990),
    ]
    assert live["products"][1]["product_id"] == shop.product_id
    assert live["products"][0]["title"] == "真丝方巾 莫兰迪色"

    r = await client.put(
        f"/api/v1/live-sessions/{live['id']}/products",
        json={"products": [shop.item_id, scarf]},
        headers=m.headers,
    )
    assert r.status_code == 200, r.text
    assert [p["item_id"] for p in r.json()["products"]] == [shop.item_id, scarf]

    r = await client.get(f"/api/v1/live-sessions/{live['id']}", headers=m.headers)
    assert [p["item_id"] for p in r.json()["products"]] == [shop.item_id, scarf]
    r = await client.get("/api/v1/live-sessions", headers=m.headers)
    assert [s["id"] for s in r.json()["items"]] == [live["id"]]

    # Taking a product out of the showcase takes it out of the list.
    r = await client.delete(f"/api/v1/showcase/{scarf}", headers=m.headers)
    assert r.status_code == 204, r.text
    r = await client.get(f"/api/v1/live-sessions/{live['id']}", headers=m.headers)
    assert [(p["position"], p["item_id"]) for p in r.json()["products"]] == [(1, shop.item_id)]


async def test_bad_lists_are_refused_and_change_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    other = await create_shop(client, database_url, platform=shop.platform)
    m = shop.merchant
    problem(await schedule(client, m, products=["shw_nope"]), 422, "unknown-showcase-items")
    # Another merchant's item is reported exactly like an unknown one.
    problem(await schedule(client, m, products=[other.item_id]), 422, "unknown-showcase-items")
    problem(
        await schedule(client, m, products=[shop.item_id, shop.item_id]), 422, "validation-error"
    )
    problem(await schedule(client, m, planned_start="2026-12-12T20:00:00"), 422, "validation-error")
    problem(await schedule(client, m, title=""), 422, "validation-error")
    problem(await schedule(client, m, products=["x"] * 201), 422, "validation-error")
    assert await rows(database_url, "SELECT id FROM live_sessions") == []

    live = (await schedule(client, m, products=[shop.item_id])).json()
    before = await rows(database_url, "SELECT * FROM live_session_items")
    path = f"/api/v1/live-sessions/{live['id']}/products"
    body = {"products": [other.item_id]}
    problem(await client.put(path, json=body, headers=m.headers), 422, "unknown-showcase-items")
    assert await rows(database_url, "SELECT * FROM live_session_items") == before


async def test_only_the_merchants_staff_see_and_only_writers_change(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    other = await create_shop(client, database_url, platform=shop.platform)
    live = (await schedule(client, shop.merchant, products=[shop.item_id])).json()
    path = f"/api/v1/live-sessions/{live['id']}"
    body = {"products": []}

    viewer, _ = await create_member(client, shop.merchant, role="viewer")
    assert (await client.get(path, headers=viewer.headers)).status_code == 200
    problem(
        await client.put(f"{path}/products", json=body, headers=viewer.headers),
        403,
        "permission-denied",
    )

    problem(await client.get(path, headers=other.merchant.headers), 404, "live-session-not-found")
    r = await client.put(f"{path}/products", json=body, headers=other.merchant.headers)
    problem(r, 404, "live-session-not-found")
    problem(await schedule(client, shop.supplier), 403, "wrong-tenant-kind")
    consumer = await create_user(client, label="consumer")
    problem(await client.get("/api/v1/live-sessions", headers=consumer.headers), 403, "no-tenant")
    r = await client.get(path, headers=shop.merchant.headers)
    assert [p["item_id"] for p in r.json()["products"]] == [shop.item_id]
