"""Host controls in a live room, over real WebSockets on the in-memory bus and on Redis:
coupon drops and claims (once per user, never past the quantity), lucky draws whose
winners anyone can recompute, announcements, and the record of moderation acts; bad
input is refused with a problem (or an error frame) and changes nothing."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daihuo.live import draws

from tests.conftest import DatabaseFactory, make_settings
from tests.fixtures import Account, create_user
from tests.integration.live.rooms import (
    FAST_ROOM,
    Env,
    ThreadServer,
    Viewer,
    live_session,
    visitor_token,
)
from tests.integration.live.test_sessions_api import problem


@pytest.fixture
def room_settings() -> dict[str, Any]:
    return {"live_draw_interval_seconds": 0.1}


async def drop(env: Env, owner: Account, sid: str, **body: Any) -> httpx.Response:
    return await env.http.post(
        f"/api/v1/live-sessions/{sid}/coupons",
        json={"amount": 500, "threshold": 5000, "quantity": 100, **body},
        headers=owner.headers,
    )


async def acts(env: Env, owner: Account, sid: str) -> list[dict[str, Any]]:
    r = await env.http.get(f"/api/v1/live-sessions/{sid}/moderation", headers=owner.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_a_coupon_drop_reaches_the_room_and_each_user_claims_it_once(env: Env) -> None:
    owner, sid = await live_session(env.http)
    fan = await create_user(env.http, label="fan")
    a = await Viewer.join(env.ws, sid, token=fan.token)
    snap = await a.expect("snapshot")
    assert snap["coupons"] == [] and snap["draws"] == [] and snap["announcement"] is None

    r = await drop(env, owner, sid, quantity=2, claim_seconds=60, valid_days=3)
    assert r.status_code == 201, r.text
    coupon = r.json()
    assert (coupon["amount"], coupon["threshold"], coupon["claimed"]) == (500, 5000, 0)
    seen = await a.until(lambda m: m["type"] == "coupon")
    assert seen["coupon"]["id"] == coupon["id"] and seen["coupon"]["quantity"] == 2

    b = await Viewer.join(env.ws, sid, visitor=await visitor_token(env.http, sid))
    snap = await b.expect("snapshot")
    assert [c["id"] for c in snap["coupons"]] == [coupon["id"]]
    # Anonymous viewers cannot claim: an error frame, over HTTP a 401.
    await b.send({"type": "claim_coupon", "coupon": coupon["id"], "ref": "k0"})
    err = await b.expect("error")
    assert (err["code"], err["ref"]) == ("login-required", "k0")
    r = await env.http.post(f"/api/v1/coupons/{coupon['id']}/claim")
    assert r.status_code == 401

    await a.send({"type": "claim_coupon", "coupon": coupon["id"], "ref": "k1"})
    got = await a.expect("coupon_claimed")
    assert got["ref"] == "k1" and got["coupon"]["coupon_id"] == coupon["id"]
    assert got["coupon"]["amount"] == 500
    # Twice: refused both ways, nothing changes.
    await a.send({"type": "claim_coupon", "coupon": coupon["id"], "ref": "k2"})
    assert (await a.expect("error"))["code"] == "coupon-already-claimed"
    r = await env.http.post(f"/api/v1/coupons/{coupon['id']}/claim", headers=fan.headers)
    problem(r, 409, "coupon-already-claimed")
    await a.send({"type": "claim_coupon", "coupon": "cpn_nope"})
    assert (await a.expect("error"))["code"] == "coupon-not-found"

    # The second and last one over HTTP: the room hears it is sold out, snapshots drop it.
    other = await create_user(env.http, label="other")
    r = await env.http.post(f"/api/v1/coupons/{coupon['id']}/claim", headers=other.headers)
    assert r.status_code == 201, r.text
    await a.until(lambda m: m["type"] == "coupon_sold_out" and m["id"] == coupon["id"])
    late = await create_user(env.http, label="late")
    r = await env.http.post(f"/api/v1/coupons/{coupon['id']}/claim", headers=late.headers)
    problem(r, 409, "coupon-sold-out")
    c = await Viewer.join(env.ws, sid, token=late.token)
    assert (await c.expect("snapshot"))["coupons"] == []

    r = await env.http.get("/api/v1/me/coupons", headers=fan.headers)
    assert r.status_code == 200, r.text
    mine = r.json()["items"]
    assert [(m["coupon_id"], m["amount"], m["threshold"]) for m in mine] == [
        (coupon["id"], 500, 5000)
    ]
    assert mine[0]["merchant_id"] == owner.tenant_id
    r = await env.http.get("/api/v1/me/coupons", headers=late.headers)
    assert r.json()["items"] == []
    r = await env.http.get(f"/api/v1/live-sessions/{sid}/coupons", headers=owner.headers)
    assert [(x["id"], x["claimed"]) for x in r.json()] == [(coupon["id"], 2)]
    assert [x["act"] for x in await acts(env, owner, sid)] == ["coupon"]
    for v in (a, b, c):
        await v.close()


async def test_claims_never_exceed_the_quantity_nor_repeat_under_concurrency(env: Env) -> None:
    owner, sid = await live_session(env.http)
    r = await drop(env, owner, sid, quantity=4)
    coupon = r.json()["id"]
    users = await asyncio.gather(*(create_user(env.http, label=f"u{n}") for n in range(10)))

    async def claim(u: Account) -> httpx.Response:
        return await env.http.post(f"/api/v1/coupons/{coupon}/claim", headers=u.headers)

    # Every user claims three times at once over HTTP (test_scale_out mixes in the room).
    results = await asyncio.gather(*(claim(u) for u in users for _ in range(3)))
    ok = [r for r in results if r.status_code == 201]
    assert len(ok) == 4
    assert len({r.json()["id"] for r in ok}) == 4
    owners = {u.user_id for u, r in zip([u for u in users for _ in range(3)], results, strict=True)
              if r.status_code == 201}  # fmt: skip
    assert len(owners) == 4  # four different users
    refused = {r.json()["type"].rsplit(":", 1)[1] for r in results if r.status_code != 201}
    assert refused <= {"coupon-sold-out", "coupon-already-claimed"}
    assert all(r.status_code in (201, 409) for r in results)
    r = await env.http.get(f"/api/v1/live-sessions/{sid}/coupons", headers=owner.headers)
    assert r.json()[0]["claimed"] == 4
    claimed = 0
    for u in users:
        r = await env.http.get("/api/v1/me/coupons", headers=u.headers)
        claimed += len(r.json()["items"])
    assert claimed == 4


async def test_bad_coupons_and_claims_are_refused_and_change_nothing(env: Env) -> None:
    owner, sid = await live_session(env.http)
    for body, where in [
        ({"amount": -5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": "500"}, "amount"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"threshold": 500}, "threshold"),  # no more than the amount off
        ({"claim_seconds": 0}, "claim_seconds"),
        ({"valid_days": 365}, "valid_days"),
    ]:
        r = await drop(env, owner, sid, **body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert where in r.text
    r = await env.http.get(f"/api/v1/live-sessions/{sid}/coupons", headers=owner.headers)
    assert r.json() == []
    fan = await create_user(env.http, label="fan")
    r = await drop(env, fan, sid)
    assert r.status_code == 403  # not the merchant's staff
    problem(await env.http.post("/api/v1/coupons/cpn_X/claim", headers=fan.headers), 404,
            "coupon-not-found")  # fmt: skip

    # The claim window closes; so does the room.
    r = await drop(env, owner, sid, claim_seconds=1)
    short = r.json()["id"]
    r = await drop(env, owner, sid, claim_seconds=600)
    long = r.json()["id"]
    await asyncio.sleep(1.1)
    problem(await env.http.post(f"/api/v1/coupons/{short}/claim", headers=fan.headers), 409,
            "coupon-closed")  # fmt: skip
    a = await Viewer.join(env.ws, sid, token=fan.token)
    assert [c["id"] for c in (await a.expect("snapshot"))["coupons"]] == [long]
    r = await env.http.post(f"/api/v1/live-sessions/{sid}/end", headers=owner.headers)
    assert r.status_code == 200
    problem(await env.http.post(f"/api/v1/coupons/{long}/claim", headers=fan.headers), 409,
            "coupon-closed")  # fmt: skip
    problem(await drop(env, owner, sid), 409, "session-state-conflict")
    r = await env.http.get(f"/api/v1/live-sessions/{sid}/coupons", headers=owner.headers)
    assert [c["claimed"] for c in r.json()] == [0, 0]
    r = await env.http.get("/api/v1/me/coupons", headers=fan.headers)
    assert r.json()["items"] == []


async def test_a_lucky_draw_is_drawn_from_its_entrants_and_anyone_can_verify_it(env: Env) -> None:
    owner, sid = await live_session(env.http)
    fans = [await create_user(env.http, label=f"fan{n}") for n in range(4)]
    viewers = [await Viewer.join(env.ws, sid, token=f.token) for f in fans]
    for v in viewers:
        await v.expect("snapshot")
    anon = await Viewer.join(env.ws, sid, visitor=await visitor_token(env.http, sid))
    await anon.expect("snapshot")

    r = await env.http.post(
        f"/api/v1/live-sessions/{sid}/draws",
        json={"prize": "口红小样一支", "winners": 2, "condition": "comment", "keyword": "想要",
              "seconds": 2},
        headers=owner.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    draw = r.json()
    assert draw["state"] == "running" and draw["seed"] is None and draw["winners"] is None
    started = await viewers[0].until(lambda m: m["type"] == "draw")
    assert started["draw"]["commitment"] == draw["commitment"]
    assert started["draw"]["keyword"] == "想要"
    r = await env.http.post(
        f"/api/v1/live-sessions/{sid}/draws",
        json={"prize": "关注福袋", "winners": 1, "condition": "follow", "seconds": 2},
        headers=owner.headers,
    )
    follow_draw = r.json()
    late = await Viewer.join(env.ws, sid, token=fans[0].token)
    snap = await late.expect("snapshot")
    assert {d["id"] for d in snap["draws"]} == {draw["id"], follow_draw["id"]}
    await late.close()
    # Public page while running: the commitment, no seed.
    r = await env.http.get(f"/api/v1/draws/{draw['id']}")
    assert r.status_code == 200 and r.json()["seed"] is None and r.json()["entrants"] is None

    # Three fans meet the condition (one twice), one does not, the anonymous one cannot.
    for v, text in zip(viewers, ["我想要！", "想要想要", "路过", "想要+1"], strict=True):
        await v.send({"type": "comment", "text": text})
        await v.expect("ack")
    await viewers[0].send({"type": "comment", "text": "还是想要"})
    await viewers[0].expect("ack")
    await anon.send({"type": "comment", "text": "想要"})
    await anon.expect("ack")
    await viewers[2].send({"type": "follow"})
    await viewers[2].send({"type": "ping", "t": 1})
    await viewers[2].expect("pong")

    result = await viewers[1].until(
        lambda m: m["type"] == "draw_result" and m["draw"]["id"] == draw["id"], within=10
    )
    r = await env.http.get(f"/api/v1/draws/{draw['id']}")
    public = r.json()
    entrants = sorted([fans[0].user_id, fans[1].user_id, fans[3].user_id])
    assert public["state"] == "drawn" and public["entrants"] == entrants
    assert public["entrant_count"] == 3
    assert public["seed"] == result["draw"]["seed"]
    assert public["winners"] == result["draw"]["winners"]
    assert len(public["winners"]) == 2 and set(public["winners"]) <= set(entrants)
    assert hashlib.sha256(bytes.fromhex(public["seed"])).hexdigest() == draw["commitment"]

    # Anyone recomputes the winners from what was published; tampering shows.
    published = draws.Published(
        commitment=draw["commitment"], seed=public["seed"], winner_count=public["winner_count"],
        entrants=public["entrants"], entrants_hash=public["entrants_hash"],
        winners=public["winners"],
    )  # fmt: skip
    assert draws.verify(published) == []
    forged_seed = draws.Published(**{**published.__dict__, "seed": "00" * 32})
    assert "the seed does not match the commitment" in draws.verify(forged_seed)
    fewer = draws.Published(**{**published.__dict__, "entrants": entrants[:-1]})
    assert "the entrant list does not match its hash" in draws.verify(fewer)

    await viewers[1].until(
        lambda m: m["type"] == "draw_result" and m["draw"]["id"] == follow_draw["id"], within=10
    )
    r = await env.http.get(f"/api/v1/draws/{follow_draw['id']}")
    assert r.json()["entrants"] == [fans[2].user_id] == r.json()["winners"]
    after = await Viewer.join(env.ws, sid, token=fans[0].token)
    assert (await after.expect("snapshot"))["draws"] == []
    r = await env.http.get(f"/api/v1/live-sessions/{sid}/draws", headers=owner.headers)
    assert [d["state"] for d in r.json()] == ["drawn", "drawn"]
    record = await acts(env, owner, sid)
    assert [a["act"] for a in record] == ["draw", "draw", "draw_result", "draw_result"]
    assert record[2]["by"] is None and record[2]["target"] in (draw["id"], follow_draw["id"])
    for v in (*viewers, anon, after):
        await v.close()


async def test_draws_refuse_bad_input_and_ended_sessions(env: Env) -> None:
    owner, sid = await live_session(env.http)
    url = f"/api/v1/live-sessions/{sid}/draws"
    for body in [
        {"prize": "奖品", "winners": 1, "condition": "comment"},  # no keyword
        {"prize": "奖品", "winners": 1, "condition": "follow", "keyword": "想要"},
        {"prize": "奖品", "winners": 0, "condition": "follow"},
        {"prize": "奖品", "winners": 1, "condition": "share"},
        {"prize": "", "winners": 1, "condition": "follow"},
        {"prize": "奖品", "winners": 1, "condition": "follow", "seconds": 0},
    ]:
        r = await env.http.post(url, json=body, headers=owner.headers)
        assert r.status_code == 422, (body, r.text)
    r = await env.http.post(f"/api/v1/live-sessions/{sid}/end", headers=owner.headers)
    assert r.status_code == 200
    r = await env.http.post(
        url, json={"prize": "奖品", "winners": 1, "condition": "follow"}, headers=owner.headers
    )
    problem(r, 409, "session-state-conflict")
    r = await env.http.get(url, headers=owner.headers)
    assert r.json() == []
    problem(await env.http.get("/api/v1/draws/drw_X"), 404, "draw-not-found")
    assert await acts(env, owner, sid) == []


async def test_an_announcement_is_broadcast_and_shown_while_current(env: Env) -> None:
    owner, sid = await live_session(env.http)
    a = await Viewer.join(env.ws, sid, visitor=await visitor_token(env.http, sid))
    await a.expect("snapshot")
    url = f"/api/v1/live-sessions/{sid}/announcements"
    for body in [
        {"text": ""},
        {"text": "x" * 201},
        {"text": "换行\n不行"},
        {"text": "好", "seconds": 5},
    ]:
        r = await env.http.post(url, json=body, headers=owner.headers)
        assert r.status_code == 422, (body, r.text)
    r = await env.http.post(
        url, json={"text": "八点整抽福袋", "seconds": 60}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    posted = r.json()
    got = await a.until(lambda m: m["type"] == "announcement")
    assert got["announcement"]["text"] == "八点整抽福袋"
    assert got["announcement"]["id"] == posted["id"]
    b = await Viewer.join(env.ws, sid, visitor=await visitor_token(env.http, sid))
    assert (await b.expect("snapshot"))["announcement"]["text"] == "八点整抽福袋"
    record = await acts(env, owner, sid)
    assert [(x["act"], x["detail"]["text"]) for x in record] == [("announcement", "八点整抽福袋")]
    await a.close()
    await b.close()


async def test_moderation_acts_are_recorded_with_who_what_and_whom(env: Env) -> None:
    owner, sid = await live_session(env.http)
    fan = await create_user(env.http, label="fan")
    a = await Viewer.join(env.ws, sid, token=fan.token)
    await a.expect("snapshot")
    await a.send({"type": "comment", "text": "第一条"})
    ack = await a.expect("ack")
    comment = (await a.until(lambda m: m.get("seq") == ack["seq"]))["id"]
    base = f"/api/v1/live-sessions/{sid}"
    h = owner.headers
    assert (await env.http.put(f"{base}/pinned-comment", json={"comment_id": comment},
                               headers=h)).status_code == 204  # fmt: skip
    await a.until(lambda m: m["type"] == "pinned_comment" and m["comment"] is not None)
    problem(await env.http.put(f"{base}/pinned-comment", json={"comment_id": "evt_nope"},
                               headers=h), 404, "comment-not-found")  # fmt: skip
    assert (await env.http.delete(f"{base}/pinned-comment", headers=h)).status_code == 204
    assert (await env.http.delete(f"{base}/comments/{comment}", headers=h)).status_code == 204
    await a.until(lambda m: m["type"] == "comment_deleted")
    r = await env.http.post(f"{base}/mutes", json={"user": fan.user_id, "seconds": 30}, headers=h)
    assert r.status_code == 204
    r = await env.http.put(f"{base}/slow-mode", json={"seconds": 5}, headers=h)
    assert r.status_code == 200
    r = await env.http.post(f"{base}/bans", json={"user": fan.user_id}, headers=h)
    assert r.status_code == 204
    assert await a.closed() == 4003
    record = await acts(env, owner, sid)
    assert [(x["act"], x["target"], x["detail"]) for x in record] == [
        ("pin_comment", comment, {}),
        ("unpin_comment", None, {}),
        ("delete_comment", comment, {}),
        ("mute", fan.user_id, {"seconds": 30}),
        ("slow_mode", None, {"seconds": 5}),
        ("ban", fan.user_id, {}),
    ]
    assert {x["by"] for x in record} == {owner.user_id}
    # Another merchant sees nothing of it; an act refused changes no record.
    other, _ = await live_session(env.http)
    r = await env.http.get(f"{base}/moderation", headers=other.headers)
    problem(r, 404, "live-session-not-found")
    await env.http.post(f"{base}/end", headers=h)
    r = await env.http.post(f"{base}/mutes", json={"user": fan.user_id, "seconds": 30}, headers=h)
    problem(r, 409, "session-state-conflict")
    assert len(await acts(env, owner, sid)) == 6


@pytest.fixture
async def pg_env(
    bus: dict[str, Any], databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[Env]:
    """The room on both databases (``backend``; the other tests keep to SQLite)."""
    url = await databases.new()
    settings = make_settings(url, tmp_path, **{**FAST_ROOM, **bus})
    with ThreadServer(settings) as server:
        async with httpx.AsyncClient(base_url=server.http, timeout=10) as http:
            yield Env(server, http, url)


async def test_claims_hold_on_both_databases(pg_env: Env) -> None:
    await test_claims_never_exceed_the_quantity_nor_repeat_under_concurrency(pg_env)
