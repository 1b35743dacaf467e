"""The review page's insights (assistant, issue 10) in a real Chromium against the real
demo: the ranked findings the insights API gives, and each finding's link lands on a
visible element of the page (a minute row opens its collapsed table)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from daihuo.pages.console import show
from daihuo.pages.i18n import messages

from tests.browser.console_support import CHROMIUM, MERCHANT, Demo, axe_violations, demo_server

pytestmark = pytest.mark.browser

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but chromium is missing: .ci/run installs it")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page  # noqa: E402

ZH, EN = messages("zh"), messages("en")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_server(tmp_path_factory.mktemp("insights")) as running:
        yield running


def sign_in(page: Page, demo: Demo, then: str) -> None:
    page.goto(f"{demo.base}{then}")
    page.fill("#email", MERCHANT)
    page.fill("#password", demo.password)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**{then}")


def test_the_review_lists_the_apis_insights_and_their_links_land_on_the_page(
    page: Page, demo: Demo
) -> None:
    sid = demo.session_id
    found = demo.api(f"/api/v1/sessions/{sid}/insights").json()["insights"]
    sign_in(page, demo, f"/console/sessions/{sid}")
    assert ZH["insights"] in (page.text_content("#h-insights") or "")
    loaded = "#insights [data-testid=insight-list], #insights [data-testid=insights-none]"
    page.wait_for_selector(loaded, timeout=60_000)
    shown = page.eval_on_selector_all(
        "#insights li.insight",
        "items => items.map(i => [i.dataset.kind, Number(i.dataset.money), i.dataset.anchor])",
    )
    assert shown == [[i["kind"], i["money_fen"], i["anchor"]] for i in found]
    if not found:
        assert page.text_content("[data-testid=insights-none]") == ZH["insights_none"]
        return
    money = page.eval_on_selector_all(
        "[data-testid=insight-money]", "els => els.map(e => e.textContent.trim())"
    )
    assert money == [show(i["money_fen"], "money") for i in found]
    for i, finding in enumerate(found):
        page.locator("[data-testid=insight-link]").nth(i).click()
        target = page.locator(f"[id='{finding['element_id']}']")
        assert target.count() == 1, finding["anchor"]
        target.wait_for(state="visible")
        assert target.is_visible(), finding["anchor"]
    assert axe_violations(page) == []
    page.goto(f"{demo.base}/console/sessions/{sid}?lang=en")
    page.wait_for_selector("#insights li.insight", timeout=60_000)
    english = demo.api(f"/api/v1/sessions/{sid}/insights?lang=en").json()["insights"]
    titles = page.eval_on_selector_all(
        "#insights li.insight h3", "els => els.map(e => e.textContent.trim())"
    )
    assert titles == [i["title"] for i in english]
