"""Small ``create_*`` helpers that make test data through the real API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery"
_seq = itertools.count()


@dataclass
class Account:
    email: str
    user_id: str
    token: str
    tenant_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(label: str = "user") -> str:
    return f"{label}{next(_seq)}@example.test"


async def create_user(
    client: httpx.AsyncClient, *, label: str = "user", tenant_kind: str | None = None
) -> Account:
    """Sign up (optionally opening a tenant it owns) and get a bearer token."""
    email = unique_email(label)
    body: dict[str, Any] = {"email": email, "password": PASSWORD, "display_name": label}
    if tenant_kind:
        body["tenant"] = {"kind": tenant_kind, "name": f"{label} 的店"}
    r = await client.post("/api/v1/auth/signup", json=body)
    assert r.status_code == 201, r.text
    data = r.json()
    token = await create_token(client, email)
    tenant_id = data["tenant"]["id"] if data["tenant"] else None
    return Account(email, data["user"]["id"], token, tenant_id)


async def create_token(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    r = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


async def create_member(
    client: httpx.AsyncClient, owner: Account, *, role: str, label: str | None = None
) -> tuple[Account, str]:
    """A new user added to ``owner``'s tenant with ``role``; returns it and the membership id."""
    account = await create_user(client, label=label or role)
    r = await client.post(
        "/api/v1/members", json={"email": account.email, "role": role}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    account.tenant_id = owner.tenant_id
    return account, r.json()["id"]


async def create_api_key(
    client: httpx.AsyncClient, owner: Account, *, scopes: list[str], name: str = "key"
) -> tuple[str, str]:
    """An API key of ``owner``'s tenant; returns (key id, secret)."""
    r = await client.post(
        "/api/v1/api-keys", json={"name": name, "scopes": scopes}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["secret"]


async def expire_all_tokens(database_url: str) -> None:
    """Every token's expiry moved into the past, through the ORM of this process."""
    from datetime import timedelta

    from sqlalchemy import update

    from daihuo.core.clock import utcnow
    from daihuo.core.db import Database
    from daihuo.tenancy.models import AuthToken

    db = Database(database_url)
    try:
        async with db.session(all_tenants=True) as s:
            await s.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
            await s.commit()
    finally:
        await db.dispose()
