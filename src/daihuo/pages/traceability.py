"""Traceability in the supplier's console: a product's production batches and each batch's
trace steps, through the catalogue's trace service (``catalog.trace``), as the API does.

* ``/console/products/{id}/batches`` — the product's batches (code, quantity, dates, how
  many steps, the public provenance page and its QR code) and the form for a new batch
  (``BatchCreate``: code, quantity, notes).
* ``/console/products/{id}/batches/{batch_id}`` — the batch's timeline of steps (what,
  when in China time, where, evidence, the step's leaf index in the transparency log with
  links to its entry, its inclusion proof and the public page), the form that uploads an
  evidence file, and the form that records a step (``StepCreate``: the step, its time
  typed in a datetime-local field read as China time, the place, and the evidence to
  attach, ticked among the batch's unused uploads).

An evidence upload is a multipart form read here and handed to ``trace.add_evidence``, so
the file's type is told from its bytes and the trace limits apply as on the API; the
body limit of the app (``DAIHUO_MAX_BODY_BYTES``) comes first, as for product images.
Every form carries the session's CSRF token; a refused form changes nothing, comes back
with the values as typed and the reason beside the field, in the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.catalog import trace
from daihuo.catalog.domain import MAX_EVIDENCE_BYTES, TRACE_STEPS
from daihuo.catalog.schemas import BatchCreate, EvidenceRead, ProductRead, StepCreate
from daihuo.core.clock import utcnow
from daihuo.core.db import commit
from daihuo.core.pagination import InvalidCursor, PageParams
from daihuo.pages.console import CHINA_TIME, MANY, page_lang, render
from daihuo.pages.i18n import step_label
from daihuo.pages.products import ProductKey, _may_write, _own, _own_form, _own_upload
from daihuo.pages.provenance import page_link
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Principal

router = APIRouter(prefix="/console", include_in_schema=False)
BatchKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
EVIDENCE_TYPES = "image/png,image/jpeg,image/gif,image/webp,application/pdf"
EVIDENCE_FIELD = "evidence:"  # a ticked upload: ``evidence:<id>`` = ``on``
STEP_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
_WHOLE = re.compile(r"\d{1,13}", re.ASCII)
_BATCH_KEYS = {
    "code": "trace_err_code",
    "quantity": "trace_err_quantity",
    "notes": "trace_err_notes",
}
_STEP_KEYS = {
    "step": "trace_err_step",
    "at": "trace_err_at",
    "place": "trace_err_place",
    "evidence": "trace_err_evidence",
}


# --- the forms: text as typed → the trace service's schemas, or the reason per field ---------


def parse_batch_form(
    form: Mapping[str, str],
) -> tuple[BatchCreate | None, dict[str, str], dict[str, str]]:
    """The new-batch form → the batch to create (None when anything is wrong), the values
    as typed, and the message key of each wrong field."""
    typed = {key: form.get(key, "").strip() for key in ("code", "quantity", "notes")}
    errors: dict[str, str] = {}
    if not _WHOLE.fullmatch(typed["quantity"]):
        errors["quantity"] = "pool_err_whole"
    if errors:
        return None, typed, errors
    try:
        data = BatchCreate(
            code=typed["code"], quantity=int(typed["quantity"]), notes=typed["notes"]
        )
    except ValidationError as exc:
        for problem in exc.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "code"
            errors.setdefault(field, _BATCH_KEYS.get(field, "prod_err_field"))
        return None, typed, errors
    return data, typed, {}


def parse_step_time(text: str) -> datetime:
    """``2026-11-20T08:30`` (a datetime-local field, seconds optional) read in China time;
    ValueError when it is not such a time."""
    for fmt in STEP_TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=CHINA_TIME)
        except ValueError:
            continue
    raise ValueError(text)


def parse_step_form(
    form: Mapping[str, str],
) -> tuple[StepCreate | None, dict[str, str], dict[str, str]]:
    """The step form → the step to record (None when anything is wrong), the values as
    typed, and the message key of each wrong field. The evidence is every ticked
    ``evidence:<id>``, in the form's order; whether each is an unused upload of this batch
    is the service's to say (``InvalidEvidence``)."""
    typed = {key: form.get(key, "").strip() for key in ("step", "at", "place")}
    evidence = [
        key.removeprefix(EVIDENCE_FIELD)
        for key, value in form.items()
        if key.startswith(EVIDENCE_FIELD) and value == "on"
    ]
    typed.update({EVIDENCE_FIELD + e: "on" for e in evidence})
    errors: dict[str, str] = {}
    at: datetime | None = None
    try:
        at = parse_step_time(typed["at"])
    except ValueError:
        errors["at"] = "trace_err_at"
    if errors or at is None:
        return None, typed, errors
    try:
        data = StepCreate(step=typed["step"], at=at, place=typed["place"], evidence=evidence)
    except ValidationError as exc:
        for problem in exc.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "step"
            errors.setdefault(field, _STEP_KEYS.get(field, "prod_err_field"))
        return None, typed, errors
    return data, typed, {}


