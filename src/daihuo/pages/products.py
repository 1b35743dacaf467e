"""Products in the console: the supplier's list and new-product form, the platform's review.

* ``/console/products`` — the supplier's own products with their state; a draft (or a
  product sent back with the reviewer's reason) is submitted for review, a listed one
  delisted, from the list.
* ``/console/products/new`` — a new product: title, category, description, attributes
  (one ``name: value`` per line), the selling price range in yuan, the commission in per
  cent, an optional per-buyer limit, the facts hosts answer viewers with (material,
  shipping promise, usage; an FAQ as ``问题 | 回答`` lines and a size chart as
  ``尺码 | 身高 | 体重 | 备注`` lines), and up to ``SKU_ROWS`` SKUs (code, options as
  ``颜色=红, 尺码=M``, price in yuan, stock); blank SKU rows are ignored. Saved as a draft,
  or submitted for review at once. Every field is checked by the catalogue's own schema
  and rules; a refused form comes back with the values as typed and the reason beside
  each wrong field, and nothing is saved.
* ``/console/review`` — the platform's review queue, oldest first, each product in full
  (description, attributes, SKUs); approve lists it in the supply pool, reject sends it
  back to draft with a reason the supplier sees.

Money is typed in yuan and turned into integer fen with ``Decimal`` (``pool.yuan_to_fen``);
every form carries the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import ProductCreate, ProductRead, Rejection
from daihuo.core.db import commit, scope_session
from daihuo.core.pagination import PageParams
from daihuo.pages.console import MANY, _checked_form, _principal, _to_login, render
from daihuo.pages.pool import percent_to_bps, yuan_to_fen
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, Principal, TenantKind

router = APIRouter(prefix="/console", include_in_schema=False)
ProductKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
SKU_ROWS = 5
SKU_FIELDS = ("code", "spec", "price", "stock")
TEXT_FIELDS = ("title", "category", "description", "attributes", "price_min", "price_max")
REVIEW_PAGE = 20
_PAIR = re.compile(r"\s*[=:：]\s*")
_LIST = re.compile(r"[,，;；]")


# --- the form: text as typed → ProductCreate, or the reason for each wrong field -------------


def parse_pairs(text: str, *, lines: bool) -> dict[str, str]:
    """``"颜色=红, 尺码=M"`` (or, with ``lines``, one ``name: value`` per line) → a dict.
    Raises ValueError when a part lacks a name or a value, or a name repeats."""
    found: dict[str, str] = {}
    parts = text.splitlines() if lines else _LIST.split(text)
    for part in parts:
        if not part.strip():
            continue
        pieces = _PAIR.split(part.strip(), maxsplit=1)
        if len(pieces) != 2 or not pieces[0] or not pieces[1] or pieces[0] in found:
            raise ValueError(part)
        found[pieces[0]] = pieces[1]
    return found


def parse_faq(text: str) -> list[dict[str, str]]:
    """One ``问题 | 回答`` per line → the FAQ's entries; ValueError on a line without both."""
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        q, bar, a = line.partition("|")
        if not bar or not q.strip() or not a.strip():
            raise ValueError(line)
        entries.append({"q": q.strip(), "a": a.strip()})
    return entries


def _span(text: str) -> list[int] | None:
    """``"160-170"`` → [160, 170]; empty → None; ValueError otherwise."""
    if not text.strip():
        return None
    lo, dash, hi = text.strip().partition("-")
    if not dash or not lo.strip().isdigit() or not hi.strip().isdigit():
        raise ValueError(text)
    return [int(lo), int(hi)]


