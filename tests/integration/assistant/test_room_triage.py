"""Comments typed in a live room show up triaged for the host: viewers comment through the
WebSocket gateway of a real server, the merchant reads
``GET /api/v1/sessions/{id}/assistant/comments`` — on the in-process state and on Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.live.rooms import Env, Viewer, visitor_token
from tests.integration.orders.shop import create_listed_product, create_shop


async def _session_with_two_products(http: httpx.AsyncClient, db: str) -> tuple[Any, str, str]:
    shop = await create_shop(http, db, title="滋润保湿口红 正红色")
    mask = await create_listed_product(http, shop.supplier, shop.platform, title="玻尿酸补水面膜")
    r = await http.post(
        "/api/v1/showcase", json={"product_id": mask["id"], "price": 3990},
        headers=shop.merchant.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    mask_item = str(r.json()["id"])
    r = await http.post(
        "/api/v1/live-sessions",
        json={"title": "口红面膜专场", "planned_start": "2026-11-27T20:00:00+08:00",
              "products": [shop.item_id, mask_item]},
        headers=shop.merchant.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    sid = str(r.json()["id"])
    r = await http.post(f"/api/v1/live-sessions/{sid}/start", headers=shop.merchant.headers)
    assert r.status_code == 200, r.text
    r = await http.put(
        f"/api/v1/live-sessions/{sid}/pin", json={"item_id": shop.item_id},
        headers=shop.merchant.headers,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return shop, sid, mask_item


async def _until_counted(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], n: int
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(100):
        r = await http.get(path, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if sum(body["counts"].values()) >= n:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {body.get('counts')} of {n} comments triaged")


async def test_comments_in_a_room_show_up_triaged_for_the_host(env: Env) -> None:
    http = env.http
    shop, sid, mask_item = await _session_with_two_products(http, env.db)
    path = f"/api/v1/sessions/{sid}/assistant/comments"
    empty = (await http.get(path, headers=shop.merchant.headers)).json()
    assert empty["questions"] == [] and sum(empty["counts"].values()) == 0

    a = await Viewer.join(env.ws, sid, visitor=await visitor_token(http, sid))
    b = await Viewer.join(env.ws, sid, visitor=await visitor_token(http, sid))
    for v in (a, b):
        await v.expect("snapshot")
    said = [
        (a, "口红是什么色号？"),  # a question naming the lipstick by a word of its title
        (a, "2号链接还有货吗"),  # a question naming link 2: the mask
        (b, "多少钱"),  # a question naming nothing: the pinned lipstick
        (a, "想要"),  # purchase intents naming nothing: the pinned lipstick
        (b, "想要"),
        (b, "2号已拍"),  # a purchase intent for link 2
        (a, "收到货是坏的，我要退款"),
        (b, "主播好"),
    ]
    for n, (viewer, text) in enumerate(said):
        await viewer.send({"type": "comment", "text": text, "ref": f"c{n}"})
        ack = await viewer.expect("ack")
        assert ack["ref"] == f"c{n}"

    body = await _until_counted(http, path, shop.merchant.headers, len(said))
    assert body["counts"] == {
        "purchase_intent": 3, "question": 3, "after_sales": 1, "praise_chat": 1, "spam_abuse": 0
    }  # fmt: skip
    queue = {q["text"]: (q["product"] or {}).get("item_id") for q in body["questions"]}
    assert queue == {
        "口红是什么色号？": shop.item_id,
        "2号链接还有货吗": mask_item,
        "多少钱": shop.item_id,
    }
    assert body["questions"][0]["text"] == "多少钱"  # newest first
    assert [c["text"] for c in body["complaints"]] == ["收到货是坏的，我要退款"]
    meter = {p["item_id"]: p["count"] for p in body["purchase_intent"]}
    assert meter == {shop.item_id: 2, mask_item: 1}
    assert body["purchase_intent_unattributed"] == 0

    # Reading again changes nothing.
    again = (await http.get(path, headers=shop.merchant.headers)).json()
    assert again["counts"] == body["counts"]
    for v in (a, b):
        await v.close()


async def test_another_merchant_cannot_read_a_rooms_triage(env: Env) -> None:
    http = env.http
    shop, sid, _ = await _session_with_two_products(http, env.db)
    other = await create_shop(http, env.db, platform=shop.platform)
    r = await http.get(f"/api/v1/sessions/{sid}/assistant/comments", headers=other.merchant.headers)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_the_queue_masks_the_merchants_words_as_the_room_does(env: Env) -> None:
    http = env.http
    shop, sid, _ = await _session_with_two_products(http, env.db)
    r = await http.put(
        "/api/v1/live-words", json={"words": ["老地方"]}, headers=shop.merchant.headers
    )
    assert r.status_code == 200, r.text
    viewer = await Viewer.join(env.ws, sid, visitor=await visitor_token(http, sid))
    await viewer.expect("snapshot")
    await viewer.send({"type": "comment", "text": "口红在老地方能买到吗？", "ref": "q"})
    seen = await viewer.until(lambda m: m["type"] == "comment")
    assert seen["text"] == "口红在***能买到吗？"  # what the room shows

    path = f"/api/v1/sessions/{sid}/assistant/comments"
    body = await _until_counted(http, path, shop.merchant.headers, 1)
    assert [q["text"] for q in body["questions"]] == ["口红在***能买到吗？"]
    assert "老地方" not in str(body)
    await viewer.close()
