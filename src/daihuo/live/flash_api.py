"""Flash sales (秒杀): ``/api/v1/live-sessions/{id}/flash-sales`` and ``/api/v1/flash-sales``.

The host sets units aside at a sale price while the session is live; buyers race with
``POST /flash-sales/{id}/buy``; each winner gets an order to pay within the reservation
window. See ``live/flash.py`` for how the race is kept exact across processes.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import FlashSaleCreate, FlashSaleRead
from daihuo.core.clock import utcnow
from daihuo.core.db import commit_then
from daihuo.core.errors import problems
from daihuo.core.types import STRICT_INPUT, ResourceId
from daihuo.live import errors, protocol, service
from daihuo.live.flash import FlashSales
from daihuo.live.room import FLASH_SALES, RoomHub
from daihuo.orders import service as orders
from daihuo.orders.schemas import DeliveryAddress, OrderRead
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require, require_user
from daihuo.tenancy.domain import Permission, Principal, TenantKind

router = APIRouter(prefix="/api/v1", tags=["flash sales"])
AUTH, DENIED = tenancy_errors.AUTH, catalog_errors.DENIED


class FlashBuy(BaseModel):
    model_config = STRICT_INPUT
    quantity: int = Field(default=1, ge=1, le=100)
    address: DeliveryAddress | None = Field(default=None, description="Where to ship it.")


async def announce(hub: RoomHub, sale: FlashSaleRead) -> None:
    """Tell the sale's room (started, ended)."""
    if sale.session_id is None:
        return
    body = protocol.room_message("flash_sale", sale=sale.model_dump(mode="json"))
    await hub.bus.publish(sale.session_id, body, keep=FLASH_SALES)


@router.post(
    "/live-sessions/{session_id}/flash-sales",
    status_code=status.HTTP_201_CREATED,
    responses=problems(
        *AUTH,
        *DENIED,
        errors.LiveSessionNotFound,
        errors.SessionStateConflict,
        catalog_errors.ShowcaseItemNotFound,
        catalog_errors.ProductNotListed,
        catalog_errors.PriceOutOfRange,
        catalog_errors.InsufficientStock,
    ),
)
async def create_flash_sale(
    request: Request,
    session_id: ResourceId,
    data: FlashSaleCreate,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> FlashSaleRead:
    """Start a flash sale in a live session: units of a showcase SKU at a sale price."""
    await service.moderate(session, principal, session_id)
    sale = catalog.flash_read(
        await catalog.create_flash_sale(session, principal, data, session_id=session_id)
    )
    hub: RoomHub = request.app.state.rooms

    await commit_then(session, announce(hub, sale))
    return sale


@router.get(
    "/live-sessions/{session_id}/flash-sales",
    responses=problems(errors.LiveSessionNotFound),
)
async def list_flash_sales(
    session_id: ResourceId, session: AsyncSession = Depends(get_session)
) -> list[FlashSaleRead]:
    """The flash sales of a live or ended session, oldest first (public, like its room)."""
    if await service.room(session, session_id) is None:
        raise errors.LiveSessionNotFound()
    sales = await catalog.list_flash_sales(session, session_id=session_id)
    return [catalog.flash_read(s) for s in sales]


@router.get("/flash-sales/{sale_id}", responses=problems(catalog_errors.FlashSaleNotFound))
async def get_flash_sale(
    sale_id: ResourceId, session: AsyncSession = Depends(get_session)
) -> FlashSaleRead:
    """One flash sale with the units it has left (public)."""
    return catalog.flash_read(await catalog.get_flash_sale(session, sale_id))


@router.post(
    "/flash-sales/{sale_id}/buy",
    status_code=status.HTTP_201_CREATED,
    responses=problems(
        *AUTH,
        catalog_errors.FlashSaleNotFound,
        catalog_errors.FlashSaleNotRunning,
        catalog_errors.FlashSoldOut,
        catalog_errors.FlashLimitReached,
    ),
)
async def buy(
    request: Request,
    sale_id: ResourceId,
    data: FlashBuy | None = None,
    principal: Principal = Depends(require_user),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Race for units (send an Idempotency-Key); a win is an order to pay in the window."""
    sale = await catalog.get_flash_sale(session, sale_id)
    now = utcnow()
    if sale.ended_at is not None or not sale.starts_at <= now < sale.ends_at:
        raise catalog_errors.FlashSaleNotRunning("The flash sale is not running.")
    limit = sale.per_user_limit
    await session.rollback()
    flash: FlashSales = request.app.state.flash
    body = data or FlashBuy()
    order = await flash.buy(principal, sale_id, body.quantity, limit=limit, address=body.address)
    window = timedelta(seconds=request.app.state.settings.order_reservation_seconds)
    return orders.read(order, window)


@router.post(
    "/flash-sales/{sale_id}/end",
    responses=problems(*AUTH, *DENIED, catalog_errors.FlashSaleNotFound),
)
async def end_flash_sale(
    request: Request,
    sale_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> FlashSaleRead:
    """End the sale now; the units nobody holds go back to the SKU's stock."""
    catalog.require_kind(principal, TenantKind.merchant)
    sale = await catalog.get_flash_sale(session, sale_id)
    if sale.tenant_id != principal.tenant_id:
        raise catalog_errors.FlashSaleNotFound()
    await session.rollback()
    flash: FlashSales = request.app.state.flash
    return await flash.end(sale_id)
