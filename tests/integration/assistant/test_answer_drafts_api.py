"""Answer drafts through the API on both engines: from the supplier's facts of a product
in the merchant's showcase, the pinned one by default; an unknown or other shop's
product gets a draft that says so; other merchants' sessions are not found; drafting
changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures import Account, create_member, create_user
from tests.integration.orders.shop import Shop, create_listed_product, create_shop, table_snapshot

FACTS: dict[str, Any] = {
    "material": "100% 桑蚕丝",
    "shipping_promise": "付款后 24 小时内发货，顺丰包邮",
    "faq": [{"q": "会褪色吗", "a": "正常洗涤不褪色"}],
}


async def live_shop(client: httpx.AsyncClient, database_url: str) -> tuple[Shop, str, str]:
    """A shop with two products in a scheduled session: the lipstick (no facts) and a
    silk scarf with the supplier's facts. Returns the shop, the session and the scarf's
    showcase item."""
    shop = await create_shop(client, database_url, price=1990)
    scarf = await create_listed_product(
        client, shop.supplier, shop.platform, title="真丝方巾", facts=FACTS,
        skus=[{"code": "BLUE", "spec": {"颜色": "雾霾蓝"}, "price": 2990, "stock": 4}],
    )  # fmt: skip
    r = await client.post(
        "/api/v1/showcase",
        json={"product_id": scarf["id"], "price": 3990},
        headers=shop.merchant.headers,
    )
    assert r.status_code == 201, r.text
    item = str(r.json()["id"])
    r = await client.post(
        "/api/v1/live-sessions",
        json={"title": "丝巾专场", "planned_start": "2026-12-12T20:00:00+08:00",
              "products": [shop.item_id, item]},
        headers=shop.merchant.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return shop, str(r.json()["id"]), item


async def ask(client: httpx.AsyncClient, who: Account, sid: str, **body: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/sessions/{sid}/assistant/drafts", json=body, headers=who.headers
    )


async def test_a_question_about_a_named_product_is_drafted_from_its_facts(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop, sid, item = await live_shop(client, database_url)
    pid = (await client.get(f"/api/v1/live-sessions/{sid}", headers=shop.merchant.headers)).json()[
        "products"
    ][1]["product_id"]
    before = await table_snapshot(database_url)
    r = await ask(client, shop.merchant, sid, question="什么材质？包邮吗", product_id=pid)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["product_id"], body["product_title"]) == (pid, "真丝方巾")
    assert [(d["slot"], d["source"]) for d in body["drafts"]] == [
        ("material", "facts.material"),
        ("shipping", "facts.shipping_promise"),
    ]
    assert "100% 桑蚕丝" in body["drafts"][0]["text"]
    # The shop's price, not the supplier's suggested SKU price; stock as a word.
    r = await ask(client, shop.merchant, sid, question="多少钱还有货吗", product_id=item)
    texts = " ".join(d["text"] for d in r.json()["drafts"])
    assert "¥39.90" in texts and "库存紧张" in texts and "29.90" not in texts
    r = await ask(client, shop.merchant, sid, question="\u6703褪色\u55ce", product_id=pid)
    assert r.json()["drafts"][0]["source"] == "facts.faq[0]"
    assert await table_snapshot(database_url) == before  # drafting stores nothing


async def test_the_pinned_product_is_the_default_and_without_one_the_draft_says_so(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop, sid, item = await live_shop(client, database_url)
    m = shop.merchant
    r = await ask(client, m, sid, question="什么面料")
    assert r.status_code == 200, r.text
    assert r.json()["product_id"] is None
    assert [d["slot"] for d in r.json()["drafts"]] == ["no_product"]

    r = await client.post(f"/api/v1/live-sessions/{sid}/start", headers=m.headers)
    assert r.status_code == 200, r.text
    r = await client.put(
        f"/api/v1/live-sessions/{sid}/pin", json={"item_id": item}, headers=m.headers
    )
    assert r.status_code == 200, r.text
    r = await ask(client, m, sid, question="什么面料", lang="en")
    assert r.json()["product_title"] == "真丝方巾"
    assert r.json()["drafts"][0]["text"] == "Material: 100% 桑蚕丝."
    # The lipstick has no facts: the draft says the data does not say.
    r = await ask(client, m, sid, question="什么面料", product_id=shop.product_id)
    assert r.json()["drafts"][0]["slot"] == "unknown"


async def test_unknown_and_other_shops_products_get_the_same_unknown_product_draft(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop, sid, _ = await live_shop(client, database_url)
    other = await create_shop(client, database_url, platform=shop.platform, price=2500)
    not_picked = await create_listed_product(client, shop.supplier, shop.platform, title="围巾")
    before = await table_snapshot(database_url)
    answers = []
    for pid in (other.product_id, not_picked["id"], "prd_NOSUCHPRODUCT", other.item_id):
        r = await ask(client, shop.merchant, sid, question="多少钱", product_id=pid)
        assert r.status_code == 200, r.text
        assert r.json()["product_title"] is None
        answers.append(r.json()["drafts"])
    assert all(a == answers[0] for a in answers)
    assert (
        answers[0][0]["slot"] == "unknown_product" and "没有找到这个商品" in answers[0][0]["text"]
    )
    assert await table_snapshot(database_url) == before


async def test_only_the_sessions_merchant_staff_get_drafts(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop, sid, _ = await live_shop(client, database_url)
    viewer, _ = await create_member(client, shop.merchant, role="viewer")
    assert (await ask(client, viewer, sid, question="多少钱")).status_code == 200
    other = await create_user(client, label="other", tenant_kind="merchant")
    r = await ask(client, other, sid, question="多少钱")
    assert r.status_code == 404 and r.json()["type"] == "urn:daihuo:problem:live-session-not-found"
    r = await ask(client, shop.supplier, sid, question="多少钱")
    assert r.status_code == 403
    consumer = shop.buyers[0]
    assert (await ask(client, consumer, sid, question="多少钱")).status_code == 403
    r = await client.post(f"/api/v1/sessions/{sid}/assistant/drafts", json={"question": "多少钱"})
    assert r.status_code == 401


BAD_BODIES: list[dict[str, Any]] = [
    {},
    {"question": ""},
    {"question": "x" * 501},
    {"question": "多少钱\x00"},
    {"question": "多少钱", "product_id": "../etc"},
    {"question": "多少钱", "lang": "fr"},
    {"question": "多少钱", "send": True},
]


async def test_bad_requests_are_refused(client: httpx.AsyncClient, database_url: str) -> None:
    shop, sid, _ = await live_shop(client, database_url)
    for body in BAD_BODIES:
        r = await ask(client, shop.merchant, sid, **body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["type"] == "urn:daihuo:problem:validation-error"
    body = {"question": "多少钱", "product_id": shop.product_id}  # not a field of this route
    r = await client.post(
        f"/api/v1/products/{shop.product_id}/answer-draft", json=body, headers=shop.merchant.headers
    )
    assert r.status_code == 422, r.text


async def test_a_product_of_the_showcase_gets_drafts_outside_a_session(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, price=1990)
    r = await client.post(
        f"/api/v1/products/{shop.product_id}/answer-draft",
        json={"question": "多少钱"},
        headers=shop.merchant.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["drafts"][0]["text"].startswith("直播间价 ¥19.90")
