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
* ``/console/products/{id}`` — one product: its fields (content only while a draft or
  delisted), each SKU's suggested price and options and its stock, a new SKU, its images.
  The SKU forms are checked by the catalogue's ``SkuCreate`` / ``SkuUpdate`` like the API's
  bodies; an edited row sends only what differs from the SKU as it is.
* ``/console/review`` — the platform's review queue, oldest first, each product in full
  (description, attributes, SKUs); approve lists it in the supply pool, reject sends it
  back to draft with a reason the supplier sees.

Money is typed in yuan and turned into integer fen with ``Decimal`` (``pool.yuan_to_fen``);
every form carries the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.exceptions import HTTPException as StarletteHTTPException

from daihuo.catalog import errors as catalog_errors
from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import (
    ProductCreate,
    ProductFacts,
    ProductRead,
    ProductUpdate,
    Rejection,
    SkuCreate,
    SkuRead,
    SkuUpdate,
)
from daihuo.core.db import commit, scope_session
from daihuo.core.pagination import PageParams
from daihuo.pages.console import (
    MANY,
    _checked_form,
    _csrf_ok,
    _signed_in,
    _signed_post,
    render,
)
from daihuo.pages.pool import fen_to_yuan, percent_to_bps, yuan_to_fen
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, Principal, TenantKind

router = APIRouter(prefix="/console", include_in_schema=False)
ProductKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
SKU_ROWS = 5
SKU_FIELDS = ("code", "spec", "price", "stock")
NEW_SKU = "new_"  # the add-a-SKU form's fields: new_code, new_spec, new_price, new_stock
# The product page's ?done= notices (each has its prod_done_ text).
Done = Literal["saved", "stock", "image", "sku_added", "sku_saved"]
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
    if not dash or not lo.strip().isdecimal() or not hi.strip().isdecimal():
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


