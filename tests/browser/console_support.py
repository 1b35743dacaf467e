"""A seeded demo server with a finished live session, and Playwright on Debian's Chromium,
for the console's browser tests and ``make screenshots``.

The demo is the real one (``daihuo.demo.seed`` and the server's own demo live session:
a simulated audience replayed into the event sink, the session ended and its report put
in the transparency log), only shorter: ``minutes`` simulated minutes replayed ``speed``
times faster.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from daihuo.demo import DEMO_PASSWORD, seed
from daihuo.migrate import upgrade

from tests.conftest import make_settings
from tests.integration.ledger.support import server_process

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MERCHANT = "merchant@daihuo.local"
SUPPLIER = "supplier@daihuo.local"
# Headless, no sandbox (root in a container), and nothing that reaches out to the net.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


@dataclass
class Demo:
    base: str
    session_id: str  # the demo merchant's finished session
    provenance: str | None = None  # the path of the demo batch's provenance page
    password: str = DEMO_PASSWORD
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, email: str) -> str:
        if email in self._tokens:
            return self._tokens[email]
        r = httpx.post(
            f"{self.base}/api/v1/auth/token",
            json={"email": email, "password": self.password},
            timeout=30,
        )
        r.raise_for_status()
        self._tokens[email] = str(r.json()["access_token"])
        return self._tokens[email]

    def api(self, path: str, email: str = MERCHANT, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(email)}"}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=60, **kwargs)


@contextmanager
def demo_server(
    tmp: Path, *, viewers: int = 300, minutes: float = 10, speed: float = 60, ended: bool = True
) -> Iterator[Demo]:
    """``make demo`` in ``tmp``: migrate, seed, serve; yields once the demo's live session
    has ended and its report is in the log (``ended=False``: as soon as its audience's
    events flow, while it is live)."""
    url = f"sqlite+aiosqlite:///{tmp / 'demo.db'}"
    data_dir = tmp / "var"
    settings = make_settings(url, data_dir)

    def prepare() -> Any:
        upgrade(url)
        return asyncio.run(seed(settings))

    # In a thread of its own: Playwright's sync API may already run a loop in this one.
    with ThreadPoolExecutor(1) as pool:
        info = pool.submit(prepare).result()
    assert info.live_session is not None
    env = {
        "DAIHUO_DEMO_LIVE_SESSION": info.live_session,
        "DAIHUO_DEMO_LIVE_VIEWERS": str(viewers),
        "DAIHUO_DEMO_LIVE_MINUTES": str(minutes),
        "DAIHUO_DEMO_LIVE_SPEED": str(speed),
        "DAIHUO_COOKIE_SECURE": "false",
        "DAIHUO_LEDGER_FEED_INTERVAL_SECONDS": "1",
    }
    with mock.patch.dict(os.environ, env), server_process(settings, tmp) as base:
        demo = Demo(base, info.live_session, info.provenance)
        deadline = time.monotonic() + 180 + minutes * 60 / speed * 3
        if not ended:
            while True:
                tile = demo.api(f"/api/v1/sessions/{info.live_session}/live/tile").json()
                if tile.get("state") == "live" and tile.get("views_pv"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the demo session did not go live: {tile}")
                time.sleep(0.5)
            yield demo
            return
        path = f"/api/v1/ledger/records/session_report/{info.live_session}"
        while True:
            # Ended, its report computed and put in the log: what the review page shows.
            r = httpx.get(f"{base}{path}", timeout=10)
            if r.status_code == 200 and r.json()["entries"]:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo session did not finish: {r.text}")
            time.sleep(1)
        yield demo


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
