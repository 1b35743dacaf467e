"""Orders: ``/api/v1``. Paying and refunding, which involve the payment provider, are
in ``daihuo.payments.api``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.core.batch import GroupCommit
from daihuo.core.db import commit, rollback
from daihuo.core.errors import problems
from daihuo.core.gate import gated
from daihuo.core.pagination import Page, PageParams, page_params
from daihuo.core.types import ResourceId
from daihuo.ledger.schemas import RecordLinks
from daihuo.live import errors as live_errors
from daihuo.orders import errors, service
from daihuo.orders.domain import OrderState
from daihuo.orders.models import Order
from daihuo.orders.schemas import (
    DeliveryAddress,
    HistoryRead,
    OrderCreate,
    OrderRead,
    RefundRejection,
    RefundRequest,
    Shipment,
)
from daihuo.settlement.service import Policy
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_principal, get_session, require, require_user
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1")


AUTH = (*tenancy_errors.AUTH, tenancy_errors.PermissionDenied)
ACT = (
    *AUTH,
    errors.OrderNotFound,
    errors.NotYourRole,
    errors.InvalidOrderTransition,
    errors.OrderChanged,
)


def window(request: Request) -> timedelta:
    return timedelta(seconds=request.app.state.settings.order_reservation_seconds)


def _page(orders: list[Order] | Any, cursor: str | None, w: timedelta) -> Page[OrderRead]:
    return Page(items=[service.read(o, w) for o in orders], next_cursor=cursor)


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    tags=["orders"],
    responses=problems(
        *AUTH,
        errors.OutOfStock,
        errors.PurchaseLimitReached,
        errors.QuantityTooLarge,
        catalog_errors.ProductNotFound,
        catalog_errors.ProductNotListed,
        catalog_errors.PriceOutOfRange,
        live_errors.CouponNotFound,
        live_errors.CouponUsed,
        live_errors.CouponExpired,
        live_errors.CouponNotApplicable,
    ),
)
async def place_order(
    request: Request,
    data: OrderCreate,
    principal: Principal = Depends(require_user),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Buy from a merchant's showcase (send an Idempotency-Key); reserves the stock and
    spends the coupon named by ``coupon_id``, if any."""
    max_quantity = request.app.state.settings.order_max_quantity
    writer: GroupCommit = request.app.state.writer
    await rollback(session)  # authenticated; the order is written in the writer's batch

    order = await writer.run_grouped(
        service.PLACEMENT,
        service.OrderRequest(principal, data, max_quantity),
        tenant_id=principal.tenant_id,
    )
    return service.read(order, window(request))


@router.get("/me/orders", tags=["orders"], responses=problems(*AUTH))
async def my_orders(
    request: Request,
    state: OrderState | None = Query(default=None),
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require_user),
    session: AsyncSession = Depends(get_session),
) -> Page[OrderRead]:
    """The signed-in user's purchases."""
    orders, cursor = await service.list_my_orders(session, principal, params, state)
    return _page(orders, cursor, window(request))


@router.get(
    "/orders",
    tags=["orders"],
    responses=problems(*AUTH, tenancy_errors.NoTenant, catalog_errors.WrongTenantKind),
)
async def tenant_orders(
    request: Request,
    state: OrderState | None = Query(default=None),
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Permission.orders_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[OrderRead]:
    """Orders the caller's merchant sold or supplier supplies."""
    orders, cursor = await service.list_tenant_orders(session, principal, params, state)
    return _page(orders, cursor, window(request))


@router.get("/orders/{order_id}", tags=["orders"], responses=problems(*AUTH, errors.OrderNotFound))
async def get_order(
    request: Request,
    order_id: ResourceId,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """An order the caller bought, sold or supplies."""
    return service.read(await service.get_order(session, principal, order_id), window(request))


@router.get(
    "/orders/{order_id}/history",
    tags=["orders"],
    responses=problems(*AUTH, errors.OrderNotFound),
)
async def order_history(
    order_id: ResourceId,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> list[HistoryRead]:
    """Every transition of the order: from, to, who and when."""
    return await service.order_history(session, principal, order_id)


@router.get(
    "/orders/{order_id}/ledger",
    tags=["orders"],
    responses=problems(*AUTH, errors.OrderNotFound),
)
async def order_ledger(
    order_id: ResourceId,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> RecordLinks:
    """The order's entries in the transparency log, with links to their proofs."""
    return await service.ledger_links(session, principal, order_id)


@router.post(
    "/orders/{order_id}/cancel",
    dependencies=[Depends(gated)],
    tags=["orders"],
    responses=problems(*ACT),
)
async def cancel_order(
    request: Request,
    order_id: ResourceId,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Cancel an unpaid order (buyer or merchant); the stock is released."""
    order = await service.cancel_order(session, principal, order_id)
    await commit(session)
    return service.read(order, window(request))


@router.put(
    "/orders/{order_id}/address",
    dependencies=[Depends(gated)],
    tags=["orders"],
    responses=problems(*ACT, errors.AddressLocked),
)
async def set_address(
    request: Request,
    order_id: ResourceId,
    data: DeliveryAddress,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Give or correct the delivery address (the buyer, until the order ships)."""
    order = await service.set_address(session, principal, order_id, data)
    await commit(session)
    return service.read(order, window(request))


@router.post(
    "/orders/{order_id}/ship",
    dependencies=[Depends(gated)],
    tags=["orders"],
    responses=problems(*ACT, errors.AddressMissing),
)
async def ship_order(
    request: Request,
    order_id: ResourceId,
    data: Shipment,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Mark a paid order shipped with its carrier and tracking number (supplier)."""
    order = await service.ship_order(session, principal, order_id, data)
    await commit(session)
    return service.read(order, window(request))


@router.post(
    "/orders/{order_id}/deliver",
    dependencies=[Depends(gated)],
    tags=["orders"],
    responses=problems(*ACT),
)
async def deliver_order(
    request: Request,
    order_id: ResourceId,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Mark a shipped order delivered (supplier)."""
    policy = Policy.from_settings(request.app.state.settings)
    order = await service.deliver_order(session, principal, order_id, policy=policy)
    await commit(session)
    return service.read(order, window(request))


@router.post(
    "/orders/{order_id}/complete",
    dependencies=[Depends(gated)],
    tags=["orders"],
    responses=problems(*ACT),
)
async def complete_order(
    request: Request,
    order_id: ResourceId,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Confirm receipt of a delivered order (buyer)."""
    order = await service.complete_order(session, principal, order_id)
    await commit(session)
    return service.read(order, window(request))


@router.post(
    "/orders/{order_id}/refund-request",
    dependencies=[Depends(gated)],
    tags=["orders"],
    responses=problems(*ACT, errors.InvalidRefundAmount),
)
async def request_refund(
    request: Request,
    order_id: ResourceId,
    data: RefundRequest,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Ask for all or part of a paid order's money back."""
    order = await service.request_refund(session, principal, order_id, data)
    await commit(session)
    return service.read(order, window(request))


@router.post(
    "/orders/{order_id}/refund-reject",
    dependencies=[Depends(gated)],
    tags=["orders"],
    responses=problems(*ACT),
)
async def reject_refund(
    request: Request,
    order_id: ResourceId,
    data: RefundRejection,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> OrderRead:
    """Turn a refund request down with a reason (merchant or supplier)."""
    order = await service.reject_refund(session, principal, order_id, data.reason)
    await commit(session)
    return service.read(order, window(request))
