"""The review's markers (pinned products, flash sales) and comparison with the merchant's
previous sessions, and the cross-session reports of a merchant and of a supplier, through
the API on the real database (SQLite and PostgreSQL) and the real event store.

One merchant sells two suppliers' products in one session: each supplier sees only its
own product's sales there, and neither the session's title nor its audience."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from daihuo.events.model import format_ts

from tests.conftest import client_for, make_settings
from tests.fixtures import Account, create_user
from tests.integration.orders.shop import FAST, create_shop, pay


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def system(session: str, kind: str, when: datetime) -> dict[str, Any]:
    return {"id": f"{session}-{kind}", "ts": format_ts(ms(when)), "session": session, "type": kind}


def viewer(session: str, user: str, when: datetime) -> dict[str, Any]:
    return {"id": f"{session}-{user}", "ts": format_ts(ms(when)), "session": session,
            "type": "enter", "user": user, "source": "feed"}  # fmt: skip


async def go_live(
    client: httpx.AsyncClient, merchant: Account, title: str, items: list[str]
) -> dict[str, Any]:
    body = {"title": title, "planned_start": datetime.now(UTC).isoformat(), "products": items}
    r = await client.post("/api/v1/live-sessions", json=body, headers=merchant.headers)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/live-sessions/{r.json()['id']}/start", json={}, headers=merchant.headers
    )
    assert r.status_code == 200, r.text
    started: dict[str, Any] = r.json()
    return started


async def buy(
    client: httpx.AsyncClient, buyer: Account, item: str, sku: str, qty: int, session: str
) -> dict[str, Any]:
    body = {"item_id": item, "sku_id": sku, "quantity": qty, "session": session}
    r = await client.post("/api/v1/orders", json=body, headers=buyer.headers)
    assert r.status_code == 201, r.text
    return await pay(client, buyer, r.json()["id"])


async def test_review_markers_comparison_and_cross_session_reports(
    database_url: str, tmp_path: Path
) -> None:
    app = client_for(make_settings(database_url, tmp_path, **FAST))
    async with app as client:
        sink = app.app.state.event_sink
        shop = await create_shop(client, database_url, price=2500, buyers=1)
        other = await create_shop(client, database_url, platform=shop.platform, price=3000)
        m, buyer = shop.merchant, shop.buyers[0]
        # The merchant also sells the other supplier's product.
        r = await client.post("/api/v1/showcase", json={"product_id": other.product_id,
                              "price": 3000}, headers=m.headers)  # fmt: skip
        assert r.status_code == 201, r.text
        item2 = r.json()["id"]

        # --- session A: two pins, a flash sale, two orders, a partial refund ----------------
        a = await go_live(client, m, "秋冬专场", [shop.item_id, item2])
        sid = a["id"]
        started = at(a["started_at"])
        sink.record([system(sid, "live_start", started), viewer(sid, "u1", started),
                     viewer(sid, "u2", started)])  # fmt: skip
        path = f"/api/v1/live-sessions/{sid}"
        r = await client.put(f"{path}/pin", json={"item_id": shop.item_id}, headers=m.headers)
        assert r.status_code == 200, r.text
        sale = {"item_id": shop.item_id, "sku_id": shop.sku_id, "price": 2000, "units": 5,
                "duration_seconds": 60}  # fmt: skip
        r = await client.post(f"{path}/flash-sales", json=sale, headers=m.headers)
        assert r.status_code == 201, r.text
        flash = r.json()
        first = await buy(client, buyer, shop.item_id, shop.sku_id, 2, sid)  # 2 x 2500
        r = await client.put(f"{path}/pin", json={"item_id": item2}, headers=m.headers)
        assert r.status_code == 200, r.text
        await buy(client, buyer, item2, other.sku_id, 1, sid)  # 3000
        # A partial refund of the first order, as the order hub records it.
        sink.record([{"id": "refund-1", "ts": format_ts(ms(datetime.now(UTC))), "session": sid,
                      "type": "order_refunded", "user": buyer.user_id, "order": first["id"],
                      "amount": 1200}])  # fmt: skip
        r = await client.post(f"{path}/end", headers=m.headers)
        assert r.status_code == 200, r.text
        ended = at(r.json()["ended_at"])
        sink.record([system(sid, "live_end", ended)])

        report = f"/api/v1/sessions/{sid}/report"
        r = await client.get(report, headers=m.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (
            body["sessions"][sid]["gmv"] == 8000 and body["sessions"][sid]["refund_amount"] == 1200
        )
        marks = body["markers"]
        assert [(x["kind"], x["id"]) for x in marks] == [
            ("pin", shop.item_id), ("flash_sale", flash["id"]), ("pin", item2),
        ]  # fmt: skip
        pin1, sale1, pin2 = marks
        assert pin1["product"] == shop.product_id and pin2["product"] == other.product_id
        assert pin1["end_ms"] == pin2["start_ms"]  # the second pin ends the first
        assert pin2["end_ms"] == ms(ended)  # the last lasts until the session ends
        assert sale1["start_ms"] == ms(at(flash["starts_at"]))
        assert sale1["end_ms"] <= ms(at(flash["ends_at"]))
        assert pin1["title"] == shop.product["title"]
        for x in marks:  # a short session: one minute on the curves
            assert ms(started) <= x["start_ms"] <= ms(ended)
            assert (x["minute_from"], x["minute_to"]) == (0, 0)
        # No previous session: nothing to compare with.
        comparison = body["comparison"]
        assert comparison["statistic"] == "median" and comparison["previous"] == []
        gmv = next(f for f in comparison["figures"] if f["key"] == "gmv")
        assert gmv == {"key": "gmv", "kind": "money", "value": 8000, "median": None,
                       "difference": None, "relative": None}  # fmt: skip

        rows = list(csv.DictReader(io.StringIO(
            (await client.get(report, params={"format": "csv"}, headers=m.headers)).text
        )))  # fmt: skip
        assert [r["figure"] for r in rows if r["figure"].startswith("marker.")] == [
            "marker.pin", "marker.flash_sale", "marker.pin",
        ]  # fmt: skip
        page = (await client.get(report, params={"format": "html"}, headers=m.headers)).text
        assert page.count("<rect") == 3 * 3 and "秒杀 flash sale" in page
        assert "没有可对比的往期场次" in page

        # --- session B: no sales; compared with A -----------------------------------------
        b = await go_live(client, m, "返场", [shop.item_id])
        sb = b["id"]
        sink.record([system(sb, "live_start", at(b["started_at"])),
                     viewer(sb, "u3", at(b["started_at"]))])  # fmt: skip
        r = await client.post(f"/api/v1/live-sessions/{sb}/end", headers=m.headers)
        sink.record([system(sb, "live_end", at(r.json()["ended_at"]))])
        r = await client.get(f"/api/v1/sessions/{sb}/report", headers=m.headers)
        comparison = r.json()["comparison"]
        assert comparison["previous"] == [sid]
        by_key = {f["key"]: f for f in comparison["figures"]}
        # One previous session: its figures are the medians.
        assert by_key["gmv"] == {"key": "gmv", "kind": "money", "value": 0, "median": 8000,
                                      "difference": -8000, "relative": -1.0}  # fmt: skip
        assert by_key["net_gmv"]["median"] == 6800
        assert by_key["viewer_uv"]["median"] == 2 and by_key["viewer_uv"]["difference"] == -1
        assert r.json()["markers"] == []
        page = (await client.get(f"/api/v1/sessions/{sb}/report", params={"format": "html"},
                                 headers=m.headers)).text  # fmt: skip
        assert "与前 1 场比较" in page and "中位数 median" in page
        r = await client.get(f"/api/v1/sessions/{sb}/report?previous=0", headers=m.headers)
        assert r.json()["comparison"]["previous"] == []

        # --- cross-session: the merchant ------------------------------------------------
        hour = (at(first["created_at"]) + timedelta(hours=8)).hour
        r = await client.get("/api/v1/analytics/merchant", headers=m.headers)
        assert r.status_code == 200, r.text
        cross = r.json()
        assert cross["scope"] == "merchant" and cross["time_zone"] == "Asia/Shanghai"
        assert [(s["session"], s["title"], s["gmv"], s["refund_amount"], s["net_gmv"],
                 s["viewer_uv"]) for s in cross["sessions"]] == [
            (sid, "秋冬专场", 8000, 1200, 6800, 2), (sb, "返场", 0, 0, 0, 1),
        ]  # fmt: skip
        assert cross["totals"] == {"sessions": 2, "order_count": 2, "items_sold": 3,
                                   "gmv": 8000, "refund_amount": 1200, "net_gmv": 6800}  # fmt: skip
        # Ours: 5000 - 1200 = 3800 net; the other supplier's: 3000.
        assert [(p["product"], p["net_gmv"]) for p in cross["best_products"]] == [
            (shop.product_id, 3800), (other.product_id, 3000),
        ]  # fmt: skip
        assert cross["best_products"][0]["title"] == shop.product["title"]
        assert len(cross["hours"]) == 24 and cross["best_hours"][0] == hour
        assert cross["hours"][hour]["gmv"] >= 5000

        # --- cross-session: each supplier sees its own product's sales only ---------------
        r = await client.get("/api/v1/analytics/supplier", headers=shop.supplier.headers)
        assert r.status_code == 200, r.text
        mine = r.json()
        assert [(s["session"], s["gmv"], s["refund_amount"], s["net_gmv"], s["viewer_uv"],
                 s["title"], s["merchant"]) for s in mine["sessions"]] == [
            (sid, 5000, 1200, 3800, None, None, m.tenant_id),
        ]  # fmt: skip
        assert [p["product"] for p in mine["best_products"]] == [shop.product_id]
        r = await client.get("/api/v1/analytics/supplier", headers=other.supplier.headers)
        theirs = r.json()
        assert [(s["session"], s["gmv"], s["net_gmv"]) for s in theirs["sessions"]] == [
            (sid, 3000, 3000),
        ]  # fmt: skip
        assert theirs["totals"]["gmv"] == 3000

        # --- refusals ------------------------------------------------------------------
        # Another merchant sees none of it; a supplier is not a merchant and vice versa.
        r = await client.get("/api/v1/analytics/merchant", headers=other.merchant.headers)
        assert r.status_code == 200 and r.json()["sessions"] == []
        assert (await client.get(report, headers=other.merchant.headers)).status_code == 404
        r = await client.get("/api/v1/analytics/merchant", headers=shop.supplier.headers)
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        r = await client.get("/api/v1/analytics/supplier", headers=m.headers)
        assert r.status_code == 403
        consumer = await create_user(client, label="consumer")
        for route in ("/api/v1/analytics/merchant", "/api/v1/analytics/supplier"):
            assert (await client.get(route, headers=consumer.headers)).status_code == 403
            assert (await client.get(route)).status_code == 401
            assert (
                await client.get(route, params={"days": 0}, headers=m.headers)
            ).status_code == 422