def _fields(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Every field of the product form but its SKUs → the schema's body, the values as
    typed, and the message key of each wrong field."""
    typed = {key: form.get(key, "").strip() for key in (*TEXT_FIELDS, "commission", "limit")}
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
    body["max_per_user"] = None
    if typed["limit"]:
        if typed["limit"].isdecimal() and 1 <= int(typed["limit"]) <= 1_000_000:
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
    return body, typed, errors


def _schema_errors(exc: ValidationError, rows: list[int], errors: dict[str, str]) -> None:
    """The schema's refusals → the form's field keys (SKU rows by their position)."""
    for problem in exc.errors():
        loc = problem["loc"]
        if not loc:  # the schema's own checks across fields: unique SKU codes
            key = "prod_err_sku_codes" if "SKU codes" in problem["msg"] else "prod_err_field"
            errors.setdefault("sku0_code" if rows else "title", key)
        elif loc[0] == "skus" and len(loc) >= 3 and isinstance(loc[1], int):
            errors.setdefault(f"sku{rows[loc[1]]}_{loc[2]}", "prod_err_field")
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


def parse_sku_fields(
    form: Mapping[str, str], prefix: str, fields: tuple[str, ...] = SKU_FIELDS
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """One SKU's fields (named ``{prefix}code`` … for each of ``fields``) → the schema's
    body, the values as typed, and the message key of each wrong field."""
    typed = {f"{prefix}{f}": form.get(f"{prefix}{f}", "").strip() for f in fields}
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        text = typed[f"{prefix}{f}"]
        try:
            if f == "spec":
                body[f] = parse_pairs(text, lines=False)
            elif f == "price":
                body[f] = yuan_to_fen(text)
            elif f == "stock":
                if not text.isdecimal():  # "²" is a digit to isdigit, not to int
                    raise ValueError(text)
                body[f] = int(text)
            else:
                body[f] = text
        except ValueError:
            errors[f"{prefix}{f}"] = {"spec": "prod_err_pairs", "price": "pool_err_amount"}.get(
                f, "pool_err_whole"
            )
    return body, typed, errors


SkuBody = TypeVar("SkuBody", SkuCreate, SkuUpdate)
SKU_SCHEMA_ERRORS = {
    "code": "prod_err_sku_code",
    "price": "pool_err_amount",
    "stock": "pool_err_whole",
    "spec": "prod_err_sku_spec",
}


def _checked_sku(
    schema: type[SkuBody], body: dict[str, Any], prefix: str, errors: dict[str, str]
) -> SkuBody | None:
    """``body`` as the catalogue's schema takes it, or None with the reasons in ``errors``."""
    if errors:
        return None
    try:
        return schema(**body)
    except ValidationError as exc:
        for problem in exc.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "spec"
            errors.setdefault(f"{prefix}{field}", SKU_SCHEMA_ERRORS.get(field, "prod_err_field"))
        return None


def parse_new_sku(
    form: Mapping[str, str],
) -> tuple[SkuCreate | None, dict[str, str], dict[str, str]]:
    """The add-a-SKU form → the SKU to add (None when anything is wrong), the values as
    typed, and the message key of each wrong field."""
    body, typed, errors = parse_sku_fields(form, NEW_SKU)
    return _checked_sku(SkuCreate, body, NEW_SKU, errors), typed, errors


def spec_text(spec: Mapping[str, str]) -> str:
    """A SKU's options as its form shows them: ``颜色=红, 尺码=M``."""
    return ", ".join(f"{k}={v}" for k, v in spec.items())


def typed_sku(sku: SkuRead) -> dict[str, str]:
    """A SKU's row of the product page as the form shows it (keys ``{sku.id}_price`` …)."""
    return {f"{sku.id}_spec": spec_text(sku.spec), f"{sku.id}_price": fen_to_yuan(sku.price)}


def parse_sku_update(
    form: Mapping[str, str], sku: SkuRead
) -> tuple[SkuUpdate | None, dict[str, str], dict[str, str]]:
    """A SKU row's form → the change to make: only what differs from ``sku`` (a field left
    as shown is not parsed again, so options whose values hold a comma still round-trip,
    and an unchanged price is not checked against a since-narrowed range)."""
    prefix = f"{sku.id}_"
    shown = typed_sku(sku)
    edited = tuple(
        f
        for f in ("spec", "price")
        if form.get(f"{prefix}{f}", "").strip() != shown[f"{prefix}{f}"]
    )
    body, typed, errors = parse_sku_fields(form, prefix, edited)
    changed = {k: v for k, v in body.items() if v != getattr(sku, k)}
    return _checked_sku(SkuUpdate, changed, prefix, errors), {**shown, **typed}, errors


def parse_product_form(
    form: Mapping[str, str],
) -> tuple[ProductCreate | None, dict[str, str], dict[str, str]]:
    """The new-product form → the product to create (None when anything is wrong), the
    values as typed, and the message key of each wrong field (keys like ``sku1_price``)."""
    body, typed, errors = _fields(form)
    skus: list[dict[str, Any]] = []
    rows: list[int] = []
    for i in range(SKU_ROWS):
        sku, row, wrong = parse_sku_fields(form, f"sku{i}_")
        typed.update(row)
        if not any(row.values()):
            continue
        errors.update(wrong)
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
        _schema_errors(exc, rows, errors)
        return None, typed, errors


def typed_from(product: ProductRead) -> dict[str, str]:
    """A product as its edit form shows it: yuan, per cent, one pair per line."""
    facts = product.facts
    sizes = []
    for r in facts.size_chart:
        h = f"{r.height_cm[0]}-{r.height_cm[1]}" if r.height_cm else ""
        w = f"{r.weight_kg[0]}-{r.weight_kg[1]}" if r.weight_kg else ""
        sizes.append(f"{r.size} | {h} | {w} | {r.note}".rstrip(" |"))
    bps = Decimal(product.commission_bps) / 100
    return {
        "title": product.title,
        "category": product.category,
        "description": product.description,
        "attributes": "\n".join(f"{k}: {v}" for k, v in product.attributes.items()),
        "price_min": fen_to_yuan(product.price_min),
        "price_max": fen_to_yuan(product.price_max),
        "commission": f"{bps.normalize():f}",
        "limit": str(product.max_per_user or ""),
        "facts_material": facts.material or "",
        "facts_shipping_promise": facts.shipping_promise or "",
        "facts_usage": facts.usage or "",
        "facts_faq": "\n".join(f"{f.q} | {f.a}" for f in facts.faq),
        "facts_size_chart": "\n".join(sizes),
    } | {key: text for sku in product.skus for key, text in typed_sku(sku).items()}


def parse_product_update(
    form: Mapping[str, str], current: ProductRead
) -> tuple[ProductUpdate | None, dict[str, str], dict[str, str]]:
    """The edit form → the change to make: only the fields that differ from ``current``
    (so a listed product's commercial terms can change without touching its content,
    which only changes while it is a draft or delisted)."""
    body, typed, errors = _fields(form)
    if errors:
        return None, typed, errors
    was = {
        "title": current.title,
        "category": current.category,
        "description": current.description,
        "attributes": current.attributes,
        "price_min": current.price_min,
        "price_max": current.price_max,
        "commission_bps": current.commission_bps,
        "max_per_user": current.max_per_user,
    }
    try:
        facts = ProductFacts(**body["facts"])
    except ValidationError as exc:
        for problem in exc.errors():
            part = str(problem["loc"][0]) if problem["loc"] else "size_chart"
            key = {"faq": "prod_err_faq", "size_chart": "prod_err_size_chart"}.get(part)
            errors.setdefault(f"facts_{part}", key or "prod_err_field")
        return None, typed, errors
    changed: dict[str, Any] = {k: v for k, v in body.items() if k in was and v != was[k]}
    if facts != current.facts:
        changed["facts"] = facts
    try:
        return ProductUpdate(**changed), typed, {}
    except ValidationError as exc:
        _schema_errors(exc, [], errors)
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


def _supplier_reads(request: Request, principal: Principal) -> Response | None:
    return _supplier_refused(request, principal, write=False)


def _supplier_writes(request: Request, principal: Principal) -> Response | None:
    return _supplier_refused(request, principal, write=True)


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
    principal = await _signed_in(request, session, _supplier_reads)
    if not isinstance(principal, Principal):
        return principal
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
    principal = await _signed_in(request, session, _supplier_writes)
    if not isinstance(principal, Principal):
        return principal
    return _new_form(request, principal)


@router.post("/products/new", response_class=HTMLResponse)
async def create_product(
    request: Request, session: AsyncSession = Depends(get_session)
) -> Response:
    """Save a new product as a draft, or submit it for review at once."""
    posted = await _signed_post(request, session, _supplier_writes)
    if isinstance(posted, Response):
        return posted
    principal, form = posted
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
    posted = await _signed_post(request, session, _supplier_writes)
    if isinstance(posted, Response):
        return posted
    principal, _ = posted
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


# --- one product: edit, stock, images --------------------------------------------------


async def _edit_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    product: ProductRead,
    *,
    status_code: int = 200,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "console/product_edit.html",
        status_code=status_code,
        principal=principal,
        product=product,
        typed={**typed_from(product), **(typed or {})},
        errors=errors or {},
        notice=notice or request.query_params.get("done"),
        may_write=_may_write(principal),
        content_editable=product.state.value in ("draft", "delisted"),
    )


