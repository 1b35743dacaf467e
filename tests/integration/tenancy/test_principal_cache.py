"""The principal cache (tenancy/cache.py): a change made through this process is seen by
the very next request; a change the process cannot see (another process, raw SQL) is
seen once the cache's time is up; with the time set to 0 nothing is cached."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import text

from daihuo.core.db import Database

from tests.conftest import client_for, make_settings
from tests.fixtures import create_member, create_user, expire_all_tokens


async def permissions(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    r = await client.get("/api/v1/me", headers=headers)
    assert r.status_code == 200, r.text
    got: list[str] = r.json()["permissions"]
    return got


async def test_a_role_change_applies_to_the_next_request(client: httpx.AsyncClient) -> None:
    owner = await create_user(client, label="owner", tenant_kind="merchant")
    member, mid = await create_member(client, owner, role="viewer")
    before = await permissions(client, member.headers)  # now cached
    assert "members:write" not in before
    r = await client.patch(f"/api/v1/members/{mid}", json={"role": "admin"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert "members:write" in await permissions(client, member.headers)
    r = await client.delete(f"/api/v1/members/{mid}", headers=owner.headers)
    assert r.status_code == 204, r.text
    r = await client.get("/api/v1/me", headers=member.headers)
    assert r.json()["current_tenant_id"] is None and r.json()["permissions"] == []


async def write_raw(url: str, sql: str) -> None:
    """A write this process's ORM never sees, as another server process's would be."""
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await db.dispose()


async def test_a_revocation_elsewhere_is_seen_within_the_cache_time(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, auth_cache_seconds=0.5)
    async with client_for(settings) as client:
        user = await create_user(client)
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
        await write_raw(database_url, "UPDATE auth_tokens SET revoked_at = created_at")
        # Still the cached principal: this is what the cache saves a query for ...
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
        await asyncio.sleep(0.6)
        # ... and no longer than its time.
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 401


async def test_with_no_cache_time_every_request_reads_the_database(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, auth_cache_seconds=0)
    async with client_for(settings) as client:
        user = await create_user(client)
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
        await write_raw(database_url, "UPDATE auth_tokens SET revoked_at = created_at")
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 401


async def test_a_bulk_orm_update_in_this_process_is_seen_at_once(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(client)
    assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
    await expire_all_tokens(database_url)
    r = await client.get("/api/v1/me", headers=user.headers)
    assert r.status_code == 401
    assert r.json()["type"] == "urn:daihuo:problem:token-expired"
