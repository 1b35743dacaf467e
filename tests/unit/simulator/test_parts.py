"""The generator's parts: opaque unique ids, the catalogue, the comment corpus, the plan."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from daihuo.core.zhlint import scan
from daihuo.simulator.corpus import CATEGORIES, catalogue, corpus, render
from daihuo.simulator.ids import Mint, residential_ip, residential_ips
from daihuo.simulator.plan import flash_price, make_plan
from daihuo.simulator.scenario import Scenario

DATA = Path(__file__).resolve().parents[3] / "src" / "daihuo" / "simulator" / "data"


def test_a_mint_never_repeats_an_id() -> None:
    mint = Mint(7, "u")
    ids = [mint.next() for _ in range(200_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"u[0-9a-f]{12}", i) for i in ids[:1000])


@given(st.integers(0, 2**32), st.integers(0, 500), st.integers(0, 500))
def test_many_is_the_same_as_next_repeated(seed: int, before: int, n: int) -> None:
    a, b = Mint(seed, "o"), Mint(seed, "o")
    for _ in range(before):
        a.next()
        b.next()
    assert a.many(n) == [b.next() for _ in range(n)]
    assert a.next() == b.next()


def test_a_fork_looks_alike_but_never_collides_and_does_not_shift_the_parent() -> None:
    parent, twin = Mint(3, "u"), Mint(3, "u")
    fork = parent.fork()
    forked = {fork.next() for _ in range(50_000)}
    mine = [parent.next() for _ in range(50_000)]
    assert mine == [twin.next() for _ in range(50_000)]
    assert not forked & set(mine)
    assert all(re.fullmatch(r"u[0-9a-f]{12}", i) for i in list(forked)[:100])


def test_neighbouring_counters_give_unrelated_looking_ids() -> None:
    ids = Mint(1, "u").many(1000)
    # sequential counters must not give sorted or prefix-sharing ids
    assert ids != sorted(ids)
    assert len({i[:4] for i in ids}) > 500


def test_addresses_are_dotted_quads() -> None:
    rng = random.Random(1)
    for ip in [residential_ip(rng) for _ in range(500)] + residential_ips(rng, 500):
        parts = [int(x) for x in ip.split(".")]
        assert len(parts) == 4 and all(0 <= x <= 255 for x in parts) and parts[3] >= 1


def test_the_catalogue_prices_are_positive_whole_fen_and_ids_unique() -> None:
    products = catalogue()
    assert len(products) >= 20
    assert len({p.id for p in products}) == len(products)
    for p in products:
        assert type(p.price) is int and p.price > 0
        assert 0 <= p.refund < 1
        assert p.category in CATEGORIES
        assert re.search(r"[\u4e00-\u9fff]", p.name)
    assert {p.category for p in products} == set(CATEGORIES)


def test_every_category_has_its_questions_and_every_text_renders() -> None:
    texts = corpus()
    assert set(texts.category) == set(CATEGORIES)
    product = catalogue()[0]
    everything = [
        *texts.greeting, *texts.praise, *texts.chat, *texts.question, *texts.purchase,
        *texts.flash, *texts.missed, *texts.chorus, *texts.farm_scripted, *texts.farm_body,
        *(t for group in texts.category.values() for t in group),
    ]  # fmt: skip
    for text in everything:
        assert text.strip()
        for filled in (render(text, product, 3), render(text, None, 0)):
            assert "{" not in filled and "}" not in filled and filled
    assert "666" in texts.chorus and "来了" in texts.greeting and "已拍" in texts.purchase
    assert "上链接" in texts.purchase


def test_the_data_files_are_clean_simplified_chinese() -> None:
    root = DATA.parents[3]
    assert list(scan(root, sorted(DATA.glob("*.toml")))) == []


@given(st.integers(1, 10_000_000), st.floats(0.01, 1))
def test_a_flash_price_ends_in_nine_jiao_and_never_exceeds_the_list_price(
    price: int, discount: float
) -> None:
    flash = flash_price(price, discount)
    assert 0 < flash <= max(price, 90)
    assert flash % 100 == 90 or flash == price


def test_the_plan_pins_products_back_to_back_with_flash_sales_inside_their_segment() -> None:
    sc = Scenario({"flash_sales.count": 3, "products.count": 6})
    plan = make_plan(sc, random.Random(4), 7_200_000)
    segs = plan.segments
    assert segs[0].start == 180_000
    for a, b in itertools.pairwise(segs):
        assert a.end == b.start
    assert segs[-1].end <= 7_200_000
    assert len(plan.flashes) == 3
    for fl in plan.flashes:
        seg = segs[fl.segment]
        assert seg.start < fl.at < seg.end and seg.flash >= 0
        assert fl.price < fl.product.price
    assert {s.link for s in segs} == set(range(1, 7))
    # arrival curves are increasing cumulative weights over the session's seconds
    for cum in plan.profiles.values():
        assert all(x < y for x, y in itertools.pairwise(cum))
        assert len(cum) == 7_200 - 10