def parse_size_chart(text: str) -> list[dict[str, Any]]:
    """One ``尺码 | 身高cm | 体重kg | 备注`` per line (``M | 160-170 | 50-60 | 胸围 96``;
    the ranges and the note may be left empty) → the size chart's rows."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if not parts[0] or len(parts) > 4:
            raise ValueError(line)
        parts += [""] * (4 - len(parts))
        row: dict[str, Any] = {"size": parts[0], "note": parts[3]}
        height, weight = _span(parts[1]), _span(parts[2])
        if height is not None:
            row["height_cm"] = height
        if weight is not None:
            row["weight_kg"] = weight
        rows.append(row)
    return rows


FACT_TEXTS = ("material", "shipping_promise", "usage")


def parse_product_form(
    form: Mapping[str, str],
) -> tuple[ProductCreate | None, dict[str, str], dict[str, str]]:
    """The new-product form → the product to create (None when anything is wrong), the
    values as typed, and the message key of each wrong field (keys like ``sku1_price``)."""
    typed = {key: form.get(key, "").strip() for key in (*TEXT_FIELDS, "commission", "limit")}
    typed["description"] = form.get("description", "").strip()
    typed["attributes"] = form.get("attributes", "").strip()
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "title": typed["title"],
        "category": typed["category"],
        "description": typed["description"],
    }
    try:
        body["attributes"] = parse_pairs(typed["attributes"], lines=True)
    except ValueError:
        errors["attributes"] = "prod_err_pairs"
    for key in ("price_min", "price_max"):
        try:
            body[key] = yuan_to_fen(typed[key])
        except ValueError:
            errors[key] = "pool_err_amount"
    try:
        body["commission_bps"] = percent_to_bps(typed["commission"])
    except ValueError:
        errors["commission"] = "pool_err_percent"
    if typed["limit"]:
        if typed["limit"].isdigit() and 1 <= int(typed["limit"]) <= 1_000_000:
            body["max_per_user"] = int(typed["limit"])
        else:
            errors["limit"] = "prod_err_limit"
    facts: dict[str, Any] = {}
    for key in FACT_TEXTS:
        typed[f"facts_{key}"] = form.get(f"facts_{key}", "").strip()
        if typed[f"facts_{key}"]:
            facts[key] = typed[f"facts_{key}"]
    typed["facts_faq"] = form.get("facts_faq", "").strip()
    typed["facts_size_chart"] = form.get("facts_size_chart", "").strip()
    try:
        facts["faq"] = parse_faq(typed["facts_faq"])
    except ValueError:
        errors["facts_faq"] = "prod_err_faq"
    try:
        facts["size_chart"] = parse_size_chart(typed["facts_size_chart"])
    except ValueError:
        errors["facts_size_chart"] = "prod_err_size_chart"
    body["facts"] = facts
    skus: list[dict[str, Any]] = []
    rows: list[int] = []
    for i in range(SKU_ROWS):
        row = {f: form.get(f"sku{i}_{f}", "").strip() for f in SKU_FIELDS}
        typed.update({f"sku{i}_{f}": v for f, v in row.items()})
        if not any(row.values()):
            continue
        sku: dict[str, Any] = {"code": row["code"]}
        try:
            sku["spec"] = parse_pairs(row["spec"], lines=False)
        except ValueError:
            errors[f"sku{i}_spec"] = "prod_err_pairs"
        try:
            sku["price"] = yuan_to_fen(row["price"])
        except ValueError:
            errors[f"sku{i}_price"] = "pool_err_amount"
        if row["stock"].isdigit():
            sku["stock"] = int(row["stock"])
        else:
            errors[f"sku{i}_stock"] = "pool_err_whole"
        skus.append(sku)
        rows.append(i)
    if not skus:
        errors["sku0_code"] = "prod_err_no_sku"
    body["skus"] = skus
    if errors:
        return None, typed, errors
    try:
        return ProductCreate(**body), typed, {}
    except ValidationError as exc:
        for problem in exc.errors():
            loc = problem["loc"]
            if not loc:  # the schema's own check across fields: unique SKU codes
                key = "prod_err_sku_codes" if "SKU codes" in problem["msg"] else "prod_err_field"
                errors.setdefault("sku0_code", key)
            elif loc[0] == "skus" and len(loc) >= 3 and isinstance(loc[1], int):
                field = {"spec": "spec", "code": "code"}.get(str(loc[2]), str(loc[2]))
                errors.setdefault(f"sku{rows[loc[1]]}_{field}", "prod_err_field")
            elif loc[0] == "skus":
                errors.setdefault("sku0_code", "prod_err_sku_codes")
            elif loc[0] == "commission_bps":
                errors.setdefault("commission", "pool_err_percent")
            elif loc[0] == "max_per_user":
                errors.setdefault("limit", "prod_err_limit")
            elif loc[0] == "facts":
                part = str(loc[1]) if len(loc) > 1 else "faq"
                key = {"faq": "prod_err_faq", "size_chart": "prod_err_size_chart"}.get(
                    part, "prod_err_field"
                )
                errors.setdefault(f"facts_{part}", key)
            else:
                errors.setdefault(str(loc[0]), "prod_err_field")
        return None, typed, errors


# --- who may ----------------------------------------------------------------------------


def _supplier_refused(request: Request, principal: Principal, *, write: bool) -> Response | None:
    if principal.tenant_kind is not TenantKind.supplier:
        return RedirectResponse("/console/dashboard", status_code=303)
    if write and Permission.catalog_write not in principal.permissions:
        return render(
            request,
            "console/message.html",
            principal=principal,
            status_code=403,
            message="prod_write_denied",
        )
    return None


def _may_write(principal: Principal) -> bool:
    return Permission.catalog_write in principal.permissions


# --- the supplier's pages ---------------------------------------------------------------


async def _list(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    status_code: int = 200,
    failed: Mapping[str, str] | None = None,
) -> HTMLResponse:
    found, _ = await catalog.list_products(session, principal, PageParams(limit=MANY), None)
    return render(
        request,
        "console/products.html",
        status_code=status_code,
        principal=principal,
        products=found,
        may_write=_may_write(principal),
        created=request.query_params.get("created"),
        failed=failed or {},
    )


@router.get("/products", response_class=HTMLResponse)
async def products(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """The supplier's own products: state, price range, stock, review notes."""
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    refused = _supplier_refused(request, principal, write=False)
    if refused is not None:
        return refused
    return await _list(request, session, principal)


