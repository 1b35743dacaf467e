"""Answer-draft use cases: find the product a host is asked about, draft from its data.

The product is one of the caller's showcase (``catalog.service.product_sheet``). An id
that is not — unknown, another shop's, or malformed-but-valid — gives a draft saying so
(``unknown_product``), not an error: the question usually comes from the room, and the
host should see why there is no answer. The reply is the same whether or not the id
exists elsewhere, so it reveals nothing about other tenants. Drafting reads only:
nothing is stored and nothing is sent to the room.
"""

from __future__ import annotations

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.assistant import answers
from daihuo.assistant.draft_schemas import DraftRead, DraftRequest, DraftsRead, QuestionAsked
from daihuo.catalog import service as catalog
from daihuo.live import service as live
from daihuo.tenancy.domain import Principal


def _read(draft: answers.Draft) -> DraftRead:
    return DraftRead(
        text=draft.text, slot=draft.slot, source=draft.source, confidence=draft.confidence
    )


async def product_drafts(
    session: AsyncSession, ctx: Principal, product_id: str | None, data: QuestionAsked
) -> DraftsRead:
    """Drafts for a question about one product of the caller's showcase."""
    if product_id is None:
        return DraftsRead(
            question=data.question,
            product_id=None,
            product_title=None,
            drafts=[_read(answers.no_product_draft(data.lang))],
        )
    sheet = await catalog.product_sheet(session, ctx, product_id)
    if sheet is None:
        return DraftsRead(
            question=data.question,
            product_id=product_id,
            product_title=None,
            drafts=[_read(answers.unknown_product_draft(data.lang))],
        )
    # jieba and BM25 are CPU work: off the event loop.
    drafts = await anyio.to_thread.run_sync(
        lambda: answers.draft_answers(sheet, data.question, lang=data.lang)
    )
    return DraftsRead(
        question=data.question,
        product_id=sheet.product_id,
        product_title=sheet.title,
        drafts=[_read(d) for d in drafts],
    )


async def session_drafts(
    session: AsyncSession, ctx: Principal, session_id: str, data: DraftRequest
) -> DraftsRead:
    """Drafts for a question in one of the caller's live sessions: about the named
    product (a product or showcase item id), else the pinned one."""
    live_session = await live.get_session(session, ctx, session_id)
    product_id = data.product_id
    if product_id is None and live_session.pinned is not None:
        product_id = live_session.pinned.product_id
    by_item = {p.item_id: p.product_id for p in live_session.products}
    if product_id is not None:
        product_id = by_item.get(product_id, product_id)
    return await product_drafts(session, ctx, product_id, data)
