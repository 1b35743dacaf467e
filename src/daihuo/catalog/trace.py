"""Traceability use cases: batches, trace steps, evidence, the public provenance view, and
the recovery that keeps every step in the transparency log. Services ``flush()``; the
edge commits.

Invariants
----------
* **Every step is in the log exactly once.** A step row is committed with
  ``leaf_index`` NULL; after the commit its ``trace`` entry is appended and the index
  stored (``ledger.append_after_commit``). The entry is a pure function of stored
  columns — ``ts`` is the row's ``recorded_at``, evidence hashes are sorted — so it can be
  rebuilt byte for byte at any time (:func:`step_entry`).
* **Crash between commit and append** (or a halted log): the row keeps a NULL index. The
  ledger runs :func:`recover_steps` when it starts and every minute; it appends the
  rebuilt entry and stores the index.
* **Crash after the append but before the index was stored:** the entry is in the log
  already. Recovery first looks for a leaf with exactly these bytes at or after the
  step's ``log_floor`` (the signed tree size read inside the step's own transaction: the
  entry was appended after that commit, so it cannot sit lower) and, if found, only
  stores that index. The log's tables live in the same database, so this is one range
  query, never a second append.
* **No race with a request in flight:** a step whose after-commit append is still
  running in this process is skipped (``_IN_FLIGHT``), and the periodic pass leaves
  steps younger than ``RECOVERY_GRACE`` alone, for appends in flight in another process.
  One app process per database remains the intended set-up (as for the sequencer).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors
from daihuo.catalog.domain import (
    MAX_BATCHES_PER_PRODUCT,
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_PER_BATCH,
    check_step,
    check_step_time,
    iso_millis,
    sha256_hex,
    sniff_evidence,
    to_millis,
    trace_body,
)
from daihuo.catalog.models import Batch, Product, TraceEvidence, TraceStep
from daihuo.catalog.repository import CatalogRepository, TraceRepository
from daihuo.catalog.schemas import (
    BatchCreate,
    BatchRead,
    EvidenceRead,
    ProvenanceBatch,
    ProvenanceProduct,
    ProvenanceRead,
    ProvenanceStep,
    StepCreate,
    StepRead,
)
from daihuo.catalog.service import require_kind, tenant_name
from daihuo.core.clock import utcnow
from daihuo.core.ids import new_id
from daihuo.core.pagination import PageParams
from daihuo.core.storage import FileNotStored, Storage
from daihuo.ledger import service as ledger
from daihuo.tenancy.domain import Principal, TenantKind

log = logging.getLogger("daihuo.catalog.trace")

RECOVERY_GRACE = timedelta(seconds=60)
RECOVERY_CHUNK = 500
_IN_FLIGHT: set[str] = set()  # steps whose after-commit append has not finished
_PUBLIC_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
PUBLIC_ID_LENGTH = 16  # 80 random bits


def new_public_id() -> str:
    value = int.from_bytes(os.urandom(10), "big")
    return "".join(_PUBLIC_ALPHABET[(value >> (5 * i)) & 31] for i in range(PUBLIC_ID_LENGTH))


def page_url(public_id: str) -> str:
    return f"/p/{public_id}"


def _evidence(ev: TraceEvidence, public_id: str) -> EvidenceRead:
    return EvidenceRead(
        id=ev.id,
        sha256=ev.sha256,
        size=ev.size,
        content_type=ev.content_type,
        url=f"{page_url(public_id)}/evidence/{ev.id}",
    )


def _step_read(step: TraceStep, evidence: Sequence[TraceEvidence], public_id: str) -> StepRead:
    return StepRead(
        id=step.id,
        step=step.step,
        at=step.at,
        place=step.place,
        actor=step.tenant_id,
        evidence=[_evidence(e, public_id) for e in evidence if e.step_id == step.id],
        recorded_at=step.recorded_at,
        leaf_index=step.leaf_index,
    )


def _batch_read(
    batch: Batch, steps: Sequence[TraceStep], evidence: Sequence[TraceEvidence]
) -> BatchRead:
    return BatchRead(
        id=batch.id,
        public_id=batch.public_id,
        product_id=batch.product_id,
        code=batch.code,
        quantity=batch.quantity,
        notes=batch.notes,
        page_url=page_url(batch.public_id),
        created_at=batch.created_at,
        steps=[_step_read(s, evidence, batch.public_id) for s in steps if s.batch_id == batch.id],
    )


def step_body(step: TraceStep, batch: Batch, evidence_hashes: Sequence[str]) -> dict[str, Any]:
    return trace_body(
        product=batch.product_id,
        batch=batch.public_id,
        step=step.step,
        at=step.at,
        place=step.place,
        actor=step.tenant_id,
        evidence=evidence_hashes,
    )


def step_entry(step: TraceStep, batch: Batch, evidence_hashes: Sequence[str]) -> bytes:
    """The step's ``trace`` entry: the same bytes whenever it is rebuilt from the rows."""
    body = step_body(step, batch, evidence_hashes)
    return ledger.build_entry("trace", step.tenant_id, step.id, body, ts=step.recorded_at)


