"""Review insights over HTTP: ``GET /api/v1/sessions/{id}/insights`` (included by
:mod:`daihuo.assistant.api`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.assistant import service
from daihuo.assistant.insights import Insight
from daihuo.catalog import errors as catalog_errors
from daihuo.core.errors import Unauthorized, problems
from daihuo.events.sink import EventSink
from daihuo.live import errors as live_errors
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter()  # mounted under /api/v1 by assistant.api
SessionKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:.\-]+$")]
AUTH = (Unauthorized, tenancy_errors.InvalidToken, tenancy_errors.TokenExpired)


def get_sink(request: Request) -> EventSink:
    sink: EventSink = request.app.state.event_sink
    return sink


# --- review insights ----------------------------------------------------------------------


class InsightRead(BaseModel):
    kind: str
    money_fen: int = Field(description="Money at stake, fen (how each kind estimates it: "
                           "docs of daihuo.assistant.insights).")  # fmt: skip
    anchor: str = Field(description="`minute:37`, `product:p1`, `flash_sale:f1` or "
                        "`authenticity`.")  # fmt: skip
    element_id: str = Field(description="The review page's element of the anchor.")
    product: str | None
    minute: int | None
    figures: dict[str, int | float | None]
    rows: list[dict[str, Any]]
    title: str
    text: str


class SessionInsights(BaseModel):
    session: str
    lang: Literal["zh", "en"]
    insights: list[InsightRead] = Field(description="Most money at stake first.")


def element_id(anchor: str) -> str:
    return anchor.replace(":", "-", 1)


def _read(found: Insight, lang: Literal["zh", "en"]) -> InsightRead:
    return InsightRead(
        kind=found.kind,
        money_fen=found.money_fen,
        anchor=found.anchor,
        element_id=element_id(found.anchor),
        product=found.product,
        minute=found.minute,
        figures=found.figures,
        rows=found.rows,
        title=found.title_zh if lang == "zh" else found.title_en,
        text=found.text_zh if lang == "zh" else found.text_en,
    )


@router.get(
    "/sessions/{session_id}/insights",
    responses=problems(*AUTH, *catalog_errors.DENIED, live_errors.LiveSessionNotFound),
)
async def session_insights(
    session_id: SessionKey,
    lang: Literal["zh", "en"] = Query("zh"),
    verified: bool = Query(
        True, description="Include what the authenticity scan's verified figures change."
    ),
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
    sink: EventSink = Depends(get_sink),
) -> SessionInsights:
    """A session's review insights, ranked by money at stake (none without events)."""
    found = await service.session_insights(
        session, principal, sink.flushed(), session_id, verified=verified
    )
    return SessionInsights(session=session_id, lang=lang, insights=[_read(i, lang) for i in found])
