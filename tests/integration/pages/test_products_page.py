"""The supplier's product pages and the platform's review queue over HTTP on both engines:
a product typed into the form (yuan, per cent, options as text) is saved exactly as the
catalogue API reads it; a refused form saves nothing and keeps what was typed; review
sends it back with a reason the supplier sees, or lists it in the pool."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from daihuo.pages.i18n import messages
from daihuo.pages.products import parse_pairs, parse_product_form

from tests.fixtures import Account, create_member, create_user
from tests.integration.orders.shop import create_platform_admin
from tests.integration.pages.test_console_pages import hidden, sign_in

ZH = messages("zh")

FORM = {
    "title": "真丝睡衣 两件套",
    "category": "服饰/家居服",
    "description": "桑蚕丝，亲肤透气。",
    "attributes": "产地：苏州\n面料: 桑蚕丝",
    "price_min": "199",
    "price_max": "399.5",
    "commission": "20",
    "limit": "",
    "facts_material": "100% 桑蚕丝",
    "facts_shipping_promise": "付款后 48 小时内发货",
    "facts_faq": "能机洗吗 | 建议手洗，30 度以下\n会起球吗 | 不会",
    "facts_size_chart": "M | 155-165 | 45-55 | 胸围 96\nL | 165-175 |  |",
    "sku0_code": "PINK-M",
    "sku0_spec": "颜色=粉色，尺码=M",
    "sku0_price": "299",
    "sku0_stock": "30",
    "sku2_code": "PINK-L",  # a gap: row 2 (row 1 left blank)
    "sku2_spec": "颜色=粉色, 尺码=L",
    "sku2_price": "309.9",
    "sku2_stock": "12",
}


def test_the_form_becomes_the_catalogues_product_in_fen_and_basis_points() -> None:
    data, _, errors = parse_product_form(FORM)
    assert errors == {} and data is not None
    assert (data.price_min, data.price_max, data.commission_bps) == (19900, 39950, 2000)
    assert data.attributes == {"产地": "苏州", "面料": "桑蚕丝"}
    assert [(s.code, s.spec, s.price, s.stock) for s in data.skus] == [
        ("PINK-M", {"颜色": "粉色", "尺码": "M"}, 29900, 30),
        ("PINK-L", {"颜色": "粉色", "尺码": "L"}, 30990, 12),
    ]
    assert data.max_per_user is None
    assert (data.facts.material, data.facts.shipping_promise) == (
        "100% 桑蚕丝",
        "付款后 48 小时内发货",
    )
    assert [(f.q, f.a) for f in data.facts.faq] == [
        ("能机洗吗", "建议手洗，30 度以下"),
        ("会起球吗", "不会"),
    ]
    assert [(r.size, r.height_cm, r.weight_kg, r.note) for r in data.facts.size_chart] == [
        ("M", (155, 165), (45, 55), "胸围 96"),
        ("L", (165, 175), None, ""),
    ]
    assert parse_pairs("颜色=红；尺码：M", lines=False) == {"颜色": "红", "尺码": "M"}
    for bad in ("颜色", "=红", "颜色=红, 颜色=蓝"):
        with pytest.raises(ValueError):
            parse_pairs(bad, lines=False)


@pytest.mark.parametrize(
    ("change", "field", "key"),
    [
        ({"price_min": "19.999"}, "price_min", "pool_err_amount"),
        ({"commission": "95"}, "commission", "pool_err_percent"),
        ({"limit": "0"}, "limit", "prod_err_limit"),
        ({"attributes": "产地"}, "attributes", "prod_err_pairs"),
        ({"sku0_spec": "颜色"}, "sku0_spec", "prod_err_pairs"),
        ({"sku2_stock": "-1"}, "sku2_stock", "pool_err_whole"),
        ({"sku2_code": "粉色 L"}, "sku2_code", "prod_err_field"),
        ({"sku2_code": "PINK-M"}, "sku0_code", "prod_err_sku_codes"),
        ({"title": ""}, "title", "prod_err_field"),
        ({"category": "服饰//家居"}, "category", "prod_err_field"),
        ({"facts_faq": "能机洗吗"}, "facts_faq", "prod_err_faq"),
        ({"facts_size_chart": "M | 170-160"}, "facts_size_chart", "prod_err_size_chart"),
        ({"facts_size_chart": "M | 高"}, "facts_size_chart", "prod_err_size_chart"),
    ],
)
def test_each_wrong_field_is_named_and_nothing_is_built(
    change: dict[str, str], field: str, key: str
) -> None:
    data, typed, errors = parse_product_form({**FORM, **change})
    assert data is None and errors.get(field) == key, errors
    assert all(typed[k] == v.strip() for k, v in change.items())


def test_a_form_without_any_sku_row_is_refused() -> None:
    blank = {k: v for k, v in FORM.items() if not k.startswith("sku")}
    data, _, errors = parse_product_form(blank)
    assert data is None and errors == {"sku0_code": "prod_err_no_sku"}


async def products_of(client: httpx.AsyncClient, supplier: Account) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/products", headers=supplier.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_a_product_goes_from_the_form_through_review_into_the_pool(
    client: httpx.AsyncClient, database_url: str
) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    platform = await create_platform_admin(client, database_url)
    await sign_in(client, supplier.email)
    page = await client.get("/console/products/new")
    assert page.status_code == 200 and ZH["prod_new"] in page.text
    csrf = hidden(page.text, "csrf")

    r = await client.post("/console/products/new", data={**FORM, "submit": "review"})
    assert r.status_code == 403  # no CSRF token
    # a SKU priced outside the range: refused by the catalogue's rule, nothing saved
    r = await client.post(
        "/console/products/new",
        data={**FORM, "csrf": csrf, "sku2_price": "400", "submit": "review"},
    )
    assert r.status_code == 422 and ZH["prod_err_prices"] in r.text
    assert 'value="400"' in r.text and FORM["description"] in r.text  # as typed
    assert await products_of(client, supplier) == []

    r = await client.post("/console/products/new", data={**FORM, "csrf": csrf, "submit": "review"})
    assert r.status_code == 303
    [made] = await products_of(client, supplier)
    assert r.headers["location"] == f"/console/products?created={made['id']}"
    assert (made["state"], made["price_min"], made["commission_bps"]) == ("in_review", 19900, 2000)
    assert made["facts"]["faq"][0] == {"q": "能机洗吗", "a": "建议手洗，30 度以下"}
    assert sorted((s["code"], s["price"], s["available"]) for s in made["skus"]) == [
        ("PINK-L", 30990, 12),
        ("PINK-M", 29900, 30),
    ]
    r = await client.get(r.headers["location"])
    assert ZH["prod_created"] in r.text and ZH["prod_state_in_review"] in r.text

    client.cookies.clear()
    await sign_in(client, platform.email)
    r = await client.get("/console/review")
    assert r.status_code == 200 and f'data-product="{made["id"]}"' in r.text
    assert FORM["description"] in r.text and "PINK-L" in r.text and "¥309.90" in r.text
    csrf = hidden(r.text, "csrf")
    r = await client.post(f"/console/review/{made['id']}/reject", data={"csrf": csrf})
    assert r.status_code == 422 and ZH["review_err_reason"] in r.text
    r = await client.post(
        f"/console/review/{made['id']}/reject", data={"csrf": csrf, "reason": "请补充面料成分比例"}
    )
    assert r.status_code == 303
    r = await client.get("/console/review")
    assert ZH["review_empty"] in r.text

    client.cookies.clear()
    await sign_in(client, supplier.email)
    r = await client.get("/console/products")
    assert "请补充面料成分比例" in r.text and ZH["prod_state_draft"] in r.text
    csrf = hidden(r.text, "csrf")
    r = await client.post(f"/console/products/{made['id']}/submit", data={"csrf": csrf})
    assert r.status_code == 303
    r = await client.post(f"/console/products/{made['id']}/submit", data={"csrf": csrf})
    assert r.status_code == 409 and ZH["prod_err_state"] in r.text  # already in review

    client.cookies.clear()
    await sign_in(client, platform.email)
    r = await client.get("/console/review")
    csrf = hidden(r.text, "csrf")
    r = await client.post(f"/console/review/{made['id']}/approve", data={"csrf": csrf})
    assert r.status_code == 303
    r = await client.post(f"/console/review/{made['id']}/approve", data={"csrf": csrf})
    assert r.status_code == 409 and ZH["review_err_state"] in r.text
    pool = await client.get("/api/v1/pool/products", params={"q": "睡衣"}, headers=platform.headers)
    assert [p["id"] for p in pool.json()["items"]] == [made["id"]]

    client.cookies.clear()
    await sign_in(client, supplier.email)
    r = await client.get("/console/products")
    csrf = hidden(r.text, "csrf")
    assert f'action="/console/products/{made["id"]}/delist"' in r.text
    r = await client.post(f"/console/products/{made['id']}/delist", data={"csrf": csrf})
    assert r.status_code == 303
    assert (await products_of(client, supplier))[0]["state"] == "delisted"


async def test_who_may_create_and_who_may_review(
    client: httpx.AsyncClient, database_url: str
) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    viewer, _ = await create_member(client, supplier, role="viewer")
    await sign_in(client, viewer.email)
    r = await client.get("/console/products")
    assert r.status_code == 200 and "/console/products/new" not in r.text
    assert (await client.get("/console/products/new")).status_code == 403
    csrf = hidden(r.text, "csrf")
    r = await client.post("/console/products/new", data={**FORM, "csrf": csrf})
    assert r.status_code == 403 and await products_of(client, supplier) == []
    r = await client.get("/console/review")
    assert r.status_code == 403 and ZH["review_denied"] in r.text

    client.cookies.clear()
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    await sign_in(client, merchant.email)
    r = await client.get("/console/products/new")
    assert r.status_code == 303 and r.headers["location"] == "/console/dashboard"
    assert (await client.get("/console/review")).status_code == 403
    assert re.search(r'href="/console/review"', (await client.get("/console/orders")).text) is None
