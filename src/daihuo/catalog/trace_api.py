"""Batches and trace steps of a supplier's products, and the public provenance data:
``/api/v1/products/{product_id}/batches…`` and ``/api/v1/provenance/{public_id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors, trace
from daihuo.catalog.api import AUTH, DENIED, get_storage
from daihuo.catalog.schemas import (
    BatchCreate,
    BatchRead,
    EvidenceRead,
    ProvenanceRead,
    StepCreate,
    StepRead,
)
from daihuo.core.db import commit
from daihuo.core.errors import PayloadTooLarge, problems
from daihuo.core.pagination import Page, PageParams, page_params
from daihuo.core.storage import Storage
from daihuo.core.types import ResourceId
from daihuo.tenancy.deps import get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1")
PublicId = Annotated[
    str,
    Path(
        min_length=trace.PUBLIC_ID_LENGTH,
        max_length=trace.PUBLIC_ID_LENGTH,
        pattern=r"^[0-9a-z]+$",
        description="The batch's public id, as in its page URL and QR code.",
    ),
]
BATCH = "/products/{product_id}/batches"

_EVIDENCE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
        },
    }
}


@router.post(
    BATCH,
    status_code=status.HTTP_201_CREATED,
    tags=["traceability"],
    responses=problems(
        *AUTH, *DENIED, errors.ProductNotFound, errors.DuplicateBatchCode, errors.ProductNotEditable
    ),
)
async def create_batch(
    product_id: ResourceId,
    data: BatchCreate,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> BatchRead:
    """Record a production batch of the product (code unique per product)."""
    batch = await trace.create_batch(session, principal, product_id, data)
    await commit(session)
    return batch


@router.get(
    BATCH, tags=["traceability"], responses=problems(*AUTH, *DENIED, errors.ProductNotFound)
)
async def list_batches(
    product_id: ResourceId,
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Permission.catalog_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[BatchRead]:
    """The product's batches with their steps, oldest first."""
    items, cursor = await trace.list_batches(session, principal, product_id, params)
    return Page(items=items, next_cursor=cursor)


@router.get(
    BATCH + "/{batch_id}",
    tags=["traceability"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound, errors.BatchNotFound),
)
async def get_batch(
    product_id: ResourceId,
    batch_id: ResourceId,
    principal: Principal = Depends(require(Permission.catalog_read)),
    session: AsyncSession = Depends(get_session),
) -> BatchRead:
    """One batch with its timeline of steps and their leaf indices in the log."""
    return await trace.get_batch(session, principal, product_id, batch_id)


@router.post(
    BATCH + "/{batch_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    tags=["traceability"],
    openapi_extra=_EVIDENCE_BODY,
    responses=problems(
        *AUTH,
        *DENIED,
        errors.ProductNotFound,
        errors.BatchNotFound,
        errors.EmptyEvidence,
        errors.EvidenceTooLarge,
        PayloadTooLarge,
        errors.UnsupportedEvidence,
        errors.TooMuchEvidence,
    ),
)
async def upload_evidence(
    request: Request,
    product_id: ResourceId,
    batch_id: ResourceId,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
    storage: Storage = Depends(get_storage),
) -> EvidenceRead:
    """Upload a photo or PDF report as the raw body; a later step names it as evidence."""
    data = await request.body()
    evidence = await trace.add_evidence(session, principal, storage, product_id, batch_id, data)
    await commit(session)
    return evidence


@router.post(
    BATCH + "/{batch_id}/steps",
    status_code=status.HTTP_201_CREATED,
    tags=["traceability"],
    responses=problems(
        *AUTH,
        *DENIED,
        errors.ProductNotFound,
        errors.BatchNotFound,
        errors.UnknownTraceStep,
        errors.StepTimeOutOfRange,
        errors.InvalidEvidence,
    ),
)
async def record_step(
    product_id: ResourceId,
    batch_id: ResourceId,
    data: StepCreate,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> StepRead:
    """Record a step of the batch's life; its trace entry goes into the transparency log."""
    step = await trace.record_step(session, principal, product_id, batch_id, data)
    await commit(session)  # appends the entry and stores its leaf index
    return await trace.get_step(session, principal, product_id, batch_id, step.id)


@router.get(
    "/provenance/{public_id}",
    tags=["traceability"],
    responses=problems(errors.BatchNotFound),
)
async def provenance(
    public_id: PublicId, session: AsyncSession = Depends(get_session)
) -> ProvenanceRead:
    """A batch's product and timeline with links to each step's entry and proof (public)."""
    return await trace.provenance(session, public_id)
