"""A merchant's writers take a session live (with a stream URL) and end it; each step
happens once, records its event, and a refused step changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from daihuo.config import Settings
from daihuo.events.store import session_events

from tests.conftest import client_for
from tests.fixtures import Account, create_member, create_user
from tests.integration.live.test_sessions_api import problem, schedule

STREAM = "https://live.example.com/app/room1.m3u8?token=abc"


async def merchant_session(client: httpx.AsyncClient) -> tuple[Account, str]:
    owner = await create_user(client, label="host", tenant_kind="merchant")
    r = await schedule(client, owner)
    assert r.status_code == 201, r.text
    return owner, str(r.json()["id"])


async def get(client: httpx.AsyncClient, who: Account, sid: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/live-sessions/{sid}", headers=who.headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_start_then_end_records_both_events_once(settings: Settings) -> None:
    app = client_for(settings)
    async with app as client:
        owner, sid = await merchant_session(client)
        r = await client.post(
            f"/api/v1/live-sessions/{sid}/start", json={"stream_url": STREAM}, headers=owner.headers
        )
        assert r.status_code == 200, r.text
        live = r.json()
        assert (live["state"], live["stream_url"]) == ("live", STREAM)
        assert live["started_at"] is not None and live["ended_at"] is None

        again = await client.post(f"/api/v1/live-sessions/{sid}/start", headers=owner.headers)
        problem(again, 409, "session-state-conflict")
        # While live the product list is fixed.
        r = await client.put(
            f"/api/v1/live-sessions/{sid}/products", json={"products": []}, headers=owner.headers
        )
        problem(r, 409, "session-not-editable")

        r = await client.post(f"/api/v1/live-sessions/{sid}/end", headers=owner.headers)
        assert r.status_code == 200, r.text
        ended = r.json()
        assert ended["state"] == "ended" and ended["ended_at"] >= ended["started_at"]
        problem(await client.post(f"/api/v1/live-sessions/{sid}/end", headers=owner.headers),
                409, "session-state-conflict")  # fmt: skip
        problem(await client.post(f"/api/v1/live-sessions/{sid}/start", headers=owner.headers),
                409, "session-state-conflict")  # fmt: skip

        events = list(session_events(app.app.state.event_sink.flushed(), sid))
        assert [e.type for e in events] == ["live_start", "live_end"]
        assert events[0].ts.startswith(live["started_at"][:19])
        assert events[1].ts.startswith(ended["ended_at"][:19])


async def test_start_without_video_keeps_no_stream(client: httpx.AsyncClient) -> None:
    owner, sid = await merchant_session(client)
    r = await client.post(f"/api/v1/live-sessions/{sid}/start", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["stream_url"] is None


BAD_STREAMS = [
    "javascript:alert(1)",
    "ftp://live.example.com/a.flv",
    "https://user:pw@live.example.com/a.m3u8",
    "http:///a.flv",
    "https://live.example.com/a b.m3u8",
    "https://live.example.com/\u76f4\u64ad.m3u8",
    "https://live.example.com/" + "a" * 500,
    "live.example.com/a.m3u8",
]


async def test_bad_stream_urls_are_refused_and_change_nothing(client: httpx.AsyncClient) -> None:
    owner, sid = await merchant_session(client)
    before = await get(client, owner, sid)
    for url in BAD_STREAMS:
        r = await client.post(
            f"/api/v1/live-sessions/{sid}/start", json={"stream_url": url}, headers=owner.headers
        )
        problem(r, 422, "validation-error")
    r = await client.post(
        f"/api/v1/live-sessions/{sid}/start", json={"stream": STREAM}, headers=owner.headers
    )
    problem(r, 422, "validation-error")
    assert await get(client, owner, sid) == before


async def test_only_the_merchants_writers_run_the_session(client: httpx.AsyncClient) -> None:
    owner, sid = await merchant_session(client)
    staff, _ = await create_member(client, owner, role="viewer", label="staff")
    other = await create_user(client, label="rival", tenant_kind="merchant")
    consumer = await create_user(client, label="fan")
    problem(await client.post(f"/api/v1/live-sessions/{sid}/start", headers=staff.headers),
            403, "permission-denied")  # fmt: skip
    problem(await client.post(f"/api/v1/live-sessions/{sid}/start", headers=other.headers),
            404, "live-session-not-found")  # fmt: skip
    r = await client.post(f"/api/v1/live-sessions/{sid}/start", headers=consumer.headers)
    assert r.status_code == 403, r.text
    assert (await get(client, owner, sid))["state"] == "scheduled"


async def test_visitor_tokens_for_open_rooms_only(client: httpx.AsyncClient) -> None:
    owner, sid = await merchant_session(client)
    r = await client.post(f"/api/v1/live-sessions/{sid}/visitor-token")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["visitor"].startswith("anon_") and first["token"].count(".") == 4
    second = (await client.post(f"/api/v1/live-sessions/{sid}/visitor-token")).json()
    assert second["visitor"] != first["visitor"]
    problem(await client.post("/api/v1/live-sessions/lsn_NOPE/visitor-token"),
            404, "live-session-not-found")  # fmt: skip
    await client.post(f"/api/v1/live-sessions/{sid}/start", headers=owner.headers)
    await client.post(f"/api/v1/live-sessions/{sid}/end", headers=owner.headers)
    problem(await client.post(f"/api/v1/live-sessions/{sid}/visitor-token"),
            409, "session-ended")  # fmt: skip
