"""Sign-up, sign-in, tokens, browser sessions with CSRF, the login rate limit, API keys
and role rules — on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from daihuo.config import Settings
from daihuo.core.db import Database
from daihuo.tenancy.models import User

from tests.conftest import client_for
from tests.fixtures import (
    PASSWORD,
    create_api_key,
    create_member,
    create_user,
    expire_all_tokens,
)


async def count_users(url: str) -> int:
    db = Database(url)
    try:
        async with db.session(all_tenants=True) as s:
            return int((await s.execute(select(func.count()).select_from(User))).scalar_one())
    finally:
        await db.dispose()


async def test_duplicate_sign_up_is_a_conflict_whatever_the_case_of_the_email(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = await create_user(client, label="dup")
    body = {"email": first.email.upper(), "password": "another password", "display_name": "x"}
    r = await client.post("/api/v1/auth/signup", json=body)
    assert r.status_code == 409
    assert r.json()["type"] == "urn:daihuo:problem:email-taken"
    assert await count_users(settings.database_url) == 1


async def test_sign_up_with_a_merchant_tenant_makes_the_user_its_owner(
    client: httpx.AsyncClient,
) -> None:
    owner = await create_user(client, label="boss", tenant_kind="merchant")
    me = (await client.get("/api/v1/me", headers=owner.headers)).json()
    assert me["current_tenant_id"] == owner.tenant_id
    assert [m["role"] for m in me["memberships"]] == ["owner"]
    assert me["memberships"][0]["tenant"]["kind"] == "merchant"


async def test_nobody_can_sign_up_a_platform_tenant(client: httpx.AsyncClient) -> None:
    body = {
        "email": "sneaky@example.test",
        "password": PASSWORD,
        "display_name": "x",
        "tenant": {"kind": "platform", "name": "我是平台"},
    }
    r = await client.post("/api/v1/auth/signup", json=body)
    assert r.status_code == 422


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    user = await create_user(client)
    wrong = await client.post("/api/v1/auth/token", json={"email": user.email, "password": "nope"})
    unknown = await client.post(
        "/api/v1/auth/token", json={"email": "ghost@example.test", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()["type"] == unknown.json()["type"] == "urn:daihuo:problem:invalid-credentials"
    )


async def test_login_is_rate_limited_per_email_even_with_the_right_password(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await create_user(client)
    for _ in range(settings.login_max_failures):
        r = await client.post("/api/v1/auth/token", json={"email": user.email, "password": "bad"})
        assert r.status_code == 401
    r = await client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["type"] == "urn:daihuo:problem:login-rate-limited"
    assert int(r.headers["retry-after"]) > 0
    # Another account is not locked by someone else's failures.
    other = await create_user(client)
    r = await client.post("/api/v1/auth/token", json={"email": other.email, "password": PASSWORD})
    assert r.status_code == 200


async def test_the_rate_limit_survives_a_restart(settings: Settings) -> None:
    async with client_for(settings) as client:
        user = await create_user(client)
        for _ in range(settings.login_max_failures):
            await client.post("/api/v1/auth/token", json={"email": user.email, "password": "x"})
    async with client_for(settings) as client:  # a new process would see the same rows
        r = await client.post(
            "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
        )
        assert r.status_code == 429


@pytest.mark.parametrize(
    "header",
    [
        "Bearer dht_forged-token-value",
        "Bearer dhk_deadbeef_forged",
        "Bearer not-even-our-format",
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
)
async def test_forged_credentials_are_refused(client: httpx.AsyncClient, header: str) -> None:
    r = await client.get("/api/v1/me", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_an_expired_token_is_refused_with_its_own_type(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await create_user(client)
    await expire_all_tokens(settings.database_url)
    r = await client.get("/api/v1/me", headers=user.headers)
    assert r.status_code == 401
    assert r.json()["type"] == "urn:daihuo:problem:token-expired"


async def test_logout_revokes_the_token(client: httpx.AsyncClient) -> None:
    user = await create_user(client)
    assert (await client.post("/api/v1/auth/logout", headers=user.headers)).status_code == 204
    r = await client.get("/api/v1/me", headers=user.headers)
    assert r.status_code == 401


async def test_browser_session_needs_the_csrf_token_for_writes(client: httpx.AsyncClient) -> None:
    owner = await create_user(client, label="web", tenant_kind="merchant")
    r = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    cookie = r.cookies["dh_session"]
    assert "httponly" in r.headers.get_list("set-cookie")[0].lower()
    assert client.cookies.get("dh_csrf") == csrf
    # Reads need only the cookie.
    assert (await client.get("/api/v1/tenant")).status_code == 200
    # A write without the header, or with a wrong one, is refused and changes nothing.
    for headers in ({}, {"X-CSRF-Token": "guess"}):
        r = await client.patch("/api/v1/tenant", json={"name": "被改了"}, headers=headers)
        assert r.status_code == 403
        assert r.json()["type"] == "urn:daihuo:problem:csrf-failed"
    assert (await client.get("/api/v1/tenant")).json()["name"] != "被改了"
    r = await client.patch(
        "/api/v1/tenant", json={"name": "新店名"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200 and r.json()["name"] == "新店名"
    # Logging out ends the session for good.
    r = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    client.cookies.set("dh_session", cookie)
    assert (await client.get("/api/v1/tenant")).status_code == 401


async def test_api_key_works_until_revoked_and_only_within_its_scopes(
    client: httpx.AsyncClient,
) -> None:
    owner = await create_user(client, label="shop", tenant_kind="merchant")
    key_id, secret = await create_api_key(client, owner, scopes=["tenant:read"])
    for headers in ({"Authorization": f"Bearer {secret}"}, {"X-API-Key": secret}):
        r = await client.get("/api/v1/tenant", headers=headers)
        assert r.status_code == 200 and r.json()["id"] == owner.tenant_id
    r = await client.patch("/api/v1/tenant", json={"name": "x"}, headers={"X-API-Key": secret})
    assert r.status_code == 403
    listed = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()["items"]
    assert [k["id"] for k in listed] == [key_id]
    assert "secret" not in listed[0] and listed[0]["last_used_at"] is not None
    assert (
        await client.delete(f"/api/v1/api-keys/{key_id}", headers=owner.headers)
    ).status_code == 204
    r = await client.get("/api/v1/tenant", headers={"X-API-Key": secret})
    assert r.status_code == 401


async def test_a_key_cannot_be_given_scopes_its_creator_lacks(client: httpx.AsyncClient) -> None:
    owner = await create_user(client, label="shop", tenant_kind="merchant")
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "escalate", "scopes": ["platform:tenants"]},
        headers=owner.headers,
    )
    assert r.status_code == 403
    assert (await client.get("/api/v1/api-keys", headers=owner.headers)).json()["items"] == []


async def test_idempotency_is_refused_where_the_response_holds_a_secret(
    client: httpx.AsyncClient,
) -> None:
    owner = await create_user(client, label="shop", tenant_kind="merchant")
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "k", "scopes": ["tenant:read"]},
        headers={**owner.headers, "Idempotency-Key": "abc"},
    )
    assert r.status_code == 400
    assert r.json()["type"] == "urn:daihuo:problem:idempotency-not-supported"
    assert (await client.get("/api/v1/api-keys", headers=owner.headers)).json()["items"] == []


async def test_admin_cannot_grant_or_touch_owner_but_owner_can(client: httpx.AsyncClient) -> None:
    owner = await create_user(client, label="owner", tenant_kind="merchant")
    admin, _ = await create_member(client, owner, role="admin")
    _, other_mid = await create_member(client, owner, role="viewer")
    r = await client.patch(
        f"/api/v1/members/{other_mid}", json={"role": "owner"}, headers=admin.headers
    )
    assert r.status_code == 403
    members = (await client.get("/api/v1/members", headers=owner.headers)).json()["items"]
    owner_mid = next(m["id"] for m in members if m["role"] == "owner")
    r = await client.delete(f"/api/v1/members/{owner_mid}", headers=admin.headers)
    assert r.status_code == 403
    r = await client.patch(
        f"/api/v1/members/{other_mid}", json={"role": "owner"}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["role"] == "owner"


async def test_a_tenant_always_keeps_one_owner(client: httpx.AsyncClient) -> None:
    owner = await create_user(client, label="solo", tenant_kind="merchant")
    members = (await client.get("/api/v1/members", headers=owner.headers)).json()["items"]
    mid = members[0]["id"]
    r = await client.patch(f"/api/v1/members/{mid}", json={"role": "viewer"}, headers=owner.headers)
    assert r.status_code == 409 and r.json()["type"] == "urn:daihuo:problem:last-owner"
    r = await client.delete(f"/api/v1/members/{mid}", headers=owner.headers)
    assert r.status_code == 409


async def test_a_user_in_two_tenants_chooses_one_per_request(client: httpx.AsyncClient) -> None:
    a = await create_user(client, label="a", tenant_kind="merchant")
    b = await create_user(client, label="b", tenant_kind="supplier")
    both, _ = await create_member(client, a, role="viewer", label="both")
    r = await client.post(
        "/api/v1/members", json={"email": both.email, "role": "operator"}, headers=b.headers
    )
    assert r.status_code == 201
    # Without a choice there is no current tenant.
    r = await client.get("/api/v1/tenant", headers=both.headers)
    assert r.status_code == 403 and r.json()["type"] == "urn:daihuo:problem:no-tenant"
    for tenant in (a.tenant_id, b.tenant_id):
        r = await client.get(
            "/api/v1/tenant", headers={**both.headers, "X-Daihuo-Tenant": tenant or ""}
        )
        assert r.status_code == 200 and r.json()["id"] == tenant
