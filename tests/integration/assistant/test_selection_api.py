"""Selection recommendations (选品) through the API on the real stack: pool products from
the catalog, every merchant's sales from the event store, aggregates only back out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from daihuo.analytics import cross, pairs

from tests.conftest import client_for, make_settings
from tests.fixtures import Account, create_user
from tests.integration.orders.shop import FAST, create_listed_product, create_platform_admin
from tests.integration.pages.test_console_pages import sign_in

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
PATH = "/api/v1/assistant/recommendations"


def ts(seconds: float) -> str:
    at = T0 + timedelta(seconds=seconds)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_events(
    session: str, merchant: str, viewers: int, sold: dict[str, int], at: float
) -> list[dict[str, Any]]:
    """One merchant's live session: ``viewers`` entries and one paid order per product
    (amount in fen), the shape the orders module records (meta.merchant)."""
    out: list[dict[str, Any]] = [
        {"id": f"{session}-s", "ts": ts(at), "session": session, "type": "live_start"}
    ]
    for n in range(viewers):
        out.append({"id": f"{session}-e{n}", "ts": ts(at + 1), "session": session,
                    "type": "enter", "user": f"{session}-u{n}", "source": "feed"})  # fmt: skip
    for n, (product, amount) in enumerate(sorted(sold.items())):
        for kind in ("order_created", "order_paid"):
            out.append({"id": f"{session}-{kind}-{n}", "ts": ts(at + 2), "session": session,
                        "type": kind, "user": f"{session}-u0", "product": product,
                        "order": f"{session}-o{n}", "qty": 1, "amount": amount,
                        "meta": {"merchant": merchant}})  # fmt: skip
    out.append({"id": f"{session}-x", "ts": ts(at + 60), "session": session, "type": "live_end"})
    return out


async def _world(client: httpx.AsyncClient, database_url: str, sink: Any) -> dict[str, Any]:
    platform = await create_platform_admin(client, database_url)
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    products: dict[str, str] = {}
    for name, category, bps in (
        ("a1", "美妆/口红", 1500), ("a2", "美妆/口红", 1500), ("a3", "美妆/口红", 1500),
        ("a4", "美妆/口红", 1500), ("b1", "食品/茶", 2000), ("b2", "食品/茶", 2500),
        ("empty", "美妆/口红", 3000),
    ):  # fmt: skip
        made = await create_listed_product(
            client, supplier, platform, title=f"商品 {name}", category=category,
            commission_bps=bps, stock=0 if name == "empty" else 50,
        )  # fmt: skip
        products[name] = made["id"]
    me = await create_user(client, label="me", tenant_kind="merchant")
    newcomer = await create_user(client, label="newcomer", tenant_kind="merchant")
    events: list[dict[str, Any]] = []
    # Four beauty merchants sell a1..a4 (and the out-of-stock one); four food merchants
    # sell b1, b2 for much more. ``me`` sold a1, a2 only. Ids are made up: the event
    # store does not check them, and no other merchant needs an account here.
    for i in range(4):
        sold = {products[n]: 5_000 + 1_000 * k for k, n in enumerate(("a1", "a2", "a3", "a4"))}
        sold[products["empty"]] = 9_000
        events += session_events(f"live_a{i}", f"other_beauty{i}", 10, sold, 100 * i)
        food = {products["b1"]: 90_000, products["b2"]: 80_000}
        events += session_events(f"live_b{i}", f"other_food{i}", 10, food, 100 * i + 50)
    mine = {products["a1"]: 6_000, products["a2"]: 7_000}
    events += session_events("live_me", str(me.tenant_id), 10, mine, 1000)
    assert sink.record(events) == len(events)
    return {"platform": platform, "supplier": supplier, "me": me, "newcomer": newcomer,
            "products": products}  # fmt: skip


async def test_merchant_gets_unsold_picks_from_merchants_like_it_with_aggregates_only(
    database_url: str, tmp_path: Path
) -> None:
    app = client_for(make_settings(database_url, tmp_path, **FAST))
    async with app as client:
        w = await _world(client, database_url, app.app.state.event_sink)
        p, me = w["products"], w["me"]
        r = await client.get(PATH, params={"limit": 10}, headers=me.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["merchant"] == me.tenant_id and body["cold_start"] is False
        ids = [i["product_id"] for i in body["items"]]
        # Never what it sold, never out of stock; its own audience's products first.
        assert set(ids) == {p["a3"], p["a4"], p["b1"], p["b2"]}
        assert set(ids[:2]) == {p["a3"], p["a4"]}
        top = body["items"][0]
        assert top["reasons"][0]["code"] == "similar_merchants"
        assert "个与你受众相似的商家卖得好；中位 GPM ¥" in top["reasons"][0]["zh"]
        # GPM of a beauty merchant: a3 5,000 + 2,000 fen, a4 + 3,000, over 10 viewers.
        gpm = {p["a3"]: 700_000, p["a4"]: 800_000}[top["product_id"]]
        assert top["figures"]["similar_median_gpm"] == gpm
        assert top["figures"]["merchants_sold"] == 4
        # No other merchant's identity anywhere in the answer.
        assert "other_" not in r.text and "live_" not in r.text
        # A product in its showcase is still a pick (marked), unless left out on request.
        r = await client.post("/api/v1/showcase", json={"product_id": ids[0], "price": 2990},
                              headers=me.headers)  # fmt: skip
        assert r.status_code == 201, r.text
        r = await client.get(PATH, params={"limit": 10}, headers=me.headers)
        marked = {i["product_id"]: i["in_showcase"] for i in r.json()["items"]}
        assert marked[ids[0]] is True and sum(marked.values()) == 1
        r = await client.get(PATH, params={"limit": 10, "exclude_showcase": "true"},
                             headers=me.headers)  # fmt: skip
        assert [i["product_id"] for i in r.json()["items"]] == [i for i in ids if i != ids[0]]


async def test_a_merchant_without_sales_gets_cold_start_picks_in_its_categories(
    database_url: str, tmp_path: Path
) -> None:
    app = client_for(make_settings(database_url, tmp_path, **FAST))
    async with app as client:
        w = await _world(client, database_url, app.app.state.event_sink)
        p, newcomer = w["products"], w["newcomer"]
        r = await client.post("/api/v1/showcase", json={"product_id": p["b1"], "price": 2990},
                              headers=newcomer.headers)  # fmt: skip
        assert r.status_code == 201, r.text
        r = await client.get(PATH, params={"limit": 3}, headers=newcomer.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["cold_start"] is True
        items = body["items"]
        assert all(i["cold_start"] and i["reasons"][0]["code"] == "cold_start" for i in items)
        # Its chosen category (food) first: b1 (GPM 9,000,000 x 20%) vs b2 (8,000,000 x 25%).
        assert [i["product_id"] for i in items[:2]] == [p["b2"], p["b1"]]
        assert items[1]["in_showcase"] is True and items[0]["in_showcase"] is False
        assert "冷启动" in items[0]["reasons"][0]["zh"]


async def test_only_a_merchants_staff_may_ask(database_url: str, tmp_path: Path) -> None:
    app = client_for(make_settings(database_url, tmp_path, **FAST))
    async with app as client:
        supplier: Account = await create_user(client, label="s", tenant_kind="supplier")
        r = await client.get(PATH, headers=supplier.headers)
        assert r.status_code == 403 and r.json()["type"].endswith("wrong-tenant-kind")
        assert (await client.get(PATH)).status_code == 401
        merchant = await create_user(client, label="m", tenant_kind="merchant")
        r = await client.get(PATH, params={"limit": 0}, headers=merchant.headers)
        assert r.status_code == 422
        r = await client.get(PATH, headers=merchant.headers)
        assert r.status_code == 200 and r.json()["items"] == []  # an empty pool


async def test_pair_totals_equal_the_cross_session_report(
    database_url: str, tmp_path: Path
) -> None:
    app = client_for(make_settings(database_url, tmp_path, **FAST))
    async with app:
        sink = app.app.state.event_sink
        events = session_events("live_1", "ten_x", 3, {"pa": 1_000, "pb": 2_500}, 0)
        events += session_events("live_2", "ten_x", 5, {"pa": 4_000}, 500)
        events += [{"id": "r1", "ts": ts(30), "session": "live_1", "type": "order_refunded",
                    "user": "live_1-u0", "order": "live_1-o0", "amount": 300}]  # fmt: skip
        assert sink.record(events) == len(events)
        wh = sink.flushed()
        rows = pairs.merchant_product_sales(wh)
        report = cross.cross_sales(wh, sessions=["live_1", "live_2"])
        assert sum(r.gmv for r in rows) == report.total.gmv == 7_500
        assert sum(r.net_gmv for r in rows) == report.total.net_gmv == 7_200
        assert {(r.session, r.viewer_uv) for r in rows} == {
            (s.session, s.viewer_uv) for s in report.sessions
        }
        by_product = {p: s.net_gmv for p, s in report.products}
        for product in ("pa", "pb"):
            assert sum(r.net_gmv for r in rows if r.product == product) == by_product[product]


async def test_on_a_chdb_event_store_the_api_says_unavailable_and_the_pool_page_still_works(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url, tmp_path, warehouse_url=f"chdb:///{tmp_path / 'store'}", **FAST
    )
    app = client_for(settings)
    async with app as client:
        merchant = await create_user(client, label="m", tenant_kind="merchant")
        r = await client.get(PATH, headers=merchant.headers)
        assert r.status_code == 503 and r.json()["type"].endswith("selection-unavailable")
        assert (await sign_in(client, merchant.email)).status_code == 303
        r = await client.get("/console/pool")
        assert r.status_code == 200 and 'data-testid="recommended"' not in r.text
