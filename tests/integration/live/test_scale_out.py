"""Two server processes serve one room through real Redis: comments, like totals and
the online count reach the viewers of both in one order, a viewer resumes on the other
process without duplicates, and ending the session closes the room everywhere."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from daihuo.live import draws

from tests.conftest import REDIS_ENV, DatabaseFactory
from tests.fixtures import Account, create_user
from tests.integration.live.rooms import (
    ProcessServer,
    Viewer,
    flush_prefix,
    live_session,
    visitor_token,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests need {REDIS_ENV}")
    prefix = f"daihuo-test-{secrets.token_hex(4)}:"
    yield url, prefix
    flush_prefix(url, prefix)


def process_env(
    redis_url: str, prefix: str, database_url: str, tmp: Path, n: int
) -> dict[str, str]:
    data = tmp / f"p{n}"
    return {
        "DAIHUO_DATABASE_URL": database_url,
        "DAIHUO_REDIS_URL": redis_url,
        "DAIHUO_REDIS_PREFIX": prefix,
        "DAIHUO_SECRET_KEY": "two-process-secret-of-enough-length",
        "DAIHUO_LEDGER_KEY_FILE": str(tmp / "ledger.key"),
        "DAIHUO_PASSWORD_TIME_COST": "1",
        "DAIHUO_PASSWORD_MEMORY_KIB": "64",
        "DAIHUO_PASSWORD_PARALLELISM": "1",
        "DAIHUO_COOKIE_SECURE": "false",
        "DAIHUO_LOG_FORMAT": "text",
        "DAIHUO_LIVE_FRAME_MS": "20",
        "DAIHUO_LIVE_LIKES_MS": "50",
        "DAIHUO_LIVE_ONLINE_MS": "100",
        "DAIHUO_LIVE_COMMENT_BURST": "50",
        "DAIHUO_LIVE_MAX_MESSAGES_PER_SECOND": "200",
        "DAIHUO_LIVE_PRESENCE_LEASE_MS": "1000",
        "DAIHUO_DATA_DIR": str(data),
        "DAIHUO_WAREHOUSE_URL": f"duckdb:///{data / 'warehouse.duckdb'}",
    }


async def test_two_processes_share_one_room(redis_prefix: tuple[str, str], tmp_path: Path) -> None:
    redis_url, prefix = redis_prefix
    factory = DatabaseFactory("sqlite", tmp_path)
    database_url = await factory.new()

    def env(n: int) -> dict[str, str]:
        return process_env(redis_url, prefix, database_url, tmp_path, n)

    with (
        ProcessServer(env(1), tmp_path / "p1.log") as p1,
        ProcessServer(env(2), tmp_path / "p2.log") as p2,
    ):
        async with (
            httpx.AsyncClient(base_url=p1.http, timeout=10) as h1,
            httpx.AsyncClient(base_url=p2.http, timeout=10) as h2,
        ):
            owner, sid = await live_session(h1)
            fan = await create_user(h1, label="fan")
            a = await Viewer.join(p1.ws, sid, token=fan.token)
            await a.expect("snapshot")
            # A visitor token from one process opens the room on the other.
            b = await Viewer.join(p2.ws, sid, visitor=await visitor_token(h1, sid))
            await b.expect("snapshot")

            await a.until(lambda m: m["type"] == "online" and m["count"] == 2)
            await b.until(lambda m: m["type"] == "online" and m["count"] == 2)

            for n in range(3):
                await a.send({"type": "comment", "text": f"一号进程{n}"})
                await b.send({"type": "comment", "text": f"二号进程{n}"})
            for v in (a, b):
                for n in range(3):
                    await v.until(lambda m, n=n: m.get("text") == f"一号进程{n}")
                    await v.until(lambda m, n=n: m.get("text") == f"二号进程{n}")

            for _ in range(10):
                await a.send({"type": "like", "count": 2})
                await b.send({"type": "like", "count": 3})
            await a.until(lambda m: m["type"] == "likes" and m["total"] == 50)
            await b.until(lambda m: m["type"] == "likes" and m["total"] == 50)

            def comments(v: Viewer) -> list[tuple[int, str]]:
                return [(m["seq"], m["text"]) for m in v.msgs if m["type"] == "comment"]

            assert comments(a) == comments(b), "both processes deliver one order"
            assert len(comments(a)) == 6
            for v in (a, b):
                assert v.seqs() == sorted(set(v.seqs())), "numbers only grow, never repeat"

            # One user's comment allowance holds across processes (burst 50 in all).
            fan2 = await Viewer.join(p2.ws, sid, token=fan.token)
            await fan2.expect("snapshot")
            refused = 0
            for n in range(60):
                await (a if n % 2 else fan2).send({"type": "comment", "text": "刷", "ref": "r"})
            for v in (a, fan2):
                while True:
                    try:
                        msg = await v.recv(1.0)
                    except TimeoutError:
                        break
                    refused += msg["type"] == "error" and msg["code"] == "rate-limited"
            assert refused >= 60 - 50 + 3 - 1  # a already spent 3 of the burst
            await fan2.close()

            # B moves to process 1 and resumes from what it saw on process 2.
            last = max(b.seqs())
            await b.close()
            await a.send({"type": "comment", "text": "你不在的时候"})
            await a.until(lambda m: m.get("text") == "你不在的时候")
            moved = await Viewer.join(p1.ws, sid, token=fan.token, resume_from=last)
            await moved.expect("resumed")
            await moved.until(lambda m: m.get("text") == "你不在的时候")
            await asyncio.sleep(0.3)
            assert moved.seqs()[0] == last + 1
            assert moved.seqs() == sorted(set(moved.seqs()))

            # A ban through process 1 closes the viewer on process 2; it cannot rejoin.
            troll = await Viewer.join(p2.ws, sid, visitor=await visitor_token(h2, sid))
            who = (await troll.expect("snapshot"))["you"]["user"]
            r = await h1.post(
                f"/api/v1/live-sessions/{sid}/bans", json={"user": who}, headers=owner.headers
            )
            assert r.status_code == 204, r.text
            assert await troll.closed() == 4003

            # Ending through process 2 closes the room on process 1.
            c = await Viewer.join(p2.ws, sid, visitor=await visitor_token(h2, sid))
            await c.expect("snapshot")
            r = await h2.post(f"/api/v1/live-sessions/{sid}/end", headers=owner.headers)
            assert r.status_code == 200, r.text
            for v in (a, moved, c):
                assert await v.closed() == 4410
    factory.cleanup()


async def test_a_killed_processs_viewers_leave_the_online_count(
    redis_prefix: tuple[str, str], tmp_path: Path
) -> None:
    redis_url, prefix = redis_prefix
    factory = DatabaseFactory("sqlite", tmp_path)
    database_url = await factory.new()
    p1 = ProcessServer(
        process_env(redis_url, prefix, database_url, tmp_path, 1), tmp_path / "p1.log"
    )
    p2 = ProcessServer(
        process_env(redis_url, prefix, database_url, tmp_path, 2), tmp_path / "p2.log"
    )
    with p1, p2:
        async with httpx.AsyncClient(base_url=p1.http, timeout=10) as h1:
            _, sid = await live_session(h1)
            doomed = []
            for _ in range(3):
                v = await Viewer.join(p2.ws, sid, visitor=await visitor_token(h1, sid))
                await v.expect("snapshot")
                doomed.append(v)
            a = await Viewer.join(p1.ws, sid, visitor=await visitor_token(h1, sid))
            await a.expect("snapshot")
            await a.until(lambda m: m["type"] == "online" and m["count"] == 4)
            p2.kill()
            # Whichever process led the room, the survivor now counts one viewer.
            await a.until(lambda m: m["type"] == "online" and m["count"] == 1, 8)
            await a.send({"type": "like", "count": 7})
            await a.until(lambda m: m["type"] == "likes" and m["total"] == 7)
            await a.close()
    factory.cleanup()


async def test_two_processes_share_coupon_claims_and_draw_once(
    redis_prefix: tuple[str, str], tmp_path: Path, databases: DatabaseFactory
) -> None:
    """Claims through both processes at once (HTTP and the room): exactly the quantity,
    once per user, on either database; a draw both processes could close is drawn once
    and verifies."""
    redis_url, prefix = redis_prefix
    database_url = await databases.new()

    def env(n: int) -> dict[str, str]:
        return {**process_env(redis_url, prefix, database_url, tmp_path, n),
                "DAIHUO_LIVE_DRAW_INTERVAL_SECONDS": "0.1"}  # fmt: skip

    with (
        ProcessServer(env(1), tmp_path / "p1.log") as p1,
        ProcessServer(env(2), tmp_path / "p2.log") as p2,
    ):
        async with (
            httpx.AsyncClient(base_url=p1.http, timeout=20) as h1,
            httpx.AsyncClient(base_url=p2.http, timeout=20) as h2,
        ):
            owner, sid = await live_session(h1)
            users = [await create_user(h1, label=f"u{n}") for n in range(12)]
            viewers = []
            for n, u in enumerate(users[:4]):
                v = await Viewer.join((p1, p2)[n % 2].ws, sid, token=u.token)
                await v.expect("snapshot")
                viewers.append(v)
            r = await h2.post(
                f"/api/v1/live-sessions/{sid}/coupons",
                json={"amount": 300, "quantity": 5},
                headers=owner.headers,
            )
            assert r.status_code == 201, r.text
            coupon = r.json()["id"]
            for v in viewers:
                await v.until(lambda m: m["type"] == "coupon")

            async def http_claim(n: int, u: Account) -> bool:
                client = (h1, h2)[n % 2]
                r = await client.post(f"/api/v1/coupons/{coupon}/claim", headers=u.headers)
                assert r.status_code in (201, 409), r.text
                return r.status_code == 201

            async def ws_claim(v: Viewer) -> bool:
                await v.send({"type": "claim_coupon", "coupon": coupon, "ref": "x"})
                while True:
                    msg = await v.recv()
                    if msg["type"] in ("coupon_claimed", "error"):
                        return msg["type"] == "coupon_claimed"

            results = await asyncio.gather(
                *(http_claim(n, u) for n, u in enumerate(users * 2)),
                *(ws_claim(v) for v in viewers),
            )
            assert sum(results) == 5
            r = await h1.get(f"/api/v1/live-sessions/{sid}/coupons", headers=owner.headers)
            assert r.json()[0]["claimed"] == 5
            holders = 0
            for u in users:
                r = await h2.get("/api/v1/me/coupons", headers=u.headers)
                holders += len(r.json()["items"])
            assert holders == 5

            r = await h1.post(
                f"/api/v1/live-sessions/{sid}/draws",
                json={"prize": "福袋", "winners": 2, "condition": "comment", "keyword": "想要",
                      "seconds": 1},
                headers=owner.headers,
            )  # fmt: skip
            draw = r.json()
            for v in viewers:
                await v.until(lambda m: m["type"] == "draw")
                await v.send({"type": "comment", "text": "想要"})
            result = await viewers[1].until(lambda m: m["type"] == "draw_result", 15)
            r = await h2.get(f"/api/v1/draws/{draw['id']}")
            public = r.json()
            assert public["entrants"] == sorted(u.user_id for u in users[:4])
            assert public["winners"] == result["draw"]["winners"]
            assert draws.verify(
                draws.Published(
                    commitment=draw["commitment"], seed=public["seed"], winner_count=2,
                    entrants=public["entrants"], entrants_hash=public["entrants_hash"],
                    winners=public["winners"],
                )
            ) == []  # fmt: skip
            r = await h1.get(f"/api/v1/live-sessions/{sid}/moderation", headers=owner.headers)
            assert [a["act"] for a in r.json()["items"]] == ["coupon", "draw", "draw_result"]
            for v in viewers:
                await v.close()
