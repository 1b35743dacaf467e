"""The comment triage panel of the big screen: rendered from its own partial, pointing at
the session's triage endpoint, which the signed-in merchant's browser session can read."""

from __future__ import annotations

import httpx

from daihuo.pages.i18n import messages

from tests.fixtures import create_user
from tests.integration.pages.test_console_pages import sign_in
from tests.integration.pages.test_console_screen import _live_session

ZH, EN = messages("zh"), messages("en")


async def test_the_screen_has_the_triage_panel_and_its_data(client: httpx.AsyncClient) -> None:
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    made = await _live_session(client, merchant.headers)
    await sign_in(client, merchant.email)
    html = (await client.get(f"/console/sessions/{made}/screen")).text
    api = f"/api/v1/sessions/{made}/assistant/comments"
    assert 'data-testid="screen-triage"' in html and f'data-triage="{api}"' in html
    assert 'data-live="true"' in html
    for key in ("triage_title", "triage_questions", "triage_purchase", "triage_complaints"):
        assert ZH[key] in html, key
    assert EN["triage_title"] in (await client.get(f"/console/sessions/{made}/screen?lang=en")).text

    # The panel's script reads the endpoint with the browser's session (no bearer token).
    r = await client.get(api)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["questions"] == [] and body["complaints"] == []
    assert body["purchase_intent"] == [] and sum(body["counts"].values()) == 0
