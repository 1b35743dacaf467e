"""Spending a live-room coupon at checkout, through the HTTP API on both engines.

The shop (docs/settlement.md, "Coupons"): a coupon is the merchant's, paid out of its
commission on the order, so the supplier and the platform get what they would have got
without it; a coupon worth more than that commission does not apply. The amounts below
are worked out by hand from the shop's price (3,000 fen), its commission (20 %: 600 fen
a unit) and the platform's fee (3 %: 90 fen a unit).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from daihuo.core.clock import utcnow
from daihuo.core.db import Database, commit

from tests.conftest import client_for, make_settings
from tests.fixtures import Account, create_user
from tests.integration.live.rooms import live_session
from tests.integration.orders.shop import (
    FAST,
    Shop,
    create_shop,
    pay,
    place,
    rows,
    stock,
    table_snapshot,
    wait_for_state,
)
from tests.integration.orders.test_settlement_flow import all_books, journal

PRICE, COMMISSION_BPS, FEE_BPS = 3000, 2000, 300


def settings_for(database_url: str, tmp_path: Path, **extra: Any) -> Any:
    return make_settings(database_url, tmp_path, **FAST, platform_fee_bps=FEE_BPS, **extra)


async def live(client: httpx.AsyncClient, merchant: Account) -> str:
    """The id of a live session of ``merchant``'s."""
    return (await live_session(client, merchant))[1]


async def refund(
    client: httpx.AsyncClient, shop: Shop, buyer: Account, order_id: str, **body: Any
) -> dict[str, Any]:
    """The buyer asks for a refund (all of it unless ``amount``), the supplier approves."""
    r = await client.post(
        f"/api/v1/orders/{order_id}/refund-request", json=body, headers=buyer.headers
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/orders/{order_id}/refund", json={}, headers=shop.supplier.headers
    )
    assert r.status_code == 201, r.text
    return await wait_for_state(client, buyer, order_id, "refunded")


async def claimed(
    client: httpx.AsyncClient, shop: Shop, sid: str, buyer: Account, **coupon: int
) -> str:
    """A coupon the shop's host drops and ``buyer`` claims; its id."""
    body = {"amount": 500, "threshold": 2000, "quantity": 10} | coupon
    r = await client.post(
        f"/api/v1/live-sessions/{sid}/coupons", json=body, headers=shop.merchant.headers
    )
    assert r.status_code == 201, r.text
    coupon_id = str(r.json()["id"])
    r = await client.post(f"/api/v1/coupons/{coupon_id}/claim", headers=buyer.headers)
    assert r.status_code == 201, r.text
    return coupon_id


async def my_coupon(client: httpx.AsyncClient, buyer: Account, coupon_id: str) -> dict[str, Any]:
    r = await client.get("/api/v1/me/coupons", headers=buyer.headers)
    assert r.status_code == 200, r.text
    (found,) = [c for c in r.json()["items"] if c["coupon_id"] == coupon_id]
    return dict(found)


async def test_a_coupon_comes_off_the_price_and_out_of_the_merchants_commission(
    database_url: str, tmp_path: Path
) -> None:
    async with client_for(settings_for(database_url, tmp_path)) as client:
        shop = await create_shop(client, database_url, price=PRICE, commission_bps=COMMISSION_BPS)
        buyer = shop.buyers[0]
        sid = await live(client, shop.merchant)
        coupon = await claimed(client, shop, sid, buyer)

        r = await place(client, shop, buyer, 1, coupon_id=coupon, session=sid)
        assert r.status_code == 201, r.text
        order = r.json()
        assert (order["amount"], order["discount"], order["coupon_id"]) == (2500, 500, coupon)
        spent = await my_coupon(client, buyer, coupon)
        assert spent["order_id"] == order["id"] and spent["used_at"] is not None

        # The sandbox charges what the order says, not the gross.
        paid = await pay(client, buyer, order["id"])
        assert paid["amount"] == 2500
        (charged,) = await rows(
            database_url, "SELECT amount FROM payments WHERE order_id = :o", o=order["id"]
        )
        assert charged == (2500,)
        # 3,000 gross: commission 600, fee 90, supplier 2,310; the coupon's 500 comes off
        # the commission alone, and the three shares add up to the 2,500 paid.
        assert await all_books(client, shop) == {
            "supplier": {"held": 2310, "available": 0},
            "merchant": {"held": 100, "available": 0},
            "platform": {"held": 90, "available": 0},
        }
        # The order's events carry the coupon for the other readers (events.md: meta).
        payloads = await rows(
            database_url,
            "SELECT type, payload FROM order_outbox WHERE order_id = :o ORDER BY seq",
            o=order["id"],
        )
        assert [t for t, _ in payloads] == ["order_created", "order_paid"]
        for _, payload in payloads:
            assert '"amount": 2500' in payload or '"amount":2500' in payload
            assert coupon in payload

        # A full refund gives everyone back exactly what the order gave them; the coupon
        # stays spent (a refund returns money, not coupons).
        refunded = await refund(client, shop, buyer, order["id"])
        assert refunded["refunded_amount"] == 2500
        assert await all_books(client, shop) == {
            p: {"held": 0, "available": 0} for p in ("supplier", "merchant", "platform")
        }
        assert (await my_coupon(client, buyer, coupon))["order_id"] == order["id"]
        problem = (await place(client, shop, buyer, 1, coupon_id=coupon)).json()
        assert problem["type"].endswith("coupon-used")

    report = await journal(database_url)
    assert report.ok, report.problems
    assert report.total == 0


