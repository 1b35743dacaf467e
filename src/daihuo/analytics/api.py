"""Session reports: ``/api/v1/sessions/{id}/report`` (the metric dictionary)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics import crossview, engine, review, service
from daihuo.analytics.crossview import CrossReport
from daihuo.analytics.export import to_csv, to_html
from daihuo.analytics.live import LiveFeed
from daihuo.analytics.schemas import SessionScore
from daihuo.catalog import errors as catalog_errors
from daihuo.core.db import rollback
from daihuo.core.errors import NotFound, Unauthorized, problems
from daihuo.events.sink import EventSink
from daihuo.events.store import session_events
from daihuo.live import domain as live_domain
from daihuo.live import errors as live_errors
from daihuo.live import service as live
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require, require_platform
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1", tags=["analytics"])
SessionKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:.\-]+$")]
AUTH = (Unauthorized, tenancy_errors.InvalidToken, tenancy_errors.TokenExpired)
DENIED = catalog_errors.DENIED


class NoEventsYet(NotFound):
    slug, title = "no-events-yet", "The session has no recorded events yet"


def get_sink(request: Request) -> EventSink:
    sink: EventSink = request.app.state.event_sink
    return sink


@router.get(
    "/sessions/{session_id}/report",
    responses={
        **problems(*AUTH, *DENIED, live_errors.LiveSessionNotFound, NoEventsYet),
        200: {
            "description": "JSON, or the review export as CSV or a self-contained HTML page.",
            "content": {"text/csv": {}, "text/html": {}},
        },
    },
    response_model=None,
)
async def session_report(
    session_id: SessionKey,
    format: Literal["json", "csv", "html"] = Query("json"),
    previous: int = Query(
        review.DEFAULT_PREVIOUS,
        ge=0,
        le=review.MOST_PREVIOUS,
        description="How many of the merchant's previous ended sessions to compare with.",
    ),
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
    sink: EventSink = Depends(get_sink),
) -> dict[str, Any] | Response:
    """A session's figures as shared/spec/metrics.md defines them (the CLI's JSON shape)
    with the review's markers and comparison, or its review export (format=csv|html)."""
    # The merchant's own live sessions, and its shop's orders outside any session.
    live_session = None
    if session_id != f"shop:{principal.tenant_id}":
        live_session = await live.get_session(session, principal, session_id)
    figures = await asyncio.to_thread(lambda: engine.session_report(sink.flushed(), session_id))
    if figures is None:
        raise NoEventsYet(f"No events of session {session_id} are stored yet.")
    report: dict[str, Any] = {"sessions": {session_id: figures}, "markers": [], "comparison": None}
    if live_session is not None:
        extras = await crossview.review_extras(
            session, principal, sink.flushed(), live_session, figures, previous
        )
        report.update(extras.model_dump(mode="json"))
    if format == "csv":
        name = f'attachment; filename="{session_id.replace(":", "_")}.csv"'
        return Response(to_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": name})  # fmt: skip
    if format == "html":
        return Response(to_html(report), media_type="text/html; charset=utf-8")
    return report


def get_feed(request: Request) -> LiveFeed:
    feed: LiveFeed = request.app.state.live_feed
    return feed


async def _own_live_session(
    session: AsyncSession, principal: Principal, session_id: str
) -> tuple[str, dict[str, str]]:
    """Check the session is the caller's merchant's: its state and its product titles by
    product id. The database connection goes back to the pool at once (a feed holds none)."""
    try:
        live_session = await live.get_session(session, principal, session_id)
    finally:
        await rollback(session)
    titles = {p.product_id: p.title for p in live_session.products}
    titles.update({p.item_id: p.title for p in live_session.products})
    return live_session.state, titles


def _sse(event: str, snap: dict[str, Any]) -> str:
    return (
        f"event: {event}\ndata: {json.dumps(snap, ensure_ascii=False, separators=(',', ':'))}\n\n"
    )


@router.get(
    "/sessions/{session_id}/live",
    responses={
        **problems(*AUTH, *DENIED, live_errors.LiveSessionNotFound, live_errors.SessionNotLive),
        200: {
            "description": "Server-sent events: a `snapshot` about every second, then one "
            "`end` (the final figures) when the session ends.",
            "content": {"text/event-stream": {}},
        },
    },
    response_class=StreamingResponse,
)
async def live_feed(
    request: Request,
    session_id: SessionKey,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
    feed: LiveFeed = Depends(get_feed),
) -> StreamingResponse:
    """The live figures of a live session as server-sent events (docs/analytics.md); an
    ended session gets its final figures as one `end` event."""
    state, titles = await _own_live_session(session, principal, session_id)
    if state == live_domain.SCHEDULED:
        raise live_errors.SessionNotLive(f"Session {session_id} has not started yet.")
    every = request.app.state.settings.live_feed_seconds

    async def stream() -> AsyncIterator[str]:
        ended = state == live_domain.ENDED
        while True:
            snap = await feed.snapshot(session_id, titles=titles)
            if ended or snap["state"] == "ended":
                snap["state"] = "ended"
                yield _sse("end", snap)
                return
            yield _sse("snapshot", snap)
            await asyncio.sleep(every)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.get(
    "/sessions/{session_id}/live/tile",
    responses=problems(*AUTH, *DENIED, live_errors.LiveSessionNotFound),
)
async def live_tile(
    session_id: SessionKey,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
    feed: LiveFeed = Depends(get_feed),
) -> dict[str, Any]:
    """The live tile of a session: its figures so far and the last five minutes, once
    (the same object as one message of the feed)."""
    _, titles = await _own_live_session(session, principal, session_id)
    return await feed.snapshot(session_id, titles=titles)


@router.get(
    "/sessions/{session_id}/authenticity",
    responses=problems(*AUTH, *DENIED, live_errors.LiveSessionNotFound, NoEventsYet),
)
async def session_authenticity(
    session_id: SessionKey,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
    sink: EventSink = Depends(get_sink),
) -> dict[str, Any]:
    """The authenticity scan of a session's stored events: suspicious users and orders
    with their reasons, raw and verified figures, the score (docs/authenticity.md)."""
    if session_id != f"shop:{principal.tenant_id}":
        await live.get_session(session, principal, session_id)

    def scan() -> dict[str, Any] | None:
        from daihuo.authenticity.scan import scan_session  # numpy/scipy: load when needed

        events = list(session_events(sink.flushed(), session_id))
        return scan_session(session_id, events) if events else None

    result = await asyncio.to_thread(scan)
    if result is None:
        raise NoEventsYet(f"No events of session {session_id} are stored yet.")
    return {"sessions": {session_id: result}}


@router.get("/platform/authenticity", responses=problems(*AUTH, *DENIED))
async def suspicious_sessions(
    limit: int = Query(50, ge=1, le=200),
    _: Principal = Depends(require_platform),
    session: AsyncSession = Depends(get_session),
) -> list[SessionScore]:
    """Finished sessions of every merchant, least authentic first, from the reports
    published in the transparency log."""
    return await service.session_scores(session, limit)


CrossDays = Query(90, ge=1, le=366, description="Sessions that started in the last N days.")


@router.get("/analytics/merchant", responses=problems(*AUTH, *DENIED))
async def merchant_analytics(
    days: int = CrossDays,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
    sink: EventSink = Depends(get_sink),
) -> CrossReport:
    """The merchant's sessions over time: GMV, refund-adjusted GMV, best products and
    best hours (Asia/Shanghai)."""
    return await crossview.merchant_report(session, principal, sink.flushed(), days)


@router.get("/analytics/supplier", responses=problems(*AUTH, *DENIED))
async def supplier_analytics(
    days: int = CrossDays,
    principal: Principal = Depends(require(Permission.orders_read)),
    session: AsyncSession = Depends(get_session),
    sink: EventSink = Depends(get_sink),
) -> CrossReport:
    """The supplier's products sold in any merchant's sessions: per session, GMV,
    refund-adjusted GMV, best products and best hours (Asia/Shanghai)."""
    return await crossview.supplier_report(session, principal, sink.flushed(), days)
