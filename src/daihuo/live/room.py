"""The live rooms of one server process: viewers, frames, likes and presence.

A :class:`RoomHub` (one per process, in ``app.state.rooms``) holds a :class:`Room` per
session that has a viewer connected to this process. The room's state shared by all
processes — sequence numbers, the replay buffer, the last comments, the like total and
presence — lives in the :class:`~daihuo.core.bus.Bus`; the room here only fans out.

Invariants:

* Every room message reaches a viewer at most once and in sequence order: a viewer
  tracks the last number it was given (``last_seq``) and a frame only carries what is
  newer. While a viewer joins (snapshot or replay being read), the room holds the
  messages it receives for it, then releases those newer than what the join gave it —
  so nothing is lost or repeated between the snapshot and the stream.
* Broadcasts are bundled: messages received during ``live_frame_ms`` go out as one frame,
  encoded once and handed to every viewer that is up to date.
* Taps are summed: each process adds its viewers' taps to the shared total every
  ``live_likes_ms``; one process (the topic's leader) publishes the total when it
  changed, and the online count about every ``live_online_ms`` — never one message per tap.
* A viewer's outbox is bounded (:class:`SendQueue`): a viewer that does not keep up gets
  frames dropped with a ``lag`` notice, and is let go after ``live_slow_close_drops``
  drops; the room never waits for a viewer.
* A gap in the numbers arriving from the bus (pub/sub lost something) is filled from the
  replay buffer before anything after it is passed on.
* Moderation is bus state, the same for every process: mutes, the slow mode and rate
  limits are read on each comment, bans on each join; a ``banned`` message closes the
  user's connections wherever they are. The acts are recorded in the database
  (``live_moderation_acts``) by the edge, which acts on the bus only after that commit.
* Host controls: coupons, draws and the announcement are kept lists on the bus, so a
  snapshot shows what is current in one atomic read with the comments. A coupon's
  claimants are a bus claim set (one atomic step, in memory or a Redis script): never
  more than its quantity, never a user twice. Each room knows its session's running
  draws (read at open, then from the ``draw`` / ``draw_result`` messages it passes on)
  and enters a signed-in viewer whose comment holds the keyword, or who follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.bus import Bus, message_seq
from daihuo.core.clock import utcnow
from daihuo.core.db import Database, after_commit, commit
from daihuo.core.gate import write_gate
from daihuo.core.ids import new_id, ulid
from daihuo.live import protocol, service
from daihuo.live.domain import event_ts
from daihuo.live.schemas import AnnouncementRead, ClaimedCoupon, CouponRead, DrawRead
from daihuo.live.wordfilter import WordFilter
from daihuo.live.words import DEFAULT_WORDS

log = logging.getLogger("daihuo.live.room")

COMMENTS = "comments"  # the bus list of the last comments (for snapshots)
LIKES = "likes"  # the bus counter of taps
ENDED = "ended"  # a bus counter set to 1 when the session ends
PIN = "pin"  # the bus list whose last message is the pinned product
PINNED_COMMENT = "pinned_comment"  # the bus list whose last message is the pinned comment
SLOW_MODE = "slow_mode"  # a bus value: seconds between one user's comments (0 or unset: off)
COUPONS = "coupons"  # the bus list of coupon drops (for snapshots)
DRAWS = "draws"  # the bus list of draw starts and results (for snapshots)
ANNOUNCEMENT = "announcement"  # the bus list whose last message is the announcement
FLASH_SALES = "flash_sales"  # the bus list of flash-sale starts and ends (for snapshots)
# A merchant's word list is read again after this long, so a change made through another
# process reaches this one's rooms within it (this process's rooms see it at once).
WORDS_TTL_S = 30.0


class EventRecorder(Protocol):
    def record(self, events: Iterable[Mapping[str, Any]]) -> int: ...


@dataclass(frozen=True)
class RoomConfig:
    frame_ms: int = 100
    likes_ms: int = 250
    online_ms: int = 1000
    snapshot_comments: int = 30
    comment_max_chars: int = 200
    comment_burst: int = 3
    comment_per_second: float = 0.5
    max_messages_per_second: int = 20
    idle_seconds: float = 60.0
    send_queue: int = 64
    slow_close_drops: int = 100
    hold_limit: int = 10_000


class SendQueue:
    """A viewer's bounded outbox; :meth:`offer` never waits.

    When it is full the offered frame is dropped and counted; the next frame accepted is
    preceded by a ``lag`` notice naming how many frames (and which sequence numbers) were
    lost. After ``close_after`` drops in all, :attr:`overflowed` is set: the viewer is
    too slow and is let go."""

    def __init__(self, size: int, close_after: int) -> None:
        self.size = max(size, 2)  # room for a lag notice and the frame after it
        self.close_after = close_after
        self.dropped = 0  # since the last lag notice
        self.dropped_total = 0
        self.lost: tuple[int, int] | None = None
        self.overflowed = asyncio.Event()
        self._items: deque[str | int] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, item: str, seqs: tuple[int, int] | None = None) -> bool:
        """Queue ``item`` (a frame with sequence numbers ``seqs``, or a reply); False if it
        was dropped."""
        need = 2 if self.dropped else 1
        if len(self._items) + need > self.size:
            self.dropped += 1
            self.dropped_total += 1
            if seqs is not None:
                self.lost = seqs if self.lost is None else (self.lost[0], seqs[1])
            if self.dropped_total >= self.close_after:
                self.overflowed.set()
            return False
        if self.dropped:
            extra = {"from": self.lost[0], "to": self.lost[1]} if self.lost else {}
            self._items.append(protocol.out("lag", dropped=self.dropped, **extra))
            self.dropped, self.lost = 0, None
        self._items.append(item)
        self._ready.set()
        return True

    def close(self, code: int) -> None:
        """After what is queued, close the connection with ``code`` (never dropped)."""
        self._items.append(code)
        self._ready.set()

    async def take(self) -> str | int:
        """The next frame, or a close code."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()


