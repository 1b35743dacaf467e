"""The review page's insights section: the ranked findings as the API gives them, each
linking to an element of the review page that exists."""

from __future__ import annotations

import re
from pathlib import Path

from daihuo.pages.i18n import messages

from tests.conftest import client_for, make_settings
from tests.integration.assistant.test_insights_api import session_log, ts
from tests.integration.orders.shop import FAST, create_shop
from tests.integration.pages.test_console_pages import sign_in

ZH, EN = messages("zh"), messages("en")


async def test_the_review_page_lists_the_insights_with_links_to_their_rows(
    database_url: str, tmp_path: Path
) -> None:
    app = client_for(make_settings(database_url, tmp_path, **FAST))
    async with app as client:
        sink = app.app.state.event_sink
        shop = await create_shop(client, database_url, price=5000)
        other = await create_shop(client, database_url, platform=shop.platform)
        r = await client.post(
            "/api/v1/live-sessions",
            json={"title": "晚间专场", "planned_start": ts(0), "products": [shop.item_id]},
            headers=shop.merchant.headers,
        )
        live = r.json()["id"]
        fragment = f"/console/sessions/{live}/insights"
        assert (await client.get(fragment)).status_code == 401
        await sign_in(client, shop.merchant.email)
        r = await client.get(fragment)
        assert r.status_code == 200 and ZH["insights_none"] in r.text

        log = session_log(live, shop.product_id)
        assert sink.record(log) == len(log)
        page = await client.get(f"/console/sessions/{live}")
        assert page.status_code == 200
        assert ZH["insights"] in page.text and f'hx-get="{fragment}"' in page.text
        r = await client.get(fragment)
        assert r.status_code == 200
        kinds = re.findall(r'data-kind="([a-z_]+)"', r.text)
        assert kinds == ["refund_concentration", "viewer_drop"]
        assert "¥40.00" in r.text  # p1's refund, the money at stake of the first finding
        links = re.findall(r'href="#([^"]+)"', r.text)
        assert links == [f"product-{shop.product_id}", "minute-4"]
        for element in links:
            assert f'id="{element}"' in page.text, element
        english = await client.get(fragment + "?lang=en")
        assert "Refunds are concentrated on" in english.text and "退款" not in english.text

        client.cookies.clear()
        await sign_in(client, other.merchant.email)
        assert (await client.get(fragment)).status_code == 404