async def _own(
    request: Request, session: AsyncSession, product_id: str, *, write: bool
) -> tuple[Principal, ProductRead] | Response:
    principal = await _signed_in(request, session, _supplier_writes if write else _supplier_reads)
    if not isinstance(principal, Principal):
        return principal
    try:
        return principal, await catalog.get_product(session, principal, product_id)
    except catalog_errors.ProductNotFound:
        return render(
            request, "console/message.html", principal=principal, status_code=404,
            message="prod_err_gone",
        )  # fmt: skip


async def _own_form(
    request: Request, session: AsyncSession, product_id: str
) -> tuple[dict[str, str], Principal, ProductRead] | Response:
    """A form POSTed to one of the caller's products: the form, the caller and the product,
    or the page to answer with instead (a forged form, no right to write, no product)."""
    form, forged = await _checked_form(request, session)
    if forged is not None:
        return forged
    found = await _own(request, session, product_id, write=True)
    if not isinstance(found, tuple):
        return found
    return form, *found


async def _own_upload(
    request: Request, session: AsyncSession, product_id: str, field: str
) -> tuple[bytes, Principal, ProductRead] | Response:
    """A file POSTed (multipart, one file in ``field``) to one of the caller's products:
    its bytes (empty when none came), the caller and the product, or the page to answer
    with instead (no right to write, no product, a forged form)."""
    found = await _own(request, session, product_id, write=True)
    if not isinstance(found, tuple):
        return found
    token, data = "", b""
    try:
        # ``async with`` closes the upload's spooled file however this ends.
        async with request.form(max_files=1, max_fields=4) as form:
            token = str(form.get("csrf", ""))
            upload = form.get(field)
            data = await upload.read() if isinstance(upload, StarletteUpload) else b""
    except StarletteHTTPException:  # a malformed multipart body (Starlette's 400)
        pass
    if not await _csrf_ok(request, session, token):
        return HTMLResponse("CSRF token missing or wrong", status_code=403)
    return data, *found


