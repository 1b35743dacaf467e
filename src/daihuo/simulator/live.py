"""``daihuo simulate --live``: the simulated audience through a running server.

The offline simulator writes one session (the same model and seed as ``daihuo
simulate``); this drives it into a live session of a real server at ``speed`` times real
time, the way real clients would: each viewer is a WebSocket connection of the room
protocol (docs/protocol.md) opened at its ``enter`` and closed at its ``leave``, saying
its comments, likes, shares, follows and product actions as protocol messages; each
buyer is a consumer account signed up through the API that places its orders over HTTP
and pays them through the sandbox provider's pay page. So the server records the events
itself, with its own ids and clock. Every request and WebSocket of a viewer carries the
simulated viewer's address in ``X-Forwarded-For``: the server (uvicorn) takes it from a
trusted proxy only, which is loopback by default, so a driver on the server's machine
gives each viewer its own address (households and campuses share theirs, as simulated)
while a remote client cannot choose its address this way.

What cannot go through a client is left out and counted: ``impression`` (shown outside
the room), refunds (days after the session), events after ``live_end``. The server may
refuse some of what is sent — comment rate limits, the word filter, stock running out —
and the summary counts those refusals by reason; a refused message is the server doing
its job, not a failure of the run.

Events of one viewer are sent in their order by one worker per viewer; viewers run
concurrently.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from daihuo.simulator.replay import products_in_order, rebase

SKIPPED = {"impression", "order_refunded", "live_start", "live_end"}
WS_ACTIONS = {"comment", "like", "share", "follow", "product_impression", "product_click",
              "cart_add"}  # fmt: skip


class LiveRunError(Exception):
    """The run cannot start or go on (one readable line)."""


FAILURES = (httpx.HTTPError, WebSocketException, OSError, TimeoutError, LiveRunError)


@dataclass
class LiveSummary:
    sent: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    buyers: int = 0


@dataclass
class _Room:
    session: str
    merchant: str
    products: dict[str, tuple[str, str, str]]  # simulated product -> (item, sku, product)


class _Viewer:
    def __init__(self, driver: _Driver, user: str) -> None:
        self.driver = driver
        self.user = user
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.ws: ClientConnection | None = None
        self.visitor: str | None = None
        self.reader: asyncio.Task[None] | None = None
        self.task = asyncio.create_task(self._work())

    async def _work(self) -> None:
        while (event := await self.queue.get()) is not None:
            try:
                await self._do(event)
            except (
                httpx.HTTPError,
                WebSocketException,
                OSError,
                TimeoutError,
                LiveRunError,
            ) as exc:
                self.driver.summary.failed[f"{event['type']}: {type(exc).__name__}"] += 1
        await self._close()

    async def _connect(self, event: Mapping[str, Any]) -> None:
        d = self.driver
        hello: dict[str, Any] = {"type": "hello", "v": 1, "source": event.get("source", "other")}
        if event.get("device"):
            hello["device"] = str(event["device"])[:64]
        token = await d.token_of(self.user)
        if token is not None:
            hello["token"] = token
        else:
            if self.visitor is None:  # one visitor id per simulated viewer, re-entries too
                r = await d.http.post(
                    f"/api/v1/live-sessions/{d.room.session}/visitor-token",
                    headers=d.forwarded(self.user),
                )
                if r.status_code != 201:
                    raise LiveRunError(f"the room refused a visitor: {r.status_code}")
                self.visitor = str(r.json()["token"])
            hello["visitor"] = self.visitor
        self.ws = await connect(
            f"{d.ws_base}/ws/rooms/{d.room.session}",
            compression=None,
            additional_headers=d.forwarded(self.user),
        )
        await self.ws.send(json.dumps(hello))
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "error":
                    self.driver.summary.refused[f"{msg.get('code')}"] += 1
        except WebSocketException:
            pass

    async def _close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        if self.reader is not None:
            await asyncio.wait([self.reader], timeout=5)
            self.reader.cancel()
            self.reader = None

    async def _do(self, e: dict[str, Any]) -> None:
        d, kind = self.driver, e["type"]
        if e.get("ip"):
            d.ips[self.user] = str(e["ip"])
        if kind == "enter":
            if self.ws is None:
                await self._connect(e)
            d.summary.sent[kind] += 1
        elif kind == "leave":
            await self._close()
            d.summary.sent[kind] += 1
        elif kind in WS_ACTIONS:
            if self.ws is None:
                await self._connect(e)  # a viewer acting without an enter in the file
            msg: dict[str, Any] = {"type": kind}
            if kind == "comment":
                msg["text"] = e.get("text") or "…"
            elif kind == "like":
                msg["count"] = max(1, min(100, int(e.get("count") or 1)))
            elif kind in ("product_impression", "product_click", "cart_add"):
                mapped = d.product(e.get("product"))
                msg["product"] = mapped[2]
                if kind == "cart_add":
                    msg["qty"] = max(1, min(999, int(e.get("qty") or 1)))
            assert self.ws is not None
            text = json.dumps(msg, ensure_ascii=False)
            try:
                await self.ws.send(text)
            except ConnectionClosed:
                # The server let this viewer go (too slow to read, or restarting): a real
                # client reconnects, and so does this one, once per message.
                d.summary.refused["dropped by the server, reconnected"] += 1
                await self._close()
                await self._connect(e)
                assert self.ws is not None
                await self.ws.send(text)
            d.summary.sent[kind] += 1
        elif kind == "order_created":
            await d.order(self.user, e)
        elif kind == "order_paid":
            await d.pay(self.user, e)
        else:
            d.summary.skipped[kind] += 1


class _Driver:
    def __init__(self, http: httpx.AsyncClient, ws_base: str, room: _Room, tag: str) -> None:
        self.http = http
        self.ws_base = ws_base
        self.room = room
        self.tag = tag
        self.summary = LiveSummary()
        self.viewers: dict[str, _Viewer] = {}
        self.tokens: dict[str, str] = {}
        self.buyers: set[str] = set()
        self.orders: dict[str, str] = {}  # simulated order id -> the server's
        self.ips: dict[str, str] = {}  # simulated user -> its last simulated address
        self._signups = asyncio.Semaphore(8)
        self._numbers = itertools.count(1)

    def forwarded(self, user: str) -> dict[str, str]:
        """The header that gives the server the simulated viewer's address."""
        ip = self.ips.get(user)
        return {"X-Forwarded-For": ip} if ip else {}

    def product(self, simulated: Any) -> tuple[str, str, str]:
        found = self.room.products.get(str(simulated))
        return found if found is not None else next(iter(self.room.products.values()))

    async def token_of(self, user: str) -> str | None:
        """A bearer token for a buyer (signed up on first use); ``None`` for a visitor."""
        if user not in self.buyers:
            return None
        if user not in self.tokens:
            async with self._signups:
                if user not in self.tokens:
                    self.tokens[user] = await self._sign_up(user, self.forwarded(user))
        return self.tokens[user]

    async def _sign_up(self, user: str, headers: dict[str, str]) -> str:
        # numbered when asked, not from len(tokens): eight sign-ups run at once
        n = next(self._numbers)
        email = f"sim-{self.tag}-{n}@simulated.example.test"
        password = secrets.token_urlsafe(16)
        r = await self.http.post(
            "/api/v1/auth/signup",
            json={"email": email, "password": password, "display_name": f"观众{n}"},
            headers=headers,
        )
        if r.status_code != 201:
            raise LiveRunError(f"sign-up refused: {r.status_code} {r.text[:200]}")
        r = await self.http.post(
            "/api/v1/auth/token", json={"email": email, "password": password}, headers=headers
        )
        if r.status_code != 200:
            raise LiveRunError(f"sign-in refused: {r.status_code} {r.text[:200]}")
        self.summary.buyers += 1
        return str(r.json()["access_token"])

    async def order(self, user: str, e: Mapping[str, Any]) -> None:
        token = await self.token_of(user)
        item, sku, _ = self.product(e.get("product"))
        body: dict[str, Any] = {
            "item_id": item,
            "sku_id": sku,
            "quantity": max(1, int(e.get("qty") or 1)),
            "session": self.room.session,
        }
        place = (e.get("meta") or {}).get("addr")
        if place:  # the simulated delivery address: shared by households, rings' drops
            digits = int(hashlib.sha256(user.encode()).hexdigest()[:12], 16) % 10**8
            body["address"] = {
                "recipient": f"观众{user[-4:]}",
                "phone": f"138{digits:08d}",
                "region": "模拟省 模拟市",
                "detail": f"收货点 {place}"[:200],
            }
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": f"{self.tag}-{e['id']}",
            **self.forwarded(user),
        }
        r = await self.http.post("/api/v1/orders", json=body, headers=headers)
        if r.status_code == 201:
            self.orders[str(e.get("order"))] = r.json()["id"]
            self.summary.sent["order_created"] += 1
        else:
            self.summary.refused[f"order: {_problem(r)}"] += 1

    async def pay(self, user: str, e: Mapping[str, Any]) -> None:
        order = self.orders.get(str(e.get("order")))
        if order is None:
            self.summary.skipped["order_paid (no order)"] += 1
            return
        headers = {"Authorization": f"Bearer {await self.token_of(user)}", **self.forwarded(user)}
        r = await self.http.post(f"/api/v1/orders/{order}/pay", headers=headers)
        if r.status_code != 201:
            self.summary.refused[f"pay: {_problem(r)}"] += 1
            return
        r = await self.http.post(r.json()["pay_url"], data={"outcome": "pay"})
        if r.status_code != 200:
            self.summary.refused[f"sandbox: {r.status_code}"] += 1
            return
        self.summary.sent["order_paid"] += 1

    def dispatch(self, event: dict[str, Any]) -> None:
        user = str(event.get("user"))
        viewer = self.viewers.get(user)
        if viewer is None:
            viewer = self.viewers[user] = _Viewer(self, user)
        viewer.queue.put_nowait(event)

    async def finish(self) -> None:
        for viewer in self.viewers.values():
            viewer.queue.put_nowait(None)
        await asyncio.gather(*(v.task for v in self.viewers.values()), return_exceptions=True)


