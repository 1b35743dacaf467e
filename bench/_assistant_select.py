"""Selection recommendations (选品): fit time and per-merchant latency on a 100,000-product
pool, against a popularity ranking measured in the same run.

The input is generated here, seeded: ``PRODUCTS`` listed products in 8 audience clusters
with Zipf-like demand, ``MERCHANTS`` merchants each of one audience type, selling ~40
products (70 % from their type's cluster, the rest from the whole pool), one sales row
per merchant and product with the session's viewers, on a day of 8 weeks. Cases:

* ``fit``: :func:`daihuo.assistant.recommend.fit` (matrix, ALS on one thread, the
  product aggregates, and the LambdaRank re-ranker: a second ALS fit on the first five
  weeks, features for the merchants' candidates, LightGBM), seconds; baseline: the
  popularity ranking's "fit" — platform GMV per product and one sort of the pool;
* ``recommend, merchant with history``: p50 and p99 of one merchant's top 10 with reasons
  (ALS scores over the pool, the re-ranker over the top 100, similar merchants,
  aggregates), ms; baseline: the same
  merchant's top 10 from the precomputed popularity order, skipping what it sold;
* ``recommend, cold start``: a merchant without sales, with two chosen categories;
  the first such call builds the cold-start order once per fit (its own row).

    python -m bench assistant --quick   # 10,000 products, 300 merchants (with triage)
    python -m bench assistant           # 100,000 products, 2,000 merchants (with triage)

Wall times on the shared machine (the 1-minute load average when it started is in the
case text): quote the ratios.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from daihuo.assistant import recommend
from daihuo.assistant.recommend import ProductFacts, Sale

CLUSTERS = 8
PER_MERCHANT = 40
WEEKS = 8  # sales spread over 8 weeks: the last 3 train the LambdaRank re-ranker
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def generate(
    products: int, merchants: int, seed: int = 20261127
) -> tuple[list[Sale], list[ProductFacts]]:
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, CLUSTERS, products)
    price = (rng.choice([2_900, 8_900, 29_900], products) * rng.uniform(0.7, 1.3, products)).astype(
        np.int64
    )
    facts = [
        ProductFacts(
            product_id=f"prd_{i:06d}",
            category=f"类目{int(cluster[i])}-{i % 5}",
            price=int(price[i]),
            commission_bps=int(rng.choice([1000, 1500, 2000, 2500])),
            stock=int(rng.integers(0, 500)),
            listed=bool(rng.random() > 0.02),
        )
        for i in range(products)
    ]
    zipf = 1 / np.arange(1, products + 1) ** 0.9
    order = rng.permutation(products)
    weight = np.empty(products)
    weight[order] = zipf
    overall = weight / weight.sum()
    members = [np.flatnonzero(cluster == c) for c in range(CLUSTERS)]
    within = [weight[m] / weight[m].sum() for m in members]
    sales: list[Sale] = []
    for m in range(merchants):
        kind = int(rng.integers(CLUSTERS))
        own = rng.choice(members[kind], int(PER_MERCHANT * 0.7), replace=False, p=within[kind])
        other = rng.choice(products, PER_MERCHANT - len(own), replace=False, p=overall)
        viewers = int(rng.lognormal(np.log(2000), 0.6))
        for i in sorted({int(x) for x in (*own, *other)}):
            orders = 1 + int(rng.poisson(20 * weight[i] / zipf[0] * 50))
            sales.append(
                Sale(
                    f"mer_{m:05d}",
                    facts[i].product_id,
                    T0 + timedelta(days=int(rng.integers(0, WEEKS * 7))),
                    orders,
                    orders * facts[i].price,
                    viewers,
                )
            )
    return sales, facts


def _ms(samples: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return round(qs[49] * 1000, 3), round(qs[98] * 1000, 3)


def _row(case: str, value: float, unit: str, baseline: float) -> dict[str, Any]:
    return {
        "case": case,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": round(value / baseline, 1) if baseline else None,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    products, merchants, asks = (10_000, 300, 60) if quick else (100_000, 2_000, 300)
    load = os.getloadavg()[0]
    sales, facts = generate(products, merchants)
    where = (
        f"{products:,} products, {merchants:,} merchants, {len(sales):,} sales rows, "
        f"load {load:.1f}"
    )

    started, cpu = time.perf_counter(), time.process_time()
    model = recommend.fit(sales, facts)
    fit_s, fit_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert model.reranked

    started = time.perf_counter()
    total: dict[str, int] = {}
    for s in sales:
        total[s.product] = total.get(s.product, 0) + s.gmv
    popular = sorted(
        (f.product_id for f in facts if f.eligible), key=lambda p: (-total.get(p, 0), p)
    )
    pop_fit_s = time.perf_counter() - started
    sold: dict[str, set[str]] = {}
    for s in sales:
        sold.setdefault(s.merchant, set()).add(s.product)

    who = sorted(sold)[:asks]
    ours: list[float] = []
    base: list[float] = []
    for m in who:
        t = time.perf_counter()
        picks = model.recommend(m, limit=10)
        ours.append(time.perf_counter() - t)
        assert len(picks) == 10 and not {p.product_id for p in picks} & sold[m]
        t = time.perf_counter()
        mine = sold[m]
        top: list[str] = []
        for p in popular:
            if p not in mine:
                top.append(p)
                if len(top) == 10:
                    break
        base.append(time.perf_counter() - t)

    categories = ["类目0-0", "类目3-1"]
    t = time.perf_counter()
    model.recommend("mer_new_first", limit=10, categories=categories)
    first_cold_s = time.perf_counter() - t
    cold: list[float] = []
    for n in range(asks):
        t = time.perf_counter()
        picks = model.recommend(f"mer_new_{n}", limit=10, categories=categories)
        cold.append(time.perf_counter() - t)
        assert all(p.cold_start for p in picks)

    p50, p99 = _ms(ours)
    b50, b99 = _ms(base)
    c50, c99 = _ms(cold)
    return [
        _row(f"fit (ALS 32 factors x 15 iterations + LambdaRank re-ranker, 1 thread), "
             f"{where}, CPU {fit_cpu:.1f} s", round(fit_s, 2), "s", round(pop_fit_s, 3)),
        _row(f"recommend top 10 with reasons, merchant with history, p50 of {asks}", p50, "ms",
             b50),
        _row(f"recommend top 10 with reasons, merchant with history, p99 of {asks}", p99, "ms",
             b99),
        _row("recommend, cold start, first call: builds the cold-start order (baseline: the "
             "popularity fit)", round(first_cold_s * 1000, 1), "ms", round(pop_fit_s * 1000, 1)),
        _row(f"recommend, cold start (2 chosen categories), p50 of {asks}", c50, "ms", b50),
        _row(f"recommend, cold start (2 chosen categories), p99 of {asks}", c99, "ms", b99),
    ]  # fmt: skip
