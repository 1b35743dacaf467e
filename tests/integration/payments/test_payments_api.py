"""Payments through the sandbox provider on both engines: the pay page, signed
callbacks and their retries, every kind of bad callback, and refunds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from daihuo.events.model import event_from_obj
from daihuo.payments.tasks import Payments

from tests.conftest import client_for, make_settings
from tests.integration.orders.shop import (
    FAST,
    WEBHOOK,
    Shop,
    create_shop,
    order_of,
    pay,
    place,
    press,
    rows,
    signed,
    start_payment,
    stock,
    table_snapshot,
    wait_for_state,
)

PROBLEM = "application/problem+json"


def problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["type"] == f"urn:daihuo:problem:{slug}", body
    return body


def succeeded(payment: dict[str, Any], event_id: str = "sbe_test1", **data: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "payment.succeeded",
        "created": int(time.time()),
        "data": {"payment": payment["id"], "amount": payment["amount"], **data},
    }


async def history(client: httpx.AsyncClient, shop: Shop, order_id: str) -> list[tuple[str, str]]:
    r = await client.get(f"/api/v1/orders/{order_id}/history", headers=shop.buyers[0].headers)
    return [(h["action"], h["actor"]) for h in r.json()]


async def test_a_buyer_pays_on_the_sandbox_page(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, price=2590)
    buyer = shop.buyers[0]
    order = (await place(client, shop, buyer, 2)).json()
    payment = await start_payment(client, buyer, order["id"])
    assert (payment["amount"], payment["state"], payment["provider"]) == (
        5180,
        "pending",
        "sandbox",
    )
    assert payment["pay_url"].startswith("/sandbox/pay/sbp_")
    # Asking again hands out the same pending payment.
    assert (await start_payment(client, buyer, order["id"]))["id"] == payment["id"]
    page = await client.get(payment["pay_url"])
    assert page.status_code == 200 and "¥51.80" in page.text and "滋润保湿口红" in page.text
    assert (await press(client, payment["pay_url"], "pay")).status_code == 200
    paid = await wait_for_state(client, buyer, order["id"], "paid")
    assert paid["paid_at"] is not None
    assert await history(client, shop, order["id"]) == [("create", "buyer"), ("pay", "provider")]
    found = await rows(
        database_url, "SELECT state, paid_at FROM payments WHERE id = :p", p=payment["id"]
    )
    assert found[0][0] == "succeeded"
    assert await stock(database_url, shop.sku_id) == (98, 0, 2)
    payloads = await rows(
        database_url,
        "SELECT type FROM order_outbox WHERE order_id = :o ORDER BY seq",
        o=order["id"],
    )
    assert [t for (t,) in payloads] == ["order_created", "order_paid"]
    # The page no longer offers the buttons; pressing anyway is refused by the provider.
    page = await client.get(payment["pay_url"])
    assert "确认支付" not in page.text
    r = await client.post(payment["pay_url"], data={"outcome": "pay"})
    problem(r, 409, "provider-rejected")


async def test_a_failed_payment_leaves_the_order_payable(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer = shop.buyers[0]
    order = (await place(client, shop, buyer)).json()
    first = await start_payment(client, buyer, order["id"])
    await press(client, first["pay_url"], "fail")
    for _ in range(200):
        state = await rows(database_url, "SELECT state FROM payments WHERE id = :p", p=first["id"])
        if state[0][0] == "failed":
            break
        await asyncio.sleep(0.02)
    assert state[0][0] == "failed"
    assert (await order_of(client, buyer, order["id"]))["state"] == "created"
    second = await start_payment(client, buyer, order["id"])
    assert second["id"] != first["id"]
    await press(client, second["pay_url"], "pay")
    await wait_for_state(client, buyer, order["id"], "paid")


async def test_only_the_buyer_pays_and_only_an_unpaid_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, buyers=2)
    buyer, other = shop.buyers
    order = (await place(client, shop, buyer)).json()
    before = await table_snapshot(database_url)
    url = f"/api/v1/orders/{order['id']}/pay"
    problem(await client.post(url, headers=other.headers), 404, "order-not-found")
    problem(await client.post(url, headers=shop.merchant.headers), 403, "not-your-role")
    assert await table_snapshot(database_url) == before
    await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer.headers)
    before = await table_snapshot(database_url)
    body = problem(await client.post(url, headers=buyer.headers), 409, "invalid-order-transition")
    assert body["state"] == "cancelled"
    assert await table_snapshot(database_url) == before


async def test_a_signed_callback_pays_once_however_often_it_comes(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer = shop.buyers[0]
    order = (await place(client, shop, buyer, 3)).json()
    payment = await start_payment(client, buyer, order["id"])
    body, headers = signed(succeeded(payment))
    r = await client.post(WEBHOOK, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": True, "event_id": "sbe_test1", "effect": "order paid"}
    before = await table_snapshot(database_url)
    # The same callback again (a replay, or a retry after a lost answer): refused, no change.
    body2, headers2 = signed(body)
    problem(await client.post(WEBHOOK, content=body2, headers=headers2), 409, "webhook-replayed")
    # The same outcome under another event id: accepted, and changes nothing.
    body3, headers3 = signed(succeeded(payment, "sbe_test2"))
    r = await client.post(WEBHOOK, content=body3, headers=headers3)
    assert r.status_code == 200 and r.json()["effect"].startswith("nothing")
    after = await table_snapshot(database_url)
    assert {k: v for k, v in after.items() if k != "webhook_receipts"} == {
        k: v for k, v in before.items() if k != "webhook_receipts"
    }
    assert await stock(database_url, shop.sku_id) == (97, 0, 3)
    assert await history(client, shop, order["id"]) == [("create", "buyer"), ("pay", "provider")]


async def test_concurrent_copies_of_a_callback_pay_once(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer = shop.buyers[0]
    order = (await place(client, shop, buyer, 2)).json()
    payment = await start_payment(client, buyer, order["id"])
    body, headers = signed(succeeded(payment))
    answers = await asyncio.gather(
        *(client.post(WEBHOOK, content=body, headers=headers) for _ in range(8))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 409}, statuses
    assert await stock(database_url, shop.sku_id) == (98, 0, 2)
    paid = await rows(
        database_url,
        "SELECT count(*) FROM order_outbox WHERE order_id = :o AND type = 'order_paid'",
        o=order["id"],
    )
    assert paid == [(1,)]


@pytest.mark.parametrize(
    "attack",
    [
        "tampered_body",
        "wrong_secret",
        "no_signature",
        "stale",
        "future",
        "unknown_payment",
        "amount_mismatch",
        "malformed",
        "unknown_type",
        "float_amount",
    ],
)
async def test_a_bad_callback_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, database_url: str, attack: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer = shop.buyers[0]
    order = (await place(client, shop, buyer)).json()
    payment = await start_payment(client, buyer, order["id"])
    event = succeeded(payment)
    body, headers = signed(event)
    expected = (400, "webhook-signature-invalid")
    if attack == "tampered_body":
        body = body.replace(b'"amount": 1990', b'"amount": 1')
        assert b'"amount": 1,' in body or b'"amount": 1}' in body
    elif attack == "wrong_secret":
        body, headers = signed(event, secret="guessed")
    elif attack == "no_signature":
        headers = {"content-type": "application/json"}
    elif attack == "stale":
        body, headers = signed(event, at=int(time.time()) - 301)
        expected = (400, "webhook-stale")
    elif attack == "future":
        body, headers = signed(event, at=int(time.time()) + 3600)
        expected = (400, "webhook-stale")
    elif attack == "unknown_payment":
        body, headers = signed({**event, "data": {"payment": "pay_nope", "amount": 1990}})
        expected = (404, "payment-not-found")
    elif attack == "amount_mismatch":
        body, headers = signed({**event, "data": {"payment": payment["id"], "amount": 1}})
        expected = (409, "webhook-amount-mismatch")
    elif attack == "malformed":
        body, headers = signed(b'{"id": "sbe_x", "type": ')
        expected = (400, "webhook-malformed")
    elif attack == "unknown_type":
        body, headers = signed({**event, "type": "payment.maybe"})
        expected = (400, "webhook-malformed")
    elif attack == "float_amount":
        body, headers = signed({**event, "data": {"payment": payment["id"], "amount": 1990.0}})
        expected = (400, "webhook-malformed")
    before = await table_snapshot(database_url)
    problem(await client.post(WEBHOOK, content=body, headers=headers), *expected)
    assert await table_snapshot(database_url) == before
    assert (await order_of(client, buyer, order["id"]))["state"] == "created"


def _settings(database_url: str, tmp_path: Path, **over: Any) -> Any:
    return make_settings(database_url, tmp_path, **{**FAST, **over})


async def test_failed_deliveries_are_retried_with_backoff(
    database_url: str, tmp_path: Path
) -> None:
    app = client_for(_settings(database_url, tmp_path))
    async with app as client:
        payments: Payments = app.app.state.payments
        assert payments.sandbox is not None
        shop = await create_shop(client, database_url)
        buyer = shop.buyers[0]
        order = (await place(client, shop, buyer)).json()
        payment = await start_payment(client, buyer, order["id"])
        payments.sandbox.fail_next_deliveries = 3
        await press(client, payment["pay_url"])
        await wait_for_state(client, buyer, order["id"], "paid")
        sql = "SELECT attempts, state, last_status FROM sandbox_callbacks"
        for _ in range(200):  # the provider records the delivery once our answer is back
            found = await rows(database_url, sql)
            if found[0][1] != "pending":
                break
            await asyncio.sleep(0.02)
        assert found == [(4, "delivered", 200)]


async def test_callbacks_survive_a_restart(database_url: str, tmp_path: Path) -> None:
    slow = _settings(database_url, tmp_path, sandbox_callback_retry_seconds=0.5)
    app = client_for(slow)
    async with app as client:
        shop = await create_shop(client, database_url)
        buyer = shop.buyers[0]
        order = (await place(client, shop, buyer)).json()
        payment = await start_payment(client, buyer, order["id"])
        app.app.state.payments.sandbox.fail_next_deliveries = 1
        await press(client, payment["pay_url"])
        for _ in range(100):
            found = await rows(database_url, "SELECT attempts FROM sandbox_callbacks")
            if found and found[0][0] >= 1:
                break
            await asyncio.sleep(0.01)
    # The server stopped with the callback owed; the next one delivers it.
    assert (await rows(database_url, "SELECT state FROM orders"))[0][0] == "created"
    async with client_for(slow) as client:
        await wait_for_state(client, buyer, order["id"], "paid")


async def test_the_sandbox_can_be_told_to_delay_or_fail(database_url: str, tmp_path: Path) -> None:
    async with client_for(
        _settings(database_url, tmp_path, sandbox_callback_delay_seconds=1.0)
    ) as client:
        shop = await create_shop(client, database_url)
        buyer = shop.buyers[0]
        order = (await place(client, shop, buyer)).json()
        payment = await start_payment(client, buyer, order["id"])
        pressed = time.monotonic()
        await press(client, payment["pay_url"])
        await asyncio.sleep(0.3)
        assert (await order_of(client, buyer, order["id"]))["state"] == "created"
        await wait_for_state(client, buyer, order["id"], "paid")
        assert time.monotonic() - pressed >= 1.0
    async with client_for(_settings(database_url, tmp_path, sandbox_fail_payments=True)) as client:
        order = (await place(client, shop, buyer)).json()
        payment = await start_payment(client, buyer, order["id"])
        r = await press(client, payment["pay_url"], "pay")
        assert "failed" in r.text
        for _ in range(200):
            state = await rows(
                database_url, "SELECT state FROM payments WHERE id = :p", p=payment["id"]
            )
            if state[0][0] == "failed":
                break
            await asyncio.sleep(0.02)
        assert state[0][0] == "failed"
        assert (await order_of(client, buyer, order["id"]))["state"] == "created"


async def test_money_for_a_cancelled_order_goes_back_automatically(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer = shop.buyers[0]
    order = (await place(client, shop, buyer)).json()
    payment = await start_payment(client, buyer, order["id"])
    await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer.headers)
    await press(client, payment["pay_url"])  # the buyer paid on a page left open
    for _ in range(300):
        refunds = await rows(database_url, "SELECT amount, state, automatic FROM refunds")
        if refunds and refunds[0][1] == "succeeded":
            break
        await asyncio.sleep(0.02)
    assert refunds == [(1990, "succeeded", True)]
    assert await rows(database_url, "SELECT refunded, amount FROM sandbox_payments") == [
        (1990, 1990)
    ]
    assert (await order_of(client, buyer, order["id"]))["state"] == "cancelled"
    assert await stock(database_url, shop.sku_id) == (100, 0, 0)


async def _refunded(client: httpx.AsyncClient, shop: Shop, order_id: str) -> dict[str, Any]:
    return await wait_for_state(client, shop.buyers[0], order_id, "refunded")


async def test_a_full_refund_before_shipping_returns_money_and_stock(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer, m = shop.buyers[0], shop.merchant
    order = (await place(client, shop, buyer, 2)).json()
    await pay(client, buyer, order["id"])
    r = await client.post(
        f"/api/v1/orders/{order['id']}/refund-request",
        json={"reason": "不想要了"},
        headers=buyer.headers,
    )
    assert r.json()["state"] == "refund_requested" and r.json()["refund_amount"] == 3980
    problem(
        await client.post(f"/api/v1/orders/{order['id']}/refund", json={}, headers=buyer.headers),
        403,
        "not-your-role",
    )
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", json={}, headers=m.headers)
    assert r.status_code == 201, r.text
    assert (r.json()["amount"], r.json()["state"]) == (3980, "pending")
    done = await _refunded(client, shop, order["id"])
    assert done["refunded_amount"] == 3980 and done["refunded_at"] is not None
    assert await stock(database_url, shop.sku_id) == (100, 0, 0)
    events = await rows(
        database_url,
        "SELECT payload FROM order_outbox WHERE order_id = :o AND type = 'order_refunded'",
        o=order["id"],
    )
    refund_event = event_from_obj(__import__("json").loads(events[0][0]))
    assert (refund_event.amount, refund_event.user) == (3980, buyer.user_id)
    assert await history(client, shop, order["id"]) == [
        ("create", "buyer"),
        ("pay", "provider"),
        ("request_refund", "buyer"),
        ("approve_refund", "merchant"),
        ("confirm_refund", "provider"),
    ]


async def test_a_partial_refund_after_shipping_keeps_the_stock_sold(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer, s = shop.buyers[0], shop.supplier
    order = (await place(client, shop, buyer, 2)).json()
    await pay(client, buyer, order["id"])
    await client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "中通", "tracking_no": "ZT1"},
        headers=s.headers,
    )
    r = await client.post(
        f"/api/v1/orders/{order['id']}/refund-request",
        json={"amount": 500, "reason": "有瑕疵"},
        headers=buyer.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", json={}, headers=s.headers)
    assert r.json()["amount"] == 500
    done = await _refunded(client, shop, order["id"])
    assert (done["refunded_amount"], done["amount"]) == (500, 3980)
    assert await stock(database_url, shop.sku_id) == (98, 0, 2)


async def test_refunds_larger_than_paid_or_twice_are_refused(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer, m = shop.buyers[0], shop.merchant
    order = (await place(client, shop, buyer)).json()
    oid = order["id"]
    before = await table_snapshot(database_url)
    problem(
        await client.post(f"/api/v1/orders/{oid}/refund-request", json={}, headers=buyer.headers),
        409,
        "invalid-order-transition",
    )
    assert await table_snapshot(database_url) == before
    await pay(client, buyer, oid)
    before = await table_snapshot(database_url)
    for amount in (1991, 0, -5):
        r = await client.post(
            f"/api/v1/orders/{oid}/refund-request", json={"amount": amount}, headers=buyer.headers
        )
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
    problem(
        await client.post(f"/api/v1/orders/{oid}/refund", json={"amount": 5000}, headers=m.headers),
        422,
        "invalid-refund-amount",
    )
    assert await table_snapshot(database_url) == before
    await client.post(f"/api/v1/orders/{oid}/refund-request", json={}, headers=buyer.headers)
    approvals = await asyncio.gather(
        *(client.post(f"/api/v1/orders/{oid}/refund", json={}, headers=m.headers) for _ in range(4))
    )
    assert sorted(r.status_code for r in approvals).count(201) == 1, [r.text for r in approvals]
    assert all(r.status_code in (201, 409) for r in approvals)
    await _refunded(client, shop, oid)
    before = await table_snapshot(database_url)
    problem(
        await client.post(f"/api/v1/orders/{oid}/refund-request", json={}, headers=buyer.headers),
        409,
        "invalid-order-transition",
    )
    problem(
        await client.post(f"/api/v1/orders/{oid}/refund", json={}, headers=m.headers),
        409,
        "invalid-order-transition",
    )
    assert await table_snapshot(database_url) == before
    assert await rows(database_url, "SELECT refunded FROM sandbox_payments") == [(1990,)]


async def test_a_rejected_refund_request_returns_the_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer, m = shop.buyers[0], shop.merchant
    order = (await place(client, shop, buyer)).json()
    await pay(client, buyer, order["id"])
    await client.post(
        f"/api/v1/orders/{order['id']}/refund-request", json={}, headers=buyer.headers
    )
    r = await client.post(
        f"/api/v1/orders/{order['id']}/refund-reject",
        json={"reason": "已超过退款期限"},
        headers=m.headers,
    )
    assert r.json()["state"] == "paid" and r.json()["refund_amount"] is None


async def test_the_same_idempotency_key_places_one_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    buyer = shop.buyers[0]
    body = {"item_id": shop.item_id, "sku_id": shop.sku_id, "quantity": 2}
    headers = {**buyer.headers, "Idempotency-Key": "order-20261127-1"}
    first = await client.post("/api/v1/orders", json=body, headers=headers)
    again = await client.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await stock(database_url, shop.sku_id) == (98, 2, 0)
