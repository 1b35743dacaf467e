"""Searching the supply pool on both engines: Chinese words found by jieba's terms,
filters, sorting with cursors, and nothing that is not listed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures import Account, create_user
from tests.integration.orders.shop import (
    create_listed_product,
    create_platform_admin,
    pay,
    product_body,
)

CATALOG = [
    # title, category, description, price range, commission, stock
    ("滋润保湿口红 正红色", "美妆/口红", "持久不脱色，适合日常通勤。", (1000, 5000), 1500, 50),
    ("哑光雾面唇釉", "美妆/口红", "丝绒质地，显白不拔干。", (2000, 8000), 2500, 0),
    ("杭州源头服饰厂新款连衣裙", "服饰/女装", "夏季碎花长裙，雪纺面料。", (5000, 20000), 3000, 20),
    ("男士短袖T恤", "服饰/男装", "百分百纯棉，透气吸汗。", (3000, 9000), 1000, 200),
    ("防摔手机壳 iPhone 15", "数码/配件", "硅胶材质，四角气囊。", (1500, 4000), 4000, 500),
    ("中华人民共和国地图 挂图", "文具/地图", "二零二六年新版。", (800, 2000), 500, 10),
]


@pytest.fixture
async def pool(client: httpx.AsyncClient, database_url: str) -> dict[str, Any]:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    platform = await create_platform_admin(client, database_url)
    ids = {}
    for title, category, description, (lo, hi), bps, stock in CATALOG:
        made = await create_listed_product(
            client,
            supplier,
            platform,
            title=title,
            category=category,
            description=description,
            price_min=lo,
            price_max=hi,
            commission_bps=bps,
            skus=[{"code": "A", "price": lo, "stock": stock}],
        )
        ids[title] = made["id"]
    # A draft that would match "口红" must never show up.
    r = await client.post(
        "/api/v1/products", json=product_body(title="草稿口红"), headers=supplier.headers
    )
    assert r.status_code == 201
    return {"supplier": supplier, "merchant": merchant, "platform": platform, "ids": ids}


async def titles(client: httpx.AsyncClient, who: Account, **params: Any) -> list[str]:
    r = await client.get("/api/v1/pool/products", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return [p["title"] for p in r.json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("口红", {"滋润保湿口红 正红色", "哑光雾面唇釉"}),  # the category is searched too
        ("保湿 口红", {"滋润保湿口红 正红色"}),
        ("连衣裙", {"杭州源头服饰厂新款连衣裙"}),
        ("衣裙", {"杭州源头服饰厂新款连衣裙"}),
        ("纯棉", {"男士短袖T恤"}),  # a word of the description only
        ("t恤", {"男士短袖T恤"}),
        ("ＩＰＨＯＮＥ 手机壳", {"防摔手机壳 iPhone 15"}),
        ("人民共和国", {"中华人民共和国地图 挂图"}),
        ("雪纺", {"杭州源头服饰厂新款连衣裙"}),
        ("口红 连衣裙", set()),  # every word must match
        ("火锅底料", set()),
    ],
)
async def test_chinese_queries_find_products_by_their_words(
    client: httpx.AsyncClient, pool: dict[str, Any], query: str, expected: set[str]
) -> None:
    assert set(await titles(client, pool["merchant"], q=query)) == expected


async def test_filters_narrow_the_pool(client: httpx.AsyncClient, pool: dict[str, Any]) -> None:
    m = pool["merchant"]
    assert set(await titles(client, m, category="服饰")) == {
        "杭州源头服饰厂新款连衣裙",
        "男士短袖T恤",
    }
    assert await titles(client, m, category="服饰/男装") == ["男士短袖T恤"]
    assert await titles(client, m, category="服") == []  # a level, not a prefix of a name
    # The product's range overlaps the asked one.
    assert set(await titles(client, m, price_min=8500, price_max=9500)) == {
        "杭州源头服饰厂新款连衣裙",
        "男士短袖T恤",
    }
    assert set(await titles(client, m, commission_min=3000)) == {
        "杭州源头服饰厂新款连衣裙",
        "防摔手机壳 iPhone 15",
    }
    assert set(await titles(client, m, stock_min=100)) == {"男士短袖T恤", "防摔手机壳 iPhone 15"}
    assert "哑光雾面唇釉" not in await titles(client, m, stock_min=1)
    assert set(await titles(client, m, q="口红", category="美妆", stock_min=1)) == {
        "滋润保湿口红 正红色"
    }


async def test_sorting_pages_through_everything_in_order(
    client: httpx.AsyncClient, pool: dict[str, Any]
) -> None:
    m = pool["merchant"]
    by_commission = sorted(CATALOG, key=lambda p: -p[4])
    by_price = sorted(CATALOG, key=lambda p: p[3][0])
    for sort, expected in (("commission", by_commission), ("price", by_price)):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"sort": sort, "limit": 2}
            if cursor:
                params["cursor"] = cursor
            r = await client.get("/api/v1/pool/products", params=params, headers=m.headers)
            seen += [p["title"] for p in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == [p[0] for p in expected]
    newest = await titles(client, m)
    assert newest == [p[0] for p in reversed(CATALOG)]
    r = await client.get(
        "/api/v1/pool/products", params={"sort": "sales", "cursor": "bm9wZQ"}, headers=m.headers
    )
    assert r.status_code == 400 and r.json()["type"] == "urn:daihuo:problem:invalid-cursor"


async def test_sales_count_paid_units(client: httpx.AsyncClient, pool: dict[str, Any]) -> None:
    m = pool["merchant"]
    tee = pool["ids"]["男士短袖T恤"]
    r = await client.post(
        "/api/v1/showcase", json={"product_id": tee, "price": 5000}, headers=m.headers
    )
    item = r.json()["id"]
    sku = (await client.get(f"/api/v1/pool/products/{tee}", headers=m.headers)).json()["skus"][0]
    buyer = await create_user(client, label="buyer")
    r = await client.post(
        "/api/v1/orders",
        json={"item_id": item, "sku_id": sku["id"], "quantity": 3},
        headers=buyer.headers,
    )
    await pay(client, buyer, r.json()["id"])
    r = await client.post(
        "/api/v1/orders",
        json={"item_id": item, "sku_id": sku["id"], "quantity": 2},
        headers=buyer.headers,
    )  # unpaid: not a sale
    assert await titles(client, m, sales_min=3) == ["男士短袖T恤"]
    assert await titles(client, m, sales_min=4) == []
    assert (await titles(client, m, sort="sales"))[0] == "男士短袖T恤"
    detail = (await client.get(f"/api/v1/pool/products/{tee}", headers=m.headers)).json()
    assert (detail["sales"], detail["stock"]) == (3, 195)
