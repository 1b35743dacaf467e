"""Pure catalog rules: product states, prices, commission, image sniffing, search terms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daihuo.catalog import search
from daihuo.catalog.domain import (
    CONTENT_EDITABLE,
    PRODUCT_TRANSITIONS,
    ProductAction,
    ProductState,
    check_price_in_range,
    check_price_range,
    effective_commission,
    product_transition,
    sniff_image,
)
from daihuo.catalog.errors import (
    InvalidPriceRange,
    InvalidProductTransition,
    PriceOutOfRange,
    UnsupportedImage,
)
from daihuo.catalog.schemas import ProductCreate

S, A = ProductState, ProductAction


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        (S.draft, A.submit, S.in_review),
        (S.in_review, A.approve, S.listed),
        (S.in_review, A.reject, S.draft),
        (S.listed, A.delist, S.delisted),
        (S.delisted, A.submit, S.in_review),
    ],
)
def test_the_review_cycle(state: ProductState, action: ProductAction, after: ProductState) -> None:
    assert product_transition(state, action) is after


@given(st.sampled_from(list(S)), st.sampled_from(list(A)))
def test_every_other_step_is_refused(state: ProductState, action: ProductAction) -> None:
    sources, target = PRODUCT_TRANSITIONS[action]
    if state in sources:
        assert product_transition(state, action) is target
    else:
        with pytest.raises(InvalidProductTransition):
            product_transition(state, action)


def test_only_review_lists_a_product_and_listed_content_is_frozen() -> None:
    into_listed = [a for a, (_, target) in PRODUCT_TRANSITIONS.items() if target is S.listed]
    assert into_listed == [A.approve]
    assert S.listed not in CONTENT_EDITABLE and S.in_review not in CONTENT_EDITABLE


def test_price_ranges() -> None:
    check_price_range(1, 1)
    for lo, hi in [(0, 10), (-5, 10), (11, 10)]:
        with pytest.raises(InvalidPriceRange):
            check_price_range(lo, hi)
    check_price_in_range(1000, 1000, 2000, what="x")
    check_price_in_range(2000, 1000, 2000, what="x")
    with pytest.raises(PriceOutOfRange) as exc:
        check_price_in_range(2001, 1000, 2000, what="The price")
    assert exc.value.extra == {"price": 2001, "price_min": 1000, "price_max": 2000}


def test_a_merchant_rate_overrides_the_product_rate() -> None:
    assert effective_commission(1500, None) == 1500
    assert effective_commission(1500, 0) == 0
    assert effective_commission(1500, 2500) == 2500


@pytest.mark.parametrize("bps", [-1, 9001, 10_000])
def test_commission_outside_0_to_90_percent_is_invalid(bps: int) -> None:
    with pytest.raises(ValueError, match="commission_bps"):
        ProductCreate.model_validate(
            {
                "title": "t",
                "category": "c",
                "price_min": 1,
                "price_max": 2,
                "commission_bps": bps,
                "skus": [{"code": "A", "price": 1, "stock": 0}],
            }
        )


def test_images_are_recognised_by_their_bytes() -> None:
    assert sniff_image(b"\x89PNG\r\n\x1a\n" + b"\0" * 8) == "image/png"
    assert sniff_image(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image(b"GIF89a...") == "image/gif"
    assert sniff_image(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "image/webp"
    for data in [b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"%PDF-1.7", b"", b"RIFF1234WAVE"]:
        with pytest.raises(UnsupportedImage):
            sniff_image(data)


@pytest.mark.parametrize(
    ("document", "query"),
    [
        ("滋润保湿口红 正红色", "口红"),
        ("滋润保湿口红 正红色", "保湿口红"),
        ("滋润保湿口红 正红色", "红色 口红"),
        ("杭州源头服饰厂新款连衣裙", "连衣裙"),
        ("杭州源头服饰厂新款连衣裙", "衣裙"),
        ("纯棉短袖T恤 男款 夏季", "t恤"),
        ("防摔手机壳 iPhone 15", "ＩＰＨＯＮＥ 手机壳"),
        ("中华人民共和国国旗", "人民共和国"),
    ],
)
def test_a_query_finds_words_inside_a_document(document: str, query: str) -> None:
    terms = set(search.document_terms(document))
    groups = search.query_groups(query)
    assert groups and search.matches(terms, groups), (groups, sorted(terms))


@pytest.mark.parametrize(
    ("document", "query"),
    [
        ("滋润保湿口红 正红色", "连衣裙"),
        ("纯棉短袖T恤", "口红"),
        ("运动鞋", "手机壳"),
        ("运动裤", "运动鞋"),  # a shared piece (运动) does not cover 鞋
        ("滋润保湿口红", "口红 连衣裙"),  # every word must match
    ],
)
def test_a_query_does_not_find_unrelated_documents(document: str, query: str) -> None:
    groups = search.query_groups(query)
    assert not search.matches(set(search.document_terms(document)), groups)


def test_punctuation_and_spaces_are_not_terms() -> None:
    assert search.query_terms("，。！ ？") == []
    terms = search.document_terms("口红！！！ ——  ")
    assert terms == ["口红"]


@given(st.text(max_size=200))
def test_terms_are_bounded_and_distinct(text: str) -> None:
    terms = search.document_terms(text)
    assert len(terms) == len(set(terms))
    assert all(0 < len(t) <= search.MAX_TERM_LENGTH for t in terms)
    assert len(search.query_terms(text)) <= search.MAX_QUERY_TERMS
