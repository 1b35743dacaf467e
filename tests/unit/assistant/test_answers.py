"""Answer drafts from a product's own data: slots, retrieval, "I don't know", and the
invariants (no invented number, no stock count, never an exception)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daihuo.assistant.answers import (
    LOW_STOCK,
    Draft,
    draft_answers,
    fold,
    no_product_draft,
    stock_word,
    unknown_product_draft,
    viewer_height_weight,
    yuan,
)
from daihuo.catalog.schemas import ProductSheet

SHEET: dict[str, Any] = {
    "product_id": "prd_1",
    "item_id": "shw_1",
    "title": "纯棉圆领T恤",
    "category": "服饰/女装",
    "description": "夏季新款，宽松版型。领口加固不易变形！颜色不掉色。",
    "attributes": {"产地": "浙江杭州", "发货地": "浙江杭州"},
    "facts": {
        "material": "95% 棉 5% 氨纶",
        "shipping_promise": "付款后 48 小时内发货，包邮（偏远地区除外）",
        "usage": "30 度以下水洗，不可漂白",
        "size_chart": [
            {"size": "S", "height_cm": [150, 157], "weight_kg": [40, 47]},
            {"size": "M", "height_cm": [158, 164], "weight_kg": [48, 54]},
            {"size": "L", "height_cm": [165, 172], "weight_kg": [55, 63]},
        ],
        "faq": [
            {"q": "会起球吗", "a": "不会，面料做过抗起球处理"},
            {"q": "孕妇能穿吗", "a": "可以，面料亲肤无刺激"},
        ],
    },
    "price": 5990,
    "max_per_user": 2,
    "skus": [
        {
            "id": "s1",
            "code": "W-S",
            "spec": {"颜色": "白", "尺码": "S"},
            "price": 5990,
            "available": 50,
        },
        {
            "id": "s2",
            "code": "W-M",
            "spec": {"颜色": "白", "尺码": "M"},
            "price": 5990,
            "available": 3,
        },
        {
            "id": "s3",
            "code": "B-L",
            "spec": {"颜色": "黑", "尺码": "L"},
            "price": 5990,
            "available": 0,
        },
    ],
}
EMPTY: dict[str, Any] = {
    **SHEET,
    "description": "",
    "attributes": {},
    "facts": {},
    "skus": [{"id": "s1", "code": "ONE", "spec": {}, "price": 990, "available": 500}],
    "price": 990,
    "max_per_user": None,
}


def sheet(**change: Any) -> ProductSheet:
    return ProductSheet.model_validate({**SHEET, **change})


@cache
def _traditional() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    """The question as a viewer on a traditional-character keyboard types it."""
    converted = str(_traditional().convert(text))
    assert converted != text, "the sample must differ in traditional characters"
    return converted


def first(question: str, data: ProductSheet | None = None, **kw: Any) -> Draft:
    return draft_answers(data or sheet(), question, **kw)[0]


# --- slots ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["多少钱", "这个多少钱呀", "价格多少", "什么价", "多少前", "怎么卖的宝宝", "💰多少钱💰"],
)
def test_price_questions_get_the_shops_price_from_fen(question: str) -> None:
    d = first(question)
    assert d.slot == "price" and d.source == "price"
    assert "¥59.90" in d.text


def test_a_traditional_price_question_is_understood() -> None:
    assert first(traditional("这个多少钱")).slot == "price"


def test_a_discount_question_does_not_promise_a_discount() -> None:
    d = first("有优惠券吗")
    assert d.slot == "price" and "没有写" in d.text


@pytest.mark.parametrize(
    "question", ["什么材质", "面料是什么", "成分呢", "是纯棉的吗", "才质怎么样"]
)
def test_material_questions_are_answered_from_the_facts(question: str) -> None:
    d = first(question)
    assert (d.slot, d.source) == ("material", "facts.material")
    assert "95% 棉 5% 氨纶" in d.text


def test_material_falls_back_to_an_attribute() -> None:
    d = first("什么面料", sheet(facts={}, attributes={"面料": "莫代尔"}))
    assert d.source == "attributes.面料" and "莫代尔" in d.text


@pytest.mark.parametrize(
    "question", ["什么时候发货", "几天能到", "包邮吗", "发什么快递", "快第几天到"]
)
def test_shipping_questions_get_the_shipping_promise(question: str) -> None:
    d = first(question)
    assert d.source == "facts.shipping_promise" and "48 小时内发货" in d.text


def test_without_a_promise_shipping_says_only_where_it_ships_from() -> None:
    d = first("几天发货", sheet(facts={}))
    assert d.source == "attributes.发货地" and "浙江杭州" in d.text and "没有写" in d.text


@pytest.mark.parametrize(
    ("question", "size"),
    [
        ("身高160体重100斤穿什么码", "M"),
        ("160cm 50kg 穿多大", "M"),
        ("1米7，60公斤什么码", "L"),
        ("身高152 体重90斤 选几码", "S"),
        (traditional("身高160体重100斤穿什么码"), "M"),
    ],
)
def test_height_and_weight_pick_a_size_from_the_chart(question: str, size: str) -> None:
    d = first(question)
    assert d.slot == "size" and d.source == "facts.size_chart"
    assert f"建议选 {size} 码" in d.text


def test_a_viewers_height_and_weight_are_never_echoed() -> None:
    d = first("身高161体重101斤穿什么码")
    assert "161" not in d.text and "101" not in d.text and "50.5" not in d.text


def test_when_height_and_weight_disagree_the_larger_size_is_advised() -> None:
    d = first("身高153，体重60kg穿什么码")
    assert d.slot == "size" and "按身高 S 码，按体重 L 码" in d.text and "L 码" in d.text


def test_a_size_question_without_figures_gets_the_chart() -> None:
    d = first("尺码怎么选")
    assert d.slot == "size" and "S 身高 150-157cm" in d.text and "L 身高 165-172cm" in d.text


def test_without_a_chart_the_sizes_of_the_skus_are_listed_and_the_chart_is_asked_for() -> None:
    d = first("身高160穿什么码", sheet(facts={}))
    assert d.source == "skus" and "S / M / L" in d.text and "没有写" in d.text


@pytest.mark.parametrize("question", ["还有货吗", "有货么", "库存还有吗", "还有没有", "现货吗🙏"])
def test_stock_is_a_word_and_never_a_count(question: str) -> None:
    d = first(question)
    assert d.slot == "stock" and d.text.startswith("有货")
    assert "50" not in d.text and "53" not in d.text
    assert "黑 L 已售罄" in d.text


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("M码还有货吗", "白 M：库存紧张"),
        ("黑色L码还有吗", "黑 L：已售罄"),
        ("有S码吗", "白 S：有货"),
    ],
)
def test_stock_of_a_named_sku(question: str, answer: str) -> None:
    d = first(question)
    assert d.slot == "stock" and answer in d.text and "3" not in d.text


def test_m_is_not_found_inside_xl() -> None:
    data = sheet(
        skus=[
            {"id": "a", "code": "M", "spec": {"尺码": "M"}, "price": 5990, "available": 0},
            {"id": "b", "code": "XL", "spec": {"尺码": "XL"}, "price": 5990, "available": 40},
        ]
    )
    assert "XL：有货" in first("XL还有吗", data).text
    assert "M：" not in first("XL还有吗", data).text


def test_stock_words_follow_the_threshold() -> None:
    assert stock_word(0) == "sold_out"
    assert stock_word(1) == stock_word(LOW_STOCK) == "low"
    assert stock_word(LOW_STOCK + 1) == "in_stock"
    sold_out = [{"id": "a", "code": "A", "spec": {}, "price": 5990, "available": 0}]
    assert first("还有吗", sheet(skus=sold_out)).text.startswith("已售罄")


def test_usage_questions_get_the_usage() -> None:
    d = first("可以机洗吗")
    assert d.source == "facts.usage" and "30 度以下水洗" in d.text


def test_a_question_with_two_slots_gets_two_drafts() -> None:
    drafts = draft_answers(sheet(), "多少钱？包邮吗")
    assert [d.slot for d in drafts] == ["price", "shipping"]


# --- retrieval -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("会不会起球", "facts.faq[0]"),
        ("起球吗？？", "facts.faq[0]"),
        ("孕妇可以穿吗", "facts.faq[1]"),
        ("领口会变形吗", "description[1]"),
        ("会掉色吗😂", "description[2]"),
        ("哪里产的 产地是", "attributes.产地"),
    ],
)
def test_other_questions_are_answered_from_the_faq_description_and_attributes(
    question: str, source: str
) -> None:
    d = first(question)
    assert d.source == source and d.confidence > 0


def test_a_traditional_faq_question_finds_the_faq() -> None:
    assert first(traditional("会不会起球")).source == "facts.faq[0]"


@pytest.mark.parametrize(
    "question",
    ["有赠品吗", "能开发票吗", "保质期多久", "主播几点下播", "", "   ", "？？？", "🤔🤔"],
)
def test_what_the_data_does_not_say_gets_i_dont_know(question: str) -> None:
    drafts = draft_answers(sheet(), question)
    assert len(drafts) == 1
    assert drafts[0].slot == "unknown" and drafts[0].confidence == 0
    assert "没有写" in drafts[0].text


def test_an_empty_slot_says_it_does_not_know_that_slot() -> None:
    d = first("什么面料", ProductSheet.model_validate(EMPTY))
    assert d.slot == "unknown" and d.source == "none:material" and "材质" in d.text


def test_english_drafts_when_asked() -> None:
    assert first("多少钱", lang="en").text.startswith("Live-room price: ¥59.90")
    assert "doesn't say" in first("有赠品吗", lang="en").text
    assert first("还有货吗", lang="en").text.startswith("In stock")


def test_unknown_and_missing_product_drafts_say_so() -> None:
    assert unknown_product_draft().slot == "unknown_product"
    assert "没有找到这个商品" in unknown_product_draft().text
    assert no_product_draft("en").slot == "no_product"


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "shown"), [(1, "¥0.01"), (990, "¥9.90"), (3000, "¥30"), (12345, "¥123.45")]
)
def test_money_is_shown_from_integer_fen(fen: int, shown: str) -> None:
    assert yuan(fen) == shown


@pytest.mark.parametrize(
    ("question", "height", "weight"),
    [
        ("身高165体重110斤", 165, 55),
        ("1米65 55kg", 165, 55),
        ("1.7m 120斤", 170, 60),
        ("体重50", None, 50),
        ("体重100", None, 50),
        ("身高999", None, None),
    ],
)
def test_height_and_weight_are_read_in_the_units_viewers_use(
    question: str, height: float | None, weight: float | None
) -> None:
    assert viewer_height_weight(fold(question)) == (height, weight)


def test_fold_drops_emoji_and_punctuation_and_mends_typos() -> None:
    assert fold("尺吗！！😍 XL") == "尺码 xl"


# --- invariants -----------------------------------------------------------------------------

NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _allowed_numbers(data: ProductSheet) -> set[str]:
    """Every number the product's data holds, and its prices as yuan."""
    # Ids are not data a viewer is told: their digits do not count.
    shown = data.model_dump(
        mode="json", exclude={"product_id": True, "item_id": True, "skus": {"__all__": {"id"}}}
    )
    raw = json.dumps(shown, ensure_ascii=False)
    allowed = set(NUMBER.findall(raw))
    for fen in [data.price] + [s.price for s in data.skus]:
        allowed |= {str(fen // 100), f"{fen // 100}.{fen % 100:02d}"}
    return allowed


questions = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            ["多少钱", "身高", "165", "体重", "110斤", "60kg", "还有", "吗", "M码", "黑色", "包邮",
             "面料", "起球", "🙏", "？", "1米7", "优惠", "怎么洗", "赠品", "XL", "3", "0.5"]
        ),
        max_size=6,
    ).map("".join),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=questions, data=st.sampled_from([sheet(), ProductSheet.model_validate(EMPTY)]))