def upload_limit(request: Request) -> int:
    """The largest evidence file the console takes: the app's limit for upload bodies, or
    the trace limit when that is lower."""
    settings = request.app.state.settings
    body_limit: int = max(settings.max_body_bytes, settings.max_upload_bytes)
    return min(body_limit, MAX_EVIDENCE_BYTES)


def megabytes(size: int) -> str:
    """``1048576`` → ``"1"``, ``1572864`` → ``"1.5"``: the size in the upload hint."""
    return f"{size / 2**20:.1f}".removesuffix(".0")


# --- the pages ---------------------------------------------------------------------------


def _base(product_id: str) -> str:
    return f"/console/products/{product_id}/batches"


def _gone(request: Request, principal: Principal) -> HTMLResponse:
    return render(
        request, "console/message.html", principal=principal, status_code=404,
        message="trace_err_batch_gone",
    )  # fmt: skip


async def _batches_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    product: ProductRead,
    *,
    status_code: int = 200,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> HTMLResponse:
    cursor = request.query_params.get("cursor") or None
    try:
        batches, next_cursor = await trace.list_batches(
            session, principal, product.id, PageParams(limit=MANY, cursor=cursor)
        )
    except InvalidCursor:
        cursor = None
        batches, next_cursor = await trace.list_batches(
            session, principal, product.id, PageParams(limit=MANY)
        )
    return render(
        request,
        "console/batches.html",
        status_code=status_code,
        principal=principal,
        product=product,
        batches=[
            {
                "b": b,
                "link": page_link(request, b.public_id),
                "last": b.steps[-1] if b.steps else None,
            }
            for b in batches
        ],
        first_page=cursor is None,
        next_cursor=next_cursor,
        may_write=_may_write(principal),
        typed=typed or {},
        errors=errors or {},
    )


def _evidence_view(product_id: str, batch_id: str, e: EvidenceRead) -> dict[str, Any]:
    return {
        "e": e,
        "src": f"{_base(product_id)}/{batch_id}/evidence/{e.id}",
        "image": e.content_type.startswith("image/"),
        "kind": e.content_type.rsplit("/", 1)[-1].upper(),
    }


async def _batch_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    product: ProductRead,
    batch_id: str,
    *,
    status_code: int = 200,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The batch's page; raises ``BatchNotFound`` for a batch not of this product."""
    batch = await trace.get_batch(session, principal, product.id, batch_id)
    uploads = await trace.unused_evidence(session, principal, product.id, batch_id)
    # The log's links as the public page gives them (entry, proof against the tree's size).
    public = await trace.provenance(session, batch.public_id)
    logged = {s.id: s for s in public.steps}
    lang = page_lang(request)
    if typed is None:
        now = utcnow().astimezone(CHINA_TIME).strftime(STEP_TIME_FORMATS[0])
        typed = {"step": next(iter(TRACE_STEPS)), "at": now}
    limit = upload_limit(request)
    return render(
        request,
        "console/batch.html",
        status_code=status_code,
        principal=principal,
        product=product,
        batch=batch,
        link=page_link(request, batch.public_id),
        steps=[
            {
                "s": s,
                "label": step_label(s.step, lang),
                "logged": logged.get(s.id),
                "evidence": [_evidence_view(product.id, batch.id, e) for e in s.evidence],
            }
            for s in batch.steps
        ],
        uploads=[_evidence_view(product.id, batch.id, e) for e in uploads],
        kinds=[(key, step_label(key, lang)) for key in TRACE_STEPS],
        tree_size=public.tree_size,
        may_write=_may_write(principal),
        typed=typed,
        errors=errors or {},
        notice=request.query_params.get("done"),
        limit_mb=megabytes(limit),
        accept=EVIDENCE_TYPES,
    )


