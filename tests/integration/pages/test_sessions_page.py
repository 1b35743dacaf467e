"""The merchant's sessions page (/console/sessions) over HTTP on both engines: a session
scheduled from the form (China time, products in the order given) is the one the API
reads; going live with a stream URL and ending it record their events once, as the API's
own steps do; refused forms change nothing; viewers only read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from daihuo.catalog.schemas import ShowcaseItemRead
from daihuo.config import Settings
from daihuo.events.store import session_events
from daihuo.pages.i18n import messages
from daihuo.pages.live_sessions import parse_schedule

from tests.conftest import client_for
from tests.fixtures import create_member
from tests.integration.live.test_sessions_api import second_item
from tests.integration.orders.shop import create_shop
from tests.integration.pages.test_console_pages import hidden, sign_in

ZH = messages("zh")
STREAM = "https://live.example.com/app/room9.m3u8"


def item(i: str) -> ShowcaseItemRead:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return ShowcaseItemRead(
        id=i, product_id=f"p{i}", title=i, product_state="listed", price=100, price_min=1,
        price_max=1000, commission_bps=1000, created_at=now, updated_at=now,
    )  # fmt: skip


def test_the_form_reads_china_time_and_orders_the_lineup() -> None:
    showcase = [item("a"), item("b"), item("c"), item("d")]
    form = {
        "title": "周末专场", "start": "2026-12-12T20:00",
        "item:a": "on", "item:b": "on", "pos:b": "1", "item:d": "on", "pos:a": "",
    }  # fmt: skip
    data, _, errors = parse_schedule(form, showcase)
    assert errors == {} and data is not None
    assert data.planned_start == datetime(2026, 12, 12, 12, 0, tzinfo=UTC)
    assert data.products == ["b", "a", "d"]  # numbered first, then in showcase order
    for change, field, key in (
        ({"start": "2026-12-12"}, "start", "sess_err_start"),
        ({"pos:b": "0"}, "items", "sess_err_position"),
        ({"pos:b": "x"}, "items", "sess_err_position"),
        ({"pos:b": "\u00b2"}, "items", "sess_err_position"),  # a digit to isdigit, not int
        ({"title": ""}, "title", "prod_err_field"),
    ):
        data, _, errors = parse_schedule({**form, **change}, showcase)
        assert data is None and errors.get(field) == key, (change, errors)


async def sessions_of(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/live-sessions", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_a_merchant_schedules_goes_live_and_ends_from_the_page(
    settings: Settings, database_url: str
) -> None:
    app = client_for(settings)
    async with app as client:
        shop = await create_shop(client, database_url)
        scarf = await second_item(client, shop, "真丝方巾 莫兰迪色")
        merchant = shop.merchant
        await sign_in(client, merchant.email)
        page = await client.get("/console/sessions")
        assert page.status_code == 200 and ZH["sess_new"] in page.text
        assert f'name="item:{scarf}"' in page.text and f'name="item:{shop.item_id}"' in page.text
        csrf = hidden(page.text, "csrf")

        form = {
            "csrf": csrf,
            "title": "方巾专场",
            "start": "2026-12-12T20:00",
            f"item:{shop.item_id}": "on",
            f"item:{scarf}": "on",
            f"pos:{scarf}": "1",
        }
        r = await client.post("/console/sessions/new", data={**form, "start": ""})
        assert r.status_code == 422 and ZH["sess_err_start"] in r.text
        assert 'value="方巾专场"' in r.text  # as typed
        assert await sessions_of(client, merchant.headers) == []
        r = await client.post(
            "/console/sessions/new", data={k: v for k, v in form.items() if k != "csrf"}
        )
        assert r.status_code == 403

        r = await client.post("/console/sessions/new", data=form)
        assert r.status_code == 303
        [made] = await sessions_of(client, merchant.headers)
        assert (made["title"], made["state"]) == ("方巾专场", "scheduled")
        assert made["planned_start"].startswith("2026-12-12T12:00:00")
        assert [p["item_id"] for p in made["products"]] == [scarf, shop.item_id]
        sid = made["id"]

        r = await client.post(
            f"/console/sessions/{sid}/start",
            data={"csrf": csrf, "stream_url": "javascript:alert(1)"},
        )
        assert r.status_code == 422 and ZH["sess_err_stream"] in r.text
        assert (await sessions_of(client, merchant.headers))[0]["state"] == "scheduled"
        r = await client.post(
            f"/console/sessions/{sid}/start", data={"csrf": csrf, "stream_url": STREAM}
        )
        assert r.status_code == 303 and r.headers["location"] == f"/console/sessions/{sid}/screen"
        [running] = await sessions_of(client, merchant.headers)
        assert (running["state"], running["stream_url"]) == ("live", STREAM)
        r = await client.post(f"/console/sessions/{sid}/start", data={"csrf": csrf})
        assert r.status_code == 409 and ZH["sess_err_state"] in r.text

        page = await client.get("/console/sessions")
        assert f'action="/console/sessions/{sid}/end"' in page.text
        r = await client.post(f"/console/sessions/{sid}/end", data={"csrf": csrf})
        assert r.status_code == 303
        assert (await sessions_of(client, merchant.headers))[0]["state"] == "ended"
        r = await client.post(f"/console/sessions/{sid}/end", data={"csrf": csrf})
        assert r.status_code == 409
        events = list(session_events(app.app.state.event_sink.flushed(), sid))
        assert [e.type for e in events] == ["live_start", "live_end"]


async def test_a_viewer_reads_the_sessions_but_runs_none(
    client: httpx.AsyncClient, database_url: str
) -> None:
    shop = await create_shop(client, database_url)
    viewer, _ = await create_member(client, shop.merchant, role="viewer")
    await sign_in(client, viewer.email)
    page = await client.get("/console/sessions")
    assert page.status_code == 200 and ZH["sess_new"] not in page.text
    r = await client.post(
        "/console/sessions/new",
        data={"csrf": hidden(page.text, "csrf"), "title": "x", "start": "2026-12-12T20:00",
              f"item:{shop.item_id}": "on"},
    )  # fmt: skip
    assert r.status_code == 403 and ZH["sess_denied"] in r.text
    assert await sessions_of(client, shop.merchant.headers) == []
