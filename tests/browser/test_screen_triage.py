"""The big screen's comment assistant in a real Chromium while the demo's session is live:
the simulated audience's questions fill the queue, a viewer's question with markup shows
as text, and clicking a question dispatches ``daihuo:ask`` with its text and product.

Needs Debian's ``chromium`` (skipped without it unless CI is set)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.browser.console_support import CHROMIUM, Demo, demo_server
from tests.browser.test_live_screen import sign_in

pytestmark = pytest.mark.browser

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but chromium is missing: .ci/run installs it")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page  # noqa: E402

QUESTION = "<img src=x onerror=window.__pwned=1>3号链接还有货吗？"


@pytest.fixture(scope="module")
def live_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_server(
        tmp_path_factory.mktemp("triage"), viewers=300, minutes=10, speed=5, ended=False
    ) as running:
        yield running


def test_questions_queue_up_and_a_click_asks_for_a_draft(
    browser: Browser, page: Page, live_demo: Demo
) -> None:
    sid = live_demo.session_id
    sign_in(page, live_demo, f"/console/sessions/{sid}/screen")
    page.evaluate(
        "() => window.addEventListener('daihuo:ask', (e) => { window.__asked = e.detail; })"
    )
    viewer_context = browser.new_context(locale="zh-CN")
    try:
        viewer = viewer_context.new_page()
        viewer.goto(f"{live_demo.base}/live/{sid}")
        viewer.wait_for_function(
            "() => document.querySelector('#text') && !document.querySelector('#text').disabled"
        )
        viewer.fill("#text", QUESTION)
        viewer.click("#say button[type=submit]")
        queue = page.locator("[data-testid=triage-questions]")
        asked = queue.locator("button.ask", has_text="还有货吗")
        asked.first.wait_for(timeout=20_000)
        assert page.evaluate("window.__pwned") is None
        assert queue.locator("img").count() == 0

        asked.first.click()
        detail = page.evaluate("window.__asked")
        assert detail["text"] == QUESTION
        # It names link 3: the product at position 3 of the session, if it has one.
        if detail["product"] is not None:
            assert detail["product"]["position"] == 3
    finally:
        viewer_context.close()

    # A second viewer wants link 1: the meter counts it for the session's first product
    # (not left to the simulated audience, whose timing depends on the machine's load).
    buyer_context = browser.new_context(locale="zh-CN")
    try:
        buyer = buyer_context.new_page()
        buyer.goto(f"{live_demo.base}/live/{sid}")
        buyer.wait_for_function(
            "() => document.querySelector('#text') && !document.querySelector('#text').disabled"
        )
        buyer.fill("#text", "1号链接想要！怎么买")
        buyer.click("#say button[type=submit]")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=triage-meter] [data-count]')]"
            ".some((b) => Number(b.textContent) > 0)",
            timeout=30_000,
        )
    finally:
        buyer_context.close()