# --- the supplier's batches ----------------------------------------------------------------


async def _own_product(session: AsyncSession, product_id: str) -> Product:
    product = await CatalogRepository(session).product(product_id)
    if product is None:
        raise errors.ProductNotFound()
    return product


async def _own_batch(session: AsyncSession, product_id: str, batch_id: str) -> Batch:
    await _own_product(session, product_id)
    batch = await TraceRepository(session).batch(product_id, batch_id)
    if batch is None:
        raise errors.BatchNotFound()
    return batch


async def _view(repo: TraceRepository, batches: Sequence[Batch]) -> list[BatchRead]:
    ids = [b.id for b in batches]
    steps, evidence = await repo.steps_of(ids), await repo.evidence_of(ids)
    return [_batch_read(b, steps, evidence) for b in batches]


async def create_batch(
    session: AsyncSession, ctx: Principal, product_id: str, data: BatchCreate
) -> BatchRead:
    """A supplier records a production batch of its product."""
    require_kind(ctx, TenantKind.supplier)
    product = await _own_product(session, product_id)
    repo = TraceRepository(session)
    taken = errors.DuplicateBatchCode(f"This product already has a batch {data.code}.")
    if await repo.batch_code_taken(product.id, data.code):
        raise taken
    if await repo.count_batches(product.id) >= MAX_BATCHES_PER_PRODUCT:
        raise errors.ProductNotEditable(f"A product has at most {MAX_BATCHES_PER_PRODUCT} batches.")
    batch = Batch(
        id=new_id("bat"),
        product_id=product.id,
        public_id=new_public_id(),
        code=data.code,
        quantity=data.quantity,
        notes=data.notes,
        created_at=utcnow(),
    )
    repo.add(batch)
    try:
        await repo.flush()
    except IntegrityError as exc:
        raise taken from exc
    return _batch_read(batch, [], [])


async def list_batches(
    session: AsyncSession, ctx: Principal, product_id: str, params: PageParams
) -> tuple[list[BatchRead], str | None]:
    require_kind(ctx, TenantKind.supplier)
    product = await _own_product(session, product_id)
    repo = TraceRepository(session)
    batches, cursor = await repo.batches_page(product.id, params)
    return await _view(repo, batches), cursor


async def get_batch(
    session: AsyncSession, ctx: Principal, product_id: str, batch_id: str
) -> BatchRead:
    require_kind(ctx, TenantKind.supplier)
    batch = await _own_batch(session, product_id, batch_id)
    return (await _view(TraceRepository(session), [batch]))[0]


async def add_evidence(
    session: AsyncSession,
    ctx: Principal,
    storage: Storage,
    product_id: str,
    batch_id: str,
    data: bytes,
) -> EvidenceRead:
    """Store a photo or report for a later step; its type comes from its bytes."""
    require_kind(ctx, TenantKind.supplier)
    batch = await _own_batch(session, product_id, batch_id)
    if not data:
        raise errors.EmptyEvidence("The request body is empty; send the file's bytes.")
    if len(data) > MAX_EVIDENCE_BYTES:
        raise errors.EvidenceTooLarge(
            f"An evidence file has at most {MAX_EVIDENCE_BYTES} bytes ({len(data)} sent)."
        )
    content_type = sniff_evidence(data)
    repo = TraceRepository(session)
    if await repo.count_evidence(batch.id) >= MAX_EVIDENCE_PER_BATCH:
        raise errors.TooMuchEvidence(f"A batch has at most {MAX_EVIDENCE_PER_BATCH} files.")
    evidence = TraceEvidence(
        id=new_id("evd"),
        batch_id=batch.id,
        step_id=None,
        content_type=content_type,
        size=len(data),
        sha256=sha256_hex(data),
        created_at=utcnow(),
        storage_key="",
    )
    evidence.storage_key = f"trace/{batch.id.lower()}/{evidence.id.lower()}"
    await storage.put(evidence.storage_key, data, content_type=content_type)
    repo.add(evidence)
    await repo.flush()
    return _evidence(evidence, batch.public_id)


