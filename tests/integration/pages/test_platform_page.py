"""The platform operator's overview (/console/platform) over HTTP on both engines: every
tenant with the count of each kind, the platform's books as the settlement API reads
them, the review queue's size, and the authenticity alerts — the published session
reports under the threshold, with the figures the platform API gives; nobody else sees
it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from daihuo.analytics.service import ALERT_BELOW
from daihuo.pages.i18n import messages

from tests.conftest import client_for, make_settings
from tests.fixtures import create_user
from tests.integration.ledger.support import sql
from tests.integration.orders.shop import (
    FAST,
    create_listed_product,
    create_shop,
    pay,
    place,
    product_body,
)
from tests.integration.pages.test_console_pages import sign_in

ZH = messages("zh")
EN = messages("en")


def shown(html: str, role: str) -> int:
    found = re.search(rf'data-role="{role}" data-value="(-?\d+)"', html)
    assert found, role
    return int(found.group(1))


async def test_the_operator_sees_every_tenant_its_books_and_the_queue(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, buyers=1)
    r = await place(client, shop, shop.buyers[0])
    await pay(client, shop.buyers[0], r.json()["id"])
    await create_listed_product(client, shop.supplier, shop.platform)  # listed: not waiting
    r = await client.post(
        "/api/v1/products", json=product_body(title="待审核的新品"), headers=shop.supplier.headers
    )
    r = await client.post(
        f"/api/v1/products/{r.json()['id']}/submit", headers=shop.supplier.headers
    )
    assert r.status_code == 200, r.text

    await sign_in(client, shop.platform.email)
    r = await client.get("/console/dashboard")
    assert r.status_code == 303 and r.headers["location"] == "/console/platform"
    r = await client.get("/console/platform")
    assert r.status_code == 200 and ZH["platform_title"] in r.text
    api = (await client.get("/api/v1/platform/tenants", headers=shop.platform.headers)).json()
    listed = re.findall(r'<tr data-tenant="([^"]+)">', r.text)
    assert sorted(listed) == sorted(t["id"] for t in api["items"])
    for kind, role in (("merchant", "merchants"), ("supplier", "suppliers")):
        assert shown(r.text, role) == sum(t["kind"] == kind for t in api["items"]) >= 1
    books = (await client.get("/api/v1/settlement/balances", headers=shop.platform.headers)).json()
    assert shown(r.text, "held") == books["held"] > 0  # the platform's fee of the paid order
    assert shown(r.text, "available") == books["available"]
    assert shown(r.text, "waiting") == 1


async def test_nobody_but_the_platform_sees_the_overview(
    client: httpx.AsyncClient, database_url: str
) -> None:
    for kind in ("merchant", "supplier", None):
        client.cookies.clear()
        who = await create_user(client, label="x", tenant_kind=kind)
        await sign_in(client, who.email)
        r = await client.get("/console/platform")
        assert r.status_code == 403, kind
        assert 'href="/console/platform"' not in r.text


T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ts(seconds: float) -> str:
    at = T0 + timedelta(seconds=seconds)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def audience(session: str, viewers: dict[str, str]) -> list[dict[str, Any]]:
    """The room's window opening and each viewer (user → device) seen and entering."""
    out: list[dict[str, Any]] = [
        {"id": f"{session}-start", "ts": ts(0), "session": session, "type": "live_start"}
    ]
    for n, (user, device) in enumerate(viewers.items()):
        for kind, at in (("impression", 5 + n), ("enter", 10 + n)):
            event = {"id": f"{session}-{kind}{n}", "ts": ts(at), "session": session}
            out.append({**event, "type": kind, "user": user, "source": "feed", "device": device})
    return out


def alert_rows(page: str) -> dict[str, dict[str, tuple[str | None, str]]]:
    """Each alert row of the page by session: its cells by data-role, (data-value, text);
    the proof link's address under "proof" as its value."""
    section = re.search(r'<section[^>]*data-testid="alerts".*?</section>', page, re.S)
    assert section, "the alerts section is on the page"
    rows = {}
    for sid, row in re.findall(r'<tr data-session="([^"]+)"[^>]*>(.*?)</tr>', section[0], re.S):
        cells: dict[str, tuple[str | None, str]] = {}
        with_role = r'<(td|ul|a)\b([^>]*\bdata-role="[\w-]+"[^>]*)>(.*?)</\1>'
        for _, attrs, text in re.findall(with_role, row, re.S):
            role = re.search(r'data-role="([\w-]+)"', attrs)
            assert role
            value = re.search(r'(?:data-value|href)="([^"]*)"', attrs)
            cells[role[1]] = (html.unescape(value[1]) if value else None, text)
        rows[sid] = cells
    return rows


def yuan(fen: int) -> str:
    return f"¥{Decimal(fen) / 100:,.2f}"


