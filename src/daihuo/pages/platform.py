"""The platform operator's overview in the console (``/console/platform``).

For members of the platform tenant with ``platform:tenants``: every tenant on the platform
(name, kind, opening date) with the count of each kind, the platform's own books — its fee
revenue held and available, and the payments clearing account — and the number of products
waiting in the review queue, linked to it. The operator's session deliberately sees every
tenant, as the platform API's does (``tenancy.deps.require_platform``).
"""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import service as catalog
from daihuo.core.db import scope_session
from daihuo.core.pagination import PageParams
from daihuo.pages.console import MANY, _principal, _to_login, render
from daihuo.settlement import service as settlement
from daihuo.tenancy import service as tenancy
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, TenantKind
from daihuo.tenancy.schemas import TenantRead

router = APIRouter(prefix="/console", include_in_schema=False)
MOST_TENANTS = 2000  # read at most this many tenants (pages of MANY)


@router.get("/platform", response_class=HTMLResponse)
async def platform(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Tenants, the platform's books and the review queue, for the platform's operators."""
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    if (
        principal.tenant_kind is not TenantKind.platform
        or Permission.platform_tenants not in principal.permissions
    ):
        return render(
            request,
            "console/message.html",
            principal=principal,
            status_code=403,
            message="platform_denied",
        )
    scope_session(session, None, all_tenants=True)
    tenants: list[TenantRead] = []
    cursor: str | None = None
    while len(tenants) < MOST_TENANTS:
        page, cursor = await tenancy.list_tenants(session, PageParams(limit=MANY, cursor=cursor))
        tenants += [TenantRead.model_validate(t) for t in page]
        if cursor is None:
            break
    kinds = Counter(t.kind.value for t in tenants)
    books = await settlement.balances(session, settlement.owner_of(principal))
    waiting = 0
    if Permission.products_review in principal.permissions:
        queue, more = await catalog.review_queue(session, principal, PageParams(limit=MANY))
        waiting = len(queue)
        waiting_more = more is not None
    else:
        waiting_more = False
    return render(
        request,
        "console/platform.html",
        principal=principal,
        tenants=sorted(tenants, key=lambda t: t.created_at, reverse=True),
        kinds=kinds,
        books=books,
        waiting=waiting,
        waiting_more=waiting_more,
    )
