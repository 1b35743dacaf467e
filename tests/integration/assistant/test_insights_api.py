"""Review insights through the API: a stored session's findings, ranked by money at
stake, in either language, for the merchant's staff only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import client_for, make_settings
from tests.fixtures import create_user
from tests.integration.orders.shop import FAST, create_shop

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
MIN = 60


def ts(seconds: float) -> str:
    return (
        (T0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def session_log(session: str, product: str) -> list[dict[str, Any]]:
    """A 10-minute session: 20 viewers enter at once, 8 leave in minute 4; two products
    sold ¥50 each, the first refunded ¥40 and the other ¥5."""
    n = iter(range(10_000))

    def e(seconds: float, kind: str, **keys: Any) -> dict[str, Any]:
        return {"id": f"{session}-{next(n)}", "ts": ts(seconds), "session": session,
                "type": kind, **keys}  # fmt: skip

    out = [e(0, "live_start"), e(10 * MIN, "live_end")]
    out += [e(5, "enter", user=f"u{i}", source="feed") for i in range(20)]
    out += [e(4 * MIN + 10 + i, "leave", user=f"u{i}") for i in range(8)]
    for order, user, item in (("o1", "u18", product), ("o2", "u19", "other_product")):
        out.append(e(90, "order_created", user=user, order=order, product=item, qty=1,
                     amount=5000))  # fmt: skip
        out.append(e(91, "order_paid", user=user, order=order, product=item, qty=1,
                     amount=5000))  # fmt: skip
    out.append(e(300, "order_refunded", user="u18", order="o1", amount=4000))
    out.append(e(300, "order_refunded", user="u19", order="o2", amount=500))
    return out


async def test_a_sessions_insights_are_ranked_and_spoken_in_either_language(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, **FAST)
    app = client_for(settings)
    async with app as client:
        sink = app.app.state.event_sink
        shop = await create_shop(client, database_url, price=5000)
        m = shop.merchant
        r = await client.post(
            "/api/v1/live-sessions",
            json={"title": "晚间专场", "planned_start": ts(0), "products": [shop.item_id]},
            headers=m.headers,
        )
        live = r.json()["id"]
        path = f"/api/v1/sessions/{live}/insights"
        r = await client.get(path, headers=m.headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"session": live, "lang": "zh", "insights": []}

        log = session_log(live, shop.product_id)
        assert sink.record(log) == len(log)
        r = await client.get(path, params={"verified": "false"}, headers=m.headers)
        assert r.status_code == 200, r.text
        found = r.json()["insights"]
        assert [i["kind"] for i in found] == ["refund_concentration", "viewer_drop"]
        refund, drop = found
        assert refund["product"] == shop.product_id and refund["money_fen"] == 4000
        assert refund["element_id"] == f"product-{shop.product_id}"
        assert shop.product["title"] in refund["title"]
        # ¥100 sold to 20 viewers: ¥5 a viewer, 8 of them left in minute 4
        assert (drop["minute"], drop["figures"]["viewers_left"]) == (4, 8)
        assert drop["money_fen"] == 8 * 10_000 // 20
        assert "退款" in refund["text"]

        r = await client.get(path, params={"lang": "en"}, headers=m.headers)
        assert r.status_code == 200, r.text
        english = r.json()["insights"]
        # the scan ran (verified=true): nothing fake here, so the same two findings
        assert [i["kind"] for i in english] == ["refund_concentration", "viewer_drop"]
        assert english[0]["text"].startswith(shop.product["title"])
        assert "退款" not in english[0]["text"]
        r = await client.get(path, params={"lang": "fr"}, headers=m.headers)
        assert r.status_code == 422


async def test_only_the_merchants_staff_read_its_insights(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    other = await create_shop(client, database_url, platform=shop.platform)
    r = await client.post(
        "/api/v1/live-sessions",
        json={"title": "专场", "planned_start": ts(0), "products": []},
        headers=shop.merchant.headers,
    )
    path = f"/api/v1/sessions/{r.json()['id']}/insights"
    r = await client.get(path, headers=other.merchant.headers)
    assert r.status_code == 404 and r.json()["type"] == "urn:daihuo:problem:live-session-not-found"
    consumer = await create_user(client, label="consumer")
    assert (await client.get(path, headers=consumer.headers)).status_code == 403
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=shop.merchant.headers)).status_code == 200
