"""The orders page (/console/orders) over HTTP on both engines: the supplier sees paid
orders with their delivery addresses, ships one with a carrier and a tracking number and
records its delivery; bad or forged forms and a second shipment are refused with nothing
changed; the merchant follows its orders without the ship form; other roles see nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from daihuo.pages.i18n import messages

from tests.fixtures import create_member, create_user
from tests.integration.orders.shop import create_shop, order_of, pay, place
from tests.integration.pages.test_console_pages import hidden, sign_in

ZH, EN = messages("zh"), messages("en")
HOME = {
    "recipient": "李华",
    "phone": "139-0000-1234",
    "region": "广东省 深圳市 南山区",
    "detail": "科技园 1 栋 8 楼",
}


@pytest.fixture
async def sold(client: httpx.AsyncClient, database_url: str) -> dict[str, Any]:
    """One shop: a paid order with an address, a paid one without, an unpaid one."""
    shop = await create_shop(client, database_url, buyers=1)
    buyer = shop.buyers[0]
    ids = []
    for extra in ({"address": HOME}, {"address": None}, {"address": HOME}):
        r = await place(client, shop, buyer, **extra)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for order_id in ids[:2]:
        await pay(client, buyer, order_id)
    return {"shop": shop, "buyer": buyer, "with_address": ids[0], "bare": ids[1], "unpaid": ids[2]}


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-order="([^"]+)">', html)


async def test_the_supplier_ships_and_delivers_from_the_page(
    client: httpx.AsyncClient, sold: dict[str, Any]
) -> None:
    shop, buyer, order_id = sold["shop"], sold["buyer"], sold["with_address"]
    r = await client.get("/console/orders")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    await sign_in(client, shop.supplier.email)

    r = await client.get("/console/orders")  # "to ship" by default: the two paid orders
    assert r.status_code == 200 and ZH["orders_title"] in r.text
    assert sorted(listed(r.text)) == sorted([sold["with_address"], sold["bare"]])
    assert 'href="/console/orders" aria-current="page"' in r.text
    assert HOME["detail"] in r.text and HOME["phone"] in r.text
    assert ZH["orders_no_address"] in r.text  # the order placed without one
    assert r.text.count('class="ship"') == 1  # none for the order without an address
    assert r.text.count('data-role="wait-address"') == 1
    r = await client.get("/console/orders", params={"state": "created"})
    assert listed(r.text) == [sold["unpaid"]] and 'class="ship"' not in r.text
    r = await client.get("/console/orders", params={"state": "all", "lang": "en"})
    assert len(listed(r.text)) == 3 and EN["orders_tab_all"] in r.text

    page = await client.get("/console/orders", params={"lang": "zh"})  # the switch sticks
    csrf = hidden(page.text, "csrf")
    # without the session's token, with a bad tracking number, with no carrier: refused
    r = await client.post(
        f"/console/orders/{order_id}/ship", data={"carrier": "顺丰", "tracking_no": "SF1"}
    )
    assert r.status_code == 403
    for carrier, tracking in (("顺丰", "SF 123"), ("", "SF123")):
        r = await client.post(
            f"/console/orders/{order_id}/ship",
            data={"csrf": csrf, "carrier": carrier, "tracking_no": tracking},
        )
        assert r.status_code == 422 and ZH["orders_err_shipment"] in r.text
        assert f'value="{tracking}" aria-invalid="true"' in r.text  # kept as typed
    assert (await order_of(client, buyer, order_id))["state"] == "paid"

    r = await client.post(
        f"/console/orders/{order_id}/ship",
        data={"csrf": csrf, "carrier": "顺丰速运", "tracking_no": "SF1234567890", "state": "paid"},
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/console/orders?state=paid&done={order_id}"
    order = await order_of(client, buyer, order_id)
    assert (order["state"], order["carrier"], order["tracking_no"]) == (
        "shipped",
        "顺丰速运",
        "SF1234567890",
    )
    r = await client.get(r.headers["location"])
    assert listed(r.text) == [sold["bare"]]

    # shipped twice (a second tab, say): refused, the first shipment stays
    r = await client.post(
        f"/console/orders/{order_id}/ship",
        data={"csrf": csrf, "carrier": "中通", "tracking_no": "ZT1"},
    )
    assert r.status_code == 409 and ZH["orders_err_changed"] in r.text
    assert (await order_of(client, buyer, order_id))["tracking_no"] == "SF1234567890"

    r = await client.get("/console/orders", params={"state": "shipped"})
    assert listed(r.text) == [order_id] and "SF1234567890" in r.text
    assert f'action="/console/orders/{order_id}/deliver"' in r.text
    r = await client.post(
        f"/console/orders/{order_id}/deliver", data={"csrf": csrf, "state": "shipped"}
    )
    assert r.status_code == 303
    assert (await order_of(client, buyer, order_id))["state"] == "delivered"
    r = await client.post(f"/console/orders/{order_id}/deliver", data={"csrf": csrf})
    assert r.status_code == 409
    r = await client.post(
        "/console/orders/ord_missing/ship",
        data={"csrf": csrf, "carrier": "顺丰", "tracking_no": "SF1"},
    )
    assert r.status_code == 422 and ZH["orders_err_gone"] in r.text


async def test_merchants_follow_and_only_supplier_members_who_may_write_ship(
    client: httpx.AsyncClient, sold: dict[str, Any]
) -> None:
    shop, buyer, order_id = sold["shop"], sold["buyer"], sold["with_address"]
    await sign_in(client, shop.merchant.email)
    r = await client.get("/console/orders")
    assert r.status_code == 200 and len(listed(r.text)) == 2
    assert 'class="ship"' not in r.text and HOME["detail"] in r.text
    csrf = hidden(r.text, "csrf")
    r = await client.post(
        f"/console/orders/{order_id}/ship",
        data={"csrf": csrf, "carrier": "顺丰", "tracking_no": "SF1"},
    )
    assert r.status_code == 403 and ZH["orders_ship_denied"] in r.text

    client.cookies.clear()
    viewer, _ = await create_member(client, shop.supplier, role="viewer")
    await sign_in(client, viewer.email)
    r = await client.get("/console/orders")  # a viewer reads the orders, ships none
    assert r.status_code == 200 and len(listed(r.text)) == 2 and 'class="ship"' not in r.text
    csrf = hidden(r.text, "csrf")
    r = await client.post(
        f"/console/orders/{order_id}/ship",
        data={"csrf": csrf, "carrier": "顺丰", "tracking_no": "SF1"},
    )
    assert r.status_code == 403 and ZH["orders_ship_denied"] in r.text
    assert (await order_of(client, buyer, order_id))["state"] == "paid"

    # a buyer (no tenant) and another supplier's owner see none of it
    client.cookies.clear()
    await sign_in(client, buyer.email)
    assert (await client.get("/console/orders")).status_code == 403
    client.cookies.clear()
    stranger = await create_user(client, label="supplier", tenant_kind="supplier")
    await sign_in(client, stranger.email)
    r = await client.get("/console/orders", params={"state": "all"})
    assert r.status_code == 200 and listed(r.text) == []
    csrf = hidden(r.text, "csrf")
    r = await client.post(
        f"/console/orders/{order_id}/ship",
        data={"csrf": csrf, "carrier": "顺丰", "tracking_no": "SF1"},
    )
    assert r.status_code == 422 and ZH["orders_err_gone"] in r.text
    assert (await order_of(client, buyer, order_id))["state"] == "paid"
    r = await client.get("/console/orders", params={"cursor": "x" * 300})
    assert r.status_code == 422


async def test_an_order_without_an_address_ships_once_the_buyer_gives_one(
    client: httpx.AsyncClient, sold: dict[str, Any]
) -> None:
    shop, buyer, order_id = sold["shop"], sold["buyer"], sold["bare"]
    await sign_in(client, shop.supplier.email)
    csrf = hidden((await client.get("/console/orders")).text, "csrf")
    shipment = {"csrf": csrf, "carrier": "顺丰速运", "tracking_no": "SF42"}
    r = await client.post(f"/console/orders/{order_id}/ship", data=shipment)
    assert r.status_code == 422 and ZH["orders_err_address"] in r.text
    assert (await order_of(client, buyer, order_id))["state"] == "paid"

    r = await client.put(f"/api/v1/orders/{order_id}/address", json=HOME, headers=buyer.headers)
    assert r.status_code == 200 and r.json()["delivery"] == HOME
    r = await client.get("/console/orders")
    assert r.text.count('class="ship"') == 2 and 'data-role="wait-address"' not in r.text
    r = await client.post(f"/console/orders/{order_id}/ship", data=shipment)
    assert r.status_code == 303
    assert (await order_of(client, buyer, order_id))["state"] == "shipped"


async def test_an_order_paid_with_a_coupon_shows_its_discount(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """The amount shown is what the buyer paid; the coupon's discount is under it, for
    the merchant (who pays for it) and the supplier (who is paid in full regardless)."""
    from tests.integration.orders.test_coupons import claimed, live

    shop = await create_shop(client, database_url, price=3000, commission_bps=2000)
    buyer = shop.buyers[0]
    coupon = await claimed(client, shop, await live(client, shop.merchant), buyer)
    r = await place(client, shop, buyer, coupon_id=coupon)
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    await pay(client, buyer, order_id)
    plain = (await place(client, shop, buyer)).json()["id"]
    await pay(client, buyer, plain)
    for who in (shop.merchant, shop.supplier):
        await sign_in(client, who.email)
        page = (await client.get("/console/orders", params={"state": "all"})).text
        rows = dict(re.findall(r'<tr data-order="([^"]+)">(.*?)</tr>', page, re.S))
        assert "¥25.00" in rows[order_id]
        assert f'data-role="coupon">{ZH["orders_coupon"]} −¥5.00<' in rows[order_id]
        assert "¥30.00" in rows[plain] and 'data-role="coupon"' not in rows[plain]
        await client.post("/console/logout", data={"csrf": hidden(page, "csrf")})
