"""Settlement in the console (``/console/settlement``): balances and the statement.

A member with ``settlement:read`` (owners and admins) of a supplier, a merchant or the
platform sees its accounts' balances — money still held (the holding period after
delivery, so refunds can claw it back) and money available — and the statement of a
period: per account, the opening balance, every posting (payment, refund, release) with
its order and the running balance, and the closing balance. The period is typed as two
dates in China time, ``from`` inclusive and ``to`` inclusive (the whole day), the way
merchants read their books; it defaults to the current month. The same statement comes
as CSV from ``GET /api/v1/settlement/statement?format=csv``, which the page links to.

Everything is read through the settlement service: the page adds no figure of its own
beyond sums the statement already carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.clock import utcnow
from daihuo.pages.console import CHINA_TIME, _signed_in, render
from daihuo.settlement import errors as settlement_errors
from daihuo.settlement import service as settlement
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/console", include_in_schema=False)


def china_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, CHINA_TIME)


def parse_period(
    params: Mapping[str, str], today: date
) -> tuple[date, date, dict[str, str], dict[str, str]]:
    """The page's ``from``/``to`` dates (China time, both inclusive) → the period, the
    form's values as typed, and the message key of each wrong field. Defaults: the first
    of this month to today."""
    typed = {
        "from": params.get("from", "").strip() or today.replace(day=1).isoformat(),
        "to": params.get("to", "").strip() or today.isoformat(),
    }
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for key, value in typed.items():
        try:
            if len(value) != 10:
                raise ValueError(value)
            days[key] = date.fromisoformat(value)
        except ValueError:
            errors[key] = "settle_err_date"
    if not errors and days["from"] > days["to"]:
        errors["to"] = "settle_err_order"
    first = days.get("from", today)
    last = days.get("to", today)
    return first, last, typed, errors


def _refused(request: Request, principal: Principal) -> HTMLResponse | None:
    if principal.tenant_id is not None and Permission.settlement_read in principal.permissions:
        return None
    return render(
        request,
        "console/message.html",
        principal=principal,
        status_code=403,
        message="no_tenant" if principal.tenant_id is None else "settle_denied",
    )


@router.get("/settlement", response_class=HTMLResponse)
async def settlement_page(
    request: Request, session: AsyncSession = Depends(get_session)
) -> Response:
    """Balances and the statement of a period, in China time."""
    principal = await _signed_in(request, session, _refused)
    if not isinstance(principal, Principal):
        return principal
    owner = settlement.owner_of(principal)
    balances = await settlement.balances(session, owner)
    today = utcnow().astimezone(CHINA_TIME).date()
    first, last, typed, errors = parse_period(request.query_params, today)
    statement = None
    csv_link = None
    if not errors:
        start = china_day_start(first)
        end = china_day_start(last + timedelta(days=1))
        try:
            statement = await settlement.statement(session, owner, start, end)
        except settlement_errors.InvalidPeriod as exc:
            errors["to"] = "settle_err_period"
            typed["why"] = str(exc)
        else:
            query = {"from": start.isoformat(), "to": end.isoformat(), "format": "csv"}
            csv_link = f"/api/v1/settlement/statement?{urlencode(query)}"
    return render(
        request,
        "console/settlement.html",
        status_code=422 if errors else 200,
        principal=principal,
        balances=balances,
        statement=statement,
        typed=typed,
        errors=errors,
        csv_link=csv_link,
    )