@dataclass
class Viewer:
    """One connection in a room."""

    user: str
    anonymous: bool
    ip: str
    device: str | None
    queue: SendQueue
    id: str = field(default_factory=lambda: f"c_{ulid()}")
    last_seq: int | None = None  # None while joining: messages are held
    held: list[tuple[int, str]] = field(default_factory=list)


class Room:
    def __init__(self, hub: RoomHub, session_id: str, tenant_id: str) -> None:
        self.hub = hub
        self.session_id = session_id
        self.tenant_id = tenant_id
        self.viewers: dict[str, Viewer] = {}
        self._pending: list[tuple[int, str]] = []
        self._last_seen = 0  # the last number passed on, all before it too (0: none yet)
        self._early: dict[int, str] = {}  # arrived past a gap, waiting for it to fill
        self._repair: asyncio.Task[None] | None = None
        self._taps: dict[str, tuple[Viewer, int]] = {}
        self._likes_sent = 0
        self._online_sent = -1
        self._next_online = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Any = None
        self.products: frozenset[str] = frozenset()  # product ids of the session's list
        self.draws: dict[str, RunningDraw] = {}  # the session's draws taking entries
        self.ended = False

    @property
    def bus(self) -> Bus:
        return self.hub.bus

    @property
    def config(self) -> RoomConfig:
        return self.hub.config

    async def open(self) -> None:
        if self.hub.db is not None:
            async with self.hub.db.session(tenant_id=self.tenant_id) as session:
                listed = await service.room_products(session, self.tenant_id, self.session_id)
            self.products = frozenset(p.product_id for p in listed)
        self._unsubscribe = await self.bus.subscribe(self.session_id, self._on_message)
        if self.hub.db is not None:
            # Read after subscribing: a draw started in between is in the read or in a
            # `draw` message. (One drawn in between may stay listed here: its entries are
            # refused by the database, which checks the draw's state.)
            async with self.hub.db.session(tenant_id=self.tenant_id) as session:
                running = await service.running_draws(session, self.session_id)
            for d in running:
                self.draws.setdefault(d.id, RunningDraw.of(d.model_dump(mode="json")))
        self._tasks = [
            asyncio.create_task(self._every(self.config.frame_ms, self._flush_frame)),
            asyncio.create_task(self._every(self.config.likes_ms, self._tick)),
        ]

    async def close(self) -> None:
        if self._repair is not None:
            self._repair.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self._flush_taps()
        if self._unsubscribe is not None:
            await self._unsubscribe()

    # --- messages from the bus ----------------------------------------------------

    def _on_message(self, raw: bytes) -> None:
        seq = message_seq(raw)
        if seq <= self._last_seen:
            return  # a repeat (e.g. delivered and also fetched by a repair)
        in_order = self._last_seen == 0 or seq == self._last_seen + 1
        if in_order and self._repair is None:
            self._pass_on(seq, raw.decode())
            return
        # A gap: pub/sub lost messages (say, Redis reconnected). Hold what came after it
        # and fetch the missing ones from the replay buffer, so viewers still get every
        # number once and in order.
        self._early[seq] = raw.decode()
        if self._repair is None:
            self._repair = asyncio.create_task(self._fill_gap())

    def _pass_on(self, seq: int, message: str) -> None:
        self._pending.append((seq, message))
        self._last_seen = seq
        kind = _kind(message)
        if kind == "draw":
            draw = json.loads(message)["draw"]
            self.draws[draw["id"]] = RunningDraw.of(draw)
        elif kind == "draw_result":
            self.draws.pop(json.loads(message)["draw"]["id"], None)

    async def _fill_gap(self) -> None:
        try:
            while self._early:
                replayed = await self.bus.replay(self.session_id, self._last_seen)
                if replayed is None:
                    log.warning("room %s: messages after %s are lost", self.session_id,
                                self._last_seen)  # fmt: skip
                else:
                    for raw in replayed[1]:
                        seq = message_seq(raw)
                        if seq > self._last_seen:
                            self._early.setdefault(seq, raw.decode())
                # Pass on everything now in order; what is still missing is lost for good.
                for seq in sorted(self._early):
                    if seq > self._last_seen:
                        self._pass_on(seq, self._early[seq])
                self._early.clear()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room %s: filling a gap failed", self.session_id)
            for seq in sorted(self._early):
                if seq > self._last_seen:
                    self._pass_on(seq, self._early[seq])
            self._early.clear()
        finally:
            self._repair = None

    async def _every(self, ms: int, step: Any) -> None:
        while True:
            await asyncio.sleep(ms / 1000)
            try:
                result = step()
                if asyncio.iscoroutine(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:  # a backend hiccup must not stop the room
                log.exception("room %s: %s failed", self.session_id, step.__name__)

    def _flush_frame(self) -> None:
        if not self._pending:
            return
        msgs, self._pending = self._pending, []
        first, last = msgs[0][0], msgs[-1][0]
        shared = protocol.frame([m for _, m in msgs])
        for viewer in list(self.viewers.values()):
            if viewer.last_seq is None:
                viewer.held.extend(msgs)
                if len(viewer.held) > self.config.hold_limit:
                    viewer.queue.overflowed.set()
            elif viewer.last_seq < first:
                viewer.queue.offer(shared, (first, last))
                viewer.last_seq = last
            elif viewer.last_seq < last:
                self._send_newer(viewer, msgs)
        for _, m in msgs:
            kind = _kind(m)
            if kind == "ended":
                self.ended = True
                for viewer in self.viewers.values():
                    viewer.queue.close(protocol.CLOSE_ENDED)
            elif kind == "banned":
                user = json.loads(m)["user"]
                for viewer in self.viewers.values():
                    if viewer.user == user:
                        viewer.queue.close(protocol.CLOSE_BANNED)

    def _send_newer(self, viewer: Viewer, msgs: list[tuple[int, str]]) -> None:
        assert viewer.last_seq is not None
        newer = [(s, m) for s, m in msgs if s > viewer.last_seq]
        if newer:
            viewer.queue.offer(protocol.frame([m for _, m in newer]), (newer[0][0], newer[-1][0]))
            viewer.last_seq = newer[-1][0]

    # --- joining ------------------------------------------------------------------

    async def admit(self, viewer: Viewer, resume_from: int | None) -> None:
        """Queue the viewer's start (a snapshot, or what it missed), then the stream."""
        self.viewers[viewer.id] = viewer
        await self.bus.join(self.session_id, viewer.id)
        replayed = None
        if resume_from is not None:
            replayed = await self.bus.replay(self.session_id, resume_from)
            if replayed is None:
                viewer.queue.offer(protocol.out("reset", reason="too-old"))
        if replayed is not None:
            last, msgs = replayed
            viewer.queue.offer(protocol.out("resumed", seq=last))
            if msgs:
                texts = [m.decode() for m in msgs]
                viewer.queue.offer(protocol.frame(texts), (message_seq(msgs[0]), last))
        else:
            last = await self._snapshot(viewer)
        viewer.last_seq = last
        held, viewer.held = viewer.held, []
        self._send_newer(viewer, held)
        # The session may have ended between the database check and the snapshot, its
        # `ended` message already behind the snapshot's number: the flag says so.
        if self.ended or await self.bus.counter(self.session_id, ENDED):
            self.ended = True
            viewer.queue.close(protocol.CLOSE_ENDED)

    async def _snapshot(self, viewer: Viewer) -> int:
        last, kept = await self.bus.kept(
            self.session_id,
            [COMMENTS, PIN, PINNED_COMMENT, COUPONS, DRAWS, ANNOUNCEMENT, FLASH_SALES],
        )
        comments = kept[COMMENTS]
        pinned = json.loads(kept[PIN][-1])["item"] if kept[PIN] else None
        pins = kept[PINNED_COMMENT]
        pinned_comment = json.loads(pins[-1])["comment"] if pins else None
        likes = await self.bus.counter(self.session_id, LIKES)
        slow = await self.bus.get(self.session_id, SLOW_MODE)
        online = await self.bus.present(self.session_id)
        n = self.config.snapshot_comments
        texts = [m.decode() for m in comments[-n:]] if n else []
        body = protocol.out(
            "snapshot",
            seq=last,
            session=self.session_id,
            you={"user": viewer.user, "anonymous": viewer.anonymous},
            pinned=pinned,
            pinned_comment=pinned_comment,
            online=online,
            likes=likes,
            slow_mode=slow or 0,
            coupons=await self._claimable(kept[COUPONS]),
            draws=_running(kept[DRAWS]),
            announcement=_current(kept[ANNOUNCEMENT]),
            flash_sales=_flash_sales(kept[FLASH_SALES]),
            comments=[],
        )
        # The comments are JSON texts already: splice them in instead of re-encoding.
        viewer.queue.offer(body[: -len("[]}")] + "[" + ",".join(texts) + "]}")
        return last

    async def _claimable(self, drops: list[bytes]) -> list[dict[str, Any]]:
        now = utcnow()
        out = []
        for raw in drops:
            coupon = json.loads(raw)["coupon"]
            if datetime.fromisoformat(coupon["claim_until"]) <= now:
                continue
            if await self.bus.get(self.session_id, f"coupon_out:{coupon['id']}"):
                continue
            out.append(coupon)
        return out

    async def remove(self, viewer: Viewer) -> None:
        self.viewers.pop(viewer.id, None)
        await self.bus.leave(self.session_id, viewer.id)

    # --- viewer actions -----------------------------------------------------------

    def event(self, viewer: Viewer, kind: str, **fields: Any) -> dict[str, Any]:
        """A viewer event of shared/spec/events.md, with device and address as seen here."""
        event: dict[str, Any] = {
            "id": fields.pop("id", None) or new_id("evt"),
            "ts": event_ts(utcnow()),
            "session": self.session_id,
            "type": kind,
            "user": viewer.user,
            "ip": viewer.ip,
        }
        if viewer.device is not None:
            event["device"] = viewer.device
        event.update(fields)
        return event

    async def comment(self, viewer: Viewer, text: str, ref: str | None) -> None:
        """Rate-limit, mask, broadcast and record one comment; the viewer gets an ack."""
        until = await self.bus.get(self.session_id, f"mute:{viewer.user}")
        if until is not None:
            left = max(until - int(time.time()), 1)
            raise protocol.ProtocolError("muted", f"You are muted for another {left} s.")
        slow = await self.bus.get(self.session_id, SLOW_MODE)
        if slow:
            wait = await self.bus.allow(self.session_id, f"slow:{viewer.user}", 1, 1 / slow)
            if wait:
                raise protocol.ProtocolError(
                    "slow-mode", f"Slow mode: one comment per {slow} s; wait {wait:.0f} s."
                )
        wait = await self.bus.allow(
            self.session_id,
            f"comment:{viewer.user}",
            self.config.comment_burst,
            self.config.comment_per_second,
        )
        if wait:
            raise protocol.ProtocolError(
                "rate-limited", f"Too many comments; try again in {wait:.1f} s."
            )
        masked = (await self.hub.word_filter(self.tenant_id)).mask(text)
        event_id = new_id("evt")
        body = protocol.room_message("comment", id=event_id, user=viewer.user, text=masked)
        seq = await self.bus.publish(self.session_id, body, keep=COMMENTS)
        extra = {"meta": {"masked": True}} if masked != text else {}
        self.hub.record([self.event(viewer, "comment", id=event_id, text=text, **extra)])
        viewer.queue.offer(protocol.out("ack", ref=ref, seq=seq))
        folded = text.casefold()
        await self._enter(
            viewer, "comment", lambda d: d.keyword is not None and d.keyword in folded
        )

    async def _enter(self, viewer: Viewer, condition: str, meets: Any) -> None:
        """Enter a signed-in viewer in the running draws whose condition it just met
        (anonymous viewers cannot win: they could not be told or be given the prize)."""
        if viewer.anonymous or self.hub.db is None:
            return
        now = utcnow()
        due = [
            i for i, d in self.draws.items()
            if d.condition == condition and d.ends_at > now and meets(d)
        ]  # fmt: skip
        if due:
            await self.hub.enter_draws(self.tenant_id, due, viewer.user)

    def like(self, viewer: Viewer, count: int) -> None:
        """Taps are only counted here; :meth:`_tick` adds them up and broadcasts."""
        _, before = self._taps.get(viewer.id, (viewer, 0))
        self._taps[viewer.id] = (viewer, before + count)

    async def track(self, viewer: Viewer, action: protocol.Track) -> None:
        """Record a share, follow, product impression or click, or cart add; product
        actions must name a product of the session's list. A follow enters follow draws."""
        fields: dict[str, Any] = {}
        if action.product is not None:
            if action.product not in self.products:
                raise protocol.ProtocolError(
                    "unknown-product", "That product is not in this session's list."
                )
            fields["product"] = action.product
        if action.qty is not None:
            fields["qty"] = action.qty
        self.hub.record([self.event(viewer, action.kind, **fields)])
        if action.kind == "follow":
            await self._enter(viewer, "follow", lambda d: True)

    # --- periodic totals ----------------------------------------------------------

    async def _flush_taps(self) -> None:
        taps, self._taps = self._taps, {}
        total = sum(n for _, n in taps.values())
        if total:
            await self.bus.add(self.session_id, LIKES, total)
            self.hub.record([self.event(v, "like", count=n) for v, n in taps.values()])

    async def _tick(self) -> None:
        await self._flush_taps()
        ttl = max(3 * self.config.likes_ms, 2 * self.config.online_ms)
        leader = await self.bus.lead(self.session_id, self.hub.process_id, ttl)
        if leader:
            likes = await self.bus.counter(self.session_id, LIKES)
            if likes != self._likes_sent:
                await self.bus.publish(self.session_id, protocol.room_message("likes", total=likes))
                self._likes_sent = likes
        now = time.monotonic()
        if now >= self._next_online:
            self._next_online = now + self.config.online_ms / 1000
            await self.bus.refresh(self.session_id, list(self.viewers))
            if leader:
                online = await self.bus.present(self.session_id)
                if online != self._online_sent:
                    body = protocol.room_message("online", count=online)
                    await self.bus.publish(self.session_id, body)
                    self._online_sent = online


@dataclass(frozen=True)
class RunningDraw:
    condition: str
    keyword: str | None  # casefolded
    ends_at: datetime

    @classmethod
    def of(cls, draw: dict[str, Any]) -> RunningDraw:
        keyword = draw.get("keyword")
        return cls(
            draw["condition"],
            keyword.casefold() if keyword else None,
            datetime.fromisoformat(draw["ends_at"]),
        )


def _running(kept: list[bytes]) -> list[dict[str, Any]]:
    """The draws started and not yet drawn, from the kept list of starts and results."""
    started: dict[str, dict[str, Any]] = {}
    for raw in kept:
        msg = json.loads(raw)
        if msg["type"] == "draw":
            started[msg["draw"]["id"]] = msg["draw"]
        else:
            started.pop(msg["draw"]["id"], None)
    return list(started.values())


def _current(kept: list[bytes]) -> dict[str, Any] | None:
    if not kept:
        return None
    announcement: dict[str, Any] = json.loads(kept[-1])["announcement"]
    return announcement if datetime.fromisoformat(announcement["until"]) > utcnow() else None


def _kind(message: str) -> str:
    """The type of a room message (``{"seq":n,"type":"…",…}``) without parsing it all."""
    start = message.index(",") + len(',"type":"')
    return message[start : message.index('"', start)]


class RoomHub:
    """This process's rooms (``app.state.rooms``)."""

    def __init__(
        self,
        bus: Bus,
        recorder: EventRecorder,
        *,
        visitor_key: bytes,
        config: RoomConfig | None = None,
        db: Database | None = None,
    ) -> None:
        self.bus = bus
        self.db = db
        self.recorder = recorder
        self.visitor_key = visitor_key
        self.config = config or RoomConfig()
        self.process_id = f"p_{ulid()}"
        self.rooms: dict[str, Room] = {}
        self._lock = asyncio.Lock()
        self._default_filter = WordFilter(DEFAULT_WORDS)
        self._filters: dict[str, tuple[WordFilter, float]] = {}

    async def word_filter(self, tenant_id: str) -> WordFilter:
        """The default list and the merchant's own words, read at most every
        :data:`WORDS_TTL_S` (one database session for the read, none held)."""
        cached = self._filters.get(tenant_id)
        if cached is not None and time.monotonic() - cached[1] < WORDS_TTL_S:
            return cached[0]
        if self.db is None:
            return self._default_filter
        async with self.db.session(tenant_id=tenant_id) as session:
            words = await service.tenant_words(session)
        found = WordFilter((*DEFAULT_WORDS, *words)) if words else self._default_filter
        self._filters[tenant_id] = (found, time.monotonic())
        return found

    async def words_changed(self, tenant_id: str) -> None:
        """The merchant changed its words: read them again on the next comment."""
        self._filters.pop(tenant_id, None)

    def record(self, events: list[dict[str, Any]]) -> None:
        try:
            self.recorder.record(events)
        except Exception:  # analytics must not break the room
            log.exception("recording room events failed")

    async def enter(self, session_id: str, tenant_id: str, viewer: Viewer) -> Room:
        """The session's room with ``viewer`` in it (opened on this process if need be)."""
        async with self._lock:
            room = self.rooms.get(session_id)
            if room is None:
                room = Room(self, session_id, tenant_id)
                await room.open()
                self.rooms[session_id] = room
            room.viewers[viewer.id] = viewer
        return room

    async def exit(self, room: Room, viewer: Viewer) -> None:
        await room.remove(viewer)
        async with self._lock:
            if not room.viewers and self.rooms.get(room.session_id) is room:
                del self.rooms[room.session_id]
                await room.close()

    async def pinned(self, session_id: str, item: dict[str, Any] | None) -> None:
        """The host pinned ``item`` (or unpinned): tell every viewer (after commit)."""
        await self.bus.publish(session_id, protocol.room_message(PIN, item=item), keep=PIN)

    # --- moderation (the caller checked who may; these act on every process) ---------

    def _audit(self, session_id: str, act: str, by: str | None, **fields: Any) -> None:
        # shared/spec/events.md has no moderation types yet: the log is the record for now.
        log.info("moderation", extra={"session": session_id, "act": act, "by": by, **fields})

    async def delete_comment(self, session_id: str, comment_id: str, *, by: str | None) -> None:
        """Take a comment out of the snapshots and tell viewers to hide it."""
        needle = f'"id":"{comment_id}"'.encode()
        await self.bus.forget(session_id, COMMENTS, needle)
        body = protocol.room_message("comment_deleted", id=comment_id)
        await self.bus.publish(session_id, body)
        _, kept = await self.bus.kept(session_id, [PINNED_COMMENT])
        if kept[PINNED_COMMENT] and needle in kept[PINNED_COMMENT][-1]:
            unpin = protocol.room_message(PINNED_COMMENT, comment=None)
            await self.bus.publish(session_id, unpin, keep=PINNED_COMMENT)
        self._audit(session_id, "delete_comment", by, comment=comment_id)

    async def recent_comment(self, session_id: str, comment_id: str) -> dict[str, Any] | None:
        """One of the room's recent comments (those a snapshot lists), without its seq."""
        _, kept = await self.bus.kept(session_id, [COMMENTS])
        needle = f'"id":"{comment_id}"'.encode()
        found = [m for m in kept[COMMENTS] if needle in m]
        if not found:
            return None
        comment: dict[str, Any] = json.loads(found[-1])
        del comment["seq"]
        return comment

    async def pin_comment(
        self, session_id: str, comment: dict[str, Any] | None, *, by: str | None
    ) -> None:
        """Pin a recent comment (:meth:`recent_comment`) above the others (``None``: unpin)."""
        body = protocol.room_message(PINNED_COMMENT, comment=comment)
        await self.bus.publish(session_id, body, keep=PINNED_COMMENT)
        self._audit(session_id, "pin_comment", by, comment=comment["id"] if comment else None)

    async def mute(self, session_id: str, user: str, seconds: int, *, by: str | None) -> None:
        """``user``'s comments are refused for ``seconds``."""
        until = int(time.time()) + seconds
        await self.bus.put(session_id, f"mute:{user}", until, ttl_ms=seconds * 1000)
        self._audit(session_id, "mute", by, user=user, seconds=seconds)

    async def ban(self, session_id: str, user: str, *, by: str | None) -> None:
        """``user`` leaves the room (every connection, every process) and cannot rejoin."""
        await self.bus.put(session_id, f"ban:{user}", 1)
        await self.bus.publish(session_id, protocol.room_message("banned", user=user))
        self._audit(session_id, "ban", by, user=user)

    async def banned(self, session_id: str, user: str) -> bool:
        return await self.bus.get(session_id, f"ban:{user}") is not None

    async def slow_mode(self, session_id: str, seconds: int, *, by: str | None) -> None:
        """One comment per user per ``seconds`` (0: off)."""
        await self.bus.put(session_id, SLOW_MODE, seconds)
        await self.bus.publish(session_id, protocol.room_message(SLOW_MODE, seconds=seconds))
        self._audit(session_id, "slow_mode", by, seconds=seconds)

    # --- host controls (after commit) ----------------------------------------------

    async def coupon_dropped(self, coupon: CouponRead) -> None:
        """Announce a coupon drop; snapshots list it while it can be claimed."""
        body = protocol.room_message("coupon", coupon=_public_coupon(coupon))
        await self.bus.publish(coupon.session_id, body, keep=COUPONS)

    async def claim_coupon(
        self, session: AsyncSession, coupon_id: str, user_id: str
    ) -> ClaimedCoupon:
        """Claim a coupon for a signed-in user and commit (the edge of both the HTTP and
        the WebSocket claim). Whoever takes the last one tells the room it is sold out."""
        claim = await service.claim_coupon(session, self.bus, coupon_id, user_id)
        sid = claim.coupon.session_id
        if claim.last:

            async def sold_out() -> None:
                await self.bus.put(sid, f"coupon_out:{coupon_id}", 1)
                body = protocol.room_message("coupon_sold_out", id=coupon_id)
                await self.bus.publish(sid, body)

            after_commit(session, sold_out)
        try:
            await commit(session)
        except BaseException:
            await self.bus.unclaim(sid, service.coupon_claims(coupon_id), user_id)
            raise
        return claim.coupon

    async def claim_for_viewer(self, coupon_id: str, user_id: str) -> ClaimedCoupon:
        """A WebSocket claim: one database session for the message (none held)."""
        assert self.db is not None
        async with write_gate(self.db), self.db.session() as session:
            return await self.claim_coupon(session, coupon_id, user_id)

    async def draw_started(self, draw: DrawRead) -> None:
        """Announce a draw with its commitment; snapshots list it until it is drawn."""
        body = protocol.room_message("draw", draw=_public_draw(draw))
        await self.bus.publish(draw.session_id, body, keep=DRAWS)

    async def draw_finished(self, draw: DrawRead) -> None:
        """Announce a draw's winners, its entrants' hash and the revealed seed."""
        result = {
            "id": draw.id, "winners": draw.winners, "entrant_count": draw.entrant_count,
            "entrants_hash": draw.entrants_hash, "seed": draw.seed,
            "commitment": draw.commitment,
        }  # fmt: skip
        body = protocol.room_message("draw_result", draw=result)
        await self.bus.publish(draw.session_id, body, keep=DRAWS)

    async def enter_draws(self, tenant_id: str, draw_ids: list[str], user_id: str) -> None:
        """Enter a viewer in draws (one database session for the message, none held)."""
        if self.db is None:
            return
        try:
            async with write_gate(self.db), self.db.session(tenant_id=tenant_id) as session:
                for draw_id in draw_ids:
                    await service.enter_draw(session, draw_id, user_id)
                await commit(session)
        except Exception:  # a draw entry must not break the comment that made it
            log.exception("entering draws %s failed", draw_ids)

    async def announced(self, session_id: str, announcement: AnnouncementRead) -> None:
        """Broadcast an announcement; snapshots show it until it expires."""
        body = protocol.room_message(
            ANNOUNCEMENT, announcement=announcement.model_dump(mode="json")
        )
        await self.bus.publish(session_id, body, keep=ANNOUNCEMENT)

    async def session_ended(self, session_id: str) -> None:
        """Tell every process's viewers of the session that it ended (after commit)."""
        await self.bus.add(session_id, ENDED, 1)
        await self.bus.publish(session_id, protocol.room_message("ended"))
        await self.bus.retire(session_id)

    async def close(self) -> None:
        async with self._lock:
            rooms, self.rooms = list(self.rooms.values()), {}
        for room in rooms:
            await room.close()
        await self.bus.close()


def _public_coupon(c: CouponRead) -> dict[str, Any]:
    return {
        "id": c.id, "amount": c.amount, "threshold": c.threshold, "quantity": c.quantity,
        "claim_until": c.claim_until.isoformat(), "expires_at": c.expires_at.isoformat(),
    }  # fmt: skip


def _public_draw(d: DrawRead) -> dict[str, Any]:
    return {
        "id": d.id, "prize": d.prize, "winners": d.winner_count, "condition": d.condition,
        "keyword": d.keyword, "ends_at": d.ends_at.isoformat(), "commitment": d.commitment,
    }  # fmt: skip


def _flash_sales(messages: list[bytes]) -> list[dict[str, Any]]:
    """The flash sales running now, each as its latest message told (start or end)."""
    latest: dict[str, dict[str, Any]] = {}
    for raw in messages:
        sale = json.loads(raw)["sale"]
        latest[sale["id"]] = sale
    now = utcnow()
    return [
        s
        for s in latest.values()
        if s["ended_at"] is None and datetime.fromisoformat(s["ends_at"]) > now
    ]
