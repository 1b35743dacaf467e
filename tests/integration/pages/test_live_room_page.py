"""The consumer's live-room page as served (no browser): what it renders for anyone, the
player's stream origin let through the CSP and nothing else, a 404 page for an unknown
session. Its behaviour in a browser is tests/browser/test_live_room.py's."""

from __future__ import annotations

import httpx

from tests.integration.live.test_sessions_api import schedule
from tests.integration.orders.shop import create_shop


async def test_the_page_renders_the_room_and_lets_only_the_stream_origin_in(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url, title="<script>x()</script>真丝围巾")
    r = await schedule(client, shop.merchant, products=[shop.item_id])
    sid = r.json()["id"]
    r = await client.post(
        f"/api/v1/live-sessions/{sid}/start",
        json={"stream_url": "https://live.example.com:8443/app/a.m3u8"},
        headers=shop.merchant.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/live/{sid}")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "media-src 'self' blob: https://live.example.com:8443" in csp
    assert "connect-src 'self' https://live.example.com:8443" in csp
    assert "script-src 'self';" in csp  # scripts still only from this origin
    assert 'data-src="https://live.example.com:8443/app/a.m3u8"' in r.text
    assert "<script>x()</script>" not in r.text
    assert "&lt;script&gt;x()&lt;/script&gt;真丝围巾" in r.text
    # The room view behind it is public API too.
    room = (await client.get(f"/api/v1/rooms/{sid}")).json()
    assert room["state"] == "live" and room["products"][0]["item_id"] == shop.item_id


async def test_a_session_without_a_stream_keeps_the_strict_policy(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    r = await schedule(client, shop.merchant, products=[shop.item_id])
    sid = r.json()["id"]
    r = await client.get(f"/live/{sid}")
    assert r.status_code == 200
    assert "media-src" not in r.headers["content-security-policy"]
    assert "<video" not in r.text


async def test_an_unknown_session_is_a_404_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/live/lsn_nope")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
