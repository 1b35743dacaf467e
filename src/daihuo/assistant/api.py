"""The assistant's HTTP API under ``/api/v1``: triage, answer drafts, insights, selection."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.assistant import selection_api
from daihuo.assistant.drafts_api import router as drafts_router
from daihuo.assistant.insights_api import router as insights_router
from daihuo.assistant.room import Pin, RoomProduct, TriageFeed, shape
from daihuo.catalog import errors as catalog_errors
from daihuo.core.db import rollback
from daihuo.core.errors import Unauthorized, problems
from daihuo.live import errors as live_errors
from daihuo.live import service as live
from daihuo.live.room import RoomHub
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1", tags=["assistant"])

SessionKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:.\-]+$")]
AUTH = (Unauthorized, tenancy_errors.InvalidToken, tenancy_errors.TokenExpired)
DENIED = catalog_errors.DENIED


def get_triage(request: Request) -> TriageFeed:
    feed: TriageFeed = request.app.state.comment_triage
    return feed


def _ms(at: Any) -> int:
    return int(at.timestamp() * 1000)


@router.get(
    "/sessions/{session_id}/assistant/comments",
    responses=problems(*AUTH, *DENIED, live_errors.LiveSessionNotFound),
)
async def session_comments(
    request: Request,
    session_id: SessionKey,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
    feed: TriageFeed = Depends(get_triage),
) -> dict[str, Any]:
    """The comment triage of a live session so far: the question queue, after-sales
    complaints and purchase intents per product (the merchant's staff only)."""
    try:
        live_session = await live.get_session(session, principal, session_id)
        periods = await live.pin_history(session, principal, live_session)
    finally:
        await rollback(session)  # the connection goes back before the triage is read
    products = [
        RoomProduct(p.position, p.item_id, p.product_id, p.title) for p in live_session.products
    ]
    pins = [Pin(p.item_id, _ms(p.start), None if p.end is None else _ms(p.end)) for p in periods]
    state = await feed.read(session_id)
    shaped = shape(session_id, state, products, pins)
    # The queue shows comments as the room did: masked by the merchant's word filter.
    hub: RoomHub = request.app.state.rooms
    words = await hub.word_filter(str(principal.tenant_id))
    for entry in (*shaped["questions"], *shaped["complaints"]):
        entry["text"] = words.mask(entry["text"])
    return shaped


# Answer drafts (issue 10, item 2): their routes live in drafts_api.
router.include_router(drafts_router)
router.include_router(insights_router)  # review insights: GET /sessions/{id}/insights
router.include_router(selection_api.router)  # selection (选品)