def _new_form(
    request: Request,
    principal: Principal,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/product_new.html",
        status_code=status_code,
        principal=principal,
        typed=typed or {},
        errors=errors or {},
        sku_rows=SKU_ROWS,
    )


@router.get("/products/new", response_class=HTMLResponse)
async def new_product_form(
    request: Request, session: AsyncSession = Depends(get_session)
) -> Response:
    """The new-product form."""
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    refused = _supplier_refused(request, principal, write=True)
    if refused is not None:
        return refused
    return _new_form(request, principal)


@router.post("/products/new", response_class=HTMLResponse)
async def create_product(
    request: Request, session: AsyncSession = Depends(get_session)
) -> Response:
    """Save a new product as a draft, or submit it for review at once."""
    form, forged = await _checked_form(request, session)
    if forged is not None:
        return forged
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    refused = _supplier_refused(request, principal, write=True)
    if refused is not None:
        return refused
    data, typed, errors = parse_product_form(form)
    if data is None:
        return _new_form(request, principal, typed, errors, status_code=422)
    try:
        made = await catalog.create_product(session, principal, data)
        if form.get("submit") == "review":
            await catalog.submit_product(session, principal, made.id)
        await commit(session)
    except (catalog_errors.PriceOutOfRange, catalog_errors.InvalidPriceRange) as exc:
        await session.rollback()
        key = "price_max" if isinstance(exc, catalog_errors.InvalidPriceRange) else "price_min"
        return _new_form(request, principal, typed, {key: "prod_err_prices"}, status_code=422)
    except catalog_errors.DuplicateSkuCode:
        await session.rollback()
        return _new_form(request, principal, typed, {"sku0_code": "prod_err_sku_codes"}, 422)
    return RedirectResponse(f"/console/products?created={made.id}", status_code=303)


