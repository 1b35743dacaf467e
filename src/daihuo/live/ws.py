"""The live-room WebSocket gateway: ``/ws/rooms/{session_id}`` (docs/protocol.md).

One connection runs three tasks: the reader (client messages, heartbeat, flood and idle
limits), the writer (the viewer's bounded outbox, the only one that sends) and this
supervisor, which closes the socket with the right code when either ends or when the
viewer is too slow. The database is used for the hello only, in a session of its own
(one per message, never one per connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from daihuo.core.db import Database, rollback
from daihuo.core.errors import AppError
from daihuo.live import errors, protocol, service
from daihuo.live.room import Room, RoomHub, SendQueue, Viewer
from daihuo.tenancy.deps import SESSION_COOKIE

log = logging.getLogger("daihuo.live.ws")
router = APIRouter()

HELLO_SECONDS = 10.0
CLOSE_SECONDS = 2.0

_CLOSE_FOR = {
    errors.LiveSessionNotFound: protocol.CLOSE_NOT_FOUND,
    errors.SessionEnded: protocol.CLOSE_ENDED,
    errors.SessionNotLive: protocol.CLOSE_NOT_LIVE,
    errors.ViewerUnauthorized: protocol.CLOSE_UNAUTHORIZED,
}


def _same_origin(ws: WebSocket, public_url: str | None) -> bool:
    """A browser sends cookies with a WebSocket from any site, so the session cookie only
    counts when the page that opened the socket is ours (cross-site WebSocket hijacking)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser: it chose to send the cookie itself
    host = urlsplit(origin).netloc.lower()
    ours = {ws.headers.get("host", "").lower()}
    if public_url:
        ours.add(urlsplit(public_url).netloc.lower())
    return host in ours


async def _close(ws: WebSocket, code: int, reason: str = "") -> None:
    # A close reason has at most 123 bytes of UTF-8.
    short = reason.encode()[:120].decode(errors="ignore")
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(code, short), CLOSE_SECONDS)


@router.websocket("/ws/rooms/{session_id}")
async def room_socket(ws: WebSocket, session_id: str) -> None:
    """Join a live room: hello, then a snapshot (or what was missed), then the stream."""
    hub: RoomHub = ws.app.state.rooms
    await ws.accept()
    try:
        text = await asyncio.wait_for(ws.receive_text(), HELLO_SECONDS)
    except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
        await _close(ws, protocol.CLOSE_PROTOCOL, "send a hello first")
        return
    try:
        if len(text) > protocol.MAX_MESSAGE_CHARS:
            raise protocol.ProtocolError("too-big", "The hello is too big.")
        hello = protocol.parse_hello(text)
    except protocol.ProtocolError as exc:
        await _close(ws, protocol.CLOSE_PROTOCOL, exc.detail)
        return
    cookie = ws.cookies.get(SESSION_COOKIE)
    if cookie is not None and not _same_origin(ws, ws.app.state.settings.public_url):
        cookie = None
    db: Database = ws.app.state.db
    try:
        async with db.session() as session:
            try:
                admission = await service.admit_viewer(
                    session,
                    session_id[:64],
                    bearer=hello.token,
                    cookie=cookie,
                    visitor=hello.visitor,
                    key=hub.visitor_key,
                )
            finally:
                await rollback(session)
    except tuple(_CLOSE_FOR) as exc:
        await _close(ws, _CLOSE_FOR[type(exc)], exc.detail)
        return

    if await hub.banned(session_id, admission.user):
        await _close(ws, protocol.CLOSE_BANNED, "banned from this room")
        return
    config = hub.config
    viewer = Viewer(
        user=admission.user,
        anonymous=admission.anonymous,
        ip=ws.client.host if ws.client else "unknown",
        device=hello.device,
        queue=SendQueue(config.send_queue, config.slow_close_drops),
    )
    room = await hub.enter(session_id, admission.room.tenant_id, viewer)
    entered = False
    try:
        await room.admit(viewer, hello.resume_from)
        hub.record([room.event(viewer, "enter", source=hello.source)])
        entered = True
        await _serve(ws, room, viewer)
    finally:
        await hub.exit(room, viewer)
        if entered:
            hub.record([room.event(viewer, "leave")])


async def _serve(ws: WebSocket, room: Room, viewer: Viewer) -> None:
    reader = asyncio.create_task(_read(ws, room, viewer))
    writer = asyncio.create_task(_write(ws, viewer))
    slow = asyncio.create_task(viewer.queue.overflowed.wait())
    tasks = {reader, writer, slow}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if slow in done:
        await _close(ws, protocol.CLOSE_TOO_SLOW, "too slow to keep up")
    elif reader in done and not reader.cancelled() and reader.exception() is None:
        code = reader.result()
        if code is not None:
            await _close(ws, code[0], code[1])
    elif writer in done and not writer.cancelled() and writer.exception() is None:
        closing = writer.result()
        if closing is not None:
            await _close(ws, closing, "the session has ended")


async def _write(ws: WebSocket, viewer: Viewer) -> int | None:
    """Send the outbox until a close code comes out of it (or the socket fails)."""
    while True:
        item = await viewer.queue.take()
        if isinstance(item, int):
            return item
        await ws.send_text(item)


async def _read(ws: WebSocket, room: Room, viewer: Viewer) -> tuple[int, str] | None:
    """Handle client messages; a close code and reason when the client must go, None
    when it left by itself."""
    config = room.config
    window, count = time.monotonic(), 0
    while True:
        try:
            message = await asyncio.wait_for(ws.receive(), config.idle_seconds)
        except TimeoutError:
            return protocol.CLOSE_IDLE, "no message (not even a ping) for too long"
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is None:
            return protocol.CLOSE_PROTOCOL, "send text frames"
        if len(text) > protocol.MAX_MESSAGE_CHARS:
            return protocol.CLOSE_TOO_BIG, "message too big"
        now = time.monotonic()
        if now - window >= 1.0:
            window, count = now, 0
        count += 1
        if count > config.max_messages_per_second:
            return protocol.CLOSE_FLOOD, "too many messages"
        try:
            msg = protocol.parse(text, max_comment=config.comment_max_chars)
            if isinstance(msg, protocol.Ping):
                viewer.queue.offer(protocol.out("pong", t=msg.t))
            elif isinstance(msg, protocol.Comment):
                await room.comment(viewer, msg.text, msg.ref)
            elif isinstance(msg, protocol.Like):
                room.like(viewer, msg.count)
            elif isinstance(msg, protocol.ClaimCoupon):
                await _claim(room, viewer, msg)
            else:
                await room.track(viewer, msg)
        except protocol.ProtocolError as exc:
            viewer.queue.offer(protocol.error(exc.code, exc.detail, protocol.ref_of(text)))


async def _claim(room: Room, viewer: Viewer, msg: protocol.ClaimCoupon) -> None:
    """A viewer claims a coupon: ``coupon_claimed`` with the coupon, or an error frame
    whose code is the HTTP problem's slug (``coupon-sold-out``…)."""
    if viewer.anonymous:
        raise protocol.ProtocolError("login-required", "Sign in to claim coupons.")
    try:
        claimed = await room.hub.claim_for_viewer(msg.coupon, viewer.user)
    except AppError as exc:
        raise protocol.ProtocolError(exc.slug, exc.detail) from None
    extra = {"ref": msg.ref} if msg.ref is not None else {}
    coupon = claimed.model_dump(mode="json")
    viewer.queue.offer(protocol.out("coupon_claimed", **extra, coupon=coupon))
