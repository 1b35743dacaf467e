"""Answer drafts over HTTP: ``POST /api/v1/sessions/{id}/assistant/drafts`` (the host's
big screen) and ``POST /api/v1/products/{id}/answer-draft`` (outside a session).

Both only read: a draft is shown to the merchant's staff and sent to the room only when
the host sends it as a comment. An unknown or other shop's product is a 200 whose draft
says so (see ``assistant.drafts``); an unknown or other merchant's session is a 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.assistant import drafts
from daihuo.assistant.draft_schemas import DraftRequest, DraftsRead, QuestionAsked
from daihuo.catalog import errors as catalog_errors
from daihuo.core.errors import problems
from daihuo.core.types import ResourceId
from daihuo.live import errors as live_errors
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(tags=["assistant"])
AUTH, DENIED = tenancy_errors.AUTH, catalog_errors.DENIED


@router.post(
    "/sessions/{session_id}/assistant/drafts",
    responses=problems(*AUTH, *DENIED, live_errors.LiveSessionNotFound),
)
async def session_answer_drafts(
    session_id: ResourceId,
    data: DraftRequest,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> DraftsRead:
    """Draft answers to a viewer's question about the named or the pinned product."""
    return await drafts.session_drafts(session, principal, session_id, data)


@router.post("/products/{product_id}/answer-draft", responses=problems(*AUTH, *DENIED))
async def product_answer_drafts(
    product_id: ResourceId,
    data: QuestionAsked,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> DraftsRead:
    """Draft answers to a question about a product of the caller's showcase."""
    return await drafts.product_drafts(session, principal, product_id, data)
