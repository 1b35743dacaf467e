"""The dashboard's live tile in a real Chromium while the demo's live session runs: the
figures arrive over server-sent events and change as the audience's events flow, in
zh-CN and in English.

Needs Debian's ``chromium`` (skipped without it unless CI is set)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from daihuo.pages.i18n import messages

from tests.browser.console_support import CHROMIUM, MERCHANT, Demo, demo_server

pytestmark = pytest.mark.browser

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but chromium is missing: .ci/run installs it")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page  # noqa: E402

ZH, EN = messages("zh"), messages("en")


@pytest.fixture(scope="module")
def live_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    # Ten simulated minutes replayed over two real ones: live for the whole module.
    with demo_server(
        tmp_path_factory.mktemp("live"), viewers=300, minutes=10, speed=5, ended=False
    ) as running:
        yield running


def sign_in(page: Page, demo: Demo) -> None:
    page.goto(f"{demo.base}/console/dashboard")
    page.fill("#email", MERCHANT)
    page.fill("#password", demo.password)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/console/dashboard")


def test_the_live_tile_changes_while_events_flow(page: Page, live_demo: Demo) -> None:
    sign_in(page, live_demo)
    tile = f'.live-tile[data-session="{live_demo.session_id}"]'
    page.wait_for_selector(tile)
    assert page.inner_text("#h-live") == ZH["live_now"]
    views = f'{tile} [data-live-key="views_pv"]'
    # The figures of the server-rendered page, then the feed's: the number moves.
    page.wait_for_selector(f"{tile}[data-live-at]", timeout=15_000)  # a snapshot arrived
    before = page.inner_text(views)
    page.wait_for_function(
        "([sel, before]) => document.querySelector(sel).textContent !== before",
        arg=[views, before],
        timeout=30_000,
    )
    after = int(page.inner_text(views).replace(",", ""))
    assert after > int(before.replace(",", ""))
    assert page.inner_text(f"{tile} [data-live-status]") == ZH["live_updating"]
    # The tile shows what the API's tile says (read after it: figures only grow).
    api = live_demo.api(f"/api/v1/sessions/{live_demo.session_id}/live/tile").json()
    assert after <= api["views_pv"]
    assert page.inner_text(f"{tile} [data-live-key='pcu']").replace(",", "").isdigit()


def test_the_live_tile_speaks_english_on_the_switch(page: Page, live_demo: Demo) -> None:
    sign_in(page, live_demo)
    page.click("[data-testid=lang-switch]")
    page.wait_for_url("**lang=en**")
    assert page.inner_text("#h-live") == EN["live_now"]
    tile = f'.live-tile[data-session="{live_demo.session_id}"]'
    page.wait_for_selector(f"{tile}[data-live-at]", timeout=15_000)
    assert page.inner_text(f"{tile} [data-live-status]") == EN["live_updating"]
    labels = page.eval_on_selector_all(f"{tile} dt", "els => els.map(e => e.textContent)")
    assert EN["live_online"] in labels and EN["m.gmv"] in labels


def test_the_session_page_of_a_live_session_has_its_tile(page: Page, live_demo: Demo) -> None:
    sign_in(page, live_demo)
    page.goto(f"{live_demo.base}/console/sessions/{live_demo.session_id}")
    tile = f'.live-tile[data-session="{live_demo.session_id}"]'
    page.wait_for_selector(f"{tile}[data-live-at]", timeout=15_000)
    first = page.get_attribute(tile, "data-live-at")
    page.wait_for_function(  # the next snapshot, about a second later
        "([sel, first]) => document.querySelector(sel).dataset.liveAt !== first",
        arg=[tile, first],
        timeout=15_000,
    )
    assert page.inner_text("#h-live") == ZH["live_now"]
