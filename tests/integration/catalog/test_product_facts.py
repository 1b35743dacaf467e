"""The supplier's facts for answer drafts (issue 10): set with the product, validated,
edited like the rest of its content, and shown to merchants in the pool."""

from __future__ import annotations

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

FACTS: dict[str, Any] = {
    "material": "95% 棉 5% 氨纶",
    "shipping_promise": "付款后 48 小时内发货，包邮",
    "usage": "30 度以下水洗",
    "size_chart": [
        {"size": "M", "height_cm": [155, 165], "weight_kg": [45, 55], "note": "胸围 92cm"},
        {"size": "L", "height_cm": [165, 175], "weight_kg": [55, 65]},
    ],
    "faq": [{"q": "会起球吗", "a": "不会，面料做过抗起球处理"}],
}


@pytest.fixture
async def supplier(client: httpx.AsyncClient) -> Account:
    return await create_user(client, label="supplier", tenant_kind="supplier")


async def test_facts_are_kept_as_sent_and_default_to_none(
    client: httpx.AsyncClient, supplier: Account
) -> None:
    r = await client.post(
        "/api/v1/products", json=product_body(facts=FACTS), headers=supplier.headers
    )
    assert r.status_code == 201, r.text
    facts = r.json()["facts"]
    assert facts["material"] == FACTS["material"]
    assert facts["size_chart"][0] == FACTS["size_chart"][0]
    assert facts["size_chart"][1]["note"] == ""
    assert facts["faq"] == FACTS["faq"]
    r = await client.get(f"/api/v1/products/{r.json()['id']}", headers=supplier.headers)
    assert r.json()["facts"]["shipping_promise"] == FACTS["shipping_promise"]

    r = await client.post("/api/v1/products", json=product_body(), headers=supplier.headers)
    assert r.json()["facts"] == {
        "material": None,
        "shipping_promise": None,
        "usage": None,
        "size_chart": [],
        "faq": [],
    }


@pytest.mark.parametrize(
    "facts",
    [
        {"size_chart": [{"size": "M", "height_cm": [170, 160]}]},
        {"size_chart": [{"size": "M"}, {"size": "M"}]},
        {"size_chart": [{"size": "M", "weight_kg": [0, 50]}]},
        {"faq": [{"q": "会起球吗", "a": ""}]},
        {"faq": [{"q": "x" * 201, "a": "不会"}]},
        {"material": "棉\n麻"},
        {"colour": "红"},
    ],
)
async def test_bad_facts_are_refused_and_change_nothing(
    client: httpx.AsyncClient, supplier: Account, database_url: str, facts: dict[str, Any]
) -> None:
    before = await table_snapshot(database_url)
    r = await client.post(
        "/api/v1/products", json=product_body(facts=facts), headers=supplier.headers
    )
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:daihuo:problem:validation-error"
    assert await table_snapshot(database_url) == before


async def test_facts_change_like_content_and_merchants_see_them_in_the_pool(
    client: httpx.AsyncClient, supplier: Account, database_url: str
) -> None:
    platform = await create_platform_admin(client, database_url)
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    product = await create_listed_product(client, supplier, platform, facts=FACTS)
    pid = product["id"]
    r = await client.get(f"/api/v1/pool/products/{pid}", headers=merchant.headers)
    assert r.json()["facts"]["faq"] == FACTS["faq"]

    change = {"facts": {"material": "纯棉"}}
    r = await client.patch(f"/api/v1/products/{pid}", json=change, headers=supplier.headers)
    assert r.status_code == 409, r.text  # listed: content is frozen until delisted
    await client.post(f"/api/v1/products/{pid}/delist", headers=supplier.headers)
    r = await client.patch(f"/api/v1/products/{pid}", json=change, headers=supplier.headers)
    assert r.status_code == 200, r.text
    assert r.json()["facts"]["material"] == "纯棉"
    assert r.json()["facts"]["faq"] == []  # the facts are replaced as a whole
