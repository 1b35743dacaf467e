"""A seeded, simulated multi-merchant sales history for evaluating selection (选品).

Assumptions (the evaluation is only as good as these; they are stated, not hidden):

* **Audiences.** There are ``audiences`` latent audience types. Each merchant's audience
  is a mixture: one dominant type (weight 0.7) and the rest spread by a Dirichlet draw.
  Its size is log-normal (median ~2,000 unique viewers a session).
* **Products.** Each product has a category, a price band (low / mid / high) and a
  commission rate. Its *appeal* to audience type ``a`` is a sum of a product quality
  shared by everyone (what makes some products popular everywhere), the type's taste for
  the category, the type's taste for the price band, and a product × type interaction —
  so what sells depends on the audience, but not only on it.
* **Choosing what to sell.** Each week a merchant runs 1–3 sessions. In each it keeps
  most of the products that sold well for it before and tries a few new ones: new ones
  are drawn with probability ∝ exp(appeal to its audience × ``insight`` + noise) among
  its preferred categories (merchants know their audience, imperfectly) and, with a
  small chance, from any category.
* **Sales.** A product's orders in a session are Poisson(viewers × conversion), the
  conversion a logistic function of its appeal to the audience mix, lower for pricier
  products; GMV = orders × price (fen). A product that sold nothing is still "tried" but
  leaves no sale row (a merchant's history is its sales, as in the event store).
* **Time.** Weeks are consecutive from a fixed Monday (UTC); sessions at 20:00 Beijing.
  Some merchants (``late_joiners``) join in the last quarter of the weeks (from
  ``late_from``): with the evaluation's split there, they are the cold-start cases.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same
history, row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from daihuo.assistant.recommend import ProductFacts, Sale

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday, 20:00 in Beijing
PRICE_BANDS = (2_900, 8_900, 29_900)  # fen: low, mid, high


@dataclass(frozen=True)
class Merchant:
    id: str
    audience: tuple[float, ...]  # mixture over audience types
    categories: tuple[str, ...]  # the categories it prefers
    joins_week: int


@dataclass(frozen=True)
class History:
    sales: list[Sale]
    products: list[ProductFacts]
    merchants: list[Merchant]
    weeks: int

    def week_of(self, sale: Sale) -> int:
        return (sale.at - START) // timedelta(weeks=1)


def simulate(
    seed: int,
    *,
    merchants: int = 150,
    products: int = 600,
    categories: int = 10,
    audiences: int = 5,
    weeks: int = 12,
    insight: float = 1.5,
    late_joiners: float = 0.1,
    late_from: int | None = None,
) -> History:
    """A history of ``weeks`` weeks; see the module docstring for the assumptions."""
    rng = np.random.default_rng(seed)
    late = min(weeks - 1, late_from if late_from is not None else weeks * 3 // 4)
    cats = [f"c{c:02d}" for c in range(categories)]
    cat_of = rng.integers(0, categories, products)
    band_of = rng.integers(0, len(PRICE_BANDS), products)
    quality = rng.normal(0, 0.6, products)
    cat_taste = rng.normal(0, 1.0, (audiences, categories))
    band_taste = rng.normal(0, 0.5, (audiences, len(PRICE_BANDS)))
    inter = rng.normal(0, 0.6, (products, audiences))
    appeal = (
        quality[:, None] + cat_taste[:, cat_of].T + band_taste[:, band_of].T + inter
    )  # products × audiences
    price = np.array(PRICE_BANDS)[band_of] * rng.uniform(0.7, 1.3, products)
    price = np.maximum(100, (price // 10) * 10).astype(np.int64)
    commission = rng.choice([1000, 1500, 2000, 2500, 3000], products)
    facts = [
        ProductFacts(
            product_id=f"p{i:05d}",
            category=cats[int(cat_of[i])],
            price=int(price[i]),
            commission_bps=int(commission[i]),
            stock=1000,
            listed=True,
        )
        for i in range(products)
    ]

    people: list[Merchant] = []
    mixes = np.zeros((merchants, audiences))
    sizes = rng.lognormal(np.log(2000), 0.6, merchants)
    for m in range(merchants):
        main = int(rng.integers(audiences))
        mix = 0.3 * rng.dirichlet(np.ones(audiences))
        mix[main] += 0.7
        mixes[m] = mix
        # Merchants lean to the categories their audience likes (with noise).
        liked = mix @ cat_taste + rng.normal(0, 0.7, categories)
        prefer = tuple(cats[int(c)] for c in np.argsort(-liked)[: int(rng.integers(2, 5))])
        joins = int(rng.integers(late, weeks)) if rng.random() < late_joiners else 0
        people.append(Merchant(f"m{m:04d}", tuple(float(x) for x in mix), prefer, joins))

    fit_appeal = appeal @ mixes.T  # products × merchants: appeal to each audience mix
    conversion = 1 / (1 + np.exp(-(fit_appeal - 3.5)))
    conversion = conversion / (1 + band_of[:, None])  # pricier products convert less
    sales: list[Sale] = []
    for m, who in enumerate(people):
        in_pref = np.array([facts[i].category in who.categories for i in range(products)])
        tried: dict[int, float] = {}  # product -> its GMV for this merchant so far
        for week in range(who.joins_week, weeks):
            for session in range(int(rng.integers(1, 4))):
                keep = sorted(tried, key=lambda i: (-tried[i], i))[: int(rng.integers(4, 9))]
                taste = insight * fit_appeal[:, m] + rng.gumbel(0, 1, products)
                taste[~in_pref] -= 2.5
                taste[list(tried)] = -np.inf
                fresh = [int(i) for i in np.argsort(-taste)[: int(rng.integers(2, 6))]]
                viewers = int(sizes[m] * rng.uniform(0.7, 1.3))
                at = START + timedelta(weeks=week, days=2 * session)
                for i in keep + fresh:
                    orders = int(rng.poisson(viewers * conversion[i, m]))
                    tried[i] = tried.get(i, 0.0) + orders * facts[i].price
                    if orders:
                        sales.append(
                            Sale(
                                merchant=who.id,
                                product=facts[i].product_id,
                                at=at,
                                orders=orders,
                                gmv=orders * facts[i].price,
                                viewers=viewers,
                            )
                        )
    return History(sales=sales, products=facts, merchants=people, weeks=weeks)
