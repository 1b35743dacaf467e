"""A small multi-tenant world for the authorization tests, built once per backend.

Tenant A (merchant) has one member of every role, a spare member and a spare key to
remove, and a read-only API key; tenant B (merchant) mirrors it; P is the platform;
``consumer`` belongs to no tenant. Commerce: S is a supplier (``supplier`` is its owner)
with a listed product that A picked, a draft with an image, one in review and one
listed but not picked; the consumer has bought from A's showcase five times, one order
in each state the order endpoints act on. Traceability: the listed product has a batch
with one recorded step, so the transparency log holds one ``trace`` entry (signed with
a fixed key, so that every copy of the world opens the same log without re-signing).
Built through the real API into a template database that each test copies, so every
test starts from the same state and may change it.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daihuo.config import Settings
from daihuo.core.db import Database, commit
from daihuo.ledger import note
from daihuo.tenancy import service
from daihuo.tenancy.domain import TenantKind

from tests.conftest import DatabaseFactory, client_for, make_settings
from tests.fixtures import Account, create_api_key, create_member, create_user
from tests.integration.orders.shop import ADDRESS, FAST, pay, product_body

# The world's orders are built once and copied for every test: their reservations must
# not run out while the matrix runs.
# Its product images live in one folder all copies share (rows are copied, files are not).
_FILES = tempfile.mkdtemp(prefix="daihuo-world-files-")
atexit.register(shutil.rmtree, _FILES, True)
_SIGNER, _ = note.generate_key("daihuo.local/log")
WORLD_SETTINGS: dict[str, Any] = {
    "order_reservation_seconds": 7 * 24 * 3600,
    "storage_url": f"file://{_FILES}",
    # One signing key for every app on the world's copies: a new key would make each
    # app sign a fresh checkpoint of the world's log at start-up.
    "ledger_signer_key": _SIGNER.key_string(),
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


@dataclass
class World:
    url: str
    actors: dict[str, dict[str, str]] = field(default_factory=dict)  # actor -> headers
    ids: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


async def build_world(factory: DatabaseFactory, tmp: Path) -> World:
    url = await factory.new()
    world = World(url)
    settings = make_settings(url, tmp, **WORLD_SETTINGS)
    async with client_for(settings) as client:
        owner_a = await create_user(client, label="owner_a", tenant_kind="merchant")
        owner_b = await create_user(client, label="owner_b", tenant_kind="merchant")
        consumer = await create_user(client, label="consumer")
        platform = await create_user(client, label="platform_admin")
        members: dict[str, tuple[Account, str]] = {}
        for role in ("admin", "operator", "viewer"):
            members[role] = await create_member(client, owner_a, role=role, label=f"{role}_a")
        _, spare_member_a = await create_member(client, owner_a, role="viewer", label="spare_a")
        _, member_b = await create_member(client, owner_b, role="viewer", label="member_b")
        key_read_id, key_read = await create_api_key(
            client, owner_a, scopes=["tenant:read", "members:read"], name="read"
        )
        spare_key_a, _ = await create_api_key(client, owner_a, scopes=["tenant:read"])
        key_b, _ = await create_api_key(client, owner_b, scopes=["tenant:read"])
        newcomer = await create_user(client, label="newcomer")

    db = Database(url)
    try:
        async with db.session(all_tenants=True) as session:
            user = await service.get_user(session, platform.user_id)
            p = await service.create_tenant(
                session, kind=TenantKind.platform, name="平台", owner=user
            )
            await commit(session)
    finally:
        await db.dispose()

    world.actors = {
        "anonymous": {},
        "consumer": consumer.headers,
        "viewer": members["viewer"][0].headers,
        "operator": members["operator"][0].headers,
        "admin": members["admin"][0].headers,
        "owner": owner_a.headers,
        "api_key_read": {"Authorization": f"Bearer {key_read}"},
        "platform_admin": platform.headers,
    }
    world.ids = {
        "tenant_a": owner_a.tenant_id or "",
        "tenant_b": owner_b.tenant_id or "",
        "tenant_p": p.id,
        "viewer_member_a": members["viewer"][1],
        "admin_member_a": members["admin"][1],
        "spare_member_a": spare_member_a,
        "member_b": member_b,
        "key_read_a": key_read_id,
        "spare_key_a": spare_key_a,
        "key_b": key_b,
    }
    world.emails = {"newcomer": newcomer.email, "owner_a": owner_a.email}
    world.actors["owner_b"] = owner_b.headers
    platform.tenant_id = p.id
    await _commerce(world, make_settings(url, tmp, **FAST, **WORLD_SETTINGS), owner_a, consumer,
                    platform)  # fmt: skip
    return world


async def _commerce(
    world: World, settings: Settings, owner_a: Account, consumer: Account, platform: Account
) -> None:
    app = client_for(settings)
    async with app as client:
        supplier = await create_user(client, label="supplier_s", tenant_kind="supplier")
        s, p = supplier.headers, platform.headers

        async def product(state: str, title: str) -> dict[str, Any]:
            r = await client.post("/api/v1/products", json=product_body(title=title), headers=s)
            assert r.status_code == 201, r.text
            made: dict[str, Any] = r.json()
            if state != "draft":
                await client.post(f"/api/v1/products/{made['id']}/submit", headers=s)
            if state == "listed":
                await client.post(f"/api/v1/platform/products/{made['id']}/approve", headers=p)
            return made

        listed = await product("listed", "滋润保湿口红")
        draft = await product("draft", "纯棉短袖T恤")
        review = await product("in_review", "真丝围巾")
        unpicked = await product("listed", "运动鞋")
        images = []
        for _ in range(2):  # one to read, one to delete
            r = await client.post(
                f"/api/v1/products/{draft['id']}/images",
                content=PNG,
                headers={**s, "content-type": "image/png"},
            )
            images.append(r.json()["id"])
        await client.put(
            f"/api/v1/products/{listed['id']}/commissions/{owner_a.tenant_id}",
            json={"commission_bps": 2000},
            headers=s,
        )
        r = await client.post(
            "/api/v1/showcase", json={"product_id": listed["id"], "price": 1990},
            headers=owner_a.headers,
        )  # fmt: skip
        item = r.json()["id"]
        r = await client.post(
            "/api/v1/live-sessions",
            json={"title": "周末专场", "planned_start": "2026-12-05T20:00:00+08:00",
                  "products": [item]},
            headers=owner_a.headers,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        live = r.json()["id"]
        body = {"item_id": item, "sku_id": listed["skus"][0]["id"], "quantity": 1,
                "address": ADDRESS}  # fmt: skip
        orders = []
        for _ in range(5):
            r = await client.post("/api/v1/orders", json=body, headers=consumer.headers)
            assert r.status_code == 201, r.text
            orders.append(r.json()["id"])
        created, paid, requested, shipped, delivered = orders
        for order in orders[1:]:
            await pay(client, consumer, order)
        await client.post(f"/api/v1/orders/{requested}/refund-request", json={},
                          headers=consumer.headers)  # fmt: skip
        for order in (shipped, delivered):
            await client.post(
                f"/api/v1/orders/{order}/ship",
                json={"carrier": "顺丰速运", "tracking_no": "SF100"},
                headers=s,
            )
        await client.post(f"/api/v1/orders/{delivered}/deliver", headers=s)
        r = await client.post(
            f"/api/v1/products/{listed['id']}/batches",
            json={"code": "LOT-1", "quantity": 100},
            headers=s,
        )
        assert r.status_code == 201, r.text
        batch = r.json()
        r = await client.post(
            f"/api/v1/products/{listed['id']}/batches/{batch['id']}/steps",
            json={"step": "produced", "at": "2026-01-05T09:00:00+08:00", "place": "杭州工厂"},
            headers=s,
        )
        assert r.status_code == 201 and r.json()["leaf_index"] is not None, r.text
        # Everything in the log now, so that starting an app on a copy appends nothing.
        await app.app.state.ledger_feeder.feed()

    world.actors["supplier"] = supplier.headers
    world.ids.update(
        tenant_s=supplier.tenant_id or "",
        product_listed=listed["id"],
        sku_listed=listed["skus"][0]["id"],
        product_draft=draft["id"],
        sku_draft=draft["skus"][0]["id"],
        image_draft=images[0],
        image_spare=images[1],
        product_review=review["id"],
        product_unpicked=unpicked["id"],
        item_a=item,
        live_a=live,
        order_created=created,
        order_paid=paid,
        order_refund_requested=requested,
        order_shipped=shipped,
        order_delivered=delivered,
        batch_listed=batch["id"],
        batch_public=batch["public_id"],
    )
