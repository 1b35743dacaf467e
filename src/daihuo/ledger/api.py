"""The public transparency log: ``/api/v1/ledger``. No login: the point is that anyone
can check. Everything served is signed or provable against what is signed."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import Database
from daihuo.core.errors import ValidationFailed, problems
from daihuo.ledger import errors, service
from daihuo.ledger.schemas import (
    ConsistencyProofRead,
    EntriesPage,
    EntryRead,
    InclusionProofRead,
    KeysRead,
    RecordLinks,
)

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])

MAX_SIZE = 2**63 - 1
TreeIndex = Annotated[int, Query(ge=0, le=MAX_SIZE)]
INCLUSION_PROBLEMS = (
    errors.LedgerIndexOutOfRange,
    errors.LedgerBadTreeSize,
    errors.LedgerSizeBeyondLog,
    ValidationFailed,
)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session: nothing here writes."""
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        yield session


def get_ledger(request: Request) -> service.Ledger:
    ledger: service.Ledger | None = getattr(request.app.state, "ledger", None)
    if ledger is None:
        raise errors.LedgerUnavailable("the ledger is not running in this process")
    return ledger


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get(
    "/checkpoint",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "C2SP signed checkpoint"},
        **problems(errors.LedgerKeyError),
    },
)
async def get_checkpoint(
    session: AsyncSession = Depends(get_session),
    ledger: service.Ledger = Depends(get_ledger),
) -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note)."""
    latest = await service.latest_note(session)
    text = latest.note if latest is not None else ledger.empty_note()
    return Response(
        text,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.get(
    "/entries",
    response_model=EntriesPage,
    responses=problems(errors.LedgerBadRange, ValidationFailed),
)
async def get_entries(
    start: TreeIndex,
    end: TreeIndex,
    session: AsyncSession = Depends(get_session),
) -> EntriesPage:
    """Leaves ``[start, end)`` of the signed tree, at most 1000 per page."""
    size, leaves = await service.entries(session, start, end)
    items = [
        EntryRead(index=x.idx, data=_b64(x.entry), leaf_hash=_b64(x.leaf_hash)) for x in leaves
    ]
    return EntriesPage(start=start, end=start + len(items), size=size, entries=items)


@router.get(
    "/proof/inclusion",
    response_model=InclusionProofRead,
    responses=problems(*INCLUSION_PROBLEMS),
)
async def get_inclusion_proof(
    index: TreeIndex,
    size: TreeIndex,
    session: AsyncSession = Depends(get_session),
) -> InclusionProofRead:
    """Proof that leaf ``index`` is in the tree of ``size`` leaves (RFC 9162 2.1.3)."""
    leaf, proof = await service.checked_inclusion_proof(session, index, size)
    return InclusionProofRead(
        index=index, size=size, leaf_hash=_b64(leaf), proof=[_b64(p) for p in proof]
    )


@router.get(
    "/proof/consistency",
    response_model=ConsistencyProofRead,
    responses=problems(errors.LedgerBadTreeSize, errors.LedgerSizeBeyondLog, ValidationFailed),
)
async def get_consistency_proof(
    old: TreeIndex,
    new: TreeIndex,
    session: AsyncSession = Depends(get_session),
) -> ConsistencyProofRead:
    """Proof that the tree of ``new`` leaves extends the tree of ``old`` (RFC 9162 2.1.4)."""
    proof = await service.checked_consistency_proof(session, old, new)
    return ConsistencyProofRead(old=old, new=new, proof=[_b64(p) for p in proof])


RECORD_KINDS = {"order": ("order", "settlement"), "session_report": ("session_report",)}
RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:.\-]+$")]


@router.get("/records/{kind}/{record_id}", responses=problems(ValidationFailed))
async def get_record_links(
    kind: Literal["order", "session_report"],
    record_id: RecordId,
    session: AsyncSession = Depends(get_session),
) -> RecordLinks:
    """The log's entries about one order (with its settlements) or one session's report,
    each with a link to its inclusion proof."""
    return await service.record_links(session, RECORD_KINDS[kind], record_id)


@router.get("/keys", response_model=KeysRead, responses=problems(errors.LedgerKeyError))
async def get_keys(ledger: service.Ledger = Depends(get_ledger)) -> KeysRead:
    """The verifier keys of the log: the signing key(s) first, then retired ones."""
    if ledger.keyring is None:
        raise errors.LedgerKeyError(ledger.halted or "the ledger has no keys")
    return KeysRead(
        origin=ledger.keyring.origin, keys=[v.key_string() for v in ledger.keyring.published]
    )
