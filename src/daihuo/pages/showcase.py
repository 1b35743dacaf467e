"""The merchant's showcase in the console (``/console/showcase``): what it sells, at its price.

Every item the merchant picked from the supply pool, with the supplier's range, the
commission it earns and the product's state (a delisted product stays in the showcase
but cannot be bought). A member whose role may change the showcase sets a new price —
typed in yuan, refused outside the supplier's range — or takes an item out. Both forms
carry the session's CSRF token; a refusal is shown beside its item with nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.catalog import service as catalog
from daihuo.core.db import commit
from daihuo.core.pagination import PageParams
from daihuo.pages.console import (
    MANY,
    _not_merchant,
    _signed_in,
    _signed_post,
    render,
)
from daihuo.pages.pool import fen_to_yuan, yuan_to_fen
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/console", include_in_schema=False)
ItemKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


def _may_write(principal: Principal) -> bool:
    return Permission.showcase_write in principal.permissions


async def _page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    status_code: int = 200,
    failed: Mapping[str, str] | None = None,
) -> HTMLResponse:
    items, _ = await catalog.list_showcase(session, principal, PageParams(limit=MANY))
    return render(
        request,
        "console/showcase.html",
        status_code=status_code,
        principal=principal,
        items=items,
        may_write=_may_write(principal),
        failed=failed or {},
        fen_to_yuan=fen_to_yuan,
    )


@router.get("/showcase", response_class=HTMLResponse)
async def showcase(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """The merchant's showcase: its items, prices and commissions."""
    principal = await _signed_in(request, session, _not_merchant)
    if not isinstance(principal, Principal):
        return principal
    return await _page(request, session, principal)


async def _act(request: Request, session: AsyncSession, item_id: str, action: str) -> Response:
    posted = await _signed_post(request, session, _not_merchant)
    if isinstance(posted, Response):
        return posted
    principal, form = posted
    if not _may_write(principal):
        return render(
            request, "console/message.html", principal=principal, status_code=403,
            message="pool_pick_denied",
        )  # fmt: skip
    error: str | None = None
    try:
        if action == "price":
            try:
                price = yuan_to_fen(form.get("price", ""))
            except ValueError:
                error = "pool_err_amount"
            else:
                await catalog.update_showcase(session, principal, item_id, price)
        else:
            await catalog.remove_from_showcase(session, principal, item_id)
        if error is None:
            await commit(session)
    except catalog_errors.PriceOutOfRange:
        error = "pool_err_price_range"
    except catalog_errors.ShowcaseItemNotFound:
        error = "showcase_err_gone"
    if error is not None:
        await session.rollback()
        failed = {"item": item_id, "message": error, "price": form.get("price", "")}
        return await _page(request, session, principal, status_code=422, failed=failed)
    return RedirectResponse("/console/showcase", status_code=303)


@router.post("/showcase/{item_id}/price", response_class=HTMLResponse)
async def set_price(
    request: Request, item_id: ItemKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Sell an item at a new price (yuan), inside the supplier's range."""
    return await _act(request, session, item_id, "price")


@router.post("/showcase/{item_id}/remove", response_class=HTMLResponse)
async def remove(
    request: Request, item_id: ItemKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Take an item out of the showcase."""
    return await _act(request, session, item_id, "remove")
