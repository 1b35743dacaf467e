"""Session reports: ``/api/v1/sessions/{id}/report`` (the metric dictionary)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics import engine
from daihuo.catalog import errors as catalog_errors
from daihuo.core.errors import NotFound, Unauthorized, problems
from daihuo.events.sink import EventSink
from daihuo.live import errors as live_errors
from daihuo.live import service as live
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1", tags=["analytics"])
SessionKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:.\-]+$")]
AUTH = (Unauthorized, tenancy_errors.InvalidToken, tenancy_errors.TokenExpired)
DENIED = (
    tenancy_errors.PermissionDenied,
    tenancy_errors.NoTenant,
    catalog_errors.WrongTenantKind,
)


class NoEventsYet(NotFound):
    slug, title = "no-events-yet", "The session has no recorded events yet"


def get_sink(request: Request) -> EventSink:
    sink: EventSink = request.app.state.event_sink
    return sink


@router.get(
    "/sessions/{session_id}/report",
    responses=problems(*AUTH, *DENIED, live_errors.LiveSessionNotFound, NoEventsYet),
)
async def session_report(
    session_id: SessionKey,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
    sink: EventSink = Depends(get_sink),
) -> dict[str, Any]:
    """A session's figures as shared/spec/metrics.md defines them (the CLI's JSON shape)."""
    # The merchant's own live sessions, and its shop's orders outside any session.
    if session_id != f"shop:{principal.tenant_id}":
        await live.get_session(session, principal, session_id)
    figures = await asyncio.to_thread(lambda: engine.session_report(sink.flushed(), session_id))
    if figures is None:
        raise NoEventsYet(f"No events of session {session_id} are stored yet.")
    return {"sessions": {session_id: figures}}
