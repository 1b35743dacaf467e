"""Selection recommendations (选品): rank supply-pool products a merchant has not sold yet.

Pure: no I/O. The input is sales rows (one merchant's sales of one product in one live
session, with the session's viewers when known) and the pool's product facts; the output
is a ranked list of :class:`Recommendation`, each with the reasons and figures behind it.

The model
    Implicit-feedback ALS (the ``implicit`` library, Hu, Koren & Volinsky 2008) on the
    merchant × product matrix, each cell the merchant's refund-adjusted GMV of the product
    as confidence ``log1p(GMV in yuan)``. Merchants whose audiences buy the same things
    get close factors, so a product that sells for merchants like this one scores high
    for it even when no single neighbour sold it. When the history spans more than
    ``Config.label_days``, a LightGBM LambdaRank re-ranker (:mod:`daihuo.assistant.rerank`)
    trained on a time split of the same history orders the ALS top 100 with the
    product's own performance and the merchant's profile; otherwise the ALS order
    stands. Fitting is deterministic: fixed seeds, one thread, CPU solvers, rows and
    columns in sorted id order — the same input gives the same ranking, figure for figure.

Which products are ranked (invariants)
    * only *eligible* pool products: listed, and with stock > 0;
    * never one the merchant has sold (any positive-order row, at any time);
    * products with sales on the platform first, by the re-ranker's (or ALS) score; then
      products nobody has sold yet, by category match and commission (they have no
      collaborative signal);
    * never one the caller excludes (``exclude``: e.g. already in its showcase);
    * ties break on the product id, so the order is total.

Cold start (a merchant with no sales yet), documented rule
    Expected commission per thousand viewers: the product's platform median GPM (GMV per
    thousand viewers, over the merchants that sold it with viewers known, at least
    :data:`MIN_GROUP` of them, else 0) times its commission rate. Products in the
    merchant's chosen categories (e.g. its showcase's) come first; within a group,
    higher expected commission first, then more merchants that sold it, then the higher
    commission rate. Never-sold products follow, by category match and commission rate.
    Every such pick carries a ``cold_start`` reason.

Privacy (what a merchant may learn from other merchants' sales)
    Only aggregates over other merchants, never an identity and never one merchant's
    figures: a count of merchants, and a median GPM only when at least
    :data:`MIN_GROUP` merchants contribute to it (below that, the reason gives the count
    alone). Scores follow the same rule: the cold-start score is built from such medians
    only; an ALS or re-ranker score is a model output over many merchants' sales (the
    re-ranker's features may use smaller groups; its score is not one of them). Figures of the
    merchant's own sales are not shown back in reasons.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import numpy as np
from scipy.sparse import csr_matrix

MIN_GROUP: Final = 3
"""Fewest merchants whose sales a median figure may summarise (k-anonymity floor)."""
SIMILAR: Final = 20
"""How many nearest merchants (by ALS factors) the "merchants like you" reason counts."""

ReasonCode = Literal["similar_merchants", "platform", "commission", "cold_start", "new_product"]


@dataclass(frozen=True, slots=True)
class Sale:
    """One merchant's sales of one product in one live session (or one period)."""

    merchant: str
    product: str
    at: datetime
    orders: int
    gmv: int  # fen, refund-adjusted
    viewers: int | None = None  # the session's unique viewers, when known


