"""Cursor pagination over time-sortable ids.

A cursor is opaque to clients (base64url of the last id seen); pages are ordered
by id, which is creation order, so rows inserted while a client pages never shift
the pages it has not read yet.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from daihuo.core.errors import BadRequest

T = TypeVar("T")
MAX_LIMIT = 200


class InvalidCursor(BadRequest):
    slug, title = "invalid-cursor", "Invalid cursor"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageParams(BaseModel):
    cursor: str | None = None
    limit: int = 50


def page_params(
    cursor: str | None = Query(default=None, max_length=200, description="From `next_cursor`."),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = raw.decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this API returned.") from exc
    if not value or len(value) > 100 or not value.isprintable():
        raise InvalidCursor("The cursor is not one this API returned.")
    return value


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    id_column: InstrumentedAttribute[str],
    params: PageParams,
) -> tuple[Sequence[Any], str | None]:
    """Rows of ``stmt`` after the cursor, ordered by id, and the next cursor."""
    if params.cursor:
        stmt = stmt.where(id_column > decode_cursor(params.cursor))
    stmt = stmt.order_by(id_column).limit(params.limit + 1)
    rows = list((await session.execute(stmt)).scalars().all())
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(getattr(rows[-1], id_column.key)) if more and rows else None
    return rows, next_cursor
