"""The console's text: every key a template or the code uses is in the one catalogue, in
both languages, and money is fen until it is shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from daihuo.analytics.cli_report import FUNNEL_STEPS, METRICS
from daihuo.analytics.review import COMPARED, Marker
from daihuo.pages import TEMPLATE_DIR
from daihuo.pages.console import LAST_MINUTE, show
from daihuo.pages.i18n import TEXT, messages, pick_lang
from daihuo.pages.pool import SORTS

KEYS = re.compile(r"""\bt(?:\.(\w+)|\[['"]([\w.]+)['"]\])""")
DYNAMIC = re.compile(r"""\bt\[['"]([\w.]+)['"]\s*~""")


def test_every_literal_key_of_the_console_templates_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for template in (TEMPLATE_DIR / "console").glob("*.html"):
        for attr, item in KEYS.findall(template.read_text()):
            used.add(attr or item)
    code = "".join((Path(TEMPLATE_DIR).parent / f).read_text() for f in ("console.py", "pool.py"))
    used |= set(re.findall(r'"((?:pool_)?err_\w+)"', code))
    used |= set(re.findall(r'message="(\w+)"', code))
    assert used, "the pattern found the templates' keys"
    assert sorted(used - TEXT.keys()) == []


def test_prefixed_keys_exist_for_every_value_they_are_built_from() -> None:
    prefixes = set()
    for template in (TEMPLATE_DIR / "console").glob("*.html"):
        prefixes |= set(DYNAMIC.findall(template.read_text()))
    assert prefixes == {"m.", "state_", "kind_", "marker_", "pool_sort_", "lm_"}
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