def _problem(r: httpx.Response) -> str:
    try:
        return str(r.json().get("type", r.status_code)).rsplit(":", 1)[-1]
    except ValueError:
        return str(r.status_code)


async def _room(http: httpx.AsyncClient, base: str, session_id: str) -> _Room:
    try:
        r = await http.get("/healthz")
    except httpx.TransportError as exc:
        raise LiveRunError(f"cannot reach the server at {base}: {exc}") from exc
    if r.status_code != 200:
        raise LiveRunError(f"the server at {base} is not healthy: /healthz {r.status_code}")
    r = await http.get(f"/api/v1/rooms/{session_id}")
    if r.status_code == 404:
        raise LiveRunError(f"no live session {session_id} on {base}")
    if r.status_code != 200:
        raise LiveRunError(f"cannot read session {session_id}: {r.status_code}")
    room = r.json()
    if room["state"] != "live":
        raise LiveRunError(f"session {session_id} is {room['state']}, not live: start it first")
    if not room["products"]:
        raise LiveRunError(f"session {session_id} has no products to sell")
    r = await http.get(f"/api/v1/shops/{room['merchant_id']}/items", params={"limit": 200})
    skus = {i["id"]: i["skus"] for i in r.json()["items"]} if r.status_code == 200 else {}
    products: dict[str, tuple[str, str, str]] = {}
    for n, p in enumerate(room["products"]):
        choices = skus.get(p["item_id"]) or []
        if not choices:
            continue
        sku = max(choices, key=lambda s: s["available"])
        products[f"#{n}"] = (p["item_id"], sku["id"], p["product_id"])
    if not products:
        raise LiveRunError(f"session {session_id}: none of its products can be bought")
    return _Room(session_id, room["merchant_id"], products)