def test_drafting_never_raises_and_never_invents_a_number(
    question: str, data: ProductSheet
) -> None:
    drafts = draft_answers(data, question)
    assert 1 <= len(drafts) <= 3
    allowed = _allowed_numbers(data)
    for d in drafts:
        assert d.text and 0 <= d.confidence <= 1
        invented = [n for n in NUMBER.findall(d.text) if n not in allowed]
        assert invented == [], (question, d)


@settings(max_examples=30, deadline=None)
@given(question=st.text(max_size=40))
def test_drafting_is_deterministic(question: str) -> None:
    assert draft_answers(sheet(), question) == draft_answers(sheet(), question)


def test_huge_and_binary_questions_are_drafted_without_error() -> None:
    assert draft_answers(sheet(), "多少钱" * 100_000)[0].slot == "price"
    assert draft_answers(sheet(), "\x00\x01\ufffd\udcff" * 1000)[0].slot == "unknown"


# Phrasings written before the rules were tuned on them (23 of the 30 reached the right slot
# at first, see docs/assistant-answers.md); kept as a regression set, no longer held out.
PHRASINGS = [
    ("这件衣服啥价", "price"), ("现在直播间什么价格", "price"), ("能便宜点吗", "price"),
    ("有没有满减", "price"), ("一百六的身高穿啥码", "size"),
    ("我一米六二 九十八斤 选哪个码", "size"),
    ("偏大还是偏小", "size"), ("160/50kg", "size"), ("衣服是什么料子的", "material"),
    ("含棉量多少", "material"), ("是不是纯棉", "material"), ("起球吗这个料子", "faq"),
    ("发啥快递", "shipping"), ("今天拍明天能发吗", "shipping"), ("新疆包邮不", "shipping"),
    ("多久发货呀主播", "shipping"), ("白色M还有没", "stock"), ("黑色的还有吗", "stock"),
    ("L码没了吗", "stock"), ("还能拍吗", "stock"), ("洗的时候要注意什么", "usage"),
    ("能用洗衣机洗吗", "usage"), ("孕妇穿可以吗", "faq"), ("会变形吗", "description"),
    ("退货运费谁出", "unknown"), ("有没有礼盒", "unknown"), ("主播多高", "unknown"),
    ("质量怎么样", "unknown"), ("能开发票吗", "unknown"), ("几号链接", "unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("question", "slot"), PHRASINGS)
def test_live_room_phrasings_reach_the_right_slot(question: str, slot: str) -> None:
    assert first(question).slot == slot
