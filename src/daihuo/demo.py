"""Demo data for ``make demo``: a platform operator and a merchant with their accounts.

Idempotent: running the demo again reuses what exists. Later issues extend the seed
(suppliers' catalogue, merchants' showcases, a simulated live session).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from daihuo.config import Settings
from daihuo.core.db import Database, commit
from daihuo.tenancy import service
from daihuo.tenancy.domain import TenantKind
from daihuo.tenancy.errors import EmailTaken
from daihuo.tenancy.schemas import SignupRequest

DEMO_PASSWORD = "daihuo-demo-2026"  # noqa: S105 - a published demo credential on a local database
ACCOUNTS = [
    ("operator@daihuo.local", "平台运营", TenantKind.platform, "带货平台"),
    ("merchant@daihuo.local", "小美直播间", TenantKind.merchant, "小美的店"),
    ("supplier@daihuo.local", "源头工厂", TenantKind.supplier, "杭州源头服饰厂"),
]


@dataclass
class DemoInfo:
    lines: list[str] = field(default_factory=list)


async def seed(settings: Settings) -> DemoInfo:

    db = Database(settings.database_url)
    info = DemoInfo()
    try:
        for email, display, kind, tenant_name in ACCOUNTS:
            async with db.session(all_tenants=True) as session:
                tenant = await _ensure(session, settings, email, display, kind, tenant_name)
                await commit(session)
            info.lines.append(f"{kind.value:<9} {email} / {DEMO_PASSWORD}  tenant {tenant}")
    finally:
        await db.dispose()
    return info


async def _ensure(
    session: Any, settings: Settings, email: str, display: str, kind: TenantKind, name: str
) -> str:
    from daihuo.app import auth_config

    data = SignupRequest(email=email, password=DEMO_PASSWORD, display_name=display)
    try:
        user, _ = await service.signup(session, auth_config(settings), data)
    except EmailTaken:
        memberships = await service.memberships_of_email(session, email)
        if memberships:
            return memberships[0]
        raise
    tenant = await service.create_tenant(session, kind=kind, name=name, owner=user)
    return tenant.id
