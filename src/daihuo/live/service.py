"""Live-session use cases. Services ``flush()``; the edge commits.

A session is scheduled by a merchant with a product list taken from its showcase; the
list can be rearranged until the session starts. It then goes live (scheduled → live,
optionally with the stream URL the room plays) and ends (live → ended); each step is one
conditional UPDATE, so of two concurrent requests only one makes it and only one
``live_start`` / ``live_end`` event is recorded (by the edge, after commit). Only the
merchant's own showcase items can be listed: an id of another tenant's item is reported
like an unknown one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import ShowcaseItemRead
from daihuo.core.clock import utcnow
from daihuo.core.db import scope_session
from daihuo.core.ids import new_id
from daihuo.core.pagination import PageParams
from daihuo.live import domain, errors
from daihuo.live.domain import ENDED, LIVE, SCHEDULED
from daihuo.live.models import LiveSession, LiveWordList
from daihuo.live.repository import LiveRepository
from daihuo.live.schemas import (
    LiveSessionCreate,
    LiveSessionRead,
    LiveSessionStart,
    RoomRead,
    SessionProduct,
    VisitorTokenRead,
    WordListRead,
)
from daihuo.live.words import DEFAULT_WORDS
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy import service as tenancy
from daihuo.tenancy.domain import Permission, Principal, TenantKind, Via


async def _showcase(
    session: AsyncSession, ctx: Principal, item_ids: Sequence[str]
) -> dict[str, ShowcaseItemRead]:
    found = await catalog.showcase_items(session, ctx, item_ids)
    unknown = [i for i in item_ids if i not in found]
    if unknown:
        raise errors.UnknownShowcaseItems(
            f"Not in your showcase: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        )
    return found


async def _read(
    session: AsyncSession, ctx: Principal, repo: LiveRepository, lives: Sequence[LiveSession]
) -> list[LiveSessionRead]:
    lists = await repo.item_ids([s.id for s in lives])
    items = await catalog.showcase_items(
        session, ctx, sorted({i for v in lists.values() for i in v})
    )
    out = []
    for s in lives:
        products = [
            SessionProduct(
                position=n,
                item_id=item_id,
                product_id=items[item_id].product_id,
                title=items[item_id].title,
                price=items[item_id].price,
            )
            for n, item_id in enumerate(lists[s.id], start=1)
        ]
        out.append(
            LiveSessionRead(
                id=s.id,
                title=s.title,
                planned_start=s.planned_start,
                state=s.state,
                stream_url=s.stream_url,
                pinned=next((p for p in products if p.item_id == s.pinned_item_id), None),
                started_at=s.started_at,
                ended_at=s.ended_at,
                products=products,
                created_at=s.created_at,
                updated_at=s.updated_at,
            )
        )
    return out


async def schedule(
    session: AsyncSession, ctx: Principal, data: LiveSessionCreate
) -> LiveSessionRead:
    """A merchant schedules a session with its product list."""
    catalog.require_kind(ctx, TenantKind.merchant)
    await _showcase(session, ctx, data.products)
    repo = LiveRepository(session)
    now = utcnow()
    live = LiveSession(
        id=new_id("lsn"),
        title=data.title,
        planned_start=data.planned_start,
        state=SCHEDULED,
        created_at=now,
        updated_at=now,
    )
    repo.add(live)
    await repo.flush()
    await repo.set_items(live, data.products)
    return (await _read(session, ctx, repo, [live]))[0]


async def _own(repo: LiveRepository, session_id: str) -> LiveSession:
    live = await repo.live_session(session_id)
    if live is None:
        raise errors.LiveSessionNotFound()
    return live


async def get_session(session: AsyncSession, ctx: Principal, session_id: str) -> LiveSessionRead:
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    return (await _read(session, ctx, repo, [await _own(repo, session_id)]))[0]


async def list_sessions(
    session: AsyncSession, ctx: Principal, params: PageParams
) -> tuple[list[LiveSessionRead], str | None]:
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    lives, cursor = await repo.page(params)
    return await _read(session, ctx, repo, lives), cursor


async def set_products(
    session: AsyncSession, ctx: Principal, session_id: str, item_ids: Sequence[str]
) -> LiveSessionRead:
    """Replace the session's product list (its running order) before it starts."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    live = await _own(repo, session_id)
    if live.state != SCHEDULED:
        raise errors.SessionNotEditable(f"The session is {live.state}; its list is fixed.")
    await _showcase(session, ctx, item_ids)
    await repo.set_items(live, item_ids)
    live.updated_at = utcnow()
    await repo.flush()
    return (await _read(session, ctx, repo, [live]))[0]