@dataclass(frozen=True, slots=True)
class ProductFacts:
    product_id: str
    category: str
    price: int  # fen
    commission_bps: int
    stock: int
    listed: bool

    @property
    def eligible(self) -> bool:
        return self.listed and self.stock > 0


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Recommendation:
    product_id: str
    score: float
    cold_start: bool
    reasons: tuple[Reason, ...]
    figures: dict[str, int | float | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Config:
    factors: int = 32
    regularization: float = 0.05
    alpha: float = 2.0
    iterations: int = 15
    seed: int = 7
    rerank: bool = True
    """Re-rank the ALS candidates with LambdaRank when the history allows (see below)."""
    label_days: int = 21
    """The re-ranker learns from what merchants first sold in the history's last days."""


def _yuan(fen: float) -> str:
    return f"¥{fen / 100:,.2f}"


def gpm(gmv: int, viewers: int) -> float:
    """GMV per thousand viewers, fen."""
    return gmv * 1000 / viewers


@dataclass(slots=True)
class _Cell:
    orders: int = 0
    gmv: int = 0
    viewed_gmv: int = 0  # GMV of the rows whose viewers are known
    viewers: int = 0


class Recommender:
    """A fitted model over one snapshot of sales and the pool; see the module docstring."""

    def __init__(self, sales: Iterable[Sale], products: Iterable[ProductFacts], config: Config):
        self.config = config
        sales = list(sales)
        self.facts: dict[str, ProductFacts] = {p.product_id: p for p in products}
        cells: dict[tuple[str, str], _Cell] = {}
        for s in sales:
            if s.orders <= 0:
                continue
            c = cells.setdefault((s.merchant, s.product), _Cell())
            c.orders += s.orders
            c.gmv += s.gmv
            if s.viewers:
                c.viewed_gmv += s.gmv
                c.viewers += s.viewers
        self.merchants: list[str] = sorted({m for m, _ in cells})
        self.items: list[str] = sorted({p for _, p in cells} | set(self.facts))
        self._m_index = {m: i for i, m in enumerate(self.merchants)}
        self._i_index = {p: i for i, p in enumerate(self.items)}
        rows = np.fromiter((self._m_index[m] for m, _ in cells), np.int32, len(cells))
        cols = np.fromiter((self._i_index[p] for _, p in cells), np.int32, len(cells))
        vals = np.fromiter(
            (math.log1p(max(c.gmv, 0) / 100) + 1.0 for c in cells.values()), np.float32, len(cells)
        )
        self.matrix = csr_matrix(
            (vals, (rows, cols)), shape=(len(self.merchants), len(self.items)), dtype=np.float32
        )
        self.matrix.sort_indices()
        # Per product: each merchant's GPM (viewers known) and the merchant count.
        self._sellers: dict[str, list[tuple[str, float | None]]] = {}
        for (m, p), c in sorted(cells.items()):
            g = gpm(c.viewed_gmv, c.viewers) if c.viewers else None
            self._sellers.setdefault(p, []).append((m, g))
        self._seller_gpm = {p: dict(rows) for p, rows in self._sellers.items()}
        self._all_cache: dict[str, tuple[int, list[float]]] = {}
        self._sold_by: dict[str, set[str]] = {}
        for m, p in cells:
            self._sold_by.setdefault(m, set()).add(p)
        self._platform_cache: dict[str, tuple[int, float | None]] = {}
        # Eligible products, in id order: with platform sales ("warm", ranked by the model)
        # and without (ranked by the new-product key: commission, then id).
        eligible = [p for p in self.items if p in self.facts and self.facts[p].eligible]
        self._warm_items = [p for p in eligible if p in self._sellers]
        self._new_items = sorted(
            (p for p in eligible if p not in self._sellers),
            key=lambda p: (-self.facts[p].commission_bps, p),
        )
        self._is_warm = np.zeros(len(self.items), dtype=bool)
        self._is_warm[[self._i_index[p] for p in self._warm_items]] = True
        self._blocked = np.flatnonzero(~self._is_warm)
        self._cold_cache: list[str] | None = None
        self._value: dict[str, float] = {}
        self._category_cache: dict[str, dict[str, list[str]]] = {}
        self._rank_cache: dict[str, dict[str, int]] = {}
        self._model = self._fit() if len(self.merchants) >= 2 else None
        self._reranker = self._fit_reranker(sales) if self._model is not None else None
        self._profiles: Any = None

    def _fit_reranker(self, sales: list[Sale]) -> Any:
        """The LambdaRank re-ranker (:mod:`daihuo.assistant.rerank`), trained on a time
        split of this history at ``label_days`` before its last sale; None when the
        history is too short or has too few merchants with first sales after the split."""
        if not self.config.rerank or not sales:
            return None
        from daihuo.assistant.rerank import Reranker

        label_from = max(s.at for s in sales) - timedelta(days=self.config.label_days)
        if min(s.at for s in sales) >= label_from:
            return None
        plain = replace(self.config, rerank=False)
        return Reranker.train(sales, list(self.facts.values()), label_from=label_from, config=plain)

    @property
    def reranked(self) -> bool:
        """Whether picks for merchants with history are re-ranked by LambdaRank."""
        return self._reranker is not None

    def _fit(self) -> object:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        cfg = self.config
        # One BLAS thread as well as one solver thread: the same arithmetic order every
        # run (deterministic), and what implicit asks for (it warns otherwise).
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=cfg.factors,
                regularization=cfg.regularization,
                alpha=cfg.alpha,
                iterations=cfg.iterations,
                num_threads=1,
                random_state=cfg.seed,
            )
            model.fit(self.matrix, show_progress=False)
        return model

    # --- figures --------------------------------------------------------------------------

    def group_figures(
        self, product: str, among: set[str] | None, *, least: int = MIN_GROUP
    ) -> tuple[int, float | None]:
        """How many merchants (of ``among``, or all) sold ``product``, and their median GPM
        when at least ``least`` of them have viewers known (MIN_GROUP for anything shown)."""
        if among is None:
            got = self._all_cache.get(product)
            if got is None:
                known = [g for _, g in self._sellers.get(product, []) if g is not None]
                got = self._all_cache[product] = (len(self._sellers.get(product, [])), known)
            count, known = got
        else:
            # A few merchants (the nearest) against a product's many sellers: look them up.
            gpms = self._seller_gpm.get(product, {})
            found = [m for m in among if m in gpms]
            count = len(found)
            known = [g for m in found if (g := gpms[m]) is not None]
        med = statistics.median(known) if known and len(known) >= least else None
        return count, med

    def sold_by(self, merchant: str) -> frozenset[str]:
        """The products ``merchant`` has sold (in this snapshot)."""
        return frozenset(self._sold_by.get(merchant, ()))

    def _platform(self, product: str) -> tuple[int, float | None]:
        """Platform figures of a product (only ever asked for products the merchant has
        not sold, so they are other merchants' figures)."""
        got = self._platform_cache.get(product)
        if got is None:
            got = self._platform_cache[product] = self.group_figures(product, None)
        return got

    def _expected_commission(self, product: str) -> float:
        """The platform median GPM times the commission rate; 0 when fewer than MIN_GROUP
        merchants with viewers known sold it — the cold-start score is shown, and a
        median of one or two merchants would be their own figure (and a noisy one)."""
        _, med = self._platform(product)
        return (med or 0.0) * self.facts[product].commission_bps / 10_000

    def _commission_reason(self, product: str) -> Reason:
        f = self.facts[product]
        pct = f.commission_bps / 100
        return Reason(
            "commission",
            f"佣金 {pct:g}%，售价 {_yuan(f.price)}",
            f"commission {pct:g}%, price {_yuan(f.price)}",
        )

    def _platform_reason(self, count: int, med: float | None) -> Reason:
        if med is None:
            return Reason("platform", f"平台上 {count} 个商家卖过", f"sold by {count} merchants")
        return Reason(
            "platform",
            f"平台上 {count} 个商家卖过；中位 GPM {_yuan(med)}",
            f"sold by {count} merchants on the platform; median GPM {_yuan(med)}",
        )

    # --- ranking --------------------------------------------------------------------------

    def _ordered(
        self, name: str, order: list[str], categories: frozenset[str], skip: set[str], limit: int
    ) -> list[str]:
        """The first ``limit`` of ``order`` not in ``skip``, those in ``categories`` first
        (each group keeps the order's ranking)."""
        first: list[str] = []
        if categories:
            by_category = self._by_category(name, order)
            for c in sorted(categories):
                first += by_category.get(c, [])
            rank = self._rank_of(name, order)
            first.sort(key=rank.__getitem__)
            first = [p for p in first if p not in skip][:limit]
        rest: list[str] = []
        for p in order:
            if len(first) + len(rest) >= limit:
                break
            if p not in skip and self.facts[p].category not in categories:
                rest.append(p)
        return first + rest

    def _by_category(self, name: str, order: list[str]) -> dict[str, list[str]]:
        got = self._category_cache.get(name)
        if got is None:
            got = {}
            for p in order:
                got.setdefault(self.facts[p].category, []).append(p)
            self._category_cache[name] = got
        return got

    def _rank_of(self, name: str, order: list[str]) -> dict[str, int]:
        got = self._rank_cache.get(name)
        if got is None:
            got = self._rank_cache[name] = {p: i for i, p in enumerate(order)}
        return got

    def _cold_order(self) -> list[str]:
        """Products with sales, by the cold-start key (computed once per fit)."""
        if self._cold_cache is None:
            value = {p: self._expected_commission(p) for p in self._warm_items}
            self._cold_cache = sorted(
                self._warm_items,
                key=lambda p: (
                    -value[p],
                    -self._platform(p)[0],
                    -self.facts[p].commission_bps,
                    p,
                ),
            )
            self._value = value
        return self._cold_cache

    def _new_products(
        self, categories: frozenset[str], limit: int, skip: frozenset[str]
    ) -> list[Recommendation]:
        out = []
        for p in self._ordered("new", self._new_items, categories, set(skip), limit):
            f = self.facts[p]
            out.append(
                Recommendation(
                    product_id=p,
                    score=0.0,
                    cold_start=True,
                    reasons=(
                        Reason(
                            "new_product",
                            "新品：平台上还没有商家卖过，按类目与佣金排序",
                            "new product: no merchant has sold it yet; "
                            "ranked by category and commission",
                        ),
                        self._commission_reason(p),
                    ),
                    figures={
                        "category_match": int(f.category in categories),
                        "commission_bps": f.commission_bps,
                        "price": f.price,
                        "merchants_sold": 0,
                        "median_gpm": None,
                    },
                )
            )
        return out

    def _cold(
        self, merchant: str, categories: frozenset[str], limit: int, exclude: frozenset[str]
    ) -> list[Recommendation]:
        order = self._cold_order()
        out = []
        skip = self._sold_by.get(merchant, set()) | exclude
        for p in self._ordered("cold", order, categories, skip, limit):
            f = self.facts[p]
            n, med = self._platform(p)
            why = (
                f"冷启动推荐：你选的类目「{f.category}」中每千名观众预期佣金最高"
                if f.category in categories
                else "冷启动推荐：你还没有销售记录，按全平台每千名观众预期佣金排序"
            )
            why_en = (
                f"cold-start pick: top expected commission per 1,000 viewers in your "
                f"category “{f.category}”"
                if f.category in categories
                else "cold-start pick: you have no sales yet; ranked by expected commission "
                "per 1,000 viewers across the platform"
            )
            out.append(
                Recommendation(
                    product_id=p,
                    score=round(self._value[p], 4),
                    cold_start=True,
                    reasons=(
                        Reason("cold_start", why, why_en),
                        self._platform_reason(n, med),
                        self._commission_reason(p),
                    ),
                    figures={
                        "category_match": int(f.category in categories),
                        "merchants_sold": n,
                        "median_gpm": None if med is None else round(med),
                        "commission_bps": f.commission_bps,
                        "price": f.price,
                    },
                )
            )
        if len(out) < limit:
            out += self._new_products(categories, limit - len(out), exclude)
        return out

    def similar_merchants(self, merchant: str) -> set[str]:
        """The merchant's nearest merchants by ALS factor cosine (never itself)."""
        if self._model is None or merchant not in self._m_index:
            return set()
        uid = self._m_index[merchant]
        n = min(SIMILAR + 1, len(self.merchants))
        ids, _ = self._model.similar_users(uid, N=n)  # type: ignore[attr-defined]
        return {self.merchants[int(i)] for i in ids if int(i) != uid}

    def recommend(
        self,
        merchant: str,
        *,
        limit: int = 10,
        categories: Iterable[str] = (),
        exclude: Iterable[str] = (),
    ) -> list[Recommendation]:
        """Ranked picks for ``merchant``: re-ranked ALS when it has sales, else the
        cold-start rule; never a product of ``exclude`` (e.g. already in its showcase)."""
        cats, skip = frozenset(categories), frozenset(exclude)
        if limit <= 0:
            return []
        if self._model is None or merchant not in self._m_index:
            return self._cold(merchant, cats, limit, skip)
        near = self.similar_merchants(merchant)
        wanted = limit + len(skip)  # enough to drop the excluded ones afterwards
        if self._reranker is not None:
            from daihuo.assistant.rerank import Profiles

            if self._profiles is None:
                self._profiles = Profiles(self)
            ranked = self._reranker.rank(self, self._profiles, merchant, wanted)
        else:
            ranked = self.als_candidates(merchant, wanted)
        kept = [(p, sc) for p, sc in ranked if p not in skip][:limit]
        out = [self._warm_pick(p, sc, near) for p, sc in kept]
        if len(out) < limit:
            out += self._new_products(cats, limit - len(out), skip)
        return out

    def als_candidates(self, merchant: str, n: int) -> list[tuple[str, float]]:
        """The merchant's top ``n`` eligible unsold products with sales, by ALS score
        (ties by id); empty for a merchant the model does not know."""
        if self._model is None or merchant not in self._m_index or n <= 0:
            return []
        uid = self._m_index[merchant]
        row = self.matrix[uid]
        # Candidates: eligible products with sales (filter_items blocks the others), minus
        # the merchant's own (filter_already_liked_items, its row of the matrix).
        open_count = len(self._warm_items) - int(self._is_warm[row.indices].sum())
        if open_count <= 0:
            return []
        ids, scores = self._model.recommend(  # type: ignore[attr-defined]
            uid,
            row,
            N=min(n, open_count),
            filter_already_liked_items=True,
            filter_items=self._blocked,
        )
        return sorted(
            ((self.items[int(i)], float(s)) for i, s in zip(ids, scores, strict=True)),
            key=lambda t: (-round(t[1], 6), t[0]),
        )

    def _warm_pick(self, p: str, score: float, near: set[str]) -> Recommendation:
        f = self.facts[p]
        k, k_med = self.group_figures(p, near)
        n, med = self._platform(p)
        reasons: list[Reason] = []
        if k and k_med is not None:
            reasons.append(
                Reason(
                    "similar_merchants",
                    f"在 {k} 个与你受众相似的商家卖得好；中位 GPM {_yuan(k_med)}",
                    f"sold well in {k} merchants with audiences like yours; "
                    f"median GPM {_yuan(k_med)}",
                )
            )
        elif k:
            reasons.append(
                Reason(
                    "similar_merchants",
                    f"{k} 个与你受众相似的商家卖过",
                    f"sold by {k} merchants with audiences like yours",
                )
            )
        else:
            reasons.append(
                Reason(
                    "similar_merchants",
                    "和你卖得好的商品常被同一批商家一起卖",
                    "often sold alongside your best sellers by other merchants",
                )
            )
        reasons.append(self._platform_reason(n, med))
        reasons.append(self._commission_reason(p))
        return Recommendation(
            product_id=p,
            score=round(score, 6),
            cold_start=False,
            reasons=tuple(reasons),
            figures={
                "similar_merchants_sold": k,
                "similar_median_gpm": None if k_med is None else round(k_med),
                "merchants_sold": n,
                "median_gpm": None if med is None else round(med),
                "commission_bps": f.commission_bps,
                "price": f.price,
            },
        )


def fit(
    sales: Iterable[Sale], products: Iterable[ProductFacts], config: Config | None = None
) -> Recommender:
    """Fit the recommender on a snapshot of sales and the pool."""
    return Recommender(sales, products, config or Config())


def recommend(
    sales: Sequence[Sale],
    products: Sequence[ProductFacts],
    merchant: str,
    *,
    limit: int = 10,
    categories: Iterable[str] = (),
    config: Config | None = None,
) -> list[Recommendation]:
    """Fit and rank in one call (see :class:`Recommender`)."""
    return fit(sales, products, config).recommend(merchant, limit=limit, categories=categories)


def popularity(
    sales: Iterable[Sale], products: Iterable[ProductFacts], merchant: str, *, limit: int = 10
) -> list[str]:
    """The baseline: eligible products the merchant has not sold, by platform GMV."""
    total: dict[str, int] = {}
    sold: set[str] = set()
    for s in sales:
        if s.orders <= 0:
            continue
        total[s.product] = total.get(s.product, 0) + s.gmv
        if s.merchant == merchant:
            sold.add(s.product)
    pool = [p.product_id for p in products if p.eligible and p.product_id not in sold]
    pool.sort(key=lambda p: (-total.get(p, 0), p))
    return pool[:limit]
