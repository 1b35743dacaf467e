"""Orders in the console (``/console/orders``): the supplier ships, the merchant follows.

A merchant or supplier member with ``orders:read`` sees its tenant's orders, newest
first, filtered by state ("to ship" is ``paid``) with cursor paging, each with its
delivery address — the supplier needs it to ship. A supplier whose role may change
orders ships a paid order with its carrier and tracking number, and records the delivery
of a shipped one, from the same page. Both forms carry the session's CSRF token and go
through the order service, which checks the transition and records who did it; a
refused form (empty carrier, a tracking number with spaces, an order another member has
shipped meanwhile) is shown beside its order and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.core.db import commit
from daihuo.core.gate import gated
from daihuo.core.pagination import InvalidCursor, PageParams
from daihuo.orders import errors as order_errors
from daihuo.orders import service as orders
from daihuo.orders.domain import OrderState
from daihuo.orders.schemas import OrderRead, Shipment
from daihuo.pages.console import (
    _signed_in,
    _signed_post,
    render,
)
from daihuo.settlement.service import Policy
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, Principal, TenantKind

router = APIRouter(prefix="/console", include_in_schema=False)
OrderKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
PAGE = 50
# The tabs: "to ship" first, as the supplier's day starts there.
TABS: tuple[str, ...] = ("paid", "shipped", "refund_requested", "created", "all")
MAX_CURSOR = 200


def window(request: Request) -> timedelta:
    """The reservation window in force, which an unpaid order's expiry is read with."""
    return timedelta(seconds=request.app.state.settings.order_reservation_seconds)


def _refused(request: Request, principal: Principal) -> HTMLResponse | None:
    if (
        principal.tenant_kind in (TenantKind.merchant, TenantKind.supplier)
        and Permission.orders_read in principal.permissions
    ):
        return None
    return render(
        request,
        "console/message.html",
        principal=principal,
        status_code=403,
        message="no_tenant" if principal.tenant_id is None else "orders_denied",
    )


def _may_ship(principal: Principal) -> bool:
    return (
        principal.tenant_kind is TenantKind.supplier
        and Permission.orders_write in principal.permissions
    )


async def _page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    params: Mapping[str, str],
    *,
    status_code: int = 200,
    failed: Mapping[str, str] | None = None,
) -> HTMLResponse:
    tab = params.get("state", "paid")
    if tab not in TABS:
        tab = "paid"
    cursor = params.get("cursor") or None
    bad_cursor = cursor is not None and len(cursor) > MAX_CURSOR
    found: list[OrderRead] = []
    next_cursor: str | None = None
    if not bad_cursor:
        try:
            rows, next_cursor = await orders.list_tenant_orders(
                session,
                principal,
                PageParams(limit=PAGE, cursor=cursor),
                None if tab == "all" else OrderState(tab),
            )
            found = [orders.read(o, window(request)) for o in rows]
        except InvalidCursor:
            bad_cursor = True
    return render(
        request,
        "console/orders.html",
        status_code=422 if bad_cursor else status_code,
        principal=principal,
        tabs=TABS,
        tab=tab,
        orders=found,
        next_cursor=next_cursor,
        first_page=cursor is None,
        bad_cursor=bad_cursor,
        may_ship=_may_ship(principal),
        failed=failed or {},
    )


@router.get("/orders", response_class=HTMLResponse)
async def order_list(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """The tenant's orders by state; suppliers ship from here."""
    principal = await _signed_in(request, session, _refused)
    if not isinstance(principal, Principal):
        return principal
    return await _page(request, session, principal, request.query_params)


async def _act(request: Request, session: AsyncSession, order_id: str, action: str) -> Response:
    posted = await _signed_post(request, session, _refused)
    if isinstance(posted, Response):
        return posted
    principal, form = posted
    if not _may_ship(principal):
        return render(
            request,
            "console/message.html",
            principal=principal,
            status_code=403,
            message="orders_ship_denied",
        )
    back = {"state": form.get("state", "paid")}
    error: str | None = None
    typed: dict[str, Any] = {}
    try:
        if action == "ship":
            typed = {
                "carrier": form.get("carrier", "").strip(),
                "tracking_no": form.get("tracking_no", "").strip(),
            }
            try:
                data = Shipment(**typed)
            except ValidationError:
                error = "orders_err_shipment"
            else:
                await orders.ship_order(session, principal, order_id, data)
        else:
            policy = Policy.from_settings(request.app.state.settings)
            await orders.deliver_order(session, principal, order_id, policy=policy)
        if error is None:
            await commit(session)
    except (order_errors.InvalidOrderTransition, order_errors.OrderChanged):
        error = "orders_err_changed"
    except (order_errors.OrderNotFound, catalog_errors.WrongTenantKind):
        error = "orders_err_gone"
    except order_errors.NotYourRole:
        error = "orders_ship_denied"
    except order_errors.AddressMissing:
        error = "orders_err_address"
    if error is not None:
        await session.rollback()
        return await _page(
            request,
            session,
            principal,
            back,
            status_code=409 if error == "orders_err_changed" else 422,
            failed={"order": order_id, "message": error, **typed},
        )
    return RedirectResponse(
        f"/console/orders?state={back['state'] if back['state'] in TABS else 'paid'}"
        f"&done={order_id}",
        status_code=303,
    )


@router.post("/orders/{order_id}/ship", response_class=HTMLResponse, dependencies=[Depends(gated)])
async def ship(
    request: Request, order_id: OrderKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Ship a paid order with its carrier and tracking number (supplier)."""
    return await _act(request, session, order_id, "ship")


@router.post(
    "/orders/{order_id}/deliver", response_class=HTMLResponse, dependencies=[Depends(gated)]
)
async def deliver(
    request: Request, order_id: OrderKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Record the delivery of a shipped order (supplier)."""
    return await _act(request, session, order_id, "deliver")
