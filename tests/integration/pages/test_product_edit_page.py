"""One product's page (/console/products/{id}) over HTTP on both engines: the form shows
the product as typed (yuan, per cent, one pair per line) and saves only what changed —
a listed product's commission yes, its content no; stock goes up and down but never
below what is available; an image is told by its bytes; refusals change nothing."""

from __future__ import annotations

from typing import Any

import httpx

from daihuo.catalog.schemas import ProductRead
from daihuo.pages.i18n import messages
from daihuo.pages.products import parse_product_update, typed_from

from tests.fixtures import Account, create_user
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
