"""The caller's settlement books: ``/api/v1/settlement``.

A supplier or merchant sees its own accounts; a platform operator sees the platform's
(revenue and clearing). The owner always comes from the caller's credential, never
from the request.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.errors import Unauthorized, problems
from daihuo.settlement import errors, service
from daihuo.settlement.domain import Statement, statement_csv
from daihuo.settlement.schemas import (
    AccountBalance,
    AccountStatementRead,
    BalancesRead,
    StatementLineRead,
    StatementRead,
)
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1/settlement", tags=["settlement"])

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = "A UTC date (2026-03-01: its midnight) or an RFC 3339 time with an offset."


AUTH = (Unauthorized, tenancy_errors.InvalidToken, tenancy_errors.TokenExpired)
DENIED = (tenancy_errors.PermissionDenied, tenancy_errors.NoTenant)


def parse_instant(value: str, name: str) -> datetime:
    try:
        if _DATE.match(value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise errors.InvalidPeriod(f"'{name}' is not a date or an RFC 3339 time.") from exc
    if parsed.tzinfo is None:
        raise errors.InvalidPeriod(f"'{name}' needs a UTC offset (for example Z or +08:00).")
    return parsed.astimezone(UTC)


def _statement_read(s: Statement) -> StatementRead:
    return StatementRead(
        owner_id=s.owner_id,
        start=s.start,
        end=s.end,
        opening=s.opening,
        closing=s.closing,
        accounts=[
            AccountStatementRead(
                account=a.account,
                opening=a.opening,
                closing=a.closing,
                lines=[
                    StatementLineRead(
                        at=line.at,
                        event=line.kind,
                        order_id=line.order_id,
                        refund_id=line.refund_id,
                        amount=line.amount,
                        balance=line.balance,
                    )
                    for line in a.lines
                ],
            )
            for a in s.accounts
        ],
    )


@router.get("/balances", responses=problems(*AUTH, *DENIED))
async def get_balances(
    principal: Principal = Depends(require(Permission.settlement_read)),
    session: AsyncSession = Depends(get_session),
) -> BalancesRead:
    """The caller's settlement balances in fen: held, available and per account."""
    b = await service.balances(session, service.owner_of(principal))
    return BalancesRead(
        owner_id=b.owner_id,
        held=b.held,
        available=b.available,
        accounts=[AccountBalance(account=k, balance=v) for k, v in b.accounts.items()],
    )


@router.get(
    "/statement",
    response_model=StatementRead,
    responses={
        200: {
            "description": "The statement as JSON, or as CSV with format=csv.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problems(*AUTH, *DENIED, errors.InvalidPeriod),
    },
)
async def get_statement(
    from_: Annotated[
        str, Query(alias="from", min_length=10, max_length=40, description=f"{_INSTANT} Inclusive.")
    ],
    to: Annotated[str, Query(min_length=10, max_length=40, description=f"{_INSTANT} Exclusive.")],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    principal: Principal = Depends(require(Permission.settlement_read)),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The caller's statement for [from, to): opening balance, lines, closing balance."""
    start, end = parse_instant(from_, "from"), parse_instant(to, "to")
    s = await service.statement(session, service.owner_of(principal), start, end)
    if format == "csv":
        name = f"statement-{s.owner_id}-{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}.csv"
        return Response(
            statement_csv(s),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(_statement_read(s).model_dump(mode="json"))
