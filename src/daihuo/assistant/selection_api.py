"""``GET /api/v1/assistant/recommendations``: selection picks (选品) for a merchant's staff."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.assistant import selection
from daihuo.assistant.selection import Recommendations
from daihuo.catalog import errors as catalog_errors
from daihuo.core.errors import Unauthorized, problems
from daihuo.events.sink import EventSink
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(tags=["assistant"])
AUTH = (Unauthorized, tenancy_errors.InvalidToken, tenancy_errors.TokenExpired)


def get_sink(request: Request) -> EventSink:
    sink: EventSink = request.app.state.event_sink
    return sink


@router.get(
    "/assistant/recommendations",
    responses=problems(*AUTH, *catalog_errors.DENIED, selection.SelectionUnavailable),
)
async def recommendations(
    limit: int = Query(10, ge=1, le=selection.MAX_LIMIT),
    exclude_showcase: bool = Query(
        False, description="Leave out products already in the merchant's showcase."
    ),
    principal: Principal = Depends(require(Permission.pool_read)),
    session: AsyncSession = Depends(get_session),
    sink: EventSink = Depends(get_sink),
) -> Recommendations:
    """Supply-pool products the merchant has not sold yet, ranked for its audience, with
    reasons (aggregates over other merchants only; cold-start rules without history)."""
    return await selection.recommendations(
        session, principal, sink.flushed(), limit=limit, exclude_showcase=exclude_showcase
    )
