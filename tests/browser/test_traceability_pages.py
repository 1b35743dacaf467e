"""The supplier's traceability pages in a real Chromium (Playwright) against the real demo:
from a product's page to its batches, a new batch through the form, an evidence photo
uploaded through the file input, a step recorded with that photo ticked — and the public
provenance page, followed from the console, marks the new step verified by its own
WebCrypto checks. Both console pages pass axe-core.

Needs Debian's ``chromium``: skipped with a reason when it is missing and CI is unset;
under CI a missing Chromium fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from daihuo.pages.console import CHINA_TIME
from daihuo.pages.i18n import messages

from tests.browser.console_support import CHROMIUM, SUPPLIER, Demo, axe_violations, demo_server

pytestmark = pytest.mark.browser

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but chromium is missing: .ci/run installs it")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page  # noqa: E402

from tests.browser.test_provenance_page import tea_png  # noqa: E402

ZH = messages("zh")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_server(tmp_path_factory.mktemp("trace"), viewers=40) as running:
        yield running


def sign_in(page: Page, demo: Demo, email: str, then: str) -> None:
    page.goto(f"{demo.base}{then}")
    page.fill("#email", email)
    page.fill("#password", demo.password)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**{then}")


def loaded(page: Page, selector: str) -> bool:
    """The image has arrived and decoded (a broken one has no natural width)."""
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


def test_a_supplier_traces_a_batch_and_the_public_page_verifies_the_step(
    page: Page, demo: Demo
) -> None:
    assert demo.provenance is not None
    public_id = demo.provenance.rsplit("/", 1)[1]
    product = demo.api(f"/api/v1/provenance/{public_id}").json()["product"]["id"]

    sign_in(page, demo, SUPPLIER, then=f"/console/products/{product}")
    page.click("[data-testid=batches-link]")
    page.wait_for_url(f"**/console/products/{product}/batches")
    demo_batch = demo.api(f"/api/v1/products/{product}/batches", SUPPLIER).json()["items"][0]
    row = page.locator(f"tr[data-batch='{demo_batch['id']}']")
    assert row.locator("[data-role=steps]").inner_text() == str(len(demo_batch["steps"]))
    assert loaded(page, f"tr[data-batch='{demo_batch['id']}'] img.qr")
    assert axe_violations(page) == []

    # A new batch through the form; a code the product has already is refused beside it.
    page.fill("#f-code", demo_batch["code"])
    page.fill("#f-quantity", "800")
    page.click("[data-testid=new-batch] button[type=submit]")
    assert page.text_content("[data-testid=error-code]") == ZH["trace_err_code_taken"]
    assert page.get_attribute("#f-code", "aria-invalid") == "true"
    page.fill("#f-code", "HZ-2026-12-B")
    page.fill("#f-notes", "冬季批次")
    page.click("[data-testid=new-batch] button[type=submit]")
    page.wait_for_url("**?done=batch")
    assert page.text_content("[data-testid=batch-code]") == "HZ-2026-12-B"
    assert axe_violations(page) == []

    # The evidence: nothing chosen is refused beside the field, a photo is taken.
    page.click("[data-testid=upload] button[type=submit]")
    assert page.text_content("[data-testid=error-file]") == ZH["trace_err_file_empty"]
    photo = tea_png(48)
    page.set_input_files(
        "#f-file", files=[{"name": "质检照片.png", "mimeType": "image/png", "buffer": photo}]
    )
    page.click("[data-testid=upload] button[type=submit]")
    page.wait_for_url("**?done=evidence")
    upload = page.get_attribute("[data-upload]", "data-upload")
    assert upload and loaded(page, f"li[data-upload='{upload}'] img")

    # A step with the photo ticked, its time typed in China time.
    when = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    page.select_option("#f-step", "inspected")
    page.fill("#f-at", when.astimezone(CHINA_TIME).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#f-place", "浙江杭州 质检中心")
    page.check(f"#ev-{upload}")
    page.click("[data-testid=new-step] button[type=submit]")
    page.wait_for_url("**?done=step")
    batch_id = page.url.split("/batches/")[1].split("?")[0]
    [step] = demo.api(f"/api/v1/products/{product}/batches/{batch_id}", SUPPLIER).json()["steps"]
    assert datetime.fromisoformat(step["at"]) == when
    assert [e["id"] for e in step["evidence"]] == [upload]
    item = page.locator(f"li[data-step='{step['id']}']")
    assert item.get_attribute("data-leaf-index") == str(step["leaf_index"])
    assert item.locator("h3").inner_text() == "检验"
    assert loaded(page, f"li[data-step='{step['id']}'] li[data-evidence='{upload}'] img")
    assert page.locator("[data-upload]").count() == 0  # used: no longer offered
    assert axe_violations(page) == []

    # The public page, from the console's link: the new step checks out in the browser.
    page.click("[data-testid=provenance-link]")
    page.wait_for_url("**/p/*")
    page.wait_for_selector("html[data-verification=done]", state="attached")
    public = page.locator(f"li.step[data-id='{step['id']}']")
    assert public.get_attribute("data-status") == "verified"
    assert public.locator("[data-role=mark]").inner_text().strip() == ZH["verified"]
    assert public.get_attribute("data-leaf-index") == str(step["leaf_index"])
    assert page.text_content("#batch-code") == "HZ-2026-12-B"
