"""Orders carry their delivery address (收货地址) on both engines: the parties who read
the order see it, the order's events carry only the hash of its place (``meta.addr``,
the same for one address however it is typed and whoever receives it), and a bad
address is refused with nothing created."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.integration.orders.shop import create_shop, order_of, place, rows

HOME = {"recipient": "张三", "phone": "138 0013 8000", "region": "浙江省 杭州市 西湖区",
        "detail": "文三路 100 号 3 幢 402 室"}  # fmt: skip


async def events_of(database_url: str, order_id: str) -> list[dict[str, Any]]:
    found = await rows(
        database_url,
        "SELECT payload FROM order_outbox WHERE order_id = :o ORDER BY seq",
        o=order_id,
    )
    return [json.loads(p) for (p,) in found]


async def test_the_address_is_on_the_order_and_its_hash_in_the_events(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, buyers=3)
    first, second, third = shop.buyers
    r = await place(client, shop, first, address=HOME)
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["delivery"] == HOME
    # the supplier who ships, and the merchant, read it too
    for party in (shop.supplier, shop.merchant):
        assert (await order_of(client, party, mine["id"]))["delivery"] == HOME

    # the same place typed otherwise (full-width digits, spaces, another recipient)
    same = {**HOME, "recipient": "李四", "phone": "+86 139-0000-0000",
            "detail": "文三路１００号３幢４０２室"}  # fmt: skip
    other = {**HOME, "detail": "文三路 100 号 3 幢 403 室"}
    ids = []
    for buyer, address in ((second, same), (third, other)):
        r = await place(client, shop, buyer, address=address)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    hashes = []
    for order_id in (mine["id"], *ids):
        [created] = await events_of(database_url, order_id)
        assert created["type"] == "order_created"
        text = json.dumps(created, ensure_ascii=False)
        assert "文三路" not in text and "138" not in text  # only the hash leaves the order
        hashes.append(created["meta"]["addr"])
    assert hashes[0] == hashes[1] != hashes[2]
    assert all(len(h) == 32 for h in hashes)

    # an order without an address: no hash in its events
    r = await place(client, shop, first, address=None)
    assert r.status_code == 201 and r.json()["delivery"] is None
    [created] = await events_of(database_url, r.json()["id"])
    assert "addr" not in created["meta"]


async def test_a_bad_address_is_refused_and_nothing_is_created(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer = shop.buyers[0]
    before = await rows(database_url, "SELECT count(*) FROM orders")
    for bad in (
        {**HOME, "phone": "call me"},
        {**HOME, "detail": ""},
        {**HOME, "recipient": "x" * 41},
        {**HOME, "detail": "第一行\n第二行"},
        {**HOME, "note": "extra field"},
        {k: v for k, v in HOME.items() if k != "region"},
    ):
        r = await place(client, shop, buyer, address=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert await rows(database_url, "SELECT count(*) FROM orders") == before
