"""``make screenshots``: PNGs of the console's main pages and the provenance page, taken
by Playwright in Debian's Chromium against a freshly seeded demo (docs/screenshots/).

The demo session is replayed faster than in ``make demo`` (``DAIHUO_SHOT_SPEED``, default
12: an hour of simulated audience in five minutes), so its per-minute curves have a few
points each.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.console_support import CHROMIUM, CHROMIUM_ARGS, MERCHANT, SUPPLIER, demo_server


def main(out: Path) -> None:
    if CHROMIUM is None:
        sys.exit("chromium is missing: apt-get install chromium")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    if not fonts.stdout.strip():
        sys.exit("no Chinese font for Chromium: apt-get install fonts-noto-cjk")
    out.mkdir(parents=True, exist_ok=True)
    speed = float(os.environ.get("DAIHUO_SHOT_SPEED", "12"))
    viewers = int(os.environ.get("DAIHUO_SHOT_VIEWERS", "1500"))
    with (
        tempfile.TemporaryDirectory(prefix="daihuo-shots-") as tmp,
        demo_server(Path(tmp), viewers=viewers, minutes=60, speed=speed) as demo,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")

        def shot(name: str, full: bool = True) -> None:
            page.screenshot(path=str(out / f"{name}.png"), full_page=full)
            print(out / f"{name}.png")

        page.goto(f"{demo.base}/console/login")
        shot("console-login", full=False)
        page.fill("#email", MERCHANT)
        page.fill("#password", demo.password)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/console/dashboard")
        shot("console-dashboard", full=False)
        page.goto(f"{demo.base}/console/sessions")
        shot("console-sessions", full=False)
        page.goto(f"{demo.base}/console/pool")
        shot("console-pool", full=False)
        page.goto(f"{demo.base}/console/sessions/{demo.session_id}")
        page.wait_for_selector("[data-testid=score]", timeout=120_000)
        page.wait_for_selector("[data-chart='funnel'][data-rendered='true'] canvas")
        shot("console-review")
        page.goto(f"{demo.base}/console/sessions/{demo.session_id}/screen")
        page.wait_for_selector("[data-screen-chart='curve'][data-points] canvas")
        page.wait_for_selector("#screen[data-live-at]", timeout=30_000)
        shot("console-screen", full=False)
        page.goto(f"{demo.base}/console/sessions/{demo.session_id}?lang=en")
        page.wait_for_selector("[data-testid=score]", timeout=120_000)
        shot("console-review-en", full=False)
        page.goto(f"{demo.base}/console/dashboard?lang=zh")
        page.click(".signout button")
        page.wait_for_url("**/console/login")
        page.fill("#email", SUPPLIER)
        page.fill("#password", demo.password)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/console/products")
        shot("console-products", full=False)
        page.goto(f"{demo.base}/console/orders")
        shot("console-orders", full=False)
        page.goto(f"{demo.base}/console/settlement")
        shot("console-settlement", full=False)
        page.goto(f"{demo.base}/console/products/new")
        shot("console-product-new", full=False)
        if demo.provenance:  # the demo batch's product: its batches and one batch's steps
            public_id = demo.provenance.rsplit("/", 1)[-1]
            traced = page.request.get(f"{demo.base}/api/v1/provenance/{public_id}").json()
            page.goto(f"{demo.base}/console/products/{traced['product']['id']}/batches")
            shot("console-batches", full=False)
            page.click("[data-role=open]")
            page.wait_for_url("**/batches/*")
            shot("console-batch")
        page.click(".signout button")
        page.wait_for_url("**/console/login")
        page.fill("#email", "operator@daihuo.local")
        page.fill("#password", demo.password)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/console/platform")
        shot("console-platform", full=False)
        if demo.provenance:
            page.goto(f"{demo.base}{demo.provenance}")
            page.wait_for_selector("[data-verification='done']", timeout=60_000)
            shot("demo-provenance")
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