async def start(
    session: AsyncSession, ctx: Principal, session_id: str, data: LiveSessionStart
) -> LiveSessionRead:
    """The session goes live, with the stream URL its room plays (if it has video)."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    live = await _own(repo, session_id)
    now = utcnow()
    if not await repo.transition(
        live, SCHEDULED, LIVE, now, started_at=now, stream_url=data.stream_url
    ):
        raise errors.SessionStateConflict(
            f"The session is {live.state}; only a scheduled session can go live."
        )
    return (await _read(session, ctx, repo, [live]))[0]


async def end(session: AsyncSession, ctx: Principal, session_id: str) -> LiveSessionRead:
    """The live session ends; its room closes."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    live = await _own(repo, session_id)
    now = utcnow()
    if not await repo.transition(live, LIVE, ENDED, now, ended_at=now):
        raise errors.SessionStateConflict(f"The session is {live.state}; only a live one can end.")
    return (await _read(session, ctx, repo, [live]))[0]


async def pin(
    session: AsyncSession, ctx: Principal, session_id: str, item_id: str | None
) -> LiveSessionRead:
    """Pin the product the host explains now (or unpin with ``None``); live sessions only."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    live = await _own(repo, session_id)
    if live.state != LIVE:
        raise errors.SessionStateConflict(f"The session is {live.state}; pin while it is live.")
    if item_id is not None and item_id not in (await repo.item_ids([live.id]))[live.id]:
        raise errors.NotInSession(f"{item_id} is not in this session's product list.")
    live.pinned_item_id = item_id
    live.updated_at = utcnow()
    await repo.flush()
    return (await _read(session, ctx, repo, [live]))[0]


async def moderate(session: AsyncSession, ctx: Principal, session_id: str) -> None:
    """Check that the caller may moderate the session's room now: its merchant's writers,
    while it is live. (The acts themselves are room state, on the bus.)"""
    catalog.require_kind(ctx, TenantKind.merchant)
    live = await _own(LiveRepository(session), session_id)
    if live.state != LIVE:
        raise errors.SessionStateConflict(f"The session is {live.state}; its room is not open.")


@dataclass(frozen=True)
class Room:
    """What the public live room knows of its session."""

    session_id: str
    tenant_id: str
    state: str


async def room(session: AsyncSession, session_id: str) -> Room | None:
    """Any tenant's session, as its public room sees it (viewers belong to no tenant)."""
    found = await LiveRepository(session).room(session_id)
    return None if found is None else Room(session_id, found[0], found[1])


async def visitor_token(
    session: AsyncSession, session_id: str, *, key: bytes, ttl: timedelta
) -> VisitorTokenRead:
    """A signed token that lets an anonymous viewer into the session's room."""
    found = await room(session, session_id)
    if found is None:
        raise errors.LiveSessionNotFound()
    if found.state == ENDED:
        raise errors.SessionEnded("The session has ended; its room is closed.")
    expires = _whole_seconds(utcnow() + ttl)
    visitor = domain.new_visitor_id()
    token = domain.issue_visitor_token(key, session_id, visitor, int(expires.timestamp()))
    return VisitorTokenRead(token=token, visitor=visitor, expires_at=expires)


def _whole_seconds(at: datetime) -> datetime:
    return at.replace(microsecond=0)


@dataclass(frozen=True)
class Admission:
    """Who joins which room."""

    room: Room
    user: str
    anonymous: bool