def _done(product_id: str, notice: Done) -> RedirectResponse:
    return RedirectResponse(f"/console/products/{product_id}?done={notice}", status_code=303)


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def product_page(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """One product: its fields to edit, its SKUs' stock, its images."""
    found = await _own(request, session, product_id, write=False)
    if not isinstance(found, tuple):
        return found
    return await _edit_page(request, session, *found)


@router.post("/products/{product_id}/edit", response_class=HTMLResponse)
async def edit_product(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Save the changed fields: commercial terms any time, content while draft or delisted."""
    posted = await _own_form(request, session, product_id)
    if not isinstance(posted, tuple):
        return posted
    form, principal, product = posted
    change, typed, errors = parse_product_update(form, product)
    if change is None:
        return await _edit_page(
            request, session, principal, product, status_code=422, typed=typed, errors=errors
        )
    try:
        await catalog.update_product(session, principal, product_id, change)
        await commit(session)
    except catalog_errors.ProductNotEditable:
        await session.rollback()
        errors = {"title": "prod_err_not_editable"}
    except (catalog_errors.PriceOutOfRange, catalog_errors.InvalidPriceRange):
        await session.rollback()
        errors = {"price_min": "prod_err_prices"}
    if errors:
        return await _edit_page(
            request, session, principal, product, status_code=409, typed=typed, errors=errors
        )
    return _done(product_id, "saved")


@router.post("/products/{product_id}/skus/{sku_id}/stock", response_class=HTMLResponse)
async def adjust_stock(
    request: Request,
    product_id: ProductKey,
    sku_id: ProductKey,
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Add units to a SKU's stock (or remove them: never below what is available)."""
    posted = await _own_form(request, session, product_id)
    if not isinstance(posted, tuple):
        return posted
    form, principal, product = posted
    text = form.get("delta", "").strip().replace("＋", "+").replace("－", "-")
    error: str | None = None
    if not re.fullmatch(r"[+-]?\d{1,9}", text) or int(text) == 0:
        error = "prod_err_delta"
    else:
        try:
            await catalog.adjust_stock(session, principal, product_id, sku_id, int(text))
            await commit(session)
        except catalog_errors.InsufficientStock:
            error = "prod_err_too_few"
        except catalog_errors.SkuNotFound:
            error = "prod_err_gone"
    if error is not None:
        await session.rollback()
        return await _edit_page(
            request, session, principal, product, status_code=422, errors={f"stock_{sku_id}": error}
        )
    return _done(product_id, "stock")


async def _sku_form(
    request: Request, session: AsyncSession, product_id: str, sku_id: str | None
) -> Response:
    """The add-a-SKU form (``sku_id`` None) or one SKU row's form: checked by the
    catalogue's schema, then by its service; a refusal shows the page again with the
    values as typed and the reason beside the field, and saves nothing."""
    posted = await _own_form(request, session, product_id)
    if not isinstance(posted, tuple):
        return posted
    form, principal, product = posted
    data: SkuCreate | SkuUpdate | None
    if sku_id is None:
        prefix = NEW_SKU
        data, typed, errors = parse_new_sku(form)
    else:
        sku = next((s for s in product.skus if s.id == sku_id), None)
        if sku is None:
            return render(
                request, "console/message.html", principal=principal, status_code=404,
                message="prod_err_sku_gone",
            )  # fmt: skip
        prefix = f"{sku_id}_"
        data, typed, errors = parse_sku_update(form, sku)
    status_code = 422
    if data is not None:
        try:
            if isinstance(data, SkuCreate):
                await catalog.add_sku(session, principal, product_id, data)
            elif sku_id is not None:
                await catalog.update_sku(session, principal, product_id, sku_id, data)
            await commit(session)
        except catalog_errors.DuplicateSkuCode:
            errors, status_code = {f"{prefix}code": "prod_err_sku_taken"}, 409
        except catalog_errors.ProductNotEditable:  # as many SKUs as a product may have
            errors, status_code = {f"{prefix}code": "prod_err_sku_limit"}, 409
        except catalog_errors.PriceOutOfRange:
            errors = {f"{prefix}price": "prod_err_sku_price"}
    if errors:
        await session.rollback()
        return await _edit_page(
            request, session, principal, product, status_code=status_code, typed=typed,
            errors=errors,
        )  # fmt: skip
    return _done(product_id, "sku_added" if sku_id is None else "sku_saved")


@router.post("/products/{product_id}/skus", response_class=HTMLResponse)
async def add_sku(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Add a SKU (code, options, suggested price, stock) to the product."""
    return await _sku_form(request, session, product_id, None)


@router.post("/products/{product_id}/skus/{sku_id}/edit", response_class=HTMLResponse)
async def edit_sku(
    request: Request,
    product_id: ProductKey,
    sku_id: ProductKey,
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Change a SKU's suggested price or options (only what differs is sent)."""
    return await _sku_form(request, session, product_id, sku_id)


@router.post("/products/{product_id}/images", response_class=HTMLResponse)
async def upload_image(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Add an image (PNG, JPEG, GIF or WebP, told by its bytes, not its name)."""
    posted = await _own_upload(request, session, product_id, "image")
    if not isinstance(posted, tuple):
        return posted
    data, principal, product = posted
    error: str | None = None
    try:
        await catalog.add_image(session, principal, request.app.state.storage, product_id, data)
        await commit(session)
    except (catalog_errors.UnsupportedImage, catalog_errors.EmptyImage):
        error = "prod_err_image"
    except catalog_errors.TooManyImages:
        error = "prod_err_images"
    except catalog_errors.ProductNotEditable:
        error = "prod_err_not_editable"
    if error is not None:
        await session.rollback()
        return await _edit_page(
            request, session, principal, product, status_code=422, errors={"image": error}
        )
    return _done(product_id, "image")


# --- the platform's review queue -----------------------------------------------------------


def _not_reviewer(request: Request, principal: Principal) -> Response | None:
    if (
        principal.tenant_kind is TenantKind.platform
        and Permission.products_review in principal.permissions
    ):
        return None
    return render(
        request, "console/message.html", principal=principal, status_code=403,
        message="review_denied",
    )  # fmt: skip


async def _reviewer(request: Request, session: AsyncSession) -> Principal | Response:
    principal = await _signed_in(request, session, _not_reviewer)
    if not isinstance(principal, Principal):
        return principal
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