async def unused_evidence(
    session: AsyncSession, ctx: Principal, product_id: str, batch_id: str
) -> list[EvidenceRead]:
    """The batch's uploads that no step names yet (private until a step names them)."""
    require_kind(ctx, TenantKind.supplier)
    batch = await _own_batch(session, product_id, batch_id)
    files = await TraceRepository(session).evidence_of([batch.id])
    return [_evidence(f, batch.public_id) for f in files if f.step_id is None]


async def evidence_file(
    session: AsyncSession,
    ctx: Principal,
    storage: Storage,
    product_id: str,
    batch_id: str,
    evidence_id: str,
) -> tuple[str, bytes]:
    """An evidence file of the supplier's own batch, used by a step or not."""
    require_kind(ctx, TenantKind.supplier)
    batch = await _own_batch(session, product_id, batch_id)
    return await _evidence_file(
        storage, await TraceRepository(session).evidence(batch.id, evidence_id)
    )


async def record_step(
    session: AsyncSession, ctx: Principal, product_id: str, batch_id: str, data: StepCreate
) -> StepRead:
    """Record a step of the batch and have its ``trace`` entry appended after commit."""
    require_kind(ctx, TenantKind.supplier)
    batch = await _own_batch(session, product_id, batch_id)
    check_step(data.step)
    now = to_millis(utcnow())
    at = check_step_time(data.at, now)
    repo = TraceRepository(session)
    wanted = list(dict.fromkeys(data.evidence))
    if len(wanted) != len(data.evidence):
        raise errors.InvalidEvidence("An evidence file is named twice.")
    files = await repo.unused_evidence(batch.id, wanted) if wanted else []
    if len(files) != len(wanted):
        missing = sorted(set(wanted) - {f.id for f in files})
        raise errors.InvalidEvidence(
            f"Not unused evidence of this batch: {', '.join(missing)}.", evidence=missing
        )
    step = TraceStep(
        id=new_id("stp"),
        batch_id=batch.id,
        step=data.step,
        at=at,
        place=data.place,
        recorded_at=now,
        log_floor=await ledger.tree_size(session),
        leaf_index=None,
    )
    repo.add(step)
    await repo.flush()
    for f in files:
        f.step_id = step.id
    await repo.flush()
    _append_after_commit(session, step, batch, [f.sha256 for f in files])
    return _step_read(step, files, batch.public_id)


def _append_after_commit(
    session: AsyncSession, step: TraceStep, batch: Batch, hashes: Sequence[str]
) -> None:
    body = step_body(step, batch, hashes)
    step_id = step.id

    async def store_index(index: int) -> None:
        try:
            await TraceRepository(session).set_leaf_index(step_id, index)
            await session.commit()
        except Exception:  # the entry is in the log; recovery finds it and stores the index
            log.exception("trace step %s: leaf %d appended, index not stored", step_id, index)
            await session.rollback()
        finally:
            _IN_FLIGHT.discard(step_id)

    async def pending(exc: Exception) -> None:
        _IN_FLIGHT.discard(step_id)
        log.warning("trace step %s waits for the log (recovered later): %s", step_id, exc)

    ledger.append_after_commit(
        session,
        "trace",
        step.tenant_id,
        step_id,
        body,
        ts=step.recorded_at,
        then=store_index,
        on_failure=pending,
    )
    _IN_FLIGHT.add(step_id)


async def get_step(
    session: AsyncSession, ctx: Principal, product_id: str, batch_id: str, step_id: str
) -> StepRead:
    batch = await _own_batch(session, product_id, batch_id)
    repo = TraceRepository(session)
    steps = [s for s in await repo.steps_of([batch.id]) if s.id == step_id]
    if not steps:
        raise errors.BatchNotFound("No such step in this batch.")
    return _step_read(steps[0], await repo.evidence_of([batch.id]), batch.public_id)


# --- recovery -----------------------------------------------------------------------------


@dataclass
class _Pending:
    step_id: str
    entry: bytes
    index: int | None


