"""What ``make demo`` seeds is real data, reachable through the API: a listed catalogue,
showcases, a scheduled session, paid and settled orders, and a batch whose steps are in
the log with proofs that verify."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import httpx

from daihuo.demo import ACCOUNTS, DEMO_PASSWORD, seed
from daihuo.events.store import session_events
from daihuo.ledger import jcs, merkle, note
from daihuo.pages.pool import PAGE as POOL_PAGE
from daihuo.simulator.corpus import catalogue

from tests.conftest import client_for, make_settings
from tests.integration.live.rooms import ThreadServer
from tests.integration.pages.test_console_pages import sign_in


async def login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def until_ended(
    client: httpx.AsyncClient, headers: dict[str, str], session_id: str, *, seconds: float
) -> None:
    path = f"/api/v1/live-sessions/{session_id}"
    for _ in range(int(seconds * 10)):
        if (await client.get(path, headers=headers)).json()["state"] == "ended":
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the demo session never ended")


async def test_the_demo_seed_is_reachable_and_verifiable(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path)
    info = await seed(settings)
    assert (info.products, info.orders) == (len(catalogue()), 5)
    assert info.live_session and info.provenance
    again = await seed(settings)  # idempotent: nothing seeded twice
    assert again.products == 0 and len(again.lines) == len(ACCOUNTS) + 1
    assert again.provenance == info.provenance

    async with client_for(settings) as client:
        merchant = await login(client, "merchant@daihuo.local")
        r = await client.get("/api/v1/pool/products", params={"limit": 100}, headers=merchant)
        assert len(r.json()["items"]) == len(catalogue())
        r = await client.get(f"/api/v1/live-sessions/{info.live_session}", headers=merchant)
        assert r.status_code == 200 and len(r.json()["products"]) == 8
        r = await client.get("/api/v1/orders", headers=merchant)
        paid = [o for o in r.json()["items"] if o["state"] == "paid"]
        assert len(paid) == 5
        r = await client.get("/api/v1/settlement/balances", headers=merchant)
        assert r.json()["held"] > 0

        # The supply pool page the demo prints: the merchant sees the catalogue there.
        assert (await sign_in(client, "merchant@daihuo.local", DEMO_PASSWORD)).status_code == 303
        r = await client.get("/console/pool")
        assert r.status_code == 200
        assert r.text.count('class="card pool-item"') == min(len(catalogue()), POOL_PAGE)
        client.cookies.clear()

        public_id = info.provenance.rsplit("/", 1)[1]
        r = await client.get(f"/api/v1/provenance/{public_id}")
        assert r.status_code == 200, r.text
        steps = r.json()["steps"]
        assert [s["step"] for s in steps] == ["sourced", "produced", "inspected", "packed"]
        r = await client.get(info.provenance)
        assert r.status_code == 200 and "产品溯源" in r.text

        # Every step and every order is in the log, and its proof reaches the signed root.
        r = await client.get(f"/api/v1/orders/{paid[0]['id']}/ledger", headers=merchant)
        links = r.json()["entries"]
        assert [link["entry"]["body"]["event"] for link in links] == [
            "order_created",
            "order_paid",
            "paid",
        ]
        keys = (await client.get("/api/v1/ledger/keys")).json()["keys"]
        signed = (await client.get("/api/v1/ledger/checkpoint")).text
        opened = note.open_note(signed, [note.parse_verifier_key(k) for k in keys])
        checkpoint = note.Checkpoint.parse(opened.text)
        assert r.json()["tree_size"] == checkpoint.size
        for link in links:
            proof = (await client.get(link["proof"])).json()
            leaf = merkle.leaf_hash(jcs.canonical_json(link["entry"]))
            path = [base64.b64decode(h) for h in proof["proof"]]
            assert merkle.verify_inclusion(
                leaf, link["index"], checkpoint.size, path, checkpoint.root
            )


async def test_the_demo_session_runs_live_and_its_report_is_logged(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path)
    info = await seed(settings)
    live = make_settings(
        database_url,
        tmp_path,
        demo_live_session=info.live_session,
        demo_live_viewers=60,
        demo_live_minutes=10,
        demo_live_speed=600,  # ten minutes in one second
        ledger_feed_interval_seconds=0.2,
    )
    app = client_for(live)
    async with app as client:
        merchant = await login(client, "merchant@daihuo.local")
        await until_ended(client, merchant, info.live_session, seconds=30)
        r = await client.get(f"/api/v1/sessions/{info.live_session}/report", headers=merchant)
        figures = r.json()["sessions"][info.live_session]
        assert figures["viewer_uv"] >= 60 and figures["duration_seconds"] < 5
        for _ in range(100):
            r = await client.get(f"/api/v1/ledger/records/session_report/{info.live_session}")
            if r.json()["entries"]:
                break
            await asyncio.sleep(0.1)
        [link] = r.json()["entries"]
        assert link["entry"]["body"]["raw"] == figures
    # The next demo run gets a new scheduled session.
    again = await seed(settings)
    assert again.live_session and again.live_session != info.live_session


async def test_the_demo_audience_comes_through_the_server_when_it_listens(
    database_url: str, tmp_path: Path
) -> None:
    """What `daihuo demo` does: the simulated viewers join the live room over WebSockets
    (each with its simulated address) and the buyers order over HTTP; the session ends by
    itself and the report covers them."""
    settings = make_settings(database_url, tmp_path)
    info = await seed(settings)
    live = make_settings(
        database_url,
        tmp_path,
        demo_live_session=info.live_session,
        demo_live_viewers=40,
        demo_live_minutes=10,
        demo_live_speed=120,  # ten minutes in five seconds
    )
    server = ThreadServer(live)
    live.demo_live_url = server.http  # the app reads it when it starts
    with server:
        async with httpx.AsyncClient(base_url=server.http, timeout=60) as client:
            merchant = await login(client, "merchant@daihuo.local")
            await until_ended(client, merchant, info.live_session, seconds=90)
            r = await client.get(f"/api/v1/sessions/{info.live_session}/report", headers=merchant)
            figures = r.json()["sessions"][info.live_session]
        sink = server.app.state.event_sink
        stored = list(session_events(sink.flushed(), info.live_session))
    entered = [e for e in stored if e.type == "enter"]
    assert figures["viewer_uv"] >= 20 and figures["viewer_uv"] == len({e.user for e in entered})
    # through the room, with the simulated addresses the server was given
    assert len({e.ip for e in entered}) > 10 and "127.0.0.1" not in {e.ip for e in entered}
    assert figures["exposure_uv"] and figures["exposure_uv"] >= figures["viewer_uv"]
