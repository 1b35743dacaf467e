"""The merchant's live sessions in the console (``/console/sessions``): schedule, go live, end.

The list shows every session of the merchant, newest first. A member whose role may
change sessions schedules a new one from the same page — a title, the planned start
typed in China time, and the products of its showcase in running order (ticked, with an
optional position number: ticked items without one follow in showcase order) — starts a
scheduled session with the HLS/FLV stream URL its room plays (or none: the room shows
the pinned product), and ends a live one. Starting and ending announce the
``live_start`` / ``live_end`` events after commit, exactly as the API does
(``live.service.announce_transition``). Every form carries the session's CSRF token; a
refused form is shown on the page, as typed, with nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import ShowcaseItemRead
from daihuo.core.db import commit
from daihuo.core.pagination import PageParams
from daihuo.live import errors as live_errors
from daihuo.live import service as live
from daihuo.live.room import RoomHub
from daihuo.live.schemas import LiveSessionCreate, LiveSessionStart
from daihuo.pages.console import (
    CHINA_TIME,
    MANY,
    _not_merchant,
    _sessions,
    _signed_in,
    _signed_post,
    render,
)
from daihuo.tenancy.deps import get_session
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/console", include_in_schema=False)
SessionKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:.\-]+$")]
MAX_LIST = 50  # the product list's limit (live.schemas.MAX_PRODUCTS)


def parse_schedule(
    form: Mapping[str, str], showcase: list[ShowcaseItemRead]
) -> tuple[LiveSessionCreate | None, dict[str, str], dict[str, str]]:
    """The schedule form → the session to create (None when anything is wrong), the values
    as typed, and the message key of each wrong field.

    ``start`` is ``YYYY-MM-DDTHH:MM`` (a datetime-local field) read in China time. Items
    are the showcase ids ticked (``item:<id>`` = ``on``), ordered by their ``pos:<id>``
    number where one is given, then in showcase order."""
    typed = {"title": form.get("title", "").strip(), "start": form.get("start", "").strip()}
    errors: dict[str, str] = {}
    planned: datetime | None = None
    try:
        planned = datetime.strptime(typed["start"], "%Y-%m-%dT%H:%M").replace(tzinfo=CHINA_TIME)
    except ValueError:
        errors["start"] = "sess_err_start"
    chosen: list[tuple[int, int, str]] = []
    for order, item in enumerate(showcase):
        if form.get(f"item:{item.id}") != "on":
            continue
        typed[f"item:{item.id}"] = "on"
        pos = form.get(f"pos:{item.id}", "").strip()
        typed[f"pos:{item.id}"] = pos
        if pos and not (pos.isdecimal() and 1 <= int(pos) <= MAX_LIST):
            errors["items"] = "sess_err_position"
        chosen.append((int(pos) if pos.isdecimal() else MAX_LIST + 1, order, item.id))
    if len(chosen) > MAX_LIST:
        errors["items"] = "sess_err_too_many"
    if errors or planned is None:
        return None, typed, errors
    try:
        data = LiveSessionCreate(
            title=typed["title"], planned_start=planned, products=[i for *_, i in sorted(chosen)]
        )
    except ValidationError as exc:
        for problem in exc.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "title"
            errors.setdefault("items" if field == "products" else field, "prod_err_field")
        return None, typed, errors
    return data, typed, {}


async def _showcase(session: AsyncSession, principal: Principal) -> list[ShowcaseItemRead]:
    items, _ = await catalog.list_showcase(session, principal, PageParams(limit=MANY))
    return [i for i in items if i.product_state == "listed"]


def _may_run(principal: Principal) -> bool:
    return Permission.sessions_write in principal.permissions


async def _page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    status_code: int = 200,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    failed: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "console/sessions.html",
        status_code=status_code,
        principal=principal,
        sessions=await _sessions(session, principal),
        showcase=await _showcase(session, principal) if _may_run(principal) else [],
        may_run=_may_run(principal),
        typed=typed or {},
        errors=errors or {},
        failed=failed or {},
    )


@router.get("/sessions", response_class=HTMLResponse)
async def sessions_list(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Every session of the merchant, newest first; schedule, start and end them here."""
    principal = await _signed_in(request, session, _not_merchant)
    if not isinstance(principal, Principal):
        return principal
    return await _page(request, session, principal)


async def _writer(
    request: Request, session: AsyncSession
) -> tuple[Principal, dict[str, str]] | Response:
    posted = await _signed_post(request, session, _not_merchant)
    if isinstance(posted, Response):
        return posted
    principal, form = posted
    if not _may_run(principal):
        return render(
            request,
            "console/message.html",
            principal=principal,
            status_code=403,
            message="sess_denied",
        )
    return principal, form


@router.post("/sessions/new", response_class=HTMLResponse)
async def schedule(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Schedule a session with its title, planned start and product list."""
    who = await _writer(request, session)
    if not isinstance(who, tuple):
        return who
    principal, form = who
    data, typed, errors = parse_schedule(form, await _showcase(session, principal))
    if data is None:
        return await _page(request, session, principal, status_code=422, typed=typed, errors=errors)
    try:
        made = await live.schedule(session, principal, data)
        await commit(session)
    except live_errors.UnknownShowcaseItems:
        await session.rollback()
        errors = {"items": "sess_err_items"}
        return await _page(request, session, principal, status_code=422, typed=typed, errors=errors)
    return RedirectResponse(f"/console/sessions?scheduled={made.id}", status_code=303)


async def _transition(
    request: Request, session: AsyncSession, session_id: str, action: str
) -> Response:
    who = await _writer(request, session)
    if not isinstance(who, tuple):
        return who
    principal, form = who
    hub: RoomHub = request.app.state.rooms
    try:
        if action == "start":
            url = form.get("stream_url", "").strip()
            try:
                data = LiveSessionStart(stream_url=url or None)
            except ValidationError:
                failed = {"session": session_id, "message": "sess_err_stream", "url": url}
                return await _page(request, session, principal, status_code=422, failed=failed)
            moved = await live.start(session, principal, session_id, data)
        else:
            moved = await live.end(session, principal, session_id)
        live.announce_transition(
            session, moved, record=request.app.state.event_sink.record, room_ended=hub.session_ended
        )
        await commit(session)
    except (live_errors.SessionStateConflict, live_errors.LiveSessionNotFound) as exc:
        await session.rollback()
        gone = isinstance(exc, live_errors.LiveSessionNotFound)
        failed = {"session": session_id, "message": "sess_err_gone" if gone else "sess_err_state"}
        return await _page(request, session, principal, status_code=409, failed=failed)
    if action == "start":
        return RedirectResponse(f"/console/sessions/{session_id}/screen", status_code=303)
    return RedirectResponse("/console/sessions", status_code=303)


@router.post("/sessions/{session_id}/start", response_class=HTMLResponse)
async def start(
    request: Request, session_id: SessionKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """Go live, with the stream URL the room plays (optional); then the big screen."""
    return await _transition(request, session, session_id, "start")


@router.post("/sessions/{session_id}/end", response_class=HTMLResponse)
async def end(
    request: Request, session_id: SessionKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """End the live session; its room closes."""
    return await _transition(request, session, session_id, "end")