async def recover_steps(log_: ledger.Ledger, at_start: bool) -> int:
    """Append the entries of steps whose index is missing, or find them already appended.

    Registered with the ledger, which runs it when it starts (every such step) and
    periodically (steps older than ``RECOVERY_GRACE``). Returns how many it fixed.
    """
    cutoff = None if at_start else utcnow() - RECOVERY_GRACE
    skip = set(_IN_FLIGHT)
    # 1. Read the pending steps and look for their entries, then end the transaction: the
    #    sequencer commits on its own connection and a stale SQLite snapshot cannot write.
    async with log_.db.session(all_tenants=True) as session:
        repo = TraceRepository(session)
        found: list[_Pending] = []
        for step, batch in await repo.unlogged_steps(cutoff, RECOVERY_CHUNK):
            entry = step_entry(step, batch, await repo.evidence_hashes(step.id))
            index = await ledger.find_leaf(session, entry, step.log_floor)
            found.append(_Pending(step.id, entry, index))
    skip |= _IN_FLIGHT
    found = [p for p in found if p.step_id not in skip]
    if not found:
        return 0
    # 2. Append what is not in the log (a crash after this is found by step 1 next time).
    missing = [p for p in found if p.index is None]
    if missing:
        indices = await log_.append_entries([p.entry for p in missing])
        for p, index in zip(missing, indices, strict=True):
            p.index = index
    # 3. Store the indices.
    async with log_.db.session(all_tenants=True) as session:
        repo = TraceRepository(session)
        for p in found:
            assert p.index is not None
            await repo.set_leaf_index_unscoped(p.step_id, p.index)
        await session.commit()
    log.warning(
        "trace recovery: %d step(s) appended, %d found in the log already",
        len(missing),
        len(found) - len(missing),
    )
    return len(found)


ledger.register_recovery("catalog.trace_steps", recover_steps)


# --- the public provenance view ---------------------------------------------------------------


async def _public_batch(session: AsyncSession, public_id: str) -> tuple[Batch, Product]:
    found = await TraceRepository(session).public_batch(public_id)
    if found is None:
        raise errors.BatchNotFound()
    return found


async def provenance(session: AsyncSession, public_id: str) -> ProvenanceRead:
    """A batch's product, supplier and timeline with proof links: public, no login.

    The public id is the secret printed on the package; a batch's page is visible to
    whoever holds it, in whatever state its product is.
    """
    batch, product = await _public_batch(session, public_id)
    repo = TraceRepository(session)
    steps = await repo.steps_of([batch.id], unscoped=True)
    evidence = await repo.evidence_of([batch.id], unscoped=True)
    size = await ledger.tree_size(session)
    image = await repo.first_image(product.id)
    out = []
    for s in steps:
        logged = s.leaf_index is not None and s.leaf_index < size
        out.append(
            ProvenanceStep(
                id=s.id,
                step=s.step,
                at=iso_millis(s.at),
                place=s.place,
                actor=s.tenant_id,
                evidence=[_evidence(e, public_id) for e in evidence if e.step_id == s.id],
                recorded_at=iso_millis(s.recorded_at),
                leaf_index=s.leaf_index,
                entry_url=(
                    f"/api/v1/ledger/entries?start={s.leaf_index}&end={s.leaf_index + 1}"
                    if logged and s.leaf_index is not None
                    else None
                ),
                proof_url=(
                    f"/api/v1/ledger/proof/inclusion?index={s.leaf_index}&size={size}"
                    if logged
                    else None
                ),
            )
        )
    return ProvenanceRead(
        product=ProvenanceProduct(
            id=product.id,
            title=product.title,
            supplier_id=product.tenant_id,
            supplier_name=await tenant_name(session, product.tenant_id) or "",
            image_url=f"{page_url(public_id)}/image" if image is not None else None,
        ),
        batch=ProvenanceBatch(
            public_id=batch.public_id,
            code=batch.code,
            quantity=batch.quantity,
            notes=batch.notes,
            created_at=batch.created_at,
        ),
        steps=out,
        tree_size=size,
        checkpoint_url="/api/v1/ledger/checkpoint",
        keys_url="/api/v1/ledger/keys",
    )


async def provenance_image(
    session: AsyncSession, storage: Storage, public_id: str
) -> tuple[str, bytes]:
    """The product's first image, for the batch's public page."""
    _, product = await _public_batch(session, public_id)
    image = await TraceRepository(session).first_image(product.id)
    if image is None:
        raise errors.ImageNotFound()
    try:
        return image.content_type, await storage.get(image.storage_key)
    except FileNotStored as exc:
        raise errors.ImageNotFound("The image file is missing from storage.") from exc


async def provenance_evidence(
    session: AsyncSession, storage: Storage, public_id: str, evidence_id: str
) -> tuple[str, bytes]:
    """An evidence file of a recorded step, so that anyone can check its hash."""
    batch, _ = await _public_batch(session, public_id)
    return await _evidence_file(
        storage, await TraceRepository(session).public_evidence(batch.id, evidence_id)
    )


async def _evidence_file(storage: Storage, evidence: TraceEvidence | None) -> tuple[str, bytes]:
    """The content type and bytes of ``evidence``, or EvidenceNotFound."""
    if evidence is None:
        raise errors.EvidenceNotFound()
    try:
        return evidence.content_type, await storage.get(evidence.storage_key)
    except FileNotStored as exc:
        raise errors.EvidenceNotFound("The file is missing from storage.") from exc