async def admit_viewer(
    session: AsyncSession,
    session_id: str,
    *,
    bearer: str | None,
    cookie: str | None,
    visitor: str | None,
    key: bytes,
) -> Admission:
    """Check that the session's room is open and who the viewer is: a signed-in user (a
    bearer token), an anonymous visitor whose token was signed for this very session, or
    else the user of the browser's session cookie."""
    found = await room(session, session_id)
    if found is None:
        raise errors.LiveSessionNotFound()
    if found.state == ENDED:
        raise errors.SessionEnded("The session has ended.")
    if found.state != LIVE:
        raise errors.SessionNotLive("The session has not started yet.")
    # What the hello names explicitly wins over the cookie the browser happens to send:
    # a stale session cookie must not keep an anonymous viewer out.
    if bearer is None and visitor is not None:
        checked = domain.verify_visitor_token(key, visitor, now=int(utcnow().timestamp()))
        if checked is None or checked.session_id != session_id:
            raise errors.ViewerUnauthorized("The visitor token is not valid for this session.")
        return Admission(found, checked.visitor, anonymous=True)
    for secret, via in ((bearer, Via.bearer), (cookie, Via.cookie)):
        if secret is None:
            continue
        try:
            _, user = await tenancy.resolve_token(session, secret, kind=via)
        except (tenancy_errors.InvalidToken, tenancy_errors.TokenExpired) as exc:
            raise errors.ViewerUnauthorized(exc.detail) from None
        return Admission(found, user.id, anonymous=False)
    raise errors.ViewerUnauthorized("Send a token or a visitor token in the hello.")


async def tenant_words(session: AsyncSession) -> list[str]:
    """The own words of the tenant the session is scoped to (none if it set none)."""
    found = await LiveRepository(session).word_list()
    return found.words.split("\n") if found is not None and found.words else []


async def get_words(session: AsyncSession, ctx: Principal) -> WordListRead:
    """The merchant's sensitive words for comments, and the default list."""
    catalog.require_kind(ctx, TenantKind.merchant)
    return WordListRead(words=await tenant_words(session), default=list(DEFAULT_WORDS))


async def set_words(session: AsyncSession, ctx: Principal, words: Sequence[str]) -> WordListRead:
    """Replace the merchant's own sensitive words."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    found = await repo.word_list()
    if found is None:
        repo.add(LiveWordList(words="\n".join(words), updated_at=utcnow()))
    else:
        found.words, found.updated_at = "\n".join(words), utcnow()
    await repo.flush()
    return WordListRead(words=list(words), default=list(DEFAULT_WORDS))


async def room_products(
    session: AsyncSession, tenant_id: str, session_id: str
) -> list[SessionProduct]:
    """The session's product list as its room shows it (fixed once the session is live).
    ``session`` is scoped to the session's tenant; the room reads for the merchant."""
    ctx = Principal(
        via=Via.bearer,
        user_id=None,
        tenant_id=tenant_id,
        tenant_kind=TenantKind.merchant,
        role=None,
        permissions=frozenset({Permission.sessions_read}),
    )
    repo = LiveRepository(session)
    return (await _read(session, ctx, repo, [await _own(repo, session_id)]))[0].products


@dataclass(frozen=True)
class EndedSession:
    id: str
    merchant_id: str
    ended_at: datetime


async def ended_sessions(
    session: AsyncSession, *, after_id: str = "", limit: int = 200
) -> list[EndedSession]:
    """Ended sessions of every merchant, by id (for system jobs such as report publishing)."""
    lives = await LiveRepository(session).in_state(ENDED, after_id, limit)
    return [EndedSession(s.id, s.tenant_id, s.ended_at or s.updated_at) for s in lives]


async def room_view(session: AsyncSession, session_id: str) -> RoomRead:
    """Any session's public room view (the product list drawer of the live-room page)."""
    found = await room(session, session_id)
    if found is None:
        raise errors.LiveSessionNotFound()
    scope_session(session, found.tenant_id)  # read-only, and only this session's list
    live = await _own(LiveRepository(session), session_id)
    products = await room_products(session, found.tenant_id, session_id)
    return RoomRead(
        id=session_id,
        merchant_id=found.tenant_id,
        title=live.title,
        state=found.state,
        stream_url=live.stream_url,
        products=products,
    )
