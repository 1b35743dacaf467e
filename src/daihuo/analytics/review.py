"""What the review (复盘) of a session adds to its figures: markers on its per-minute
curves, and its key figures beside the merchant's previous sessions.

* **Markers**: each period a product was pinned (讲解) — from the pin in the record of
  the host's acts to the next pin or unpin, or to the session's end — and each flash
  sale (秒杀) of the session, from its start to its end (or to when it was ended early).
  ``minute_from``/``minute_to`` place a marker on the curves: the minute of the window
  (``(t - start) // 60 s``) of its start and end, kept inside ``0 … n - 1``; both are
  ``None`` for a marker wholly outside the window (or a session without events).
* **Comparison**: the session's key figures beside the **median** of the same figure
  over the merchant's previous ``N`` ended sessions (those that started before it,
  latest first, with recorded events). The median rather than the mean, so that one
  exceptional session does not set the bar. A figure missing (``null``) in a previous
  session is left out of its median; with no value at all the median is ``null``.
  Counts and money (fen) are integers: the median of an even number of them is the mean
  of the middle two rounded half up. ``difference`` is value − median, ``relative`` is
  difference ÷ median (``null`` when the median is 0 or either is ``null``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import service as catalog
from daihuo.live import service as live
from daihuo.live.schemas import LiveSessionRead
from daihuo.tenancy.domain import Principal

MINUTE_MS = 60_000
DEFAULT_PREVIOUS = 5
MOST_PREVIOUS = 20
# The figures compared, with their kind (integers are compared as integers).
COMPARED: tuple[tuple[str, str], ...] = (
    ("duration_seconds", "seconds"),
    ("viewer_uv", "count"),
    ("pcu", "count"),
    ("acu", "ratio"),
    ("avg_watch_seconds", "seconds"),
    ("interaction_rate", "rate"),
    ("order_count", "count"),
    ("buyer_uv", "count"),
    ("gmv", "money"),
    ("net_gmv", "money"),
    ("conversion_rate", "rate"),
    ("gpm", "ratio"),
    ("aov", "ratio"),
    ("refund_rate", "rate"),
)
INTEGERS = {"count", "money"}


class Marker(BaseModel):
    kind: Literal["pin", "flash_sale"]
    id: str = Field(description="The pinned showcase item, or the flash sale.")
    product: str | None = Field(description="The product (as in the events' `product`).")
    title: str
    start_ms: int = Field(description="Milliseconds since the epoch, UTC.")
    end_ms: int | None = Field(description="None: still running when the report was made.")
    minute_from: int | None = Field(description="Its first minute on the curves.")
    minute_to: int | None = Field(description="Its last minute on the curves.")


class Compared(BaseModel):
    key: str
    kind: str
    value: float | int | None
    median: float | int | None
    difference: float | int | None
    relative: float | None


class Comparison(BaseModel):
    statistic: Literal["median"] = "median"
    previous: list[str] = Field(description="The previous sessions compared, latest first.")
    figures: list[Compared]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _minute(ms: int, window: tuple[int, int] | None) -> int | None:
    if window is None:
        return None
    start, end = window
    last = max((end - start + MINUTE_MS - 1) // MINUTE_MS - 1, 0)
    return min(max((ms - start) // MINUTE_MS, 0), last)


def _marker(
    kind: Literal["pin", "flash_sale"],
    ident: str,
    product: str | None,
    title: str,
    start: datetime,
    end: datetime | None,
    window: tuple[int, int] | None,
) -> Marker:
    start_ms = _ms(start)
    end_ms = None if end is None else max(_ms(end), start_ms)
    last = end_ms if end_ms is not None else (window[1] if window else start_ms)
    if window is not None and (start_ms > window[1] or last < window[0]):
        window = None  # entirely outside the session's window: not on its curves
    return Marker(
        kind=kind, id=ident, product=product, title=title, start_ms=start_ms, end_ms=end_ms,
        minute_from=_minute(start_ms, window), minute_to=_minute(max(last - 1, start_ms), window),
    )  # fmt: skip


async def markers(
    session: AsyncSession,
    ctx: Principal,
    live_session: LiveSessionRead,
    window: tuple[int, int] | None,
) -> list[Marker]:
    """The session's pinned products and flash sales, in order of their start."""
    out = [
        _marker("pin", p.item_id, p.product_id, p.title, p.start, p.end, window)
        for p in await live.pin_history(session, ctx, live_session)
    ]
    for sale in await catalog.list_flash_sales(session, session_id=live_session.id):
        read = catalog.flash_read(sale)
        ended = min(read.ends_at, read.ended_at) if read.ended_at else read.ends_at
        out.append(
            _marker("flash_sale", read.id, read.product_id, read.title, read.starts_at, ended,
                    window)
        )  # fmt: skip
    out.sort(key=lambda m: (m.start_ms, m.kind, m.id))
    return out


def with_net(figures: Mapping[str, Any]) -> dict[str, Any]:
    """A report's figures with ``net_gmv``: GMV net of refunds, in fen."""
    return {
        **figures,
        "net_gmv": int(figures.get("gmv") or 0) - int(figures.get("refund_amount") or 0),
    }


def median(values: Sequence[float | int], kind: str) -> float | int | None:
    if not values:
        return None
    if kind in INTEGERS:
        ordered = sorted(int(v) for v in values)
        mid = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[mid]
        return math.floor((ordered[mid - 1] + ordered[mid]) / 2 + 0.5)
    return float(statistics.median(float(v) for v in values))


def compare(
    figures: Mapping[str, Any], previous: Sequence[tuple[str, Mapping[str, Any]]]
) -> Comparison:
    """The session's key figures beside the median of the previous sessions' ones."""
    now = with_net(figures)
    before = [with_net(f) for _, f in previous]
    rows = []
    for key, kind in COMPARED:
        value = now.get(key)
        mid = median([f[key] for f in before if f.get(key) is not None], kind)
        difference = None if value is None or mid is None else value - mid
        relative = None if difference is None or not mid else difference / mid
        rows.append(
            Compared(key=key, kind=kind, value=value, median=mid, difference=difference,
                     relative=relative)
        )  # fmt: skip
    return Comparison(previous=[s for s, _ in previous], figures=rows)