async def test_the_operator_sees_the_sessions_under_the_threshold_as_the_api_lists_them(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, **FAST, ledger_feed_interval_seconds=3600)
    app = client_for(settings)
    async with app as client:
        sink, publisher = app.app.state.event_sink, app.app.state.report_publisher
        shop = await create_shop(client, database_url, price=2500, buyers=1)
        other = await create_shop(client, database_url, platform=shop.platform)
        await sign_in(client, shop.platform.email)
        r = await client.get("/console/platform")
        assert r.status_code == 200 and 'data-testid="alerts-none"' in r.text
        assert alert_rows(r.text) == {}

        made = {}
        for name, s in (("suspicious", shop), ("clean", other)):
            r = await client.post(
                "/api/v1/live-sessions",
                json={"title": name, "planned_start": ts(0), "products": [s.item_id]},
                headers=s.merchant.headers,
            )
            assert r.status_code == 201, r.text
            made[name] = r.json()["id"]
        suspicious, clean = made["suspicious"], made["clean"]
        # Four viewers on phones of their own (one of them buys), six accounts on one phone
        # (a shared-phone bot audience: more than a household shares) and a ring of three
        # buyers on one phone, each ordering the product seconds after clicking it.
        buyer = shop.buyers[0].user_id
        own = {buyer: "d-buyer", **{f"fan{n}": f"d-fan{n}" for n in range(3)}}
        farm = {f"bot{n}": "d-farm" for n in range(6)}
        ring = {f"ring{n}": "d-ring" for n in range(3)}
        sink.record(audience(suspicious, {**own, **farm, **ring}))
        for n, user in enumerate(ring):
            at, order = 120 + 10 * n, f"o-ring{n}"
            bought = {"session": suspicious, "user": user, "product": shop.product_id,
                      "device": "d-ring", "order": order, "qty": 1, "amount": 2500}  # fmt: skip
            sink.record([
                {"id": f"{order}-click", "ts": ts(at), "session": suspicious,
                 "type": "product_click", "user": user, "product": shop.product_id},
                {**bought, "id": f"{order}-made", "ts": ts(at + 3), "type": "order_created"},
                {**bought, "id": f"{order}-paid", "ts": ts(at + 8), "type": "order_paid"},
            ])  # fmt: skip
        sink.record(audience(clean, {f"viewer{n}": f"d-viewer{n}" for n in range(5)}))
        order = await place(client, shop, shop.buyers[0], qty=2, session=suspicious)
        assert order.status_code == 201, order.text
        await pay(client, shop.buyers[0], order.json()["id"])
        ended = (datetime.now(UTC) - T0).total_seconds() + 1
        for sid in (suspicious, clean):
            sink.record([{"id": f"{sid}-end", "ts": ts(ended), "session": sid,
                          "type": "live_end"}])  # fmt: skip
            await sql(
                database_url, "UPDATE live_sessions SET state = 'ended' WHERE id = :s", {"s": sid}
            )
        assert await publisher.publish() == 2

        listed = await client.get("/api/v1/platform/authenticity", headers=shop.platform.headers)
        assert listed.status_code == 200, listed.text
        api = {row["session"]: row for row in listed.json()}
        assert api[clean]["authenticity_score"] == 1.0
        row = api[suspicious]
        assert row["authenticity_score"] < ALERT_BELOW
        assert row["viewer_uv"] == {"raw": 13, "verified": 4}
        assert row["gmv"] == {"raw": 12_500, "verified": 5000}  # the genuine buyer's order

        r = await client.get("/console/platform")
        assert r.status_code == 200
        shown = alert_rows(r.text)
        assert list(shown) == [suspicious], "only the session under the threshold"
        cells = shown[suspicious]
        tenants = await client.get("/api/v1/platform/tenants", headers=shop.platform.headers)
        [merchant] = [t for t in tenants.json()["items"] if t["id"] == row["merchant"]]
        assert row["merchant"] == shop.merchant.tenant_id
        assert cells["merchant"][1] == html.escape(merchant["name"])
        assert cells["session"][1] == f"suspicious<br><code>{suspicious}</code>"  # its title
        ended_at = datetime.fromisoformat(row["ended_at"]).astimezone(SHANGHAI)
        assert cells["ended"][1] == ended_at.strftime("%Y-%m-%d %H:%M")
        assert float(cells["score"][0] or "nan") == row["authenticity_score"]
        assert cells["score"][1] == f"{row['authenticity_score'] * 100:.1f}"
        for role, figure in (("gmv", "gmv"), ("viewers", "viewer_uv")):
            for which in ("raw", "verified"):
                value, text = cells[f"{role}-{which}"]
                assert int(value or "") == row[figure][which], (role, which)
                expected = yuan(row[figure][which]) if figure == "gmv" else str(row[figure][which])
                assert text == expected, (role, which)
        reasons = re.findall(r'<li data-kind="(\w+)" data-value="([^"]+)">([^<]*)</li>',
                             cells["reasons"][1])  # fmt: skip
        shares = {k: v["share"] for k, v in row["breakdown"].items() if v["share"]}
        assert set(shares) == {"bot_audience", "brushing"}
        assert [(k, float(v)) for k, v, _ in reasons] == sorted(
            shares.items(), key=lambda kv: -kv[1]
        ), "the main reasons, largest share first"
        for kind, _, text in reasons:
            assert text == f"{ZH['kind_' + kind]} {shares[kind]:.2%}"
        assert cells["proof"] == (row["proof"], ZH["proof"])
        proof = await client.get(row["proof"])
        assert proof.status_code == 200 and proof.json()["leaf_hash"]

        r = await client.get("/console/platform?lang=en")
        assert EN["platform_alerts"] in r.text and list(alert_rows(r.text)) == [suspicious]

        # A merchant is refused the page, alerts and all.
        client.cookies.clear()
        await sign_in(client, shop.merchant.email)
        r = await client.get("/console/platform")
        assert r.status_code == 403
        assert 'data-testid="alerts"' not in r.text and suspicious not in r.text
