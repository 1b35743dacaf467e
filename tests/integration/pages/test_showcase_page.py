"""The merchant's showcase page (/console/showcase) over HTTP on both engines: its items
with the supplier's range; a new price typed in yuan is kept in fen, one outside the range
or with a fraction of a fen is refused with nothing changed; an item taken out is gone;
viewers and suppliers change nothing."""

from __future__ import annotations

from typing import Any

import httpx

from daihuo.pages.i18n import messages

from tests.fixtures import Account, create_member
from tests.integration.orders.shop import create_shop
from tests.integration.pages.test_console_pages import hidden, sign_in

ZH = messages("zh")


async def items_of(client: httpx.AsyncClient, merchant: Account) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/showcase", headers=merchant.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_the_merchant_prices_and_removes_items(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, price=1990)  # range ¥10.00–¥50.00
    await sign_in(client, shop.merchant.email)
    page = await client.get("/console/showcase")
    assert page.status_code == 200 and f'data-item="{shop.item_id}"' in page.text
    assert 'value="19.90"' in page.text
    csrf = hidden(page.text, "csrf")
    price = f"/console/showcase/{shop.item_id}/price"
    for typed, key in (("5", "pool_err_price_range"), ("29.999", "pool_err_amount")):
        r = await client.post(price, data={"csrf": csrf, "price": typed})
        assert r.status_code == 422 and ZH[key] in r.text
        assert f'value="{typed}" aria-invalid="true"' in r.text
    assert [i["price"] for i in await items_of(client, shop.merchant)] == [1990]
    r = await client.post(price, data={"price": "29.9"})
    assert r.status_code == 403  # no CSRF token
    r = await client.post(price, data={"csrf": csrf, "price": "¥29.9"})
    assert r.status_code == 303
    assert [i["price"] for i in await items_of(client, shop.merchant)] == [2990]

    r = await client.post(f"/console/showcase/{shop.item_id}/remove", data={"csrf": csrf})
    assert r.status_code == 303 and await items_of(client, shop.merchant) == []
    r = await client.post(f"/console/showcase/{shop.item_id}/remove", data={"csrf": csrf})
    assert r.status_code == 422 and ZH["showcase_err_gone"] in r.text


async def test_viewers_and_suppliers_change_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    viewer, _ = await create_member(client, shop.merchant, role="viewer")
    await sign_in(client, viewer.email)
    page = await client.get("/console/showcase")
    assert page.status_code == 200 and "/remove" not in page.text
    r = await client.post(
        f"/console/showcase/{shop.item_id}/remove", data={"csrf": hidden(page.text, "csrf")}
    )
    assert r.status_code == 403 and len(await items_of(client, shop.merchant)) == 1
    client.cookies.clear()
    await sign_in(client, shop.supplier.email)
    assert (await client.get("/console/showcase")).status_code == 403
