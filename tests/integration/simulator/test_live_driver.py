"""``daihuo simulate --live`` against a real server (uvicorn in a thread, real WebSockets,
real HTTP): the events the server records for the session match what the offline model
of the same seed predicts, and a server that is down fails the run at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from daihuo.events.store import session_events
from daihuo.simulator.live import LiveRunError, drive
from daihuo.simulator.replay import simulated_session

from tests.conftest import make_settings
from tests.integration.live.rooms import ThreadServer, free_port
from tests.integration.live.test_sessions_api import schedule
from tests.integration.orders.shop import FAST, create_shop

# The offline model's comment pace is a crowd's; the run's senders are few identities at
# 60x speed, so the per-viewer comment limit is raised: this test is about fidelity.
LIMITS = {
    "live_comment_per_second": 100.0,
    "live_comment_burst": 100,
    "warehouse_batch_seconds": 0.2,
}


def predicted(events: list[dict[str, Any]]) -> dict[str, int]:
    """What the room and the API can record of the offline session (no impressions)."""
    kinds = Counter(e["type"] for e in events)
    return {
        "views_pv": kinds["enter"],
        "viewer_uv": len({e["user"] for e in events if e["type"] == "enter"}),
        "comment_count": kinds["comment"],
        "like_count": sum(int(e.get("count") or 1) for e in events if e["type"] == "like"),
        "share_count": kinds["share"],
        "order_count": kinds["order_created"],
        "buyer_uv": len({e["user"] for e in events if e["type"] == "order_created"}),
    }


async def test_a_live_run_records_what_the_offline_model_predicts(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, **FAST, **LIMITS)
    with ThreadServer(settings) as server:
        async with httpx.AsyncClient(base_url=server.http, timeout=60) as http:
            shop = await create_shop(http, database_url, stock=10_000)
            r = await schedule(http, shop.merchant, products=[shop.item_id])
            sid = r.json()["id"]
            r = await http.post(f"/api/v1/live-sessions/{sid}/start", headers=shop.merchant.headers)
            assert r.status_code == 200, r.text

            events = await asyncio.to_thread(
                simulated_session, viewers=40, seed=11, workdir=tmp_path, minutes=10
            )
            in_window = [e for e in events if e["type"] not in ("live_start", "live_end")]
            start = min(e["ts"] for e in events if e["type"] == "live_start")
            end = max(e["ts"] for e in events if e["type"] == "live_end")
            in_window = [e for e in in_window if start <= e["ts"] <= end]
            want = predicted(in_window)
            assert want["comment_count"] > 20 and want["order_count"] > 0, want  # a real test

            summary = await drive(server.http, sid, events, speed=60)
            assert not summary.failed, summary.failed
            assert summary.sent["order_created"] == want["order_count"]

            got: dict[str, Any] = {}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                r = await http.get(f"/api/v1/sessions/{sid}/report", headers=shop.merchant.headers)
                if r.status_code == 200:
                    got = r.json()["sessions"][sid]
                    if all(got.get(k) == v for k, v in want.items()):
                        break
                await asyncio.sleep(0.3)
            # Each viewer's simulated address reached the server (X-Forwarded-For from
            # loopback, which uvicorn trusts by default), not the driver's own 127.0.0.1.
            sink = server.app.state.event_sink
            stored = await asyncio.to_thread(lambda: list(session_events(sink.flushed(), sid)))
    # Each order went to its simulated address: one hash per distinct simulated place.
    placed = [e for e in stored if e.type == "order_created"]
    simulated = {(e.get("meta") or {}).get("addr") for e in in_window
                 if e["type"] == "order_created"}  # fmt: skip
    assert placed and all((e.meta or {}).get("addr") for e in placed)
    assert len({(e.meta or {})["addr"] for e in placed}) == len(simulated - {None})
    entered = {e.ip for e in stored if e.type == "enter"}
    assert entered == {e["ip"] for e in in_window if e["type"] == "enter" and e.get("ip")}
    assert len(entered) > 10
    for key, value in want.items():
        # The same counts, up to a message lost at the end of the run (tolerance 2%).
        assert abs(got[key] - value) <= max(1, value // 50), (key, got[key], value)
    assert got["gmv"] == sum(
        shop.price * int(e.get("qty") or 1) for e in in_window if e["type"] == "order_created"
    )


async def test_buyers_arriving_together_each_get_their_own_account(
    database_url: str, tmp_path: Path
) -> None:
    """Twelve buyers order in the same millisecond: their sign-ups run concurrently and
    must not collide (they once took the same e-mail address and were refused)."""
    settings = make_settings(database_url, tmp_path, **FAST, **LIMITS)
    with ThreadServer(settings) as server:
        async with httpx.AsyncClient(base_url=server.http, timeout=60) as http:
            shop = await create_shop(http, database_url, stock=100)
            r = await schedule(http, shop.merchant, products=[shop.item_id])
            sid = r.json()["id"]
            r = await http.post(f"/api/v1/live-sessions/{sid}/start", headers=shop.merchant.headers)
            assert r.status_code == 200, r.text
            ts = "2026-11-27T10:00:00.000Z"
            events: list[dict[str, Any]] = [
                {"id": "e0", "ts": ts, "session": "s", "type": "live_start"}
            ]
            for i in range(12):
                user = {"session": "s", "user": f"u{i:012x}", "ts": ts, "ip": f"10.0.0.{i}"}
                events += [
                    {**user, "id": f"e{i}a", "type": "enter", "source": "feed"},
                    {**user, "id": f"e{i}b", "type": "order_created", "product": "p1",
                     "order": f"o{i}", "qty": 1, "amount": shop.price},
                ]  # fmt: skip
            events.append({"id": "e99", "ts": ts, "session": "s", "type": "live_end"})
            summary = await drive(server.http, sid, events, speed=1)
    assert not summary.failed, summary.failed
    assert summary.buyers == 12 and summary.sent["order_created"] == 12


async def test_a_server_that_is_down_fails_the_run_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(LiveRunError, match="cannot reach"):
        await drive(url, "lsn_x", [], speed=1)
    assert time.monotonic() - started < 10


def test_the_cli_says_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "daihuo", "simulate", "--live", "--url", url, "--session", "lsn_x",
         "--viewers", "5"],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach the server" in lines[0], done.stderr
