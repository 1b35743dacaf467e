"""The live big screen (/console/sessions/{id}/screen) over HTTP: only the session's own
merchant staff open it, other tenants get the console's not-found page, everyone else is
sent to sign in or refused, and the session's title is shown as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from daihuo.pages.i18n import messages

from tests.fixtures import create_user
from tests.integration.pages.test_console_pages import sign_in

ZH, EN = messages("zh"), messages("en")
TITLE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


async def _live_session(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    start = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await client.post(
        "/api/v1/live-sessions",
        json={"title": TITLE, "planned_start": start, "products": []},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    made = str(r.json()["id"])
    r = await client.post(f"/api/v1/live-sessions/{made}/start", headers=headers)
    assert r.status_code == 200, r.text
    return made


async def test_the_merchant_opens_the_screen_of_a_live_session(client: httpx.AsyncClient) -> None:
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    made = await _live_session(client, merchant.headers)
    path = f"/console/sessions/{made}/screen"

    r = await client.get(path)  # not signed in: to the sign-in form, back here after it
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login?next=")

    await sign_in(client, merchant.email)
    r = await client.get(path)
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert ZH["screen_title"] in html and ZH["live_online"] in html
    assert f'data-live-feed="/api/v1/sessions/{made}/live"' in html
    assert 'id="screen-boot"' in html and 'class="dark-screen"' in html
    # The title (and its copy in the boot JSON) is text, never markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    # Linked from the session page and the sessions list while it is live.
    for page in (f"/console/sessions/{made}", "/console/sessions"):
        assert f'href="{path}"' in (await client.get(page)).text, page
    assert EN["screen_title"] in (await client.get(path + "?lang=en")).text


async def test_other_tenants_and_non_merchants_cannot_open_it(client: httpx.AsyncClient) -> None:
    owner = await create_user(client, label="owner", tenant_kind="merchant")
    made = await _live_session(client, owner.headers)
    path = f"/console/sessions/{made}/screen"

    other = await create_user(client, label="other", tenant_kind="merchant")
    await sign_in(client, other.email)
    r = await client.get(path)
    assert r.status_code == 404 and ZH["session_missing"] in r.text
    assert "&lt;script&gt;" not in r.text  # nothing of the other tenant's session
    r = await client.get("/console/sessions/lsn_unknown/screen")
    assert r.status_code == 404 and ZH["session_missing"] in r.text
    client.cookies.clear()

    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    await sign_in(client, supplier.email)
    r = await client.get(path)
    assert r.status_code == 403 and ZH["merchant_only"] in r.text
    client.cookies.clear()

    consumer = await create_user(client, label="buyer")
    await sign_in(client, consumer.email)
    r = await client.get(path)
    assert r.status_code == 403 and ZH["no_tenant"] in r.text


async def test_a_scheduled_session_has_a_screen_without_a_feed(client: httpx.AsyncClient) -> None:
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    start = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = await client.post(
        "/api/v1/live-sessions",
        json={"title": "明天的直播", "planned_start": start, "products": []},
        headers=merchant.headers,
    )
    made = r.json()["id"]
    await sign_in(client, merchant.email)
    html = (await client.get(f"/console/sessions/{made}/screen")).text
    assert ZH["screen_not_live"] in html and "data-live-feed" not in html
    # Not live: the sessions list links only its session page.
    assert f"/console/sessions/{made}/screen" not in (await client.get("/console/sessions")).text
