"""The console's pages over HTTP (no browser): sign-in through the form with its CSRF
token, the session cookie the tenancy module checks, sign-out, who sees which page, and
user text escaped in the HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from daihuo.pages.i18n import messages

from tests.fixtures import PASSWORD, create_user

ZH, EN = messages("zh"), messages("en")


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} field"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    form = await client.get("/console/login")
    assert form.status_code == 200
    token = hidden(form.text, "csrf")
    return await client.post(
        "/console/login",
        data={"csrf": token, "email": email, "password": password, "next": "/console/sessions"},
    )


async def test_signing_in_through_the_form_opens_the_console(client: httpx.AsyncClient) -> None:
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    r = await client.get("/console/dashboard")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login?next=")

    r = await sign_in(client, merchant.email, "wrong-password")
    assert r.status_code == 401 and ZH["err_credentials"] in r.text
    r = await sign_in(client, merchant.email)
    assert r.status_code == 303 and r.headers["location"] == "/console/sessions"
    assert client.cookies.get("dh_session") and client.cookies.get("dh_csrf")

    r = await client.get("/console/dashboard")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert ZH["dashboard_title"] in r.text and ZH["no_sessions"] in r.text
    r = await client.get("/console/dashboard?lang=en")
    assert EN["dashboard_title"] in r.text and r.cookies.get("dh_lang") == "en"
    assert EN["sessions_title"] in (await client.get("/console/sessions")).text
    # The session cookie is the API's too.
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_a_form_without_its_token_is_refused(client: httpx.AsyncClient) -> None:
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    await client.get("/console/login")
    r = await client.post(
        "/console/login", data={"csrf": "guess", "email": merchant.email, "password": PASSWORD}
    )
    assert r.status_code == 400 and ZH["err_csrf"] in r.text
    assert client.cookies.get("dh_session") is None


async def test_sign_out_needs_the_session_csrf_token_and_revokes_it(
    client: httpx.AsyncClient,
) -> None:
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    await sign_in(client, merchant.email)
    page = (await client.get("/console/dashboard")).text
    session_cookie = client.cookies.get("dh_session")
    assert (await client.post("/console/logout", data={"csrf": "forged"})).status_code == 403
    r = await client.post("/console/logout", data={"csrf": hidden(page, "csrf")})
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    # The old cookie, replayed, is dead: revoked, not only forgotten by the browser.
    client.cookies.set("dh_session", str(session_cookie))
    assert (await client.get("/console/dashboard")).status_code == 303
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_each_kind_of_tenant_gets_its_own_pages(client: httpx.AsyncClient) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    await sign_in(client, supplier.email)
    r = await client.get("/console/dashboard")
    assert r.status_code == 303 and r.headers["location"] == "/console/products"
    assert ZH["no_products"] in (await client.get("/console/products")).text
    assert (await client.get("/console/sessions")).status_code == 403
    client.cookies.clear()
    consumer = await create_user(client, label="buyer")
    await sign_in(client, consumer.email)
    r = await client.get("/console/sessions")
    assert r.status_code == 403 and ZH["no_tenant"] in r.text


async def test_a_session_title_with_markup_is_escaped(client: httpx.AsyncClient) -> None:
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    title = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    start = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = await client.post(
        "/api/v1/live-sessions",
        json={"title": title, "planned_start": start, "products": []},
        headers=merchant.headers,
    )
    assert r.status_code == 201, r.text
    made = r.json()["id"]
    await sign_in(client, merchant.email)
    for path in ("/console/dashboard", "/console/sessions", f"/console/sessions/{made}"):
        html = (await client.get(path)).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x" in html, path
        assert "<script>alert" not in html and "<img src=x" not in html, path
    r = await client.get("/console/sessions/lsn_unknown")
    assert r.status_code == 404 and ZH["session_missing"] in r.text


async def test_the_sessions_list_reads_every_page_and_shows_the_newest_first(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from daihuo.pages import console

    monkeypatch.setattr(console, "MANY", 2)  # three sessions: two pages of the service
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    now = datetime.now(UTC)
    ids = []
    for days in (3, 1, 2):
        r = await client.post(
            "/api/v1/live-sessions",
            json={"title": f"第{days}天", "planned_start": (now + timedelta(days=days)).isoformat(),
                  "products": []},
            headers=merchant.headers,
        )  # fmt: skip
        ids.append((now + timedelta(days=days), r.json()["id"]))
    await sign_in(client, merchant.email)
    html = (await client.get("/console/sessions")).text
    shown = re.findall(r'<tr data-session="([^"]+)"', html)
    assert shown == [sid for _, sid in sorted(ids, reverse=True)]


async def test_the_analytics_page_takes_only_its_periods(client: httpx.AsyncClient) -> None:
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    await sign_in(client, merchant.email)
    for days, shown in (("30", "30"), ("\u00b2", "90"), ("7", "90"), ("-1", "90")):
        r = await client.get("/console/analytics", params={"days": days})
        assert r.status_code == 200, (days, r.text[:300])
        assert f'href="?days={shown}" aria-current="page"' in r.text
