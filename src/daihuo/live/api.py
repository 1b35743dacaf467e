"""Live sessions: ``/api/v1/live-sessions``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.core.db import commit
from daihuo.core.errors import Unauthorized, problems
from daihuo.core.pagination import InvalidCursor, Page, PageParams, page_params
from daihuo.core.types import ResourceId
from daihuo.live import errors, service
from daihuo.live.schemas import LiveSessionCreate, LiveSessionRead, ProductListSet
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1", tags=["live"])
AUTH = (
    Unauthorized,
    tenancy_errors.InvalidToken,
    tenancy_errors.TokenExpired,
    tenancy_errors.CsrfFailed,
)
DENIED = (
    tenancy_errors.PermissionDenied,
    tenancy_errors.NoTenant,
    catalog_errors.WrongTenantKind,
)


@router.get("/live-sessions", responses=problems(*AUTH, *DENIED, InvalidCursor))
async def list_sessions(
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[LiveSessionRead]:
    """The merchant's live sessions with their product lists."""
    items, cursor = await service.list_sessions(session, principal, params)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/live-sessions",
    status_code=status.HTTP_201_CREATED,
    responses=problems(*AUTH, *DENIED, errors.UnknownShowcaseItems),
)
async def schedule_session(
    data: LiveSessionCreate,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """Schedule a live session with a product list from the showcase."""
    live = await service.schedule(session, principal, data)
    await commit(session)
    return live


@router.get(
    "/live-sessions/{session_id}",
    responses=problems(*AUTH, *DENIED, errors.LiveSessionNotFound),
)
async def get_session_(
    session_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """One live session with its product list."""
    return await service.get_session(session, principal, session_id)


@router.put(
    "/live-sessions/{session_id}/products",
    responses=problems(
        *AUTH,
        *DENIED,
        errors.LiveSessionNotFound,
        errors.UnknownShowcaseItems,
        errors.SessionNotEditable,
    ),
)
async def set_products(
    session_id: ResourceId,
    data: ProductListSet,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """Arrange the session's product list (running order) before it starts."""
    live = await service.set_products(session, principal, session_id, data.products)
    await commit(session)
    return live
