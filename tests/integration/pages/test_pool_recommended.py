"""The pool page's "为你推荐 / Recommended for you" section: a merchant's picks with their
reasons, picked into the showcase through the pool page's own form."""

from __future__ import annotations

import re
from pathlib import Path

from daihuo.pages.i18n import messages

from tests.conftest import client_for, make_settings
from tests.integration.assistant.test_selection_api import _world
from tests.integration.orders.shop import FAST
from tests.integration.pages.test_console_pages import hidden, sign_in

ZH, EN = messages("zh"), messages("en")


def recommended(html: str) -> list[str]:
    return re.findall(r'<li class="rec-item" data-recommended="([^"]+)"', html)


async def test_a_merchant_sees_its_picks_with_reasons_and_picks_one(
    database_url: str, tmp_path: Path
) -> None:
    app = client_for(make_settings(database_url, tmp_path, **FAST))
    async with app as client:
        w = await _world(client, database_url, app.app.state.event_sink)
        p, me = w["products"], w["me"]
        assert (await sign_in(client, me.email)).status_code == 303
        r = await client.get("/console/pool")
        assert r.status_code == 200 and ZH["sel_title"] in r.text
        shown = recommended(r.text)
        assert set(shown[:2]) == {p["a3"], p["a4"]} and p["a1"] not in shown
        assert "个与你受众相似的商家卖得好" in r.text and ZH["sel_hint"] in r.text
        # Not on a search: the section belongs to the pool's front page.
        r2 = await client.get("/console/pool", params={"q": "商品"})
        assert ZH["sel_title"] not in r2.text
        # Pick the first one through the pool page's form, at the price it proposes.
        first = shown[0]
        form = re.search(rf'id="rec-price-{first}" name="price" [^>]*value="([^"]+)"', r.text)
        assert form is not None
        r = await client.post(
            f"/console/pool/{first}/pick",
            data={"csrf": hidden(r.text, "csrf"), "back": "/console/pool", "price": form.group(1)},
        )
        assert r.status_code == 303, r.text
        r = await client.get("/console/pool", params={"lang": "en"})
        assert EN["sel_title"] in r.text and "merchants with audiences like yours" in r.text
        # Picked: it leaves the section (what is in the showcase is not suggested again).
        assert recommended(r.text) == [p for p in shown if p != first]


async def test_a_new_merchant_sees_cold_start_picks_and_a_supplier_none(
    database_url: str, tmp_path: Path
) -> None:
    app = client_for(make_settings(database_url, tmp_path, **FAST))
    async with app as client:
        w = await _world(client, database_url, app.app.state.event_sink)
        assert (await sign_in(client, w["newcomer"].email)).status_code == 303
        r = await client.get("/console/pool")
        assert ZH["sel_cold_hint"] in r.text and ZH["sel_cold"] in r.text
        assert len(recommended(r.text)) == 6  # the pool's in-stock products
        assert w["products"]["empty"] not in recommended(r.text)
        await client.post("/console/logout", data={"csrf": hidden(r.text, "csrf")})
        client.cookies.clear()
        assert (await sign_in(client, w["supplier"].email)).status_code == 303
        r = await client.get("/console/pool")
        assert r.status_code == 200 and ZH["sel_title"] not in r.text
