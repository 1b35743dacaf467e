"""One product's page (/console/products/{id}) over HTTP on both engines: the form shows
the product as typed (yuan, per cent, one pair per line) and saves only what changed —
a listed product's commission yes, its content no; stock goes up and down but never
below what is available; an image is told by its bytes; a SKU is added and a SKU's
price and options edited through the catalogue's schema and service, each refusal beside
its field; refusals change nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from daihuo.catalog.schemas import ProductRead
from daihuo.pages.i18n import messages
from daihuo.pages.products import parse_product_update, typed_from

from tests.fixtures import Account, create_member, create_user
from tests.integration.catalog.test_catalog_api import PNG
from tests.integration.orders.shop import create_listed_product, create_platform_admin, product_body
from tests.integration.pages.test_console_pages import hidden, sign_in

ZH = messages("zh")


async def product_of(client: httpx.AsyncClient, who: Account, pid: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/products/{pid}", headers=who.headers)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


async def test_the_form_round_trips_and_saves_only_what_changed(
    client: httpx.AsyncClient,
) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    body = product_body(
        commission_bps=1250,
        facts={"faq": [{"q": "能机洗吗", "a": "可以"}],
               "size_chart": [{"size": "M", "height_cm": [160, 170]}]},
    )  # fmt: skip
    r = await client.post("/api/v1/products", json=body, headers=supplier.headers)
    assert r.status_code == 201, r.text
    current = ProductRead.model_validate(r.json())
    typed = typed_from(current)
    assert (typed["price_min"], typed["commission"]) == ("10.00", "12.5")
    assert typed["facts_faq"] == "能机洗吗 | 可以" and typed["facts_size_chart"] == "M | 160-170"
    change, _, errors = parse_product_update(typed, current)
    assert errors == {} and change is not None and change.model_fields_set == set()
    change, _, errors = parse_product_update({**typed, "commission": "20"}, current)
    assert change is not None and change.model_dump(exclude_unset=True) == {"commission_bps": 2000}
    _, _, errors = parse_product_update({**typed, "facts_size_chart": "M | 170-160"}, current)
    assert errors == {"facts_size_chart": "prod_err_size_chart"}

    await sign_in(client, supplier.email)
    page = await client.get(f"/console/products/{current.id}")
    assert page.status_code == 200 and 'value="12.5"' in page.text
    csrf = hidden(page.text, "csrf")
    form = {**typed, "csrf": csrf, "title": "滋润保湿口红 豆沙色", "facts_usage": "薄涂两层"}
    r = await client.post(f"/console/products/{current.id}/edit", data=form)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=saved")
    saved = await product_of(client, supplier, current.id)
    assert saved["title"] == "滋润保湿口红 豆沙色" and saved["facts"]["usage"] == "薄涂两层"
    assert saved["commission_bps"] == 1250  # untouched


async def test_a_listed_products_terms_change_its_content_does_not(
    client: httpx.AsyncClient, database_url: str
) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    platform = await create_platform_admin(client, database_url)
    made = await create_listed_product(client, supplier, platform)
    await sign_in(client, supplier.email)
    page = await client.get(f"/console/products/{made['id']}")
    assert (
        ZH["prod_content_locked"] in page.text and 'enctype="multipart/form-data"' not in page.text
    )
    csrf = hidden(page.text, "csrf")
    typed = typed_from(ProductRead.model_validate(made))
    r = await client.post(
        f"/console/products/{made['id']}/edit", data={**typed, "csrf": csrf, "title": "改名"}
    )
    assert r.status_code == 409 and ZH["prod_err_not_editable"] in r.text
    assert (await product_of(client, supplier, made["id"]))["title"] == made["title"]
    r = await client.post(
        f"/console/products/{made['id']}/edit", data={**typed, "csrf": csrf, "commission": "30"}
    )
    assert r.status_code == 303
    assert (await product_of(client, supplier, made["id"]))["commission_bps"] == 3000

    r = await client.post(
        f"/console/products/{made['id']}/images",
        files={"image": ("a.png", PNG, "image/png")},
        data={"csrf": csrf},
    )
    assert r.status_code == 422 and ZH["prod_err_not_editable"] in r.text


async def test_stock_and_images(client: httpx.AsyncClient) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    r = await client.post("/api/v1/products", json=product_body(stock=10), headers=supplier.headers)
    made = r.json()
    sku = made["skus"][0]["id"]
    await sign_in(client, supplier.email)
    page = await client.get(f"/console/products/{made['id']}")
    csrf = hidden(page.text, "csrf")
    stock = f"/console/products/{made['id']}/skus/{sku}/stock"

    r = await client.post(stock, data={"csrf": csrf, "delta": "+5"})
    assert r.status_code == 303
    for delta, key in (
        ("-16", "prod_err_too_few"),
        ("abc", "prod_err_delta"),
        ("0", "prod_err_delta"),
    ):
        r = await client.post(stock, data={"csrf": csrf, "delta": delta})
        assert r.status_code == 422 and ZH[key] in r.text, delta
    r = await client.post(stock, data={"delta": "+5"})
    assert r.status_code == 403
    r = await client.post(stock, data={"csrf": csrf, "delta": "-15"})
    assert r.status_code == 303
    assert (await product_of(client, supplier, made["id"]))["skus"][0]["available"] == 0

    images = f"/console/products/{made['id']}/images"
    r = await client.post(images, files={"image": ("a.png", PNG, "image/png")})
    assert r.status_code == 403  # no CSRF token
    r = await client.post(
        images, files={"image": ("fake.png", b"not an image", "image/png")}, data={"csrf": csrf}
    )
    assert r.status_code == 422 and ZH["prod_err_image"] in r.text
    r = await client.post(images, data={"csrf": csrf})
    assert r.status_code == 422 and ZH["prod_err_image"] in r.text  # no file at all
    assert (await product_of(client, supplier, made["id"]))["images"] == []
    r = await client.post(
        images, files={"image": ("x.bin", PNG, "text/plain")}, data={"csrf": csrf}
    )
    assert r.status_code == 303  # told by its bytes, not its name or declared type
    [image] = (await product_of(client, supplier, made["id"]))["images"]
    assert image["content_type"] == "image/png"
    page = await client.get(f"/console/products/{made['id']}")
    assert f'src="{image["url"]}"' in page.text

    other = await create_user(client, label="supplier", tenant_kind="supplier")
    client.cookies.clear()
    await sign_in(client, other.email)
    r = await client.get(f"/console/products/{made['id']}")
    assert r.status_code == 404


def errors_shown(page: str) -> dict[str, str]:
    """The messages the page shows beside its fields, by field."""
    return dict(re.findall(r'data-testid="error-([\w-]+)">([^<]*)<', page))


def shown_value(page: str, name: str) -> str:
    found = re.search(rf'<input id="f-{name}"[^>]*? value="([^"]*)"', page)
    assert found, f"no field {name}"
    return html.unescape(found.group(1))


async def test_a_sku_is_added_through_the_page(client: httpx.AsyncClient) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    r = await client.post("/api/v1/products", json=product_body(), headers=supplier.headers)
    made = r.json()  # ¥10–¥50, one SKU "RED"
    await sign_in(client, supplier.email)
    page = await client.get(f"/console/products/{made['id']}")
    assert f'action="/console/products/{made["id"]}/skus"' in page.text
    csrf = hidden(page.text, "csrf")
    add = f"/console/products/{made['id']}/skus"
    form = {
        "csrf": csrf, "new_code": "NUDE", "new_spec": "颜色=裸色，质地：哑光",
        "new_price": "39.9", "new_stock": "12",
    }  # fmt: skip

    r = await client.post(add, data=form)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=sku_added")
    assert ZH["prod_done_sku_added"] in (await client.get(r.headers["location"])).text
    saved = await product_of(client, supplier, made["id"])
    [nude] = [s for s in saved["skus"] if s["code"] == "NUDE"]
    assert (nude["spec"], nude["price"], nude["available"]) == (
        {"颜色": "裸色", "质地": "哑光"}, 3990, 12,
    )  # fmt: skip

    six = ", ".join(f"{name}=1" for name in "甲乙丙丁戊己")
    refusals = [
        ({"new_code": "RED"}, "new_code", "prod_err_sku_taken", 409),  # the product has it
        ({"new_code": "NUDE"}, "new_code", "prod_err_sku_taken", 409),  # the one just added
        ({"new_code": "豆沙"}, "new_code", "prod_err_sku_code", 422),
        ({"new_spec": "颜色"}, "new_spec", "prod_err_pairs", 422),
        ({"new_spec": "颜色=红, 颜色=蓝"}, "new_spec", "prod_err_pairs", 422),
        ({"new_spec": six}, "new_spec", "prod_err_sku_spec", 422),  # the schema: at most 5
        ({"new_price": "39.999"}, "new_price", "pool_err_amount", 422),
        ({"new_price": "51"}, "new_price", "prod_err_sku_price", 422),  # outside ¥10–¥50
        ({"new_stock": "-1"}, "new_stock", "pool_err_whole", 422),
        ({"new_stock": "²"}, "new_stock", "pool_err_whole", 422),
    ]
    for change, field, key, status in refusals:
        sent = {**form, "new_code": "PINK", **change}
        r = await client.post(add, data=sent)
        assert r.status_code == status, change
        assert errors_shown(r.text) == {field: ZH[key]}, change
        for name in ("new_code", "new_spec", "new_price", "new_stock"):
            assert shown_value(r.text, name) == sent[name], (change, name)  # kept as typed
    assert await product_of(client, supplier, made["id"]) == saved


async def test_a_skus_price_and_options_are_edited_in_its_row(client: httpx.AsyncClient) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    skus = [
        {"code": "RED", "spec": {"颜色": "正红"}, "price": 2990, "stock": 5},
        {"code": "DUO", "spec": {"套装": "口红, 唇线笔"}, "price": 4500, "stock": 5},
    ]
    r = await client.post(
        "/api/v1/products", json=product_body(skus=skus), headers=supplier.headers
    )
    made = r.json()
    ids = {s["code"]: s["id"] for s in made["skus"]}
    red, duo = ids["RED"], ids["DUO"]
    await sign_in(client, supplier.email)
    page = await client.get(f"/console/products/{made['id']}")
    csrf = hidden(page.text, "csrf")
    assert (shown_value(page.text, f"{red}_spec"), shown_value(page.text, f"{red}_price")) == (
        "颜色=正红", "29.90",
    )  # fmt: skip
    edit = f"/console/products/{made['id']}/skus/{red}/edit"

    r = await client.post(
        edit, data={"csrf": csrf, f"{red}_spec": "颜色=正红，容量=3.5g", f"{red}_price": "32.5"}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=sku_saved")
    saved = await product_of(client, supplier, made["id"])
    assert {s["code"]: (s["spec"], s["price"]) for s in saved["skus"]} == {
        "RED": ({"颜色": "正红", "容量": "3.5g"}, 3250),
        "DUO": ({"套装": "口红, 唇线笔"}, 4500),
    }
    # Options left as shown are not parsed again: a value holding a comma survives.
    page = await client.get(f"/console/products/{made['id']}")
    shown = shown_value(page.text, f"{duo}_spec")
    r = await client.post(
        f"/console/products/{made['id']}/skus/{duo}/edit",
        data={"csrf": csrf, f"{duo}_spec": shown, f"{duo}_price": "48"},
    )
    assert r.status_code == 303
    saved = await product_of(client, supplier, made["id"])
    [after] = [s for s in saved["skus"] if s["id"] == duo]
    assert (after["spec"], after["price"]) == ({"套装": "口红, 唇线笔"}, 4800)

    refusals = [
        ({f"{red}_price": "60"}, f"{red}_price", "prod_err_sku_price"),  # outside ¥10–¥50
        ({f"{red}_price": "abc"}, f"{red}_price", "pool_err_amount"),
        ({f"{red}_price": ""}, f"{red}_price", "pool_err_amount"),
        ({f"{red}_spec": "颜色"}, f"{red}_spec", "prod_err_pairs"),
        ({f"{red}_spec": "颜色=" + "红" * 101}, f"{red}_spec", "prod_err_sku_spec"),
    ]
    for change, field, key in refusals:
        sent = {f"{red}_spec": "颜色=黑", f"{red}_price": "20", **change}
        r = await client.post(edit, data={"csrf": csrf, **sent})
        assert r.status_code == 422, change
        assert errors_shown(r.text) == {field: ZH[key]}, change
        assert shown_value(r.text, field) == sent[field], change
    assert await product_of(client, supplier, made["id"]) == saved
    r = await client.post(
        f"/console/products/{made['id']}/skus/sku_nope/edit",
        data={"csrf": csrf, "sku_nope_price": "20"},
    )
    assert r.status_code == 404 and ZH["prod_err_sku_gone"] in r.text


async def test_the_sku_forms_refuse_readers_other_suppliers_and_forged_posts(
    client: httpx.AsyncClient,
) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    made = (
        await client.post("/api/v1/products", json=product_body(), headers=supplier.headers)
    ).json()
    sku = made["skus"][0]["id"]
    add = f"/console/products/{made['id']}/skus"
    edit = f"/console/products/{made['id']}/skus/{sku}/edit"
    new = {"new_code": "PINK", "new_spec": "颜色=粉", "new_price": "20", "new_stock": "3"}
    change = {f"{sku}_price": "20", f"{sku}_spec": "颜色=粉"}

    await sign_in(client, supplier.email)
    for path, form in ((add, new), (edit, change)):
        r = await client.post(path, data=form)
        assert r.status_code == 403, path  # no CSRF token
        r = await client.post(path, data={**form, "csrf": "forged"})
        assert r.status_code == 403, path

    viewer, _ = await create_member(client, supplier, role="viewer")
    other = await create_user(client, label="supplier", tenant_kind="supplier")
    for who, status in ((viewer, 403), (other, 404)):
        client.cookies.clear()
        await sign_in(client, who.email)
        r = await client.get(f"/console/products/{made['id']}")
        if who is viewer:  # reads the page, without the forms
            assert r.status_code == 200 and f'action="{add}"' not in r.text
            assert f'action="{edit}"' not in r.text and f'name="{sku}_price"' not in r.text
        else:
            assert r.status_code == 404
        csrf = hidden((await client.get("/console/products")).text, "csrf")
        for path, form in ((add, new), (edit, change)):
            r = await client.post(path, data={**form, "csrf": csrf})
            assert r.status_code == status, (who.email, path)
    assert await product_of(client, supplier, made["id"]) == made
