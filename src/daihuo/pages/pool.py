"""The supply pool in the console (``/console/pool``): search, filter and pick (选品).

Every signed-in tenant with ``pool:read`` may browse the listed products of every supplier,
with the filters of ``GET /api/v1/pool/products`` (words segmented by jieba, category,
price range, commission, stock; sorted by newest, sales, commission or price) and its
cursor paging. A merchant whose role may change the showcase picks a product at its own
selling price, inside the supplier's range, from the same page: the form carries the
session's CSRF token, and a refused pick (price outside the range, already picked,
delisted meanwhile) is shown on the page with nothing changed.

Prices are typed in yuan as the merchant thinks of them and turned into integer fen with
``Decimal`` (never a float); more than two decimals is refused, not rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, get_args
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.catalog import service as catalog
from daihuo.catalog.domain import MAX_COMMISSION_BPS, MAX_PRICE_FEN
from daihuo.catalog.schemas import PoolProduct, PoolQuery, ShowcaseCreate, SortKey
from daihuo.core.db import commit
from daihuo.core.pagination import InvalidCursor, PageParams
from daihuo.pages import selection
from daihuo.pages.console import (
    MANY,
    _signed_in,
    _signed_post,
    render,
)
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, Principal, TenantKind

router = APIRouter(prefix="/console", include_in_schema=False)
ProductKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
PAGE = 24
SORTS: tuple[str, ...] = get_args(SortKey)
MAX_WORDS = 100
MAX_CATEGORY = 60
MOST_SHOWCASE = 2000  # read at most this many showcase items to mark what is picked


def yuan_to_fen(text: str) -> int:
    """``"39.9"`` → 3990. Raises ValueError for anything but a plain amount in yuan with
    at most two decimals inside the catalogue's price range."""
    text = text.strip().removeprefix("¥").strip()
    if not text or len(text) > 16:
        raise ValueError(text)
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(text)
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(text)  # a fraction of a fen: refused, never rounded
    if fen > MAX_PRICE_FEN:
        raise ValueError(text)
    return int(fen)


def percent_to_bps(text: str) -> int:
    """``"12.5"`` (per cent) → 1250 basis points, inside the commission range."""
    try:
        value = Decimal(text.strip().removesuffix("%").strip())
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not value.is_finite() or value < 0:
        raise ValueError(text)
    bps = value * 100
    if bps != bps.to_integral_value() or bps > MAX_COMMISSION_BPS:
        raise ValueError(text)
    return int(bps)


def fen_to_yuan(fen: int) -> str:
    """The form's default text for an amount: ``3990`` → ``"39.90"``."""
    return f"{fen // 100}.{fen % 100:02d}"


def _whole(text: str, most: int) -> int:
    if not text.strip().isdecimal():
        raise ValueError(text)
    value = int(text.strip())
    if value > most:
        raise ValueError(text)
    return value


def parse_filters(params: Mapping[str, str]) -> tuple[PoolQuery, dict[str, str], dict[str, str]]:
    """The page's query string → the pool query, the form's values as typed, and the
    message key of each field that is wrong (then nothing is searched)."""
    typed = {
        key: params.get(key, "").strip()
        for key in ("q", "category", "price_min", "price_max", "commission_min", "stock_min")
    }
    typed["sort"] = params.get("sort", "newest")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if len(typed["q"]) > MAX_WORDS:
        errors["q"] = "err_too_long"
    if len(typed["category"]) > MAX_CATEGORY:
        errors["category"] = "err_too_long"
    for key in ("price_min", "price_max"):
        if typed[key]:
            try:
                values[key] = yuan_to_fen(typed[key])
            except ValueError:
                errors[key] = "pool_err_amount"
    if typed["commission_min"]:
        try:
            values["commission_min"] = percent_to_bps(typed["commission_min"])
        except ValueError:
            errors["commission_min"] = "pool_err_percent"
    if typed["stock_min"]:
        try:
            values["stock_min"] = _whole(typed["stock_min"], 10**9)
        except ValueError:
            errors["stock_min"] = "pool_err_whole"
    if (
        "price_min" in values
        and "price_max" in values
        and values["price_min"] > values["price_max"]
    ):
        errors["price_max"] = "pool_err_range"
    if typed["sort"] not in SORTS:
        errors["sort"] = "pool_err_sort"
        typed["sort"] = "newest"
    cursor = params.get("cursor") or None
    if cursor is not None and len(cursor) > 200:
        errors["cursor"] = "pool_err_cursor"
        cursor = None
    query = PoolQuery(
        q=typed["q"] or None,
        category=typed["category"] or None,
        sort=typed["sort"],  # checked against SORTS above
        cursor=cursor,
        limit=PAGE,
        **values,
    )
    return query, typed, errors


