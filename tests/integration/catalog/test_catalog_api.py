"""The supply pool through the API on both engines: products and their review, kinds
of tenant, prices and commission, images, stock, showcases and the storefront."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import Account, create_user
from tests.integration.orders.shop import (
    create_listed_product,
    create_platform_admin,
    product_body,
    table_snapshot,
)

PROBLEM = "application/problem+json"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


def problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["type"] == f"urn:daihuo:problem:{slug}", body
    return body


class Parties:
    def __init__(self, supplier: Account, merchant: Account, platform: Account) -> None:
        self.supplier, self.merchant, self.platform = supplier, merchant, platform


@pytest.fixture
async def parties(client: httpx.AsyncClient, database_url: str) -> Parties:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    platform = await create_platform_admin(client, database_url)
    return Parties(supplier, merchant, platform)


async def test_a_product_enters_the_pool_only_through_review(
    client: httpx.AsyncClient, parties: Parties
) -> None:
    s, m, p = parties.supplier, parties.merchant, parties.platform
    r = await client.post("/api/v1/products", json=product_body(), headers=s.headers)
    assert r.status_code == 201, r.text
    product = r.json()
    assert product["state"] == "draft" and product["supplier_id"] == s.tenant_id
    assert product["skus"][0]["available"] == 100
    pid = product["id"]

    async def pool_ids() -> list[str]:
        r = await client.get("/api/v1/pool/products", headers=m.headers)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await pool_ids() == []
    problem(
        await client.post(f"/api/v1/platform/products/{pid}/approve", headers=p.headers),
        409,
        "invalid-product-transition",
    )
    r = await client.post(f"/api/v1/products/{pid}/submit", headers=s.headers)
    assert r.json()["state"] == "in_review"
    r = await client.get("/api/v1/platform/products/review", headers=p.headers)
    assert [i["id"] for i in r.json()["items"]] == [pid]
    r = await client.post(
        f"/api/v1/platform/products/{pid}/reject", json={"reason": "图片不清晰"}, headers=p.headers
    )
    assert r.json()["state"] == "draft" and r.json()["review_note"] == "图片不清晰"
    await client.post(f"/api/v1/products/{pid}/submit", headers=s.headers)
    r = await client.post(f"/api/v1/platform/products/{pid}/approve", headers=p.headers)
    assert r.json()["state"] == "listed" and r.json()["listed_at"] is not None
    assert await pool_ids() == [pid]
    r = await client.get(f"/api/v1/pool/products/{pid}", headers=m.headers)
    assert r.json()["commission_bps"] == 1500 and r.json()["stock"] == 100
    r = await client.post(f"/api/v1/products/{pid}/delist", headers=s.headers)
    assert r.json()["state"] == "delisted"
    assert await pool_ids() == []
    problem(
        await client.get(f"/api/v1/pool/products/{pid}", headers=m.headers),
        404,
        "product-not-found",
    )


async def test_a_merchant_cannot_list_and_a_supplier_cannot_pick(
    client: httpx.AsyncClient, parties: Parties, database_url: str
) -> None:
    s, m, p = parties.supplier, parties.merchant, parties.platform
    listed = await create_listed_product(client, s, p)
    before = await table_snapshot(database_url)
    problem(
        await client.post("/api/v1/products", json=product_body(), headers=m.headers),
        403,
        "wrong-tenant-kind",
    )
    problem(
        await client.post(
            "/api/v1/showcase", json={"product_id": listed["id"], "price": 2000}, headers=s.headers
        ),
        403,
        "wrong-tenant-kind",
    )
    problem(await client.get("/api/v1/products", headers=m.headers), 403, "wrong-tenant-kind")
    problem(await client.get("/api/v1/showcase", headers=s.headers), 403, "wrong-tenant-kind")
    # A supplier cannot review its own product either.
    problem(
        await client.post(f"/api/v1/platform/products/{listed['id']}/approve", headers=s.headers),
        403,
        "permission-denied",
    )
    assert await table_snapshot(database_url) == before


@pytest.mark.parametrize(
    ("change", "status", "slug"),
    [
        ({"commission_bps": -1}, 422, "validation-error"),
        ({"commission_bps": 9001}, 422, "validation-error"),
        ({"price_min": 5000, "price_max": 1000}, 422, "invalid-price-range"),
        ({"price_min": 0}, 422, "validation-error"),
        ({"price_min": -100}, 422, "validation-error"),
        ({"skus": [{"code": "A", "price": 9999, "stock": 1}]}, 422, "price-out-of-range"),
        ({"skus": [{"code": "A", "price": 2000, "stock": -1}]}, 422, "validation-error"),
        ({"skus": []}, 422, "validation-error"),
        ({"skus": [{"code": "A", "price": 2000, "stock": 1}] * 2}, 422, "validation-error"),
        ({"category": "美妆//口红"}, 422, "validation-error"),
        ({"title": "口红\x00"}, 422, "validation-error"),
        ({"is_listed": True}, 422, "validation-error"),
    ],
)
async def test_bad_products_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
    parties: Parties,
    database_url: str,
    change: dict[str, Any],
    status: int,
    slug: str,
) -> None:
    before = await table_snapshot(database_url)
    body = {**product_body(), **change}
    r = await client.post("/api/v1/products", json=body, headers=parties.supplier.headers)
    problem(r, status, slug)
    assert await table_snapshot(database_url) == before


async def test_a_showcase_price_must_lie_in_the_suppliers_range(
    client: httpx.AsyncClient, parties: Parties, database_url: str
) -> None:
    s, m, p = parties.supplier, parties.merchant, parties.platform
    listed = await create_listed_product(client, s, p, price_min=1000, price_max=5000)
    before = await table_snapshot(database_url)
    for price in (999, 5001):
        r = await client.post(
            "/api/v1/showcase", json={"product_id": listed["id"], "price": price}, headers=m.headers
        )
        body = problem(r, 422, "price-out-of-range")
        assert (body["price_min"], body["price_max"]) == (1000, 5000)
    assert await table_snapshot(database_url) == before
    r = await client.post(
        "/api/v1/showcase", json={"product_id": listed["id"], "price": 5000}, headers=m.headers
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["commission_bps"] == 1500
    problem(
        await client.post(
            "/api/v1/showcase", json={"product_id": listed["id"], "price": 1000}, headers=m.headers
        ),
        409,
        "already-in-showcase",
    )
    problem(
        await client.patch(f"/api/v1/showcase/{item['id']}", json={"price": 1}, headers=m.headers),
        422,
        "price-out-of-range",
    )
    r = await client.patch(
        f"/api/v1/showcase/{item['id']}", json={"price": 1000}, headers=m.headers
    )
    assert r.json()["price"] == 1000


async def test_a_draft_of_another_tenant_cannot_be_picked(
    client: httpx.AsyncClient, parties: Parties, database_url: str
) -> None:
    s, m = parties.supplier, parties.merchant
    r = await client.post("/api/v1/products", json=product_body(), headers=s.headers)
    draft = r.json()
    before = await table_snapshot(database_url)
    problem(
        await client.post(
            "/api/v1/showcase", json={"product_id": draft["id"], "price": 2000}, headers=m.headers
        ),
        404,
        "product-not-found",
    )
    # Another supplier does not see it at all.
    other = await create_user(client, label="other_supplier", tenant_kind="supplier")
    problem(
        await client.get(f"/api/v1/products/{draft['id']}", headers=other.headers),
        404,
        "product-not-found",
    )
    problem(
        await client.patch(
            f"/api/v1/products/{draft['id']}", json={"title": "改"}, headers=other.headers
        ),
        404,
        "product-not-found",
    )
    after = await table_snapshot(database_url)
    assert after["products"] == before["products"]


async def test_a_listed_products_content_is_frozen_until_delisted(
    client: httpx.AsyncClient, parties: Parties
) -> None:
    s, p = parties.supplier, parties.platform
    listed = await create_listed_product(client, s, p)
    pid = listed["id"]
    problem(
        await client.patch(f"/api/v1/products/{pid}", json={"title": "新标题"}, headers=s.headers),
        409,
        "product-not-editable",
    )
    r = await client.patch(
        f"/api/v1/products/{pid}",
        json={"price_max": 6000, "commission_bps": 2000, "max_per_user": 3},
        headers=s.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["price_max"], r.json()["commission_bps"], r.json()["state"]) == (
        6000,
        2000,
        "listed",
    )
    problem(
        await client.patch(f"/api/v1/products/{pid}", json={"price_max": 2000}, headers=s.headers),
        422,
        "price-out-of-range",  # the SKU's price (2990) would fall outside
    )
    r = await client.patch(
        f"/api/v1/products/{pid}", json={"max_per_user": None}, headers=s.headers
    )
    assert r.json()["max_per_user"] is None
    await client.post(f"/api/v1/products/{pid}/delist", headers=s.headers)
    r = await client.patch(f"/api/v1/products/{pid}", json={"title": "新标题"}, headers=s.headers)
    assert r.status_code == 200 and r.json()["title"] == "新标题"


async def test_stock_is_adjusted_without_going_negative(
    client: httpx.AsyncClient, parties: Parties, database_url: str
) -> None:
    s = parties.supplier
    r = await client.post("/api/v1/products", json=product_body(stock=10), headers=s.headers)
    pid, sku = r.json()["id"], r.json()["skus"][0]["id"]
    url = f"/api/v1/products/{pid}/skus/{sku}/stock"
    r = await client.post(url, json={"delta": 5}, headers=s.headers)
    assert r.json()["available"] == 15
    r = await client.post(url, json={"delta": -15}, headers=s.headers)
    assert r.json()["available"] == 0
    before = await table_snapshot(database_url)
    problem(
        await client.post(url, json={"delta": -1}, headers=s.headers), 409, "insufficient-stock"
    )
    assert await table_snapshot(database_url) == before
    r = await client.post(
        f"/api/v1/products/{pid}/skus",
        json={"code": "BLUE", "spec": {"颜色": "蓝"}, "price": 2000, "stock": 7},
        headers=s.headers,
    )
    assert [k["code"] for k in r.json()["skus"]] == ["RED", "BLUE"]
    problem(
        await client.post(
            f"/api/v1/products/{pid}/skus",
            json={"code": "BLUE", "price": 2000, "stock": 1},
            headers=s.headers,
        ),
        409,
        "duplicate-sku-code",
    )


async def test_a_merchant_can_have_its_own_commission_rate(
    client: httpx.AsyncClient, parties: Parties
) -> None:
    s, m, p = parties.supplier, parties.merchant, parties.platform
    other = await create_user(client, label="merchant2", tenant_kind="merchant")
    listed = await create_listed_product(client, s, p, commission_bps=1000)
    pid = listed["id"]
    url = f"/api/v1/products/{pid}/commissions/{m.tenant_id}"
    problem(
        await client.put(url, json={"commission_bps": 9500}, headers=s.headers),
        422,
        "validation-error",
    )
    problem(
        await client.put(
            f"/api/v1/products/{pid}/commissions/{s.tenant_id}",
            json={"commission_bps": 2000},
            headers=s.headers,
        ),
        404,
        "merchant-not-found",
    )
    r = await client.put(url, json={"commission_bps": 2500}, headers=s.headers)
    assert r.status_code == 200 and r.json()["commission_bps"] == 2500
    mine = await client.get(f"/api/v1/pool/products/{pid}", headers=m.headers)
    theirs = await client.get(f"/api/v1/pool/products/{pid}", headers=other.headers)
    assert (mine.json()["commission_bps"], theirs.json()["commission_bps"]) == (2500, 1000)
    r = await client.post(
        "/api/v1/showcase", json={"product_id": pid, "price": 2000}, headers=m.headers
    )
    assert r.json()["commission_bps"] == 2500
    r = await client.delete(url, headers=s.headers)
    assert r.status_code == 204
    mine = await client.get(f"/api/v1/pool/products/{pid}", headers=m.headers)
    assert mine.json()["commission_bps"] == 1000


async def test_images_are_stored_and_served_by_visibility(
    client: httpx.AsyncClient, parties: Parties, database_url: str, tmp_path: Path
) -> None:
    s, p = parties.supplier, parties.platform
    r = await client.post("/api/v1/products", json=product_body(), headers=s.headers)
    pid = r.json()["id"]
    url = f"/api/v1/products/{pid}/images"
    r = await client.post(url, content=PNG, headers={**s.headers, "content-type": "image/png"})
    assert r.status_code == 201, r.text
    image = r.json()
    assert image["content_type"] == "image/png" and image["size"] == len(PNG)
    stored = list((tmp_path / "files").rglob("img_*"))
    assert [f.read_bytes() for f in stored] == [PNG]
    # A draft's image: its supplier sees it, nobody else does.
    assert (await client.get(image["url"], headers=s.headers)).content == PNG
    problem(await client.get(image["url"]), 404, "image-not-found")
    before = await table_snapshot(database_url)
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    problem(
        await client.post(url, content=svg, headers={**s.headers, "content-type": "image/png"}),
        415,
        "unsupported-image",
    )
    problem(await client.post(url, content=b"", headers=s.headers), 400, "empty-image")
    assert await table_snapshot(database_url) == before
    await client.post(f"/api/v1/products/{pid}/submit", headers=s.headers)
    await client.post(f"/api/v1/platform/products/{pid}/approve", headers=p.headers)
    r = await client.get(image["url"])  # listed: public
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    problem(await client.delete(image["url"], headers=s.headers), 409, "product-not-editable")
    await client.post(f"/api/v1/products/{pid}/delist", headers=s.headers)
    assert (await client.delete(image["url"], headers=s.headers)).status_code == 204
    assert list((tmp_path / "files").rglob("img_*")) == []


async def test_the_storefront_shows_what_can_be_bought(
    client: httpx.AsyncClient, parties: Parties
) -> None:
    s, m, p = parties.supplier, parties.merchant, parties.platform
    one = await create_listed_product(client, s, p, title="纯棉短袖T恤")
    two = await create_listed_product(client, s, p, title="真丝围巾")
    for product, price in ((one, 1500), (two, 4000)):
        r = await client.post(
            "/api/v1/showcase",
            json={"product_id": product["id"], "price": price},
            headers=m.headers,
        )
        assert r.status_code == 201
    await client.post(f"/api/v1/products/{two['id']}/delist", headers=s.headers)
    r = await client.get(f"/api/v1/shops/{m.tenant_id}/items")  # public
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(i["title"], i["price"]) for i in items] == [("纯棉短袖T恤", 1500)]
    assert items[0]["skus"][0]["available"] == 100
    r = await client.get("/api/v1/showcase", headers=m.headers)
    states = {i["title"]: i["product_state"] for i in r.json()["items"]}
    assert states == {"纯棉短袖T恤": "listed", "真丝围巾": "delisted"}
