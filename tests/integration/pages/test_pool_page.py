"""The supply pool page (/console/pool) over HTTP on both engines: the API's search behind
a form, yuan typed into integer fen, cursor paging, and picking into the showcase with the
session's CSRF token — a refused pick shown on the page with nothing changed."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from daihuo.pages.i18n import messages
from daihuo.pages.pool import fen_to_yuan, percent_to_bps, yuan_to_fen

from tests.fixtures import Account, create_member, create_user
from tests.integration.orders.shop import create_listed_product, create_platform_admin
from tests.integration.pages.test_console_pages import hidden, sign_in

ZH, EN = messages("zh"), messages("en")

CATALOG = [
    # title, category, price range (fen), commission (bps), stock
    ("真丝连衣裙 夏季新款", "服饰/女装", (19900, 39900), 2500, 30),
    ("纯棉短袖T恤", "服饰/男装", (3900, 8900), 1000, 200),
    ("保湿口红 正红色", "美妆/口红", (5900, 12900), 3000, 0),
]


@pytest.fixture
async def pool(client: httpx.AsyncClient, database_url: str) -> dict[str, Any]:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    platform = await create_platform_admin(client, database_url)
    ids = {}
    for title, category, (lo, hi), bps, stock in CATALOG:
        made = await create_listed_product(
            client,
            supplier,
            platform,
            title=title,
            category=category,
            price_min=lo,
            price_max=hi,
            commission_bps=bps,
            skus=[{"code": "A", "price": lo, "stock": stock}],
        )
        ids[title] = made["id"]
    return {"supplier": supplier, "merchant": merchant, "platform": platform, "ids": ids}


def shown(html: str) -> list[str]:
    """The product ids listed on the page, in order."""
    return re.findall(r'<li class="card pool-item" data-product="([^"]+)"', html)


async def showcase(client: httpx.AsyncClient, merchant: Account) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/showcase", headers=merchant.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_money_typed_in_yuan_becomes_integer_fen() -> None:
    assert yuan_to_fen("39.9") == 3990
    assert yuan_to_fen(" ¥199 ") == 19900
    assert yuan_to_fen("0.01") == 1
    assert fen_to_yuan(3990) == "39.90" and fen_to_yuan(5) == "0.05"
    assert yuan_to_fen(fen_to_yuan(123456)) == 123456
    for bad in ("", "abc", "-1", "1.005", "1e3x", "nan", "inf", "1" * 20, "100000001"):
        with pytest.raises(ValueError):
            yuan_to_fen(bad)
    assert percent_to_bps("12.5") == 1250 and percent_to_bps("90%") == 9000
    for bad in ("90.01", "-1", "0.001", "x"):
        with pytest.raises(ValueError):
            percent_to_bps(bad)


async def test_the_pool_page_searches_filters_and_sorts(
    client: httpx.AsyncClient, pool: dict[str, Any]
) -> None:
    ids = pool["ids"]
    r = await client.get("/console/pool")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert (await sign_in(client, pool["merchant"].email)).status_code == 303

    r = await client.get("/console/pool")
    assert r.status_code == 200 and ZH["pool_title"] in r.text
    assert set(shown(r.text)) == set(ids.values())
    assert 'href="/console/pool" aria-current="page"' in r.text

    r = await client.get("/console/pool", params={"q": "连衣裙"})
    assert shown(r.text) == [ids["真丝连衣裙 夏季新款"]]
    # yuan on the form; a product matches when its range meets the filter's
    r = await client.get("/console/pool", params={"price_min": "129.01", "price_max": "199"})
    assert shown(r.text) == [ids["真丝连衣裙 夏季新款"]]
    r = await client.get("/console/pool", params={"price_min": "89.01", "price_max": "129"})
    assert shown(r.text) == [ids["保湿口红 正红色"]]
    r = await client.get("/console/pool", params={"commission_min": "25", "sort": "commission"})
    assert shown(r.text) == [ids["保湿口红 正红色"], ids["真丝连衣裙 夏季新款"]]
    r = await client.get("/console/pool", params={"stock_min": "1", "sort": "price"})
    assert shown(r.text) == [ids["纯棉短袖T恤"], ids["真丝连衣裙 夏季新款"]]
    r = await client.get("/console/pool", params={"q": "火锅底料"})
    assert shown(r.text) == [] and ZH["pool_empty"] in r.text
    r = await client.get("/console/pool", params={"lang": "en"})
    assert EN["pool_title"] in r.text and EN["pool_pick"] in r.text


async def test_bad_filters_are_named_and_nothing_is_searched(
    client: httpx.AsyncClient, pool: dict[str, Any]
) -> None:
    await sign_in(client, pool["merchant"].email)
    for params, field, key in [
        ({"price_min": "1.005"}, "price_min", "pool_err_amount"),
        ({"price_max": "abc"}, "price_max", "pool_err_amount"),
        ({"price_min": "20", "price_max": "10"}, "price_max", "pool_err_range"),
        ({"commission_min": "95"}, "commission_min", "pool_err_percent"),
        ({"stock_min": "-3"}, "stock_min", "pool_err_whole"),
        ({"sort": "random"}, "sort", None),
        ({"q": "字" * 101}, "q", "err_too_long"),
    ]:
        r = await client.get("/console/pool", params=params)
        assert r.status_code == 422, params
        assert shown(r.text) == []
        if key is not None:
            assert f'data-testid="error-{field}">{ZH[key]}<' in r.text, params
    r = await client.get("/console/pool", params={"cursor": "not-a-cursor"})
    assert r.status_code == 422 and ZH["pool_err_cursor"] in r.text


async def test_pages_follow_the_cursor_with_the_filters_kept(
    client: httpx.AsyncClient, pool: dict[str, Any]
) -> None:
    # 30 more T-shirts: the page holds 24, so the filtered list takes two pages
    for i in range(30):
        await create_listed_product(
            client, pool["supplier"], pool["platform"], title=f"印花T恤 {i}", category="服饰/男装"
        )
    await sign_in(client, pool["merchant"].email)
    r = await client.get("/console/pool", params={"q": "T恤", "sort": "newest"})
    first = shown(r.text)
    assert len(first) == 24
    found = re.search(r'href="(/console/pool\?[^"]+)" rel="next"', r.text)
    assert found
    link = found.group(1).replace("&amp;", "&")
    assert "q=T%E6%81%A4" in link and "cursor=" in link
    r = await client.get(link)
    second = shown(r.text)
    assert len(second) == 7 and not set(first) & set(second)  # 30 + the cotton one
    assert 'rel="next"' not in r.text


async def test_a_merchant_picks_at_its_price_and_refusals_change_nothing(
    client: httpx.AsyncClient, pool: dict[str, Any]
) -> None:
    merchant, ids = pool["merchant"], pool["ids"]
    dress = ids["真丝连衣裙 夏季新款"]
    await sign_in(client, merchant.email)
    page = await client.get("/console/pool", params={"q": "连衣裙"})
    csrf = hidden(page.text, "csrf")
    back = "/console/pool?q=%E8%BF%9E%E8%A1%A3%E8%A3%99"

    # without the session's token: refused, nothing picked
    r = await client.post(f"/console/pool/{dress}/pick", data={"price": "299", "back": back})
    assert r.status_code == 403 and await showcase(client, merchant) == []
    # a price outside the supplier's range (199–399 yuan), and a fraction of a fen
    for price, key in (("99", "pool_err_price_range"), ("299.999", "pool_err_amount")):
        r = await client.post(
            f"/console/pool/{dress}/pick", data={"csrf": csrf, "price": price, "back": back}
        )
        assert r.status_code == 422 and ZH[key] in r.text
        assert shown(r.text) == [dress]  # the same search is shown again
        assert f'value="{price}" aria-invalid="true"' in r.text
    assert await showcase(client, merchant) == []

    r = await client.post(
        f"/console/pool/{dress}/pick", data={"csrf": csrf, "price": "299.5", "back": back}
    )
    assert r.status_code == 303 and r.headers["location"] == f"{back}&picked={dress}"
    [item] = await showcase(client, merchant)
    assert item["product_id"] == dress and item["price"] == 29950
    r = await client.get(r.headers["location"])
    assert ZH["pool_picked"] in r.text and ZH["pool_in_showcase"] in r.text

    # twice: refused, the first price stays
    r = await client.post(f"/console/pool/{dress}/pick", data={"csrf": csrf, "price": "300"})
    assert r.status_code == 409 and ZH["pool_err_already"] in r.text
    [item] = await showcase(client, merchant)
    assert item["price"] == 29950
    # an unknown product, and a redirect target outside the pool page
    r = await client.post(
        "/console/pool/prd_missing/pick",
        data={"csrf": csrf, "price": "10", "back": "https://evil.example/"},
    )
    assert r.status_code == 422 and ZH["pool_err_gone"] in r.text


async def test_who_may_see_and_who_may_pick(
    client: httpx.AsyncClient, pool: dict[str, Any]
) -> None:
    merchant, dress = pool["merchant"], pool["ids"]["真丝连衣裙 夏季新款"]
    viewer, _ = await create_member(client, merchant, role="viewer")
    await sign_in(client, viewer.email)
    r = await client.get("/console/pool")
    assert r.status_code == 200 and shown(r.text) and ZH["pool_pick"] not in r.text
    csrf = hidden(r.text, "csrf")
    r = await client.post(f"/console/pool/{dress}/pick", data={"csrf": csrf, "price": "299"})
    assert r.status_code == 403 and ZH["pool_pick_denied"] in r.text
    assert await showcase(client, merchant) == []

    # a supplier browses the pool (its own nav) but has no showcase to pick into
    client.cookies.clear()
    await sign_in(client, pool["supplier"].email)
    r = await client.get("/console/pool")
    assert r.status_code == 200 and len(shown(r.text)) == 3
    assert ZH["pool_pick"] not in r.text and 'href="/console/products"' in r.text

    # a user without a tenant
    client.cookies.clear()
    loner = await create_user(client, label="loner")
    await sign_in(client, loner.email)
    r = await client.get("/console/pool")
    assert r.status_code == 403