def _map_products(room: _Room, events: Sequence[Mapping[str, Any]]) -> None:
    """The simulated catalogue's products onto the session's, in order of appearance."""
    room.products = products_in_order(events, list(room.products.values())) or room.products


async def drive(
    base_url: str,
    session_id: str,
    events: Sequence[Mapping[str, Any]],
    *,
    speed: float,
    progress: Callable[[int, int], None] | None = None,
) -> LiveSummary:
    """Send one simulated session's events to ``session_id`` on the server at ``base_url``."""
    base = base_url.rstrip("/")
    ws_base = "ws" + base[4:] if base.startswith("http") else base
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        room = await _room(http, base, session_id)
        timed = rebase(events, session=session_id, start=datetime.now(UTC), speed=speed)
        _map_products(room, [t.event for t in timed])
        driver = _Driver(http, ws_base, room, secrets.token_hex(4))
        driver.buyers = {str(t.event["user"]) for t in timed if t.event["type"] == "order_created"}
        started = time.monotonic()
        try:
            for n, t in enumerate(timed):
                kind = t.event["type"]
                if kind in SKIPPED:
                    driver.summary.skipped[kind] += 1
                    continue
                wait = started + t.offset - time.monotonic()
                if wait > 0:
                    if progress is not None:
                        progress(n, len(timed))
                    await asyncio.sleep(wait)
                driver.dispatch(dict(t.event))
            if progress is not None:
                progress(len(timed), len(timed))
        finally:
            await driver.finish()
        driver.summary.seconds = time.monotonic() - started
        return driver.summary
