"""The platform operator's overview (/console/platform) over HTTP on both engines: every
tenant with the count of each kind, the platform's books as the settlement API reads
them, and the review queue's size; nobody else sees it."""

from __future__ import annotations

import re

import httpx

from daihuo.pages.i18n import messages

from tests.fixtures import create_user
from tests.integration.orders.shop import (
    create_listed_product,
    create_shop,
    pay,
    place,
    product_body,
)
from tests.integration.pages.test_console_pages import sign_in

ZH = messages("zh")


def shown(html: str, role: str) -> int:
    found = re.search(rf'data-role="{role}" data-value="(-?\d+)"', html)
    assert found, role
    return int(found.group(1))


async def test_the_operator_sees_every_tenant_its_books_and_the_queue(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, buyers=1)
    r = await place(client, shop, shop.buyers[0])
    await pay(client, shop.buyers[0], r.json()["id"])
    await create_listed_product(client, shop.supplier, shop.platform)  # listed: not waiting
    r = await client.post(
        "/api/v1/products", json=product_body(title="待审核的新品"), headers=shop.supplier.headers
    )
    r = await client.post(
        f"/api/v1/products/{r.json()['id']}/submit", headers=shop.supplier.headers
    )
    assert r.status_code == 200, r.text

    await sign_in(client, shop.platform.email)
    r = await client.get("/console/dashboard")
    assert r.status_code == 303 and r.headers["location"] == "/console/platform"
    r = await client.get("/console/platform")
    assert r.status_code == 200 and ZH["platform_title"] in r.text
    api = (await client.get("/api/v1/platform/tenants", headers=shop.platform.headers)).json()
    listed = re.findall(r'<tr data-tenant="([^"]+)">', r.text)
    assert sorted(listed) == sorted(t["id"] for t in api["items"])
    for kind, role in (("merchant", "merchants"), ("supplier", "suppliers")):
        assert shown(r.text, role) == sum(t["kind"] == kind for t in api["items"]) >= 1
    books = (await client.get("/api/v1/settlement/balances", headers=shop.platform.headers)).json()
    assert shown(r.text, "held") == books["held"] > 0  # the platform's fee of the paid order
    assert shown(r.text, "available") == books["available"]
    assert shown(r.text, "waiting") == 1


async def test_nobody_but_the_platform_sees_the_overview(
    client: httpx.AsyncClient, database_url: str
) -> None:
    for kind in ("merchant", "supplier", None):
        client.cookies.clear()
        who = await create_user(client, label="x", tenant_kind=kind)
        await sign_in(client, who.email)
        r = await client.get("/console/platform")
        assert r.status_code == 403, kind
        assert 'href="/console/platform"' not in r.text