@router.get("/products/{product_id}/batches", response_class=HTMLResponse)
async def batches(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """The product's production batches, each with its public page; a new batch's form."""
    found = await _own(request, session, product_id, write=False)
    if not isinstance(found, tuple):
        return found
    return await _batches_page(request, session, *found)


@router.post("/products/{product_id}/batches", response_class=HTMLResponse)
async def create_batch(
    request: Request, product_id: ProductKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Record a new batch of the product (its code unique per product)."""
    posted = await _own_form(request, session, product_id)
    if not isinstance(posted, tuple):
        return posted
    form, principal, product = posted
    data, typed, errors = parse_batch_form(form)
    if data is None:
        return await _batches_page(
            request, session, principal, product, status_code=422, typed=typed, errors=errors
        )
    try:
        made = await trace.create_batch(session, principal, product_id, data)
        await commit(session)
    except (catalog_errors.DuplicateBatchCode, catalog_errors.ProductNotEditable) as exc:
        await session.rollback()
        taken = isinstance(exc, catalog_errors.DuplicateBatchCode)
        errors = {"code": "trace_err_code_taken" if taken else "trace_err_batches"}
        return await _batches_page(
            request, session, principal, product, status_code=409, typed=typed, errors=errors
        )
    return RedirectResponse(f"{_base(product_id)}/{made.id}?done=batch", status_code=303)


@router.get("/products/{product_id}/batches/{batch_id}", response_class=HTMLResponse)
async def batch_page(
    request: Request,
    product_id: ProductKey,
    batch_id: BatchKey,
    session: AsyncSession = Depends(get_session),
) -> Response:
    """One batch: its timeline with each step's place in the log, evidence and new steps."""
    found = await _own(request, session, product_id, write=False)
    if not isinstance(found, tuple):
        return found
    principal, product = found
    try:
        return await _batch_page(request, session, principal, product, batch_id)
    except catalog_errors.BatchNotFound:
        return _gone(request, principal)


async def _refused(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    product: ProductRead,
    batch_id: str,
    *,
    status_code: int,
    typed: Mapping[str, str] | None,
    errors: Mapping[str, str],
) -> HTMLResponse:
    await session.rollback()
    try:
        return await _batch_page(
            request, session, principal, product, batch_id,
            status_code=status_code, typed=typed, errors=errors,
        )  # fmt: skip
    except catalog_errors.BatchNotFound:
        return _gone(request, principal)


@router.post("/products/{product_id}/batches/{batch_id}/evidence", response_class=HTMLResponse)
async def upload_evidence(
    request: Request,
    product_id: ProductKey,
    batch_id: BatchKey,
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Upload a photo or PDF report (told by its bytes, not its name) for a later step."""
    posted = await _own_upload(request, session, product_id, "file")
    if not isinstance(posted, tuple):
        return posted
    data, principal, product = posted
    error: str | None = None
    try:
        await trace.add_evidence(
            session, principal, request.app.state.storage, product_id, batch_id, data
        )
        await commit(session)
    except catalog_errors.BatchNotFound:
        await session.rollback()
        return _gone(request, principal)
    except catalog_errors.EmptyEvidence:
        error = "trace_err_file_empty"
    except catalog_errors.UnsupportedEvidence:
        error = "trace_err_file_type"
    except catalog_errors.EvidenceTooLarge:
        error = "trace_err_file_size"
    except catalog_errors.TooMuchEvidence:
        error = "trace_err_files"
    if error is not None:
        return await _refused(
            request, session, principal, product, batch_id,
            status_code=422, typed=None, errors={"file": error},
        )  # fmt: skip
    return RedirectResponse(f"{_base(product_id)}/{batch_id}?done=evidence", status_code=303)


@router.post("/products/{product_id}/batches/{batch_id}/steps", response_class=HTMLResponse)
async def record_step(
    request: Request,
    product_id: ProductKey,
    batch_id: BatchKey,
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Record a step; its trace entry goes into the transparency log after the commit."""
    posted = await _own_form(request, session, product_id)
    if not isinstance(posted, tuple):
        return posted
    form, principal, product = posted
    data, typed, errors = parse_step_form(form)
    if data is not None:
        try:
            await trace.record_step(session, principal, product_id, batch_id, data)
            await commit(session)  # appends the entry and stores its leaf index
        except catalog_errors.BatchNotFound:
            await session.rollback()
            return _gone(request, principal)
        except catalog_errors.UnknownTraceStep:
            errors = {"step": "trace_err_step"}
        except catalog_errors.StepTimeOutOfRange:
            errors = {"at": "trace_err_at_range"}
        except catalog_errors.InvalidEvidence:
            errors = {"evidence": "trace_err_evidence"}
    if errors:
        return await _refused(
            request, session, principal, product, batch_id,
            status_code=422, typed=typed, errors=errors,
        )  # fmt: skip
    return RedirectResponse(f"{_base(product_id)}/{batch_id}?done=step", status_code=303)


@router.get("/products/{product_id}/batches/{batch_id}/evidence/{evidence_id}")
async def evidence_file(
    request: Request,
    product_id: ProductKey,
    batch_id: BatchKey,
    evidence_id: BatchKey,
    session: AsyncSession = Depends(get_session),
) -> Response:
    """An evidence file of the supplier's batch, used by a step or not (its thumbnail)."""
    found = await _own(request, session, product_id, write=False)
    if not isinstance(found, tuple):
        return found
    principal, _ = found
    try:
        content_type, data = await trace.evidence_file(
            session, principal, request.app.state.storage, product_id, batch_id, evidence_id
        )
    except (catalog_errors.BatchNotFound, catalog_errors.EvidenceNotFound):
        return _gone(request, principal)
    return Response(
        data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": f'inline; filename="{evidence_id}"',
        },
    )