async def test_a_partial_refund_of_a_discounted_order_claws_back_pro_rata(
    database_url: str, tmp_path: Path
) -> None:
    async with client_for(settings_for(database_url, tmp_path)) as client:
        shop = await create_shop(client, database_url, price=PRICE, commission_bps=COMMISSION_BPS)
        buyer = shop.buyers[0]
        sid = await live(client, shop.merchant)
        coupon = await claimed(client, shop, sid, buyer, amount=1000, threshold=5000)
        order = (await place(client, shop, buyer, 2, coupon_id=coupon)).json()
        assert (order["amount"], order["discount"]) == (5000, 1000)
        await pay(client, buyer, order["id"])
        # 6,000 gross: commission 1,200 − 1,000 = 200; fee 180; supplier 4,620.
        shares = {"supplier": 4620, "merchant": 200, "platform": 180}
        assert {p: b["held"] for p, b in (await all_books(client, shop)).items()} == shares
        # The buyer sends one of the two back: half of what was paid.
        await refund(client, shop, buyer, order["id"], amount=2500)
        # Half of each share: the supplier loses half of its price, the merchant half of
        # its commission net of the coupon, the platform half of its fee.
        assert {p: b["held"] for p, b in (await all_books(client, shop)).items()} == {
            p: v // 2 for p, v in shares.items()
        }
    report = await journal(database_url)
    assert report.ok, report.problems


