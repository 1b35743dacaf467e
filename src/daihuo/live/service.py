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

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import ShowcaseItemRead
from daihuo.core.bus import Bus
from daihuo.core.clock import utcnow
from daihuo.core.db import after_commit, scope_session
from daihuo.core.ids import new_id
from daihuo.core.pagination import PageParams
from daihuo.live import domain, draws, errors
from daihuo.live.domain import ENDED, LIVE, SCHEDULED
from daihuo.live.models import (
    LiveCoupon,
    LiveCouponClaim,
    LiveDraw,
    LiveModerationAct,
    LiveSession,
    LiveWordList,
)
from daihuo.live.repository import LiveRepository
from daihuo.live.schemas import (
    AnnouncementCreate,
    AnnouncementRead,
    ClaimedCoupon,
    CouponCreate,
    CouponRead,
    DrawCreate,
    DrawRead,
    LiveSessionCreate,
    LiveSessionRead,
    LiveSessionStart,
    ModerationActRead,
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


async def session_titles(session: AsyncSession, session_ids: Sequence[str]) -> dict[str, str]:
    """Titles of sessions of any merchant, by id; ids with no live session are left out
    (a report imported from a file has none)."""
    return await LiveRepository(session).titles(session_ids)


async def started_sessions(
    session: AsyncSession, ctx: Principal, limit: int
) -> list[LiveSessionRead]:
    """The merchant's sessions that went live (live or ended), the latest start first."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    return await _read(session, ctx, repo, await repo.started(limit))


async def previous_sessions(
    session: AsyncSession, ctx: Principal, current: LiveSessionRead, limit: int
) -> list[LiveSessionRead]:
    """The merchant's ended sessions that started before ``current``, the latest first."""
    catalog.require_kind(ctx, TenantKind.merchant)
    if limit <= 0:
        return []
    before = current.started_at or current.planned_start
    repo = LiveRepository(session)
    return await _read(session, ctx, repo, await repo.ended_before(before, current.id, limit))


@dataclass(frozen=True)
class PinPeriod:
    """A product pinned (讲解) from ``start`` until the next pin or unpin, or the end."""

    item_id: str
    product_id: str | None
    title: str
    start: datetime
    end: datetime | None


async def pin_history(
    session: AsyncSession, ctx: Principal, live_session: LiveSessionRead
) -> list[PinPeriod]:
    """When each product of the session was pinned, from the record of the host's acts
    (the pin itself is room state; the record keeps its history)."""
    catalog.require_kind(ctx, TenantKind.merchant)
    acts = await LiveRepository(session).pin_acts(live_session.id)
    products = {p.item_id: p for p in live_session.products}
    out: list[PinPeriod] = []
    for n, act in enumerate(acts):
        if act.act != "pin_product" or act.target is None:
            continue
        following = acts[n + 1].at if n + 1 < len(acts) else live_session.ended_at
        product = products.get(act.target)
        out.append(
            PinPeriod(
                item_id=act.target,
                product_id=product.product_id if product else None,
                title=product.title if product else "",
                start=act.at,
                end=following,
            )
        )
    return out


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


def announce_transition(
    session: AsyncSession,
    live: LiveSessionRead,
    *,
    record: Callable[[list[dict[str, Any]]], object],
    room_ended: Callable[[str], Awaitable[None]],
) -> None:
    """After commit: the ``live_start`` / ``live_end`` event of a session that went live or
    ended (``record`` is the event sink's), and an ended room closes (``room_ended``)."""
    kind = "live_start" if live.state == LIVE else "live_end"
    at = live.started_at if kind == "live_start" else live.ended_at
    event = domain.system_event(new_id("evt"), live.id, kind, at or utcnow())

    async def hook() -> None:
        record([event])
        if kind == "live_end":
            await room_ended(live.id)

    after_commit(session, hook)


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
    _act(repo, live, ctx.user_id, "pin_product" if item_id else "unpin_product", item_id)
    await repo.flush()
    return (await _read(session, ctx, repo, [live]))[0]


async def moderate(session: AsyncSession, ctx: Principal, session_id: str) -> LiveSession:
    """Check that the caller may moderate the session's room now: its merchant's writers,
    while it is live. (The acts themselves are room state, on the bus.)"""
    catalog.require_kind(ctx, TenantKind.merchant)
    live = await _own(LiveRepository(session), session_id)
    if live.state != LIVE:
        raise errors.SessionStateConflict(f"The session is {live.state}; its room is not open.")
    return live


def _act(
    repo: LiveRepository,
    live: LiveSession | LiveDraw,
    by: str | None,
    act: str,
    target: str | None,
    **detail: Any,
) -> None:
    session_id = live.id if isinstance(live, LiveSession) else live.session_id
    repo.add(
        LiveModerationAct(
            id=new_id("mod"),
            tenant_id=live.tenant_id,
            session_id=session_id,
            act=act,
            by_user_id=by,
            target=target,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
            at=utcnow(),
        )
    )


async def moderation_act(
    session: AsyncSession,
    ctx: Principal,
    session_id: str,
    act: str,
    target: str | None = None,
    **detail: Any,
) -> None:
    """Check the caller may moderate the live session (:func:`moderate`) and record the
    act (who, when, what, on whom); the edge carries it out on the bus after commit."""
    live = await moderate(session, ctx, session_id)
    repo = LiveRepository(session)
    _act(repo, live, ctx.user_id, act, target, **detail)
    await repo.flush()


async def moderation_acts(
    session: AsyncSession, ctx: Principal, session_id: str, params: PageParams
) -> tuple[list[ModerationActRead], str | None]:
    """The record of the host's acts in the session's room, oldest first."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    await _own(repo, session_id)
    acts, cursor = await repo.acts(session_id, params)
    return [
        ModerationActRead(
            id=a.id, act=a.act, by=a.by_user_id, target=a.target,
            detail=json.loads(a.detail), at=a.at,
        )
        for a in acts
    ], cursor  # fmt: skip


# --- coupons -------------------------------------------------------------------------


def _coupon_read(c: LiveCoupon) -> CouponRead:
    return CouponRead(
        id=c.id, session_id=c.session_id, amount=c.amount, threshold=c.threshold,
        quantity=c.quantity, claimed=c.claimed, claim_until=c.claim_until,
        expires_at=c.expires_at, created_at=c.created_at,
    )  # fmt: skip


async def drop_coupon(
    session: AsyncSession, ctx: Principal, session_id: str, data: CouponCreate
) -> CouponRead:
    """The host drops a coupon in the live session's room."""
    live = await moderate(session, ctx, session_id)
    repo = LiveRepository(session)
    now = utcnow()
    claim_until = now + timedelta(seconds=data.claim_seconds)
    coupon = LiveCoupon(
        id=new_id("cpn"),
        session_id=live.id,
        amount=data.amount,
        threshold=data.threshold,
        quantity=data.quantity,
        claimed=0,
        claim_until=claim_until,
        expires_at=claim_until + timedelta(days=data.valid_days),
        created_at=now,
    )
    repo.add(coupon)
    _act(repo, live, ctx.user_id, "coupon", coupon.id, amount=data.amount,
         threshold=data.threshold, quantity=data.quantity)  # fmt: skip
    await repo.flush()
    return _coupon_read(coupon)


async def list_coupons(session: AsyncSession, ctx: Principal, session_id: str) -> list[CouponRead]:
    """The session's coupons with how many were claimed."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    await _own(repo, session_id)
    return [_coupon_read(c) for c in await repo.coupons(session_id)]


def coupon_claims(coupon_id: str) -> str:
    """The name of a coupon's claim set on the bus (topic: its session)."""
    return f"coupon:{coupon_id}"


@dataclass(frozen=True)
class Claim:
    coupon: ClaimedCoupon
    last: bool  # it took the last one: the coupon is sold out


async def claim_coupon(session: AsyncSession, bus: Bus, coupon_id: str, user_id: str) -> Claim:
    """A signed-in buyer claims a coupon of a live room: once per user, never more than
    its quantity. The bus's claim set decides first (one atomic step, in memory or in
    Redis), so a rush of claimants meets the database only ``quantity`` times; the
    conditional UPDATE and the unique (coupon, user) key guard the database on their
    own. On any failure after the bus took the claim, the claim set gives it back; the
    edge does the same when the commit fails."""
    repo = LiveRepository(session)
    found = await repo.coupon_for_claim(coupon_id)
    if found is None:
        raise errors.CouponNotFound()
    coupon, state = found
    now = utcnow()
    if state != LIVE or now >= coupon.claim_until:
        raise errors.CouponClosed("The coupon's claim window has closed.")
    if await repo.has_claim(coupon_id, user_id):
        raise errors.CouponAlreadyClaimed()
    name = coupon_claims(coupon_id)
    taken = await bus.claim(coupon.session_id, name, user_id, coupon.quantity)
    if taken == 0:
        raise errors.CouponAlreadyClaimed()
    if taken < 0:
        raise errors.CouponSoldOut()
    try:
        if not await repo.take_coupon(coupon_id):
            raise errors.CouponSoldOut()
        claim = LiveCouponClaim(
            id=new_id("clm"),
            coupon_id=coupon_id,
            user_id=user_id,
            merchant_id=coupon.tenant_id,
            session_id=coupon.session_id,
            claimed_at=now,
        )
        repo.add(claim)
        await repo.flush()
    except BaseException:
        await bus.unclaim(coupon.session_id, name, user_id)
        raise
    read = ClaimedCoupon(
        id=claim.id, coupon_id=coupon_id, session_id=coupon.session_id,
        merchant_id=coupon.tenant_id, amount=coupon.amount, threshold=coupon.threshold,
        claimed_at=now, expires_at=coupon.expires_at,
    )  # fmt: skip
    return Claim(read, last=taken == coupon.quantity)


async def my_coupons(
    session: AsyncSession, user_id: str, params: PageParams
) -> tuple[list[ClaimedCoupon], str | None]:
    """The coupons the user claimed, of every merchant."""
    rows, cursor = await LiveRepository(session).claims_of(user_id, params)
    return [
        ClaimedCoupon(
            id=c.id, coupon_id=k.id, session_id=k.session_id, merchant_id=k.tenant_id,
            amount=k.amount, threshold=k.threshold, claimed_at=c.claimed_at,
            expires_at=k.expires_at, order_id=c.order_id, used_at=c.used_at,
        )
        for c, k in rows
    ], cursor  # fmt: skip


# --- lucky draws -----------------------------------------------------------------------


RUNNING, DRAWN = "running", "drawn"
# A draw is drawn this long after its end, so that an entry accepted just before the end
# has committed by then.
DRAW_GRACE = timedelta(seconds=1)


def draw_read(d: LiveDraw, entrants: list[str] | None = None) -> DrawRead:
    drawn = d.state == DRAWN
    return DrawRead(
        id=d.id, session_id=d.session_id, prize=d.prize, winner_count=d.winner_count,
        condition=d.condition, keyword=d.keyword, state=d.state, commitment=d.commitment,
        starts_at=d.starts_at, ends_at=d.ends_at, seed=d.seed if drawn else None,
        entrant_count=d.entrant_count, entrants_hash=d.entrants_hash,
        winners=json.loads(d.winners) if d.winners is not None else None,
        entrants=entrants, drawn_at=d.drawn_at,
    )  # fmt: skip


async def create_draw(
    session: AsyncSession, ctx: Principal, session_id: str, data: DrawCreate
) -> DrawRead:
    """The host starts a lucky draw in the live session; its commitment is public."""
    live = await moderate(session, ctx, session_id)
    repo = LiveRepository(session)
    now = utcnow()
    seed = draws.new_seed()
    draw = LiveDraw(
        id=new_id("drw"),
        session_id=live.id,
        prize=data.prize,
        winner_count=data.winners,
        condition=data.condition,
        keyword=data.keyword,
        state=RUNNING,
        seed=seed.hex(),
        commitment=draws.commitment(seed),
        starts_at=now,
        ends_at=now + timedelta(seconds=data.seconds),
    )
    repo.add(draw)
    _act(repo, live, ctx.user_id, "draw", draw.id, prize=data.prize, winners=data.winners,
         condition=data.condition, keyword=data.keyword, commitment=draw.commitment)  # fmt: skip
    await repo.flush()
    return draw_read(draw)


async def list_draws(session: AsyncSession, ctx: Principal, session_id: str) -> list[DrawRead]:
    """The session's draws (seeds of running ones stay secret)."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    await _own(repo, session_id)
    return [draw_read(d) for d in await repo.draws(session_id)]


async def public_draw(session: AsyncSession, draw_id: str) -> DrawRead:
    """Any draw as the public sees it: once drawn, with everything needed to verify it."""
    repo = LiveRepository(session)
    draw = await repo.public_draw(draw_id)
    if draw is None:
        raise errors.DrawNotFound()
    if draw.state != DRAWN:
        return draw_read(draw)
    return draw_read(draw, draws.canonical_entrants(await repo.public_entrants(draw.id)))


async def running_draws(session: AsyncSession, session_id: str) -> list[DrawRead]:
    """The session's running draws (``session`` scoped to its tenant: the room's reads)."""
    return [draw_read(d) for d in await LiveRepository(session).running_draws(session_id)]


async def enter_draw(session: AsyncSession, draw_id: str, user_id: str) -> bool:
    """Enter a viewer who met the condition, if the draw still takes entries (``session``
    scoped to the draw's tenant); False if it does not or they entered already."""
    repo = LiveRepository(session)
    draw = await repo.public_draw(draw_id)
    now = utcnow()
    if draw is None or draw.state != RUNNING or now >= draw.ends_at:
        return False
    return await repo.enter_draw(draw_id, user_id, draw.tenant_id, now)


async def finish_due_draws(session: AsyncSession, *, limit: int = 50) -> list[DrawRead]:
    """Draw the winners of every draw whose time is up (a system job; ``session`` sees
    every tenant); returns what to announce after commit."""
    repo = LiveRepository(session)
    now = utcnow()
    out = []
    for draw in await repo.due_draws(now - DRAW_GRACE, limit):
        entrants = draws.canonical_entrants(await repo.entrants(draw.id))
        winners = draws.draw_winners(bytes.fromhex(draw.seed), entrants, draw.winner_count)
        done = await repo.finish_draw(
            draw,
            entrant_count=len(entrants),
            entrants_hash=draws.entrants_hash(entrants),
            winners=json.dumps(winners),
            drawn_at=now,
        )
        if not done:
            continue  # another process drew it
        _act(repo, draw, None, "draw_result", draw.id, winners=winners,
             entrant_count=len(entrants))  # fmt: skip
        out.append(draw_read(draw))
    await repo.flush()
    return out


# --- announcements ---------------------------------------------------------------------


async def announce(
    session: AsyncSession, ctx: Principal, session_id: str, data: AnnouncementCreate
) -> AnnouncementRead:
    """The host posts a short announcement in the live session's room."""
    live = await moderate(session, ctx, session_id)
    repo = LiveRepository(session)
    now = utcnow()
    read = AnnouncementRead(
        id=new_id("ann"), text=data.text, at=now, until=now + timedelta(seconds=data.seconds)
    )
    _act(repo, live, ctx.user_id, "announcement", read.id, text=data.text, seconds=data.seconds)
    await repo.flush()
    return read


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
