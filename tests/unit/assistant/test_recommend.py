"""Selection recommendations (选品): the pure ranker, its cold start, privacy floor and
determinism."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daihuo.assistant import history, recommend_eval
from daihuo.assistant.recommend import (
    MIN_GROUP,
    ProductFacts,
    Sale,
    fit,
    popularity,
    recommend,
)

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _facts(pid: str, category: str = "美妆", **kw: object) -> ProductFacts:
    base: dict[str, object] = {
        "product_id": pid,
        "category": category,
        "price": 9_900,
        "commission_bps": 2000,
        "stock": 10,
        "listed": True,
    }
    base.update(kw)
    return ProductFacts(**base)  # type: ignore[arg-type]


def _sale(m: str, p: str, gmv: int = 10_000, viewers: int | None = 1000, day: int = 0) -> Sale:
    return Sale(
        m, p, T0 + timedelta(days=day), orders=max(1, gmv // 9_900), gmv=gmv, viewers=viewers
    )


def _two_audiences() -> tuple[list[Sale], list[ProductFacts]]:
    """Merchants a0..a5 sell products A0..A5, merchants b0..b5 sell B0..B5; B products
    sell more in total. Merchant ``me`` sold A0..A2 only."""
    sales: list[Sale] = []
    for i in range(6):
        for j in range(6):
            sales.append(_sale(f"a{i}", f"A{j}", 20_000 + 1000 * j))
            sales.append(_sale(f"b{i}", f"B{j}", 90_000 + 1000 * j))
    sales += [_sale("me", f"A{j}", 20_000) for j in range(3)]
    products = [_facts(f"A{j}") for j in range(6)] + [_facts(f"B{j}", "食品") for j in range(6)]
    return sales, products


def test_recommends_what_similar_merchants_sell_over_what_is_popular() -> None:
    sales, products = _two_audiences()
    picks = [r.product_id for r in recommend(sales, products, "me", limit=3)]
    assert sorted(picks) == ["A3", "A4", "A5"]
    # The popularity baseline would have picked the other audience's products.
    assert set(popularity(sales, products, "me", limit=3)) <= {f"B{j}" for j in range(6)}


def test_never_recommends_sold_delisted_or_out_of_stock_products() -> None:
    sales, products = _two_audiences()
    products = [
        _facts("A3", listed=False) if p.product_id == "A3" else
        _facts("A4", stock=0) if p.product_id == "A4" else p
        for p in products
    ]  # fmt: skip
    picks = [r.product_id for r in recommend(sales, products, "me", limit=20)]
    assert not {"A0", "A1", "A2", "A3", "A4"} & set(picks)
    assert sorted(picks) == sorted({"A5"} | {f"B{j}" for j in range(6)})


def test_reasons_name_similar_merchants_with_their_median_gpm() -> None:
    sales, products = _two_audiences()
    top = recommend(sales, products, "me", limit=1)[0]
    similar = top.reasons[0]
    assert similar.code == "similar_merchants"
    count = top.figures["similar_merchants_sold"]
    assert isinstance(count, int) and count >= MIN_GROUP
    assert f"在 {count} 个与你受众相似的商家卖得好" in similar.zh
    assert "median GPM ¥" in similar.en
    # GPM of a's sales of A{j}: (20,000 + 1000 j) fen per 1,000 viewers.
    j = int(top.product_id[1:])
    assert top.figures["similar_median_gpm"] == 20_000 + 1000 * j


def test_median_figures_need_at_least_min_group_merchants() -> None:
    sales = [_sale("x", "P", 50_000), _sale("y", "P", 70_000), _sale("x", "Q"), _sale("me", "Q")]
    products = [_facts("P"), _facts("Q")]
    pick = recommend(sales, products, "me", limit=1)[0]
    assert pick.product_id == "P"
    assert pick.figures["merchants_sold"] == 2
    assert pick.figures["median_gpm"] is None  # two merchants: no figure of theirs shown
    text = " ".join(r.zh + r.en for r in pick.reasons)
    assert "GPM" not in text and "x" not in re.sub(r"[a-z ]+merchants|[a-z]", "", text)


def test_cold_start_prefers_chosen_categories_by_expected_commission() -> None:
    sales = [
        # Beauty: high GPM, low commission, vs lower GPM, high commission.
        *[_sale(f"m{i}", "lipstick", 100_000) for i in range(4)],
        *[_sale(f"m{i}", "serum", 60_000) for i in range(4)],
        # Food sells best of all, but is not in the newcomer's category.
        *[_sale(f"m{i}", "tea", 500_000) for i in range(4)],
    ]
    products = [
        _facts("lipstick", commission_bps=1000),  # expects 100,000 × 10% = 10,000
        _facts("serum", commission_bps=2500),  # expects 60,000 × 25% = 15,000
        _facts("tea", "食品", commission_bps=2000),
        _facts("fresh", "美妆", commission_bps=3000),  # nobody has sold it yet
    ]
    picks = recommend(sales, products, "newcomer", limit=4, categories=["美妆"])
    assert [p.product_id for p in picks] == ["serum", "lipstick", "tea", "fresh"]
    assert all(p.cold_start for p in picks)
    assert picks[0].reasons[0].code == "cold_start" and "冷启动" in picks[0].reasons[0].zh
    assert picks[-1].reasons[0].code == "new_product"
    # Without chosen categories, the platform-wide rule puts tea first.
    assert recommend(sales, products, "newcomer", limit=1)[0].product_id == "tea"


def test_empty_history_falls_back_to_new_products_by_commission() -> None:
    products = [_facts("a", commission_bps=1000), _facts("b", commission_bps=3000)]
    picks = recommend([], products, "me", limit=5)
    assert [p.product_id for p in picks] == ["b", "a"]
    assert all(p.cold_start for p in picks)


def test_same_input_gives_the_same_ranking_and_figures() -> None:
    h = history.simulate(11, merchants=40, products=150, weeks=6)
    first = fit(h.sales, h.products)
    again = fit(list(reversed(h.sales)), list(reversed(h.products)))  # order-free
    for m in h.merchants[:10]:
        assert first.recommend(m.id, limit=10) == again.recommend(m.id, limit=10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 11), st.integers(0, 200_000)), max_size=60
    ),
    hidden=st.sets(st.integers(0, 11)),
    limit=st.integers(0, 15),
)
def test_picks_are_unsold_eligible_and_distinct(
    rows: list[tuple[int, int, int]], hidden: set[int], limit: int
) -> None:
    sales = [_sale(f"m{m}", f"p{p}", gmv) for m, p, gmv in rows]
    products = [_facts(f"p{p}", stock=0 if p in hidden else 5) for p in range(12)]
    sold = {f"p{p}" for m, p, _ in rows if m == 0}
    picks = [r.product_id for r in recommend(sales, products, "m0", limit=limit)]
    assert len(picks) == len(set(picks)) <= limit
    assert not set(picks) & sold
    assert not set(picks) & {f"p{p}" for p in hidden}
    eligible = {f"p{p}" for p in range(12)} - sold - {f"p{p}" for p in hidden}
    assert len(picks) == min(limit, len(eligible))


def test_model_beats_popularity_on_simulated_history() -> None:
    run = recommend_eval.evaluate_seed(3, merchants=60, products=200, weeks=10, split=7)
    assert run["warm"]["merchants"] >= 20
    assert run["warm"]["model_ndcg"] > run["warm"]["pop_ndcg"]
