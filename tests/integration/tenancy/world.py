"""A small multi-tenant world for the authorization tests, built once per backend.

Tenant A (merchant) has one member of every role, a spare member and a spare key to
remove, and a read-only API key; tenant B (merchant) mirrors it; P is the platform;
``consumer`` belongs to no tenant. Built through the real API into a template database
that each test copies, so every test starts from the same state and may change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from daihuo.core.db import Database, commit
from daihuo.tenancy import service
from daihuo.tenancy.domain import TenantKind

from tests.conftest import DatabaseFactory, client_for, make_settings
from tests.fixtures import Account, create_api_key, create_member, create_user


@dataclass
class World:
    url: str
    actors: dict[str, dict[str, str]] = field(default_factory=dict)  # actor -> headers
    ids: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


async def build_world(factory: DatabaseFactory, tmp: Path) -> World:
    url = await factory.new()
    world = World(url)
    settings = make_settings(url, tmp)
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
    return world
