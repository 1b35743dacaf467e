"""Live sessions: ``/api/v1/live-sessions``."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors as catalog_errors
from daihuo.core.db import commit, commit_then
from daihuo.core.errors import problems
from daihuo.core.gate import gated
from daihuo.core.pagination import InvalidCursor, Page, PageParams, page_params
from daihuo.core.types import ResourceId
from daihuo.live import errors, service
from daihuo.live.room import RoomHub
from daihuo.live.schemas import (
    AnnouncementCreate,
    AnnouncementRead,
    BanSet,
    ClaimedCoupon,
    CommentPinSet,
    CouponCreate,
    CouponRead,
    DrawCreate,
    DrawRead,
    LiveSessionCreate,
    LiveSessionRead,
    LiveSessionStart,
    ModerationActRead,
    MuteSet,
    PinSet,
    ProductListSet,
    RoomRead,
    SlowModeSet,
    VisitorTokenRead,
    WordListRead,
    WordListSet,
)
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_session, require, require_user
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1", tags=["live"])
AUTH, DENIED = tenancy_errors.AUTH, catalog_errors.DENIED


@router.get("/live-sessions", responses=problems(*AUTH, *DENIED, InvalidCursor))
async def list_sessions(
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[LiveSessionRead]:
    """The merchant's live sessions with their product lists."""
    items, cursor = await service.list_sessions(session, principal, params)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/live-sessions",
    status_code=status.HTTP_201_CREATED,
    responses=problems(*AUTH, *DENIED, errors.UnknownShowcaseItems),
)
async def schedule_session(
    data: LiveSessionCreate,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """Schedule a live session with a product list from the showcase."""
    live = await service.schedule(session, principal, data)
    await commit(session)
    return live


@router.get(
    "/live-sessions/{session_id}",
    responses=problems(*AUTH, *DENIED, errors.LiveSessionNotFound),
)
async def get_session_(
    session_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """One live session with its product list."""
    return await service.get_session(session, principal, session_id)


@router.put(
    "/live-sessions/{session_id}/products",
    responses=problems(
        *AUTH,
        *DENIED,
        errors.LiveSessionNotFound,
        errors.UnknownShowcaseItems,
        errors.SessionNotEditable,
    ),
)
async def set_products(
    session_id: ResourceId,
    data: ProductListSet,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """Arrange the session's product list (running order) before it starts."""
    live = await service.set_products(session, principal, session_id, data.products)
    await commit(session)
    return live


def _record_on_commit(request: Request, session: AsyncSession, live: LiveSessionRead) -> None:
    hub: RoomHub = request.app.state.rooms
    service.announce_transition(
        session, live, record=request.app.state.event_sink.record, room_ended=hub.session_ended
    )


@router.post(
    "/live-sessions/{session_id}/start",
    responses=problems(*AUTH, *DENIED, errors.LiveSessionNotFound, errors.SessionStateConflict),
)
async def start_session(
    request: Request,
    session_id: ResourceId,
    data: LiveSessionStart | None = None,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """Go live (scheduled → live), optionally with the HLS/FLV stream URL the room plays."""
    live = await service.start(session, principal, session_id, data or LiveSessionStart())
    _record_on_commit(request, session, live)
    await commit(session)
    return live


@router.post(
    "/live-sessions/{session_id}/end",
    responses=problems(*AUTH, *DENIED, errors.LiveSessionNotFound, errors.SessionStateConflict),
)
async def end_session(
    request: Request,
    session_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """End the live session (live → ended); viewers in its room are told and let go."""
    live = await service.end(session, principal, session_id)
    _record_on_commit(request, session, live)
    await commit(session)
    return live


PIN_ERRORS = (errors.LiveSessionNotFound, errors.SessionStateConflict, errors.NotInSession)


async def _pin(
    request: Request, session: AsyncSession, principal: Principal, sid: str, item: str | None
) -> LiveSessionRead:
    live = await service.pin(session, principal, sid, item)
    hub: RoomHub = request.app.state.rooms
    pinned = live.pinned.model_dump(mode="json") if live.pinned is not None else None

    await commit_then(session, hub.pinned(sid, pinned))
    return live


@router.put("/live-sessions/{session_id}/pin", responses=problems(*AUTH, *DENIED, *PIN_ERRORS))
async def pin_product(
    request: Request,
    session_id: ResourceId,
    data: PinSet,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """Pin the product the host explains now (讲解); every viewer of the room sees it."""
    return await _pin(request, session, principal, session_id, data.item_id)


@router.delete("/live-sessions/{session_id}/pin", responses=problems(*AUTH, *DENIED, *PIN_ERRORS))
async def unpin_product(
    request: Request,
    session_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> LiveSessionRead:
    """Unpin the product: the room shows none."""
    return await _pin(request, session, principal, session_id, None)


MODERATION = problems(*AUTH, *DENIED, errors.LiveSessionNotFound, errors.SessionStateConflict)


@router.delete(
    "/live-sessions/{session_id}/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=MODERATION,
)
async def delete_comment(
    request: Request,
    session_id: ResourceId,
    comment_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Take a comment down: viewers get `comment_deleted`, snapshots no longer show it."""
    await service.moderation_act(session, principal, session_id, "delete_comment", comment_id)
    hub: RoomHub = request.app.state.rooms
    await commit_then(session, hub.delete_comment(session_id, comment_id, by=principal.user_id))


@router.put(
    "/live-sessions/{session_id}/pinned-comment",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(
        *AUTH, *DENIED, errors.LiveSessionNotFound, errors.SessionStateConflict,
        errors.CommentNotFound,
    ),
)  # fmt: skip
async def pin_comment(
    request: Request,
    session_id: ResourceId,
    data: CommentPinSet,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Pin one of the room's recent comments above the others."""
    await service.moderate(session, principal, session_id)
    hub: RoomHub = request.app.state.rooms
    comment = await hub.recent_comment(session_id, data.comment_id)
    if comment is None:
        raise errors.CommentNotFound("Only one of the room's recent comments can be pinned.")
    await service.moderation_act(session, principal, session_id, "pin_comment", data.comment_id)
    await commit_then(session, hub.pin_comment(session_id, comment, by=principal.user_id))


@router.delete(
    "/live-sessions/{session_id}/pinned-comment",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=MODERATION,
)
async def unpin_comment(
    request: Request,
    session_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Unpin the pinned comment."""
    await service.moderation_act(session, principal, session_id, "unpin_comment")
    hub: RoomHub = request.app.state.rooms
    await commit_then(session, hub.pin_comment(session_id, None, by=principal.user_id))


@router.post(
    "/live-sessions/{session_id}/mutes",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=MODERATION,
)
async def mute_viewer(
    request: Request,
    session_id: ResourceId,
    data: MuteSet,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Mute a viewer: their comments are refused for `seconds`."""
    await service.moderation_act(
        session, principal, session_id, "mute", data.user, seconds=data.seconds
    )
    hub: RoomHub = request.app.state.rooms
    await commit_then(session, hub.mute(session_id, data.user, data.seconds, by=principal.user_id))


@router.post(
    "/live-sessions/{session_id}/bans",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=MODERATION,
)
async def ban_viewer(
    request: Request,
    session_id: ResourceId,
    data: BanSet,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Ban a viewer from the room: their connections close (4003) and they cannot rejoin."""
    await service.moderation_act(session, principal, session_id, "ban", data.user)
    hub: RoomHub = request.app.state.rooms
    await commit_then(session, hub.ban(session_id, data.user, by=principal.user_id))


@router.put("/live-sessions/{session_id}/slow-mode", responses=MODERATION)
async def set_slow_mode(
    request: Request,
    session_id: ResourceId,
    data: SlowModeSet,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> SlowModeSet:
    """Slow mode: each viewer may comment once per `seconds` (0 turns it off)."""
    await service.moderation_act(session, principal, session_id, "slow_mode", seconds=data.seconds)
    hub: RoomHub = request.app.state.rooms
    await commit_then(session, hub.slow_mode(session_id, data.seconds, by=principal.user_id))
    return data


@router.post(
    "/live-sessions/{session_id}/visitor-token",
    status_code=status.HTTP_201_CREATED,
    responses=problems(errors.LiveSessionNotFound, errors.SessionEnded),
)
async def visitor_token(
    request: Request,
    session_id: ResourceId,
    session: AsyncSession = Depends(get_session),
) -> VisitorTokenRead:
    """A signed token for an anonymous viewer to join the session's room (no sign-in)."""
    hub: RoomHub = request.app.state.rooms
    ttl = timedelta(seconds=request.app.state.settings.live_visitor_token_seconds)
    return await service.visitor_token(session, session_id, key=hub.visitor_key, ttl=ttl)


@router.get("/rooms/{session_id}", responses=problems(errors.LiveSessionNotFound))
async def room_view(
    session_id: ResourceId, session: AsyncSession = Depends(get_session)
) -> RoomRead:
    """A session's public room: its shop, its state and its product list (no sign-in)."""
    return await service.room_view(session, session_id)


@router.get("/live-words", responses=problems(*AUTH, *DENIED))
async def get_words(
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> WordListRead:
    """The merchant's own sensitive words for comments, besides the default list."""
    return await service.get_words(session, principal)


@router.put("/live-words", responses=problems(*AUTH, *DENIED))
async def set_words(
    request: Request,
    data: WordListSet,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> WordListRead:
    """Replace the merchant's own sensitive words; its rooms mask them from then on."""
    words = await service.set_words(session, principal, data.words)
    hub: RoomHub = request.app.state.rooms
    tenant_id = principal.tenant_id
    assert tenant_id is not None

    await commit_then(session, hub.words_changed(tenant_id))
    return words


# --- moderation record, host controls ---------------------------------------------------


@router.get(
    "/live-sessions/{session_id}/moderation",
    responses=problems(*AUTH, *DENIED, errors.LiveSessionNotFound, InvalidCursor),
)
async def moderation_record(
    session_id: ResourceId,
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[ModerationActRead]:
    """The record of the host's acts in the session's room (who, when, what, on whom)."""
    items, cursor = await service.moderation_acts(session, principal, session_id, params)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/live-sessions/{session_id}/coupons", status_code=status.HTTP_201_CREATED, responses=MODERATION
)
async def drop_coupon(
    request: Request,
    session_id: ResourceId,
    data: CouponCreate,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> CouponRead:
    """Drop a coupon in the live room (amount and threshold in fen); viewers get `coupon`."""
    coupon = await service.drop_coupon(session, principal, session_id, data)
    hub: RoomHub = request.app.state.rooms
    await commit_then(session, hub.coupon_dropped(coupon))
    return coupon


@router.get(
    "/live-sessions/{session_id}/coupons",
    responses=problems(*AUTH, *DENIED, errors.LiveSessionNotFound),
)
async def list_coupons(
    session_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> list[CouponRead]:
    """The session's coupons and how many of each were claimed."""
    return await service.list_coupons(session, principal, session_id)


@router.post(
    "/coupons/{coupon_id}/claim",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(gated)],
    responses=problems(
        *AUTH, *DENIED, errors.CouponNotFound, errors.CouponClosed, errors.CouponSoldOut,
        errors.CouponAlreadyClaimed,
    ),
)  # fmt: skip
async def claim_coupon(
    request: Request,
    coupon_id: ResourceId,
    principal: Principal = Depends(require_user),
    session: AsyncSession = Depends(get_session),
) -> ClaimedCoupon:
    """Claim a coupon of a live room (signed-in users; once each, while any are left)."""
    assert principal.user_id is not None
    hub: RoomHub = request.app.state.rooms
    return await hub.claim_coupon(session, coupon_id, principal.user_id)


@router.get("/me/coupons", tags=["auth"], responses=problems(*AUTH, *DENIED, InvalidCursor))
async def my_coupons(
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require_user),
    session: AsyncSession = Depends(get_session),
) -> Page[ClaimedCoupon]:
    """The coupons the signed-in user claimed in live rooms, of every merchant."""
    assert principal.user_id is not None
    items, cursor = await service.my_coupons(session, principal.user_id, params)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/live-sessions/{session_id}/draws", status_code=status.HTTP_201_CREATED, responses=MODERATION
)
async def create_draw(
    request: Request,
    session_id: ResourceId,
    data: DrawCreate,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> DrawRead:
    """Start a lucky draw (福袋); its commitment sha256(seed) is public at once (docs/draws.md)."""
    draw = await service.create_draw(session, principal, session_id, data)
    hub: RoomHub = request.app.state.rooms
    await commit_then(session, hub.draw_started(draw))
    return draw


@router.get(
    "/live-sessions/{session_id}/draws",
    responses=problems(*AUTH, *DENIED, errors.LiveSessionNotFound),
)
async def list_draws(
    session_id: ResourceId,
    principal: Principal = Depends(require(Permission.sessions_read)),
    session: AsyncSession = Depends(get_session),
) -> list[DrawRead]:
    """The session's lucky draws (a running draw's seed stays secret)."""
    return await service.list_draws(session, principal, session_id)


@router.get("/draws/{draw_id}", tags=["public"], responses=problems(errors.DrawNotFound))
async def public_draw(
    draw_id: ResourceId, session: AsyncSession = Depends(get_session)
) -> DrawRead:
    """A lucky draw for anyone to verify: once drawn, its seed, entrants and winners."""
    return await service.public_draw(session, draw_id)


@router.post(
    "/live-sessions/{session_id}/announcements",
    status_code=status.HTTP_201_CREATED,
    responses=MODERATION,
)
async def announce(
    request: Request,
    session_id: ResourceId,
    data: AnnouncementCreate,
    principal: Principal = Depends(require(Permission.sessions_write)),
    session: AsyncSession = Depends(get_session),
) -> AnnouncementRead:
    """Post a short announcement in the live room; snapshots show it for `seconds`."""
    announcement = await service.announce(session, principal, session_id, data)
    hub: RoomHub = request.app.state.rooms
    await commit_then(session, hub.announced(session_id, announcement))
    return announcement
