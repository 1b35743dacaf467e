"""A LambdaRank re-ranker (LightGBM) over the ALS candidates: an evaluated variant.

Pure: no I/O. It adds the product's own performance and the merchant's profile to the
collaborative signal: for each of the ALS model's top :data:`CANDIDATES` products it
builds features (the ALS score and rank, how many of the merchant's nearest merchants
sold it and their median GPM, how many merchants sold it on the platform and their
median GPM, its commission and price, the merchant's share of sales in its category
and its distance to the merchant's usual price), and a ``lightgbm.LGBMRanker`` with the
``lambdarank`` objective orders them.

Training uses only the history it is given, split in time: an ALS model on the sales
before ``label_from`` proposes candidates, and the labels are what each merchant first
sold from ``label_from`` on (graded by GMV). Deterministic: ``deterministic=True``, one
thread, a fixed seed, rows in sorted order.

:class:`daihuo.assistant.recommend.Recommender` trains one per fit when the history
allows (``Config.rerank``), else ranks by plain ALS; ``recommend_eval`` measures both
beside the baselines (see the README for the figures).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from daihuo.assistant.recommend import Config, ProductFacts, Recommender, Sale, fit

CANDIDATES = 100
MIN_GROUPS = 10
"""Fewest merchants with labelled candidates to train on (else plain ALS is used)."""
MOST_GROUPS = 400
"""Most merchants the re-ranker is trained on."""
FEATURES = (
    "als_score", "als_rank", "similar_sold", "similar_gpm", "platform_sold", "platform_gpm",
    "commission_bps", "log_price", "category_share", "price_distance",
)  # fmt: skip


def _label(gmv_fen: int) -> int:
    """Graded relevance: 0 not sold; 1–4 by order of magnitude of the GMV in yuan."""
    if gmv_fen <= 0:
        return 0
    return 1 + min(3, int(math.log10(1 + gmv_fen / 100)))


class Profiles:
    """Per merchant: its sold products' categories and log prices (from a fitted model)."""

    def __init__(self, model: Recommender) -> None:
        self.model = model
        self._cache: dict[str, tuple[dict[str, float], float]] = {}

    def of(self, merchant: str) -> tuple[dict[str, float], float]:
        got = self._cache.get(merchant)
        if got is None:
            sold = [
                self.model.facts[p]
                for p in sorted(self.model.sold_by(merchant))
                if p in self.model.facts
            ]
            share: dict[str, float] = {}
            for f in sold:
                share[f.category] = share.get(f.category, 0.0) + 1 / len(sold)
            price = statistics.fmean(math.log(f.price) for f in sold) if sold else 0.0
            got = self._cache[merchant] = (share, price)
        return got


def features(
    model: Recommender, profiles: Profiles, merchant: str, candidates: Sequence[tuple[str, float]]
) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate, in the candidates' order."""
    near = model.similar_merchants(merchant)
    share, usual_price = profiles.of(merchant)
    rows = []
    for rank, (p, score) in enumerate(candidates):
        f = model.facts[p]
        k, k_med = model.group_figures(p, near, least=1)
        n, med = model.group_figures(p, None, least=1)
        rows.append(
            [
                score,
                rank,
                k,
                math.log1p(k_med or 0.0),
                math.log1p(n),
                math.log1p(med or 0.0),
                f.commission_bps,
                math.log(f.price),
                share.get(f.category, 0.0),
                abs(math.log(f.price) - usual_price) if usual_price else 0.0,
            ]
        )
    return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


class Reranker:
    def __init__(self, ranker: Any) -> None:
        self.ranker = ranker

    @classmethod
    def train(
        cls,
        sales: Sequence[Sale],
        products: Sequence[ProductFacts],
        *,
        label_from: datetime,
        config: Config | None = None,
        seed: int = 7,
    ) -> Reranker | None:
        """Fit on the time split of ``sales`` at ``label_from``; None without labels."""
        from lightgbm import LGBMRanker

        early = [s for s in sales if s.at < label_from]
        late = [s for s in sales if s.at >= label_from]
        base = fit(early, products, config)
        profiles = Profiles(base)
        gains: dict[str, dict[str, int]] = {}
        for s in late:
            if s.orders > 0 and s.product not in base.sold_by(s.merchant):
                g = gains.setdefault(s.merchant, {})
                g[s.product] = g.get(s.product, 0) + s.gmv
        xs, ys, groups = [], [], []
        labelled = sorted(gains)
        # At most MOST_GROUPS merchants, evenly spaced in id order: the fit's cost stays
        # bounded on a large platform (features are computed in Python per candidate).
        for merchant in labelled[:: max(1, math.ceil(len(labelled) / MOST_GROUPS))]:
            cands = base.als_candidates(merchant, CANDIDATES)
            labels = [_label(gains[merchant].get(p, 0)) for p, _ in cands]
            if not cands or not any(labels):
                continue
            xs.append(features(base, profiles, merchant, cands))
            ys += labels
            groups.append(len(cands))
        if len(groups) < MIN_GROUPS:
            return None
        ranker = LGBMRanker(
            objective="lambdarank",
            n_estimators=150,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=20,
            deterministic=True,
            force_row_wise=True,
            n_jobs=1,
            random_state=seed,
            verbose=-1,
        )
        ranker.fit(np.vstack(xs), np.array(ys), group=groups)
        return cls(ranker)

    def rank(
        self, model: Recommender, profiles: Profiles, merchant: str, limit: int
    ) -> list[tuple[str, float]]:
        """The merchant's top ``limit`` of the ALS candidates, re-ranked, with their
        re-ranker scores (ties by id)."""
        cands = model.als_candidates(merchant, CANDIDATES)
        if not cands:
            return []
        scores = [
            round(float(x), 9)
            for x in self.ranker.predict(features(model, profiles, merchant, cands))
        ]
        order = sorted(range(len(cands)), key=lambda i: (-scores[i], cands[i][0]))
        return [(cands[i][0], scores[i]) for i in order[:limit]]