async def _picked(session: AsyncSession, principal: Principal) -> set[str]:
    """The product ids already in the merchant's showcase."""
    if principal.tenant_kind is not TenantKind.merchant:
        return set()
    picked: set[str] = set()
    cursor: str | None = None
    while len(picked) < MOST_SHOWCASE:
        items, cursor = await catalog.list_showcase(
            session, principal, PageParams(limit=MANY, cursor=cursor)
        )
        picked.update(item.product_id for item in items)
        if cursor is None:
            break
    return picked


def _may_pick(principal: Principal) -> bool:
    return (
        principal.tenant_kind is TenantKind.merchant
        and Permission.showcase_write in principal.permissions
    )


def _refused(request: Request, principal: Principal) -> HTMLResponse | None:
    if principal.tenant_id is not None and Permission.pool_read in principal.permissions:
        return None
    return render(
        request,
        "console/message.html",
        principal=principal,
        status_code=403,
        message="no_tenant" if principal.tenant_id is None else "pool_denied",
    )


async def _page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    params: Mapping[str, str],
    *,
    status_code: int = 200,
    pick_error: Mapping[str, str] | None = None,
    picked_now: str | None = None,
) -> HTMLResponse:
    query, typed, errors = parse_filters(params)
    products: list[PoolProduct] = []
    next_cursor: str | None = None
    if not errors:
        try:
            products, next_cursor = await catalog.search_pool(session, principal, query)
        except InvalidCursor:
            errors["cursor"] = "pool_err_cursor"
    kept = {k: v for k, v in typed.items() if v and not (k == "sort" and v == "newest")}
    return render(
        request,
        "console/pool.html",
        status_code=422 if errors else status_code,
        principal=principal,
        products=products,
        typed=typed,
        errors=errors,
        sorts=SORTS,
        kept=kept,
        next_cursor=next_cursor,
        first_page=query.cursor is None,
        picked=await _picked(session, principal),
        may_pick=_may_pick(principal),
        pick_error=pick_error or {},
        picked_now=picked_now,
        fen_to_yuan=fen_to_yuan,
        recommended=await selection.picks(request, session, principal, params),
    )


@router.get("/pool", response_class=HTMLResponse)
async def pool(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Search and filter the supply pool; merchants pick from it."""
    principal = await _signed_in(request, session, _refused)
    if not isinstance(principal, Principal):
        return principal
    params = request.query_params
    return await _page(request, session, principal, params, picked_now=params.get("picked"))


@router.post("/pool/{product_id}/pick", response_class=HTMLResponse)
async def pick(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Put a pool product in the merchant's showcase at the price typed in yuan."""
    posted = await _signed_post(request, session, _refused)
    if isinstance(posted, Response):
        return posted
    principal, form = posted
    if not _may_pick(principal):
        return render(
            request,
            "console/message.html",
            principal=principal,
            status_code=403,
            message="pool_pick_denied",
        )
    back = form.get("back", "")
    if not back.startswith("/console/pool") or back.startswith("/console/pool/"):
        back = "/console/pool"
    error: str | None = None
    try:
        price = yuan_to_fen(form.get("price", ""))
    except ValueError:
        error = "pool_err_amount"
    else:
        try:
            await catalog.add_to_showcase(
                session, principal, ShowcaseCreate(product_id=product_id, price=price)
            )
            await commit(session)
        except catalog_errors.PriceOutOfRange:
            error = "pool_err_price_range"
        except catalog_errors.AlreadyInShowcase:
            error = "pool_err_already"
        except catalog_errors.ProductNotFound:
            error = "pool_err_gone"
    if error is not None:
        await session.rollback()
        return await _page(
            request,
            session,
            principal,
            dict(parse_qsl(back.partition("?")[2])),
            status_code=409 if error == "pool_err_already" else 422,
            pick_error={"product": product_id, "message": error, "price": form.get("price", "")},
        )
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}picked={product_id}", status_code=303)
