"""The consumer's live room (``/live/{session}``): mobile first.

The page is rendered with what the room shows at first (title, the product list with
prices and SKUs, the flash sales), then its script joins the room over the WebSocket
protocol (docs/protocol.md): comments, like totals, the online count, the pinned product
and flash sales arrive as they happen, and a dropped connection resumes from the last
seen message. Buying is the API's: a signed-in viewer (the tenancy module's browser
session, its CSRF token in a header) places an order or races in a flash sale and pays
on the sandbox provider's page. Anyone may watch; buying asks to sign in first.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import service as catalog
from daihuo.core.pagination import PageParams
from daihuo.live import errors as live_errors
from daihuo.live import service as live
from daihuo.pages.console import CSP, SessionKey, _principal, render
from daihuo.tenancy.deps import get_session

router = APIRouter(include_in_schema=False)
HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?")


@router.get("/live/{session_id}", response_class=HTMLResponse)
async def live_room(
    request: Request, session_id: SessionKey, session: AsyncSession = Depends(get_session)
) -> HTMLResponse:
    principal = await _principal(request, session)
    try:
        room = await live.room_view(session, session_id)
    except live_errors.LiveSessionNotFound:
        return render(request, "live/missing.html", status_code=404, principal=principal)
    items, _ = await catalog.storefront(session, room.merchant_id, PageParams(limit=200))
    by_item = {i.id: i for i in items}
    products: list[dict[str, Any]] = []
    for p in room.products:
        item = by_item.get(p.item_id)
        if item is None:  # delisted since the list was fixed: not for sale now
            continue
        products.append(
            {
                "item_id": p.item_id,
                "product_id": p.product_id,
                "title": p.title,
                "price": p.price,
                "image": item.images[0].url if item.images else None,
                "skus": [s.model_dump() for s in item.skus if s.available > 0],
            }
        )
    sales = [
        catalog.flash_read(s).model_dump(mode="json")
        for s in await catalog.list_flash_sales(session, session_id=session_id)
        if s.ended_at is None
    ]
    buyer = principal is not None and principal.user_id is not None
    response = render(
        request,
        "live/room.html",
        principal=principal,
        room=room,
        products=products,
        boot={
            "session": room.id,
            "merchant": room.merchant_id,
            "state": room.state,
            "signedIn": buyer,
            "user": principal.user_id if buyer and principal is not None else None,
            "login": f"/console/login?next={request.url.path}",
            "products": products,
            "sales": sales,
        },
    )
    origin = _origin(room.stream_url)
    if origin is not None:
        # The player fetches the merchant's stream (and feeds it to the video as blob:).
        response.headers["Content-Security-Policy"] = (
            CSP.replace("connect-src 'self'", f"connect-src 'self' {origin}")
            + f"; media-src 'self' blob: {origin}"
        )
    return response


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(parts.netloc):
        return None  # nothing that could smuggle a directive into the header
    return f"{parts.scheme}://{parts.netloc}"
