"""Every query of the tenancy module. Tenant scoping is applied by the session
(see ``daihuo.core.db``); the few cross-tenant reads say so with ``UNSCOPED``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import UNSCOPED
from daihuo.core.pagination import PageParams, paginate
from daihuo.tenancy.models import ApiKey, AuthToken, LoginFailure, Membership, Tenant, User


class TenancyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # users (global rows)
    async def user_by_email(self, email: str) -> User | None:
        return (await self.session.execute(select(User).where(User.email == email))).scalar()

    async def user(self, user_id: str) -> User | None:
        return await self.session.get(User, user_id)

    async def users(self, ids: Sequence[str]) -> dict[str, User]:
        rows = (await self.session.execute(select(User).where(User.id.in_(ids)))).scalars()
        return {u.id: u for u in rows}

    # tenants (global rows; a caller sees its own through its membership)
    async def tenant(self, tenant_id: str) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def tenants_page(self, params: PageParams) -> tuple[Sequence[Tenant], str | None]:
        return await paginate(self.session, select(Tenant), Tenant.id, params)

    # memberships (tenant-scoped)
    async def memberships_of_user(self, user_id: str) -> list[tuple[Membership, Tenant]]:
        stmt = (
            select(Membership, Tenant)
            .join(Tenant, Tenant.id == Membership.tenant_id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.id)
            .execution_options(**UNSCOPED)
        )
        return [(m, t) for m, t in (await self.session.execute(stmt)).all()]

    async def membership(self, membership_id: str) -> Membership | None:
        stmt = select(Membership).where(Membership.id == membership_id)
        return (await self.session.execute(stmt)).scalar()

    async def membership_of(self, user_id: str) -> Membership | None:
        stmt = select(Membership).where(Membership.user_id == user_id)
        return (await self.session.execute(stmt)).scalar()

    async def memberships_page(self, params: PageParams) -> tuple[Sequence[Membership], str | None]:
        return await paginate(self.session, select(Membership), Membership.id, params)

    async def count_owners(self) -> int:
        stmt = select(func.count()).select_from(Membership).where(Membership.role == "owner")
        return int((await self.session.execute(stmt)).scalar_one())

    # API keys (tenant-scoped; found across tenants only to authenticate)
    async def api_key_by_hash(self, secret_hash: str) -> ApiKey | None:
        stmt = select(ApiKey).where(ApiKey.secret_hash == secret_hash).execution_options(**UNSCOPED)
        return (await self.session.execute(stmt)).scalar()

    async def touch_api_key(self, key_id: str, now: datetime, resolution: timedelta) -> None:
        stmt = (
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - resolution))
            .values(last_used_at=now)
            .execution_options(**UNSCOPED)
        )
        await self.session.execute(stmt)

    async def api_key(self, key_id: str) -> ApiKey | None:
        return (await self.session.execute(select(ApiKey).where(ApiKey.id == key_id))).scalar()

    async def api_keys_page(self, params: PageParams) -> tuple[Sequence[ApiKey], str | None]:
        return await paginate(self.session, select(ApiKey), ApiKey.id, params)

    # tokens
    async def token_by_hash(self, secret_hash: str) -> AuthToken | None:
        stmt = select(AuthToken).where(AuthToken.secret_hash == secret_hash)
        return (await self.session.execute(stmt)).scalar()

    # login failures
    async def count_failures(self, *, email: str, ip: str, since: datetime) -> tuple[int, int]:
        by_email = select(func.count()).where(LoginFailure.email == email, LoginFailure.at >= since)
        by_ip = select(func.count()).where(LoginFailure.ip == ip, LoginFailure.at >= since)
        return (
            int((await self.session.execute(by_email)).scalar_one()),
            int((await self.session.execute(by_ip)).scalar_one()),
        )

    async def prune_failures(self, before: datetime) -> None:
        await self.session.execute(delete(LoginFailure).where(LoginFailure.at < before))

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def delete(self, obj: object) -> None:
        await self.session.delete(obj)

    async def flush(self) -> None:
        await self.session.flush()
