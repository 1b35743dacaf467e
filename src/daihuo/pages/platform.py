"""The platform operator's overview in the console (``/console/platform``).

For members of the platform tenant with ``platform:tenants``: every tenant on the platform
(name, kind, opening date) with the count of each kind, the platform's own books — its fee
revenue held and available, and the payments clearing account — the number of products
waiting in the review queue, linked to it, and the authenticity alerts across merchants: of
the latest published session reports, those scoring under ``analytics.service.ALERT_BELOW``
(from the service that gives ``GET /api/v1/platform/authenticity`` its list), each with
its proof in the transparency log. The operator's session deliberately sees every tenant,
as the platform API's does (``tenancy.deps.require_platform``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics import service as analytics
from daihuo.analytics.schemas import SessionScore
from daihuo.catalog import service as catalog
from daihuo.core.db import scope_session
from daihuo.core.pagination import PageParams
from daihuo.live import service as live
from daihuo.pages.console import MANY, _principal, _to_login, render
from daihuo.settlement import service as settlement
from daihuo.tenancy import service as tenancy
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, TenantKind
from daihuo.tenancy.schemas import TenantRead

router = APIRouter(prefix="/console", include_in_schema=False)
MOST_TENANTS = 2000  # read at most this many tenants (pages of MANY)
REPORTS_READ = 200  # the alerts come from this many latest published reports (the API's most)


@dataclass(frozen=True)
class Alert:
    """A suspicious session as the page shows it."""

    score: SessionScore
    merchant_name: str
    title: str | None  # the live session's, when the report is of one
    ended_at: datetime
    reasons: list[tuple[str, float]]  # (kind, share of the session's volume), largest first


def _alert(score: SessionScore, names: dict[str, str], titles: dict[str, str]) -> Alert:
    shares = [
        (kind, float(part["share"]))
        for kind, part in score.breakdown.items()
        if isinstance(part, dict) and part.get("share")
    ]
    return Alert(
        score=score,
        merchant_name=names.get(score.merchant, score.merchant),
        title=titles.get(score.session),
        ended_at=datetime.fromisoformat(score.ended_at),
        reasons=sorted(shares, key=lambda r: -r[1]),
    )


@router.get("/platform", response_class=HTMLResponse)
async def platform(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Tenants, the platform's books, the review queue and the authenticity alerts, for the
    platform's operators."""
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
    names = {t.id: t.name for t in tenants}
    scores = await analytics.authenticity_alerts(session, REPORTS_READ)
    titles = await live.session_titles(session, [s.session for s in scores])
    alerts = [_alert(s, names, titles) for s in scores]
    return render(
        request,
        "console/platform.html",
        principal=principal,
        tenants=sorted(tenants, key=lambda t: t.created_at, reverse=True),
        kinds=kinds,
        books=books,
        waiting=waiting,
        waiting_more=waiting_more,
        alerts=alerts,
        alert_below=analytics.ALERT_BELOW,
        reports_read=REPORTS_READ,
    )
