"""Parties for the settlement tests: a supplier, two merchants and a platform operator,
made through the real API (the platform tenant through the tenancy service, as nobody
can sign one up), each with a bearer token."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from daihuo.core.db import Database, commit
from daihuo.tenancy import service as tenancy
from daihuo.tenancy.domain import TenantKind

from tests.fixtures import Account, create_user


@dataclass
class Parties:
    supplier: Account
    merchant: Account
    other_merchant: Account
    platform: Account

    @property
    def s(self) -> str:
        assert self.supplier.tenant_id is not None
        return self.supplier.tenant_id

    @property
    def m(self) -> str:
        assert self.merchant.tenant_id is not None
        return self.merchant.tenant_id

    @property
    def m2(self) -> str:
        assert self.other_merchant.tenant_id is not None
        return self.other_merchant.tenant_id


async def create_parties(client: httpx.AsyncClient, db: Database) -> Parties:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    other = await create_user(client, label="other_merchant", tenant_kind="merchant")
    platform = await create_user(client, label="platform_admin")
    async with db.session(all_tenants=True) as session:
        user = await tenancy.get_user(session, platform.user_id)
        tenant = await tenancy.create_tenant(
            session, kind=TenantKind.platform, name="平台", owner=user
        )
        await commit(session)
    platform.tenant_id = tenant.id
    return Parties(supplier, merchant, other, platform)
