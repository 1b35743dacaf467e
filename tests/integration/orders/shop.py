"""Commerce test data through the real API: a supplier with a listed product, a
merchant that picked it, a platform operator, buyers; and the sandbox pay flow."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select, text

from daihuo.core.db import Database, commit
from daihuo.tenancy import service as tenancy
from daihuo.tenancy.domain import TenantKind

from tests.fixtures import Account, create_user

WEBHOOK = "/api/v1/payments/webhooks/sandbox"
SECRET = "test-webhook-secret"  # set as payments_webhook_secret in commerce_settings
FAST = {
    "payments_webhook_secret": SECRET,
    "sandbox_callback_retry_seconds": 0.05,
    "sandbox_poll_seconds": 0.05,
}


async def create_platform_admin(client: httpx.AsyncClient, database_url: str) -> Account:
    """A user owning the platform tenant (made in the database, as the CLI would)."""
    account = await create_user(client, label="platform")
    db = Database(database_url)
    try:
        async with db.session(all_tenants=True) as session:
            user = await tenancy.get_user(session, account.user_id)
            tenant = await tenancy.create_tenant(
                session, kind=TenantKind.platform, name="平台", owner=user
            )
            await commit(session)
    finally:
        await db.dispose()
    account.tenant_id = tenant.id
    return account


def product_body(
    *,
    title: str = "滋润保湿口红 正红色",
    category: str = "美妆/口红",
    description: str = "持久不脱色，适合日常通勤。",
    price_min: int = 1000,
    price_max: int = 5000,
    commission_bps: int = 1500,
    stock: int = 100,
    skus: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "title": title,
        "category": category,
        "description": description,
        "attributes": {"产地": "杭州"},
        "price_min": price_min,
        "price_max": price_max,
        "commission_bps": commission_bps,
        "skus": skus
        if skus is not None
        else [{"code": "RED", "spec": {"颜色": "正红"}, "price": 2990, "stock": stock}],
    }
    body.update(extra)
    return body


async def create_listed_product(
    client: httpx.AsyncClient, supplier: Account, platform: Account, **body: Any
) -> dict[str, Any]:
    r = await client.post("/api/v1/products", json=product_body(**body), headers=supplier.headers)
    assert r.status_code == 201, r.text
    product_id = r.json()["id"]
    r = await client.post(f"/api/v1/products/{product_id}/submit", headers=supplier.headers)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/platform/products/{product_id}/approve", headers=platform.headers
    )
    assert r.status_code == 200, r.text
    product: dict[str, Any] = r.json()
    return product


@dataclass
class Shop:
    supplier: Account
    merchant: Account
    platform: Account
    product: dict[str, Any]
    item_id: str
    price: int
    buyers: list[Account] = field(default_factory=list)

    @property
    def product_id(self) -> str:
        return str(self.product["id"])

    @property
    def sku_id(self) -> str:
        return str(self.product["skus"][0]["id"])


async def create_shop(
    client: httpx.AsyncClient,
    database_url: str,
    *,
    price: int = 1990,
    buyers: int = 1,
    platform: Account | None = None,
    **product: Any,
) -> Shop:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    platform = platform or await create_platform_admin(client, database_url)
    made = await create_listed_product(client, supplier, platform, **product)
    r = await client.post(
        "/api/v1/showcase",
        json={"product_id": made["id"], "price": price},
        headers=merchant.headers,
    )
    assert r.status_code == 201, r.text
    shop = Shop(supplier, merchant, platform, made, r.json()["id"], price)
    for _ in range(buyers):
        shop.buyers.append(await create_user(client, label="buyer"))
    return shop


# Where the tests' orders ship to (an order needs one before the supplier can ship it).
ADDRESS = {"recipient": "李四", "phone": "13800000000", "region": "浙江省 杭州市 西湖区",
           "detail": "文三路 1 号"}  # fmt: skip


async def place(
    client: httpx.AsyncClient, shop: Shop, buyer: Account, qty: int = 1, **extra: Any
) -> httpx.Response:
    """Place an order with ``ADDRESS``; ``address=None`` places one without an address."""
    body = {"item_id": shop.item_id, "sku_id": shop.sku_id, "quantity": qty}
    body |= {"address": ADDRESS} | extra
    if body["address"] is None:
        del body["address"]
    return await client.post("/api/v1/orders", json=body, headers=buyer.headers)


async def order_of(client: httpx.AsyncClient, buyer: Account, order_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)
    assert r.status_code == 200, r.text
    order: dict[str, Any] = r.json()
    return order


async def wait_for_state(
    client: httpx.AsyncClient, buyer: Account, order_id: str, state: str, seconds: float = 10
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        order = await order_of(client, buyer, order_id)
        if order["state"] == state:
            return order
        if time.monotonic() > deadline:
            raise AssertionError(f"order {order_id} is {order['state']}, never {state}")
        await asyncio.sleep(0.02)


async def start_payment(client: httpx.AsyncClient, buyer: Account, order_id: str) -> dict[str, Any]:
    r = await client.post(f"/api/v1/orders/{order_id}/pay", headers=buyer.headers)
    assert r.status_code == 201, r.text
    payment: dict[str, Any] = r.json()
    return payment


async def press(client: httpx.AsyncClient, pay_url: str, outcome: str = "pay") -> httpx.Response:
    """Press a button on the sandbox pay page, as the buyer's browser would."""
    page = await client.get(pay_url)
    assert page.status_code == 200, page.text
    return await client.post(pay_url, data={"outcome": outcome})


async def pay(client: httpx.AsyncClient, buyer: Account, order_id: str) -> dict[str, Any]:
    payment = await start_payment(client, buyer, order_id)
    r = await press(client, payment["pay_url"])
    assert r.status_code == 200, r.text
    return await wait_for_state(client, buyer, order_id, "paid")


def signed(
    body: dict[str, Any] | bytes, *, secret: str = SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """A webhook signed the way the protocol says (independently of the app's code)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return raw, {"content-type": "application/json", "Sandbox-Signature": f"t={t},v1={mac}"}


async def rows(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    db = Database(database_url)
    try:
        async with db.session(all_tenants=True) as session:
            return [tuple(r) for r in (await session.execute(text(sql), params)).all()]
    finally:
        await db.dispose()


async def stock(database_url: str, sku_id: str) -> tuple[int, int, int]:
    found = await rows(
        database_url, "SELECT available, reserved, sold FROM skus WHERE id = :id", id=sku_id
    )
    available, reserved, sold = found[0]
    return int(available), int(reserved), int(sold)


async def table_snapshot(database_url: str) -> dict[str, list[str]]:
    """Every row of every commerce table, to prove a refused request changed nothing."""
    from daihuo.models import metadata

    names = [
        "products",
        "skus",
        "product_images",
        "product_terms",
        "commission_overrides",
        "showcase_items",
        "orders",
        "order_history",
        "order_outbox",
        "purchase_counts",
        "payments",
        "refunds",
        "webhook_receipts",
        "sandbox_payments",
        "sandbox_refunds",
    ]
    db = Database(database_url)
    try:
        async with db.session(all_tenants=True) as session:
            out = {}
            for name in names:
                table = metadata.tables[name]
                out[name] = sorted(
                    repr(tuple(r)) for r in (await session.execute(select(table))).all()
                )
            return out
    finally:
        await db.dispose()
