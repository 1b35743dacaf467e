"""The console's text: every key a template or the code uses is in the one catalogue, in
both languages, and money is fen until it is shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from daihuo.analytics.cli_report import FUNNEL_STEPS, METRICS
from daihuo.analytics.review import COMPARED, Marker
from daihuo.catalog.domain import ProductState
from daihuo.orders.domain import OrderState
from daihuo.pages import TEMPLATE_DIR
from daihuo.pages.console import LAST_MINUTE, TODAY, show
from daihuo.pages.i18n import TEXT, messages, pick_lang
from daihuo.pages.orders import TABS
from daihuo.pages.pool import SORTS
from daihuo.pages.products import Done
from daihuo.settlement.domain import AccountType, EventKind
from daihuo.tenancy.domain import TenantKind

KEYS = re.compile(r"""\bt(?:\.(\w+)|\[['"]([\w.]+)['"]\])""")
DYNAMIC = re.compile(r"""\bt\[['"]([\w.]+)['"]\s*~""")


def test_every_literal_key_of_the_console_templates_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for template in (TEMPLATE_DIR / "console").glob("*.html"):
        for attr, item in KEYS.findall(template.read_text()):
            used.add(attr or item)
    code = "".join(p.read_text() for p in Path(TEMPLATE_DIR).parent.glob("*.py"))
    used |= set(re.findall(r'"((?:[a-z]+_)?err_\w+)"', code))
    used |= set(re.findall(r'message="(\w+)"', code))
    assert used, "the pattern found the templates' keys"
    assert sorted(used - TEXT.keys()) == []


def test_prefixed_keys_exist_for_every_value_they_are_built_from() -> None:
    prefixes = set()
    for template in (TEMPLATE_DIR / "console").glob("*.html"):
        prefixes |= set(DYNAMIC.findall(template.read_text()))
    assert prefixes == {
        "m.", "state_", "kind_", "marker_", "pool_sort_", "lm_", "orders_tab_", "orders_state_",
        "prod_state_", "prod_done_", "settle_account_", "settle_event_", "platform_kind_",
        "trace_done_", "today_",
    }  # fmt: skip
    for key, _ in TODAY:  # the dashboard's figures of today
        assert f"today_{key}" in TEXT, key
    for tab in TABS:  # the orders page's tabs and every state an order can be in
        assert f"orders_tab_{tab}" in TEXT, tab
    for state in OrderState:
        assert f"orders_state_{state.value}" in TEXT, state
    for state in ProductState:
        assert f"prod_state_{state.value}" in TEXT, state
    for done in get_args(Done):  # the product page's ?done= notices
        assert f"prod_done_{done}" in TEXT, done
    # The traceability pages' ?done= notices: every one the routes redirect with.
    done = set(
        re.findall(r"\?done=(\w+)", (Path(TEMPLATE_DIR).parent / "traceability.py").read_text())
    )
    assert done == {"batch", "evidence", "step"}
    for notice in done:
        assert f"trace_done_{notice}" in TEXT, notice
    for account in AccountType:
        assert f"settle_account_{account.value}" in TEXT, account
    for event in EventKind:
        assert f"settle_event_{event.value}" in TEXT, event
    for kind in TenantKind:
        assert f"platform_kind_{kind.value}" in TEXT, kind
    for key, _ in LAST_MINUTE:  # the live tile's last-minute figures
        assert f"lm_{key}" in TEXT, key
    for sort in SORTS:
        assert f"pool_sort_{sort}" in TEXT, sort
    for key, _, _ in METRICS:
        assert f"m.{key}" in TEXT, key
    for _, key in FUNNEL_STEPS:
        assert f"m.{key}" in TEXT, key
    for state in ("scheduled", "live", "ended"):
        assert f"state_{state}" in TEXT
    for kind in ("bot_audience", "comment_farm", "like_farm", "brushing"):
        assert f"kind_{kind}" in TEXT
    for kind in get_args(Marker.model_fields["kind"].annotation):
        assert f"marker_{kind}" in TEXT
    for key, _ in COMPARED:  # the comparison's rows are named like the figures
        assert f"m.{key}" in TEXT, key


def test_both_languages_say_something_different() -> None:
    zh, en = messages("zh"), messages("en")
    assert zh.keys() == en.keys()
    for key in TEXT:
        assert zh[key] and en[key], key
        assert (
            not re.search(r"[\u4e00-\u9fff]", en[key]) or key == "switch" or key == "lang_switch"
        ), key


@pytest.mark.parametrize(
    ("query", "cookie", "lang"),
    [
        (None, None, "zh"),
        ("en", None, "en"),
        (None, "en", "en"),
        ("zh", "en", "zh"),
        ("xx", "en", "en"),
    ],
)
def test_the_query_wins_over_the_cookie_and_zh_is_the_default(
    query: str | None, cookie: str | None, lang: str
) -> None:
    assert pick_lang(query, cookie) == lang


def test_money_is_fen_until_shown() -> None:
    assert show(123456, "money") == "¥1,234.56"
    assert show(5, "money") == "¥0.05"
    assert show(None, "money") == "—"
    assert show(0.25, "rate") == "25.00%"
    assert show(1234, "count") == "1,234"
    assert show(61.25, "seconds", "zh") == "61.2 秒"
    assert show(61.25, "seconds", "en") == "61.2 s"