async def _supplier_act(
    request: Request, session: AsyncSession, product_id: str, action: str
) -> Response:
    _, forged = await _checked_form(request, session)
    if forged is not None:
        return forged
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    refused = _supplier_refused(request, principal, write=True)
    if refused is not None:
        return refused
    try:
        if action == "submit":
            await catalog.submit_product(session, principal, product_id)
        else:
            await catalog.delist_product(session, principal, product_id)
        await commit(session)
    except (catalog_errors.InvalidProductTransition, catalog_errors.ProductNotFound) as exc:
        await session.rollback()
        gone = isinstance(exc, catalog_errors.ProductNotFound)
        failed = {"product": product_id, "message": "prod_err_gone" if gone else "prod_err_state"}
        return await _list(request, session, principal, status_code=409, failed=failed)
    return RedirectResponse("/console/products", status_code=303)


@router.post("/products/{product_id}/submit", response_class=HTMLResponse)
async def submit(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Send a draft or delisted product to the platform for review."""
    return await _supplier_act(request, session, product_id, "submit")


@router.post("/products/{product_id}/delist", response_class=HTMLResponse)
async def delist(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Take a listed product out of the supply pool."""
    return await _supplier_act(request, session, product_id, "delist")


# --- the platform's review queue -----------------------------------------------------------


async def _reviewer(request: Request, session: AsyncSession) -> Principal | Response:
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    if (
        principal.tenant_kind is not TenantKind.platform
        or Permission.products_review not in principal.permissions
    ):
        return render(
            request,
            "console/message.html",
            principal=principal,
            status_code=403,
            message="review_denied",
        )
    # A reviewer's session deliberately sees every supplier's products (as the API's).
    scope_session(session, None, all_tenants=True)
    return principal


async def _queue(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    status_code: int = 200,
    failed: Mapping[str, str] | None = None,
) -> HTMLResponse:
    items, _ = await catalog.review_queue(session, principal, PageParams(limit=REVIEW_PAGE))
    details: list[ProductRead] = [
        await catalog.review_detail(session, principal, item.id) for item in items
    ]
    names = {
        p.supplier_id: await catalog.tenant_name(session, p.supplier_id) or p.supplier_id
        for p in details
    }
    return render(
        request,
        "console/review_queue.html",
        status_code=status_code,
        principal=principal,
        products=details,
        names=names,
        failed=failed or {},
    )


@router.get("/review", response_class=HTMLResponse)
async def review_queue(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Products waiting for the platform's review, each in full."""
    who = await _reviewer(request, session)
    if not isinstance(who, Principal):
        return who
    return await _queue(request, session, who)


@router.post("/review/{product_id}/{decision}", response_class=HTMLResponse)
async def review(
    request: Request,
    product_id: ProductKey,
    decision: Annotated[str, Path(pattern="^(approve|reject)$")],
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Approve a product into the pool, or send it back with a reason."""
    form, forged = await _checked_form(request, session)
    if forged is not None:
        return forged
    who = await _reviewer(request, session)
    if not isinstance(who, Principal):
        return who
    try:
        if decision == "approve":
            await catalog.approve_product(session, who, product_id)
        else:
            try:
                reason = Rejection(reason=form.get("reason", "").strip()).reason
            except ValidationError:
                failed = {"product": product_id, "message": "review_err_reason"}
                return await _queue(request, session, who, status_code=422, failed=failed)
            await catalog.reject_product(session, who, product_id, reason)
        await commit(session)
    except (catalog_errors.InvalidProductTransition, catalog_errors.ProductNotFound):
        await session.rollback()
        failed = {"product": product_id, "message": "review_err_state"}
        return await _queue(request, session, who, status_code=409, failed=failed)
    return RedirectResponse("/console/review", status_code=303)
