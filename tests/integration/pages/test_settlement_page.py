"""The settlement page (/console/settlement) over HTTP on both engines: balances and the
statement of a period in China time, the same figures as the settlement API, its CSV
link working with the browser session; bad periods refused with a reason; only owners
and admins see it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from daihuo.pages.i18n import messages
from daihuo.pages.settlement import parse_period

from tests.fixtures import create_member
from tests.integration.orders.shop import create_shop, pay, place
from tests.integration.pages.test_console_pages import sign_in

ZH = messages("zh")
CHINA = timezone(timedelta(hours=8))


@pytest.fixture
async def paid(client: httpx.AsyncClient, database_url: str) -> dict[str, Any]:
    shop = await create_shop(client, database_url, buyers=1)
    r = await place(client, shop, shop.buyers[0], qty=2)
    assert r.status_code == 201, r.text
    order = await pay(client, shop.buyers[0], r.json()["id"])
    return {"shop": shop, "order": order}


def shown(html: str, role: str) -> int:
    found = re.search(rf'data-role="{role}" data-value="(-?\d+)"', html)
    assert found, role
    return int(found.group(1))


def test_the_period_is_two_china_dates_both_inclusive() -> None:
    today = datetime(2026, 11, 27, tzinfo=UTC).date()
    first, last, typed, errors = parse_period({}, today)
    assert (first.isoformat(), last.isoformat(), errors) == ("2026-11-01", "2026-11-27", {})
    for params, field, key in (
        ({"from": "2026-13-01"}, "from", "settle_err_date"),
        ({"to": "yesterday"}, "to", "settle_err_date"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to", "settle_err_order"),
        ({"from": "2026-1-1"}, "from", "settle_err_date"),
    ):
        _, _, typed, errors = parse_period(params, today)
        assert errors == {field: key}, params
        assert typed[field] == params[field]


async def test_the_supplier_reads_its_balances_and_statement(
    client: httpx.AsyncClient, paid: dict[str, Any]
) -> None:
    shop, order = paid["shop"], paid["order"]
    r = await client.get("/console/settlement")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    await sign_in(client, shop.supplier.email)
    r = await client.get("/console/settlement")
    assert r.status_code == 200 and ZH["settle_title"] in r.text
    assert 'href="/console/settlement" aria-current="page"' in r.text

    api = (await client.get("/api/v1/settlement/balances", headers=shop.supplier.headers)).json()
    assert shown(r.text, "held") == api["held"] > 0  # paid, not delivered: held
    assert shown(r.text, "available") == api["available"] == 0

    today = datetime.now(UTC).astimezone(CHINA).date()
    start = datetime.combine(today.replace(day=1), datetime.min.time(), CHINA)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), CHINA)
    statement = (
        await client.get(
            "/api/v1/settlement/statement",
            params={"from": start.isoformat(), "to": end.isoformat()},
            headers=shop.supplier.headers,
        )
    ).json()
    held = next(a for a in statement["accounts"] if a["account"] == "payable_held")
    [line] = held["lines"]
    assert line["order_id"] == order["id"] and line["event"] == "paid"
    section = r.text.split('data-account="payable_held"')[1].split("</section>")[0]
    assert f'data-order="{order["id"]}" data-event="paid"' in section
    assert f'data-value="{line["amount"]}"' in section
    assert shown(section, "closing") == held["closing"] == api["held"]

    link = re.search(r'href="([^"]+)" data-testid="csv"', r.text)
    assert link is not None
    csv = await client.get(link.group(1).replace("&amp;", "&"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert order["id"] in csv.text

    # a period before the order: opening and closing zero, no lines
    r = await client.get("/console/settlement", params={"from": "2020-01-01", "to": "2020-01-31"})
    assert r.status_code == 200 and ZH["settle_no_lines"] in r.text and order["id"] not in r.text
    for params, key in (
        ({"from": "2026-02-30"}, "settle_err_date"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "settle_err_order"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "settle_err_period"),
    ):
        r = await client.get("/console/settlement", params=params)
        assert r.status_code == 422 and ZH[key] in r.text, params


async def test_the_merchant_sees_its_commission_and_viewers_see_nothing(
    client: httpx.AsyncClient, paid: dict[str, Any]
) -> None:
    shop = paid["shop"]
    await sign_in(client, shop.merchant.email)
    r = await client.get("/console/settlement")
    assert r.status_code == 200
    assert 'data-account="commission_held"' in r.text and "payable_held" not in r.text
    api = (await client.get("/api/v1/settlement/balances", headers=shop.merchant.headers)).json()
    assert shown(r.text, "held") == api["held"] > 0

    client.cookies.clear()
    viewer, _ = await create_member(client, shop.supplier, role="viewer")
    await sign_in(client, viewer.email)
    r = await client.get("/console/settlement")
    assert r.status_code == 403 and ZH["settle_denied"] in r.text
    r = await client.get("/console/orders")
    assert 'href="/console/settlement"' not in r.text
