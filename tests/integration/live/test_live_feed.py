"""The merchant's live feed through the real server: viewers in the room (WebSocket
gateway), orders paid through the API, the feed read as server-sent events. Its final
message equals the DuckDB report and the oracle of the events the server stored, on the
in-process bus and on Redis; and two server processes sharing Redis both serve the
right figures for a room whose events each recorded only in part."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from daihuo.analytics import engine, reference
from daihuo.events.model import format_ts
from daihuo.events.store import session_events

from tests.conftest import DatabaseFactory
from tests.fixtures import Account
from tests.integration.live.rooms import Env, ProcessServer, Viewer, visitor_token
from tests.integration.live.test_scale_out import process_env, redis_prefix  # noqa: F401
from tests.integration.orders.shop import FAST, Shop, create_shop, pay
from tests.unit.analytics.live_oracle import SHARED


@pytest.fixture
def room_settings() -> dict[str, Any]:
    return {**FAST, "live_feed_seconds": 0.1, "live_feed_apply_seconds": 0.02}


def now_ts() -> str:
    return format_ts(int(datetime.now(UTC).timestamp() * 1000))


class Feed:
    """An SSE client: collects ``(event, data)`` until the stream ends."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.task: asyncio.Task[None] | None = None

    async def read(self, http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> None:
        async with http.stream("GET", path, headers=headers, timeout=30) as r:
            assert r.status_code == 200, await r.aread()
            assert r.headers["content-type"].startswith("text/event-stream")
            event = None
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: "):
                    assert event is not None
                    self.messages.append((event, json.loads(line[len("data: ") :])))

    async def until(self, pred: Any, within: float = 10.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            for _, data in reversed(self.messages):
                if pred(data):
                    return data
            await asyncio.sleep(0.02)
        raise AssertionError(f"no feed message matched; last: {self.messages[-1:]}")


@contextlib.asynccontextmanager
async def feed_of(http: httpx.AsyncClient, sid: str, who: Account) -> AsyncIterator[Feed]:
    feed = Feed()
    feed.task = asyncio.create_task(feed.read(http, f"/api/v1/sessions/{sid}/live", who.headers))
    try:
        yield feed
    finally:
        if not feed.task.done():
            feed.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feed.task


async def live_shop_session(http: httpx.AsyncClient, shop: Shop) -> str:
    r = await http.post(
        "/api/v1/live-sessions",
        json={"title": "实时看板专场", "planned_start": now_ts(), "products": [shop.item_id]},
        headers=shop.merchant.headers,
    )
    assert r.status_code == 201, r.text
    sid = str(r.json()["id"])
    r = await http.post(f"/api/v1/live-sessions/{sid}/start", headers=shop.merchant.headers)
    assert r.status_code == 200, r.text
    return sid


async def buy(http: httpx.AsyncClient, shop: Shop, buyer: Account, sid: str, qty: int) -> str:
    body = {"item_id": shop.item_id, "sku_id": shop.sku_id, "quantity": qty, "session": sid}
    r = await http.post("/api/v1/orders", json=body, headers=buyer.headers)
    assert r.status_code == 201, r.text
    order = str(r.json()["id"])
    await pay(http, buyer, order)
    return order


async def test_the_feed_ends_with_the_reports_figures(env: Env) -> None:
    http = env.http
    shop = await create_shop(http, env.db, price=2500, buyers=2)
    sid = await live_shop_session(http, shop)
    a_buyer, b_buyer = shop.buyers
    sink = env.server.app.state.event_sink

    async with feed_of(http, sid, shop.merchant) as feed:
        first = await feed.until(lambda d: d["state"] == "live")
        assert first["online"] == 0 and first["gmv"] == 0
        a = await Viewer.join(env.ws, sid, token=a_buyer.token)
        b = await Viewer.join(env.ws, sid, token=b_buyer.token)
        c = await Viewer.join(env.ws, sid, visitor=await visitor_token(http, sid))
        for v in (a, b, c):
            await v.expect("snapshot")
        seen = await feed.until(lambda d: d["online"] == 3)
        assert seen["pcu"] == 3 and seen["views_pv"] == 3
        for _ in range(3):
            await a.send({"type": "like", "count": 2})
        await b.send({"type": "comment", "text": "这个颜色好看"})
        await b.send({"type": "comment", "text": "还有货吗"})
        await c.send({"type": "product_click", "product": shop.product_id})
        await feed.until(lambda d: d["like_count"] == 6 and d["comment_count"] == 2)
        await c.close()
        await feed.until(lambda d: d["online"] == 2)

        first_order = await buy(http, shop, a_buyer, sid, 1)
        await buy(http, shop, b_buyer, sid, 3)
        tile = await feed.until(lambda d: d["gmv"] == 4 * 2500)
        assert tile["order_count"] == 2 and tile["buyer_uv"] == 2
        assert tile["top_products"][0]["product"] == shop.product_id
        assert tile["top_products"][0]["title"]  # the product's title, from the session list
        assert tile["minutes"][-1]["gmv"] == 10_000 or len(tile["minutes"]) > 1

        # Edge cases through the sink (the one way in): a re-sent event counts once, a
        # leave without an enter changes nothing, a refund adds to refund_amount.
        like = {"id": "feed-like-1", "ts": now_ts(), "session": sid, "type": "like",
                "user": a_buyer.user_id, "count": 5}  # fmt: skip
        assert sink.record([like]) == 1
        assert sink.record([like]) == 1  # accepted by the sink, dropped by the totals
        ghost = {"id": "feed-ghost", "ts": now_ts(), "session": sid, "type": "leave",
                 "user": "nobody"}  # fmt: skip
        refund = {"id": "feed-refund", "ts": now_ts(), "session": sid,
                  "type": "order_refunded", "user": a_buyer.user_id, "order": first_order,
                  "amount": 1000}  # fmt: skip
        assert sink.record([ghost, refund]) == 2
        await feed.until(lambda d: d["like_count"] == 11 and d["refund_amount"] == 1000)

        r = await http.post(f"/api/v1/live-sessions/{sid}/end", headers=shop.merchant.headers)
        assert r.status_code == 200, r.text
        assert feed.task is not None
        await asyncio.wait_for(feed.task, 10)  # the stream ends by itself
        for v in (a, b):
            await v.closed()

    kind, final = feed.messages[-1]
    assert kind == "end" and final["state"] == "ended"
    assert [k for k, _ in feed.messages[:-1]] == ["snapshot"] * (len(feed.messages) - 1)
    stored = list(session_events(sink.flushed(), sid))
    oracle = reference.session_report(stored)
    duckdb = engine.session_report(sink.flushed(), sid)
    assert duckdb is not None
    assert {k: final[k] for k in SHARED} == {k: oracle[k] for k in SHARED}
    assert {k: final[k] for k in SHARED} == {k: duckdb[k] for k in SHARED}
    assert (final["views_pv"], final["pcu"], final["like_count"], final["gmv"]) == (
        3,
        3,
        11,
        10_000,
    )
    for row in final["minutes"]:
        k = row["minute"]
        if k < len(oracle["online_per_minute"]):
            assert row["online"] == oracle["online_per_minute"][k]
            assert row["views"] == oracle["new_viewers_per_minute"][k]
            assert row["gmv"] == oracle["gmv_per_minute"][k]

    # After the end, the feed is one `end` message with the same figures; the tile too.
    r = await http.get(f"/api/v1/sessions/{sid}/live", headers=shop.merchant.headers)
    assert r.text.startswith("event: end\n") and r.text.count("event:") == 1
    tile = (
        await http.get(f"/api/v1/sessions/{sid}/live/tile", headers=shop.merchant.headers)
    ).json()
    assert {k: tile[k] for k in SHARED} == {k: final[k] for k in SHARED}


async def test_only_the_merchants_staff_read_the_feed(env: Env) -> None:
    shop = await create_shop(env.http, env.db)
    other = await create_shop(env.http, env.db, platform=shop.platform)
    sid = await live_shop_session(env.http, shop)
    for path in (f"/api/v1/sessions/{sid}/live", f"/api/v1/sessions/{sid}/live/tile"):
        r = await env.http.get(path, headers=other.merchant.headers)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert (await env.http.get(path)).status_code == 401
        assert (await env.http.get(path, headers=shop.buyers[0].headers)).status_code == 403


@pytest.mark.redis
async def test_two_processes_serve_the_same_figures(
    redis_prefix: tuple[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Viewers and orders split over two processes (each with its own warehouse file):
    both processes' feeds show the sum, equal to the oracle over both stores' events."""
    redis_url, prefix = redis_prefix
    factory = DatabaseFactory("sqlite", tmp_path)
    database_url = await factory.new()

    def env(n: int) -> dict[str, str]:
        extra = {"DAIHUO_LIVE_FEED_SECONDS": "0.1", "DAIHUO_LIVE_FEED_APPLY_SECONDS": "0.02",
                 "DAIHUO_PAYMENTS_WEBHOOK_SECRET": FAST["payments_webhook_secret"],
                 "DAIHUO_SANDBOX_CALLBACK_RETRY_SECONDS": "0.05",
                 "DAIHUO_SANDBOX_POLL_SECONDS": "0.05"}  # fmt: skip
        return {**process_env(redis_url, prefix, database_url, tmp_path, n), **extra}

    with (
        ProcessServer(env(1), tmp_path / "p1.log") as p1,
        ProcessServer(env(2), tmp_path / "p2.log") as p2,
    ):
        async with (
            httpx.AsyncClient(base_url=p1.http, timeout=10) as h1,
            httpx.AsyncClient(base_url=p2.http, timeout=10) as h2,
        ):
            shop = await create_shop(h1, database_url, price=1990, buyers=2)
            sid = await live_shop_session(h1, shop)
            async with feed_of(h1, sid, shop.merchant) as f1, feed_of(h2, sid, shop.merchant) as f2:
                a = await Viewer.join(p1.ws, sid, token=shop.buyers[0].token)
                b = await Viewer.join(p2.ws, sid, token=shop.buyers[1].token)
                c = await Viewer.join(p2.ws, sid, visitor=await visitor_token(h2, sid))
                for v in (a, b, c):
                    await v.expect("snapshot")
                await a.send({"type": "like", "count": 3})
                await b.send({"type": "like", "count": 4})
                await c.send({"type": "comment", "text": "二号进程的评论"})
                await buy(h1, shop, shop.buyers[0], sid, 2)  # recorded by process 1
                await buy(h2, shop, shop.buyers[1], sid, 1)  # recorded by process 2
                for f in (f1, f2):
                    seen = await f.until(
                        lambda d: d["gmv"] == 3 * 1990 and d["like_count"] == 7
                        and d["comment_count"] == 1 and d["online"] == 3
                    )  # fmt: skip
                    assert (seen["buyer_uv"], seen["pcu"], seen["views_pv"]) == (2, 3, 3)
                await c.close()
                r = await h2.post(f"/api/v1/live-sessions/{sid}/end", headers=shop.merchant.headers)
                assert r.status_code == 200, r.text
                for f in (f1, f2):
                    assert f.task is not None
                    await asyncio.wait_for(f.task, 10)
        finals = [f.messages[-1] for f in (f1, f2)]
    assert finals[0][0] == finals[1][0] == "end"
    assert {k: finals[0][1][k] for k in SHARED} == {k: finals[1][1][k] for k in SHARED}
    # Each process stored its own share of the events: the oracle reads both files.
    stored = []
    for n in (1, 2):
        from daihuo.core.warehouse import make_warehouse

        wh = make_warehouse(f"duckdb:///{tmp_path / f'p{n}' / 'warehouse.duckdb'}")
        try:
            stored += list(session_events(wh, sid))
        finally:
            wh.close()
    oracle = reference.session_report(stored)
    assert {k: finals[0][1][k] for k in SHARED} == {k: oracle[k] for k in SHARED}
    factory.cleanup()
