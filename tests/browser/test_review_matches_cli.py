"""The review page shows the figures ``daihuo analytics report`` prints for the same
session: a demo session runs to its end, Chromium reads every figure of the review, the
server stops, and the command reads the very store the server wrote.

Needs Debian's ``chromium``: skipped with a reason when it is missing and CI is unset;
under CI a missing Chromium fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from daihuo.analytics.cli_report import METRICS

from tests.browser.console_support import CHROMIUM, MERCHANT, demo_server

pytestmark = pytest.mark.browser

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but chromium is missing: .ci/run installs it")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser  # noqa: E402

CELLS = """els => els.map(e => [e.dataset.key, e.dataset.value])"""


def test_the_review_page_shows_what_the_analytics_report_command_prints(
    browser: Browser, tmp_path: Path
) -> None:
    with demo_server(tmp_path, viewers=200) as demo:
        sid = demo.session_id
        context = browser.new_context(locale="zh-CN")
        try:
            page = context.new_page()
            page.goto(f"{demo.base}/console/sessions/{sid}")
            page.fill("#email", MERCHANT)
            page.fill("#password", demo.password)
            page.click("button[type=submit].primary")
            page.wait_for_url(f"**/console/sessions/{sid}")
            shown = {
                k: json.loads(v)
                for k, v in page.eval_on_selector_all("[data-testid=metrics] [data-key]", CELLS)
            }
            funnel = {
                k: json.loads(v)
                for k, v in page.eval_on_selector_all("[data-testid=funnel] [data-key]", CELLS)
            }
            curves = json.loads(page.text_content("#chart-data") or "{}")["curves"]
        finally:
            context.close()
    # The server has stopped: its store is closed and the command may open it.
    env = {
        **os.environ,
        "DAIHUO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "DAIHUO_DATA_DIR": str(tmp_path / "var"),
    }
    env.pop("DAIHUO_WAREHOUSE_URL", None)
    r = subprocess.run(
        [sys.executable, "-m", "daihuo", "analytics", "report", "--session", sid],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    printed: dict[str, Any] = json.loads(r.stdout)["sessions"][sid]

    single = [key for key, _, how in METRICS if not how.startswith("curve")]
    assert sorted(shown) == sorted(single)
    assert printed["viewer_uv"] > 0 and printed["order_count"] > 0  # a real session
    assert {key: shown[key] for key in single} == {key: printed[key] for key in single}
    assert funnel and funnel == {key: printed[key] for key in funnel}
    for key in ("online_per_minute", "new_viewers_per_minute", "gmv_per_minute"):
        assert curves[key] == printed[key], key