async def test_coupons_that_do_not_apply_are_refused_and_change_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with client_for(settings_for(database_url, tmp_path)) as client:
        shop = await create_shop(
            client, database_url, price=PRICE, commission_bps=COMMISSION_BPS, buyers=2
        )
        buyer, other_buyer = shop.buyers
        sid = await live(client, shop.merchant)
        ok = await claimed(client, shop, sid, buyer)
        high_bar = await claimed(client, shop, sid, buyer, amount=500, threshold=5000)
        too_big = await claimed(client, shop, sid, buyer, amount=700, threshold=0)
        someone_elses = await claimed(client, shop, sid, other_buyer)
        elsewhere = await create_shop(
            client, database_url, price=PRICE, commission_bps=COMMISSION_BPS, platform=shop.platform
        )
        other_sid = await live(client, elsewhere.merchant)
        other_shops = await claimed(client, elsewhere, other_sid, buyer)
        stale = await claimed(client, shop, sid, buyer)
        db = Database(database_url)
        try:
            async with db.session(all_tenants=True) as session:
                await session.execute(
                    text("UPDATE live_coupons SET expires_at = :t WHERE id = :c"),
                    {"t": utcnow() - timedelta(seconds=1), "c": stale},
                )
                await commit(session)
        finally:
            await db.dispose()

        async def claims() -> list[tuple[Any, ...]]:
            return await rows(
                database_url,
                "SELECT id, order_id, used_at FROM live_coupon_claims ORDER BY id",
            )

        before, claims_before = await table_snapshot(database_url), await claims()
        cases = [
            (someone_elses, 1, 404, "coupon-not-found"),  # claimed by another buyer
            ("cpn_nosuchcoupon", 1, 404, "coupon-not-found"),
            (other_shops, 1, 409, "coupon-not-applicable"),
            (high_bar, 1, 409, "coupon-not-applicable"),  # 3,000 < 5,000
            (too_big, 1, 409, "coupon-not-applicable"),  # 700 > the 600 commission
            (stale, 1, 409, "coupon-expired"),
        ]
        for coupon, qty, status, slug in cases:
            r = await place(client, shop, buyer, qty, coupon_id=coupon)
            assert r.status_code == status, (coupon, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith(slug), r.text
        for bad in ("", "x" * 200, 5, None):
            r = await place(client, shop, buyer, 1, coupon_id=bad)
            assert r.status_code == (201 if bad is None else 422), (bad, r.text)
            if bad is None:  # no coupon is an ordinary order: cancel it again
                oid = r.json()["id"]
                r = await client.post(f"/api/v1/orders/{oid}/cancel", headers=buyer.headers)
                assert r.status_code == 200, r.text
        after = await table_snapshot(database_url)
        for name in ("skus", "purchase_counts", "payments"):
            assert after[name] == before[name], name
        assert await claims() == claims_before
        assert await stock(database_url, shop.sku_id) == (100, 0, 0)

        # The same coupon applies once the order is large enough: two units, 1,200 fen
        # of commission, cover the 700 coupon.
        r = await place(client, shop, buyer, 2, coupon_id=too_big)
        assert r.status_code == 201, r.text
        assert (r.json()["amount"], r.json()["discount"]) == (5300, 700)
        # And the good one still works.
        assert (await place(client, shop, buyer, 1, coupon_id=ok)).status_code == 201


async def test_an_unpaid_order_gives_its_coupon_back_and_a_coupon_is_spent_once(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        database_url, tmp_path, order_reservation_seconds=1, order_sweep_interval_seconds=0.1
    )
    async with client_for(settings) as client:
        shop = await create_shop(client, database_url, price=PRICE, commission_bps=COMMISSION_BPS)
        buyer = shop.buyers[0]
        sid = await live(client, shop.merchant)
        coupon = await claimed(client, shop, sid, buyer)

        # Cancelled by the buyer: the coupon comes back.
        first = (await place(client, shop, buyer, 1, coupon_id=coupon)).json()
        r = await client.post(f"/api/v1/orders/{first['id']}/cancel", headers=buyer.headers)
        assert r.status_code == 200, r.text
        assert (await my_coupon(client, buyer, coupon))["order_id"] is None

        # Expired by the sweeper: it comes back again.
        second = (await place(client, shop, buyer, 1, coupon_id=coupon)).json()
        assert (await my_coupon(client, buyer, coupon))["order_id"] == second["id"]
        await wait_for_state(client, buyer, second["id"], "cancelled", seconds=15)
        assert (await my_coupon(client, buyer, coupon))["order_id"] is None

        # Twenty orders race for it: exactly one gets the discount, the others are
        # refused with nothing reserved.
        results = await asyncio.gather(
            *(place(client, shop, buyer, 1, coupon_id=coupon) for _ in range(20))
        )
        won = [r for r in results if r.status_code == 201]
        assert len(won) == 1, [r.text for r in results if r.status_code != 409]
        assert all(r.json()["type"].endswith("coupon-used") for r in results if r not in won)
        assert (await my_coupon(client, buyer, coupon))["order_id"] == won[0].json()["id"]
        assert await stock(database_url, shop.sku_id) == (99, 1, 0)


async def test_a_stranger_cannot_spend_nor_see_a_buyers_coupon(
    database_url: str, tmp_path: Path
) -> None:
    async with client_for(settings_for(database_url, tmp_path)) as client:
        shop = await create_shop(client, database_url, price=PRICE, commission_bps=COMMISSION_BPS)
        sid = await live(client, shop.merchant)
        coupon = await claimed(client, shop, sid, shop.buyers[0])
        stranger = await create_user(client, label="stranger")
        r = await place(client, shop, stranger, 1, coupon_id=coupon)
        assert r.status_code == 404, r.text
        r = await client.get("/api/v1/me/coupons", headers=stranger.headers)
        assert r.json()["items"] == []
