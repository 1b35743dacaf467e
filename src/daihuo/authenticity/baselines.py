"""Baselines the detectors are measured against (issue 7, "so the gain is measured").

* :func:`isolation_forest` — scikit-learn's IsolationForest on per-user features, the
  usual first try of an unsupervised anomaly detector; :func:`ecod` — PyOD's ECOD on
  the same features.
* :func:`rules_of_thumb` — the industry's simple rules: a stay under 5 s, a /24 shared by
  many accounts, a comment copied verbatim from another account, click-to-order < 10 s.
* :func:`shopee_rule` — Shopee's order-brushing rule: in any hour, orders ÷ distinct
  buyers ≥ 3 marks the shop; the buyers with the most orders in that hour are brushers.

Each returns the flagged users (and orders, where it flags orders) of one session.
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from typing import Final

import numpy as np
from sklearn.ensemble import IsolationForest

from daihuo.authenticity.features import SessionData

HOUR_MS: Final = 3_600_000


def user_features(data: SessionData) -> tuple[list[str], np.ndarray]:
    """One row per user: watch, stays, impressions, talk, likes, shopping, shared infra."""
    per_device: Counter[str] = Counter()
    per_net: Counter[str] = Counter()
    for u in data.users.values():
        per_device.update(u.devices)
        per_net.update({ip.rsplit(".", 1)[0] for ip in u.ips})
    ids, rows = [], []
    for u in data.users.values():
        likes = u.like_total
        fast = 0.0
        for oid in u.orders:
            o = data.orders[oid]
            clicks = [t for t, p in u.clicks if p == o.product and t <= o.created]
            if clicks and o.created - max(clicks) < 10_000:
                fast += 1
        ids.append(u.id)
        rows.append([
            u.watch_ms / 1000, len(u.stays), len(u.impressions), len(u.comments),
            len({t for _, t in u.comments}), likes, likes / max(1, len(u.likes)),
            u.product_impressions, len(u.clicks), u.carts, len(u.orders), fast,
            max((per_device[d] for d in u.devices), default=0),
            max((per_net[ip.rsplit(".", 1)[0]] for ip in u.ips), default=0),
        ])  # fmt: skip
    return ids, np.array(rows, dtype=float).reshape(len(rows), 14)


def isolation_forest(data: SessionData, seed: int = 0) -> set[str]:
    ids, x = user_features(data)
    if len(ids) < 10:
        return set()
    model = IsolationForest(n_estimators=100, contamination="auto", random_state=seed)
    pred = model.fit_predict(np.log1p(x))
    return {uid for uid, p in zip(ids, pred, strict=True) if p == -1}


def ecod(data: SessionData) -> set[str]:
    """PyOD's ECOD (empirical-CDF tails) on the same features, its default contamination."""
    from pyod.models.ecod import ECOD  # a dev dependency: the scan does not need it

    ids, x = user_features(data)
    if len(ids) < 10:
        return set()
    model = ECOD()
    with warnings.catch_warnings():  # constant feature columns make its skewness noisy
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(np.log1p(x))
    return {uid for uid, p in zip(ids, model.labels_, strict=True) if p == 1}


def rules_of_thumb(data: SessionData) -> tuple[set[str], set[str]]:
    users: set[str] = set()
    orders: set[str] = set()
    nets: dict[str, set[str]] = defaultdict(set)
    texts: dict[str, set[str]] = defaultdict(set)
    for u in data.users.values():
        if u.stays and u.watch_ms < 5000:
            users.add(u.id)
        for ip in u.ips:
            nets[ip.rsplit(".", 1)[0]].add(u.id)
        for _, text in u.comments:
            texts[text].add(u.id)
    for who in nets.values():
        if len(who) >= 10:
            users |= who
    for who in texts.values():
        if len(who) >= 2:
            users |= who
    for o in data.orders.values():
        clicks = [t for t, p in data.users[o.user].clicks if p == o.product and t <= o.created]
        if clicks and o.created - max(clicks) < 10_000:
            orders.add(o.id)
            users.add(o.user)
    return users, orders


def shopee_rule(data: SessionData) -> tuple[set[str], set[str]]:
    """Orders of the top buyers of every hour in which orders ÷ buyers ≥ 3."""
    ordered = sorted(data.orders.values(), key=lambda o: o.created)
    users: set[str] = set()
    flagged: set[str] = set()
    lo = 0
    for hi, last in enumerate(ordered):
        while ordered[lo].created <= last.created - HOUR_MS:
            lo += 1
        hour = ordered[lo : hi + 1]
        per = Counter(o.user for o in hour)
        if len(hour) / len(per) >= 3:
            top = max(per.values())
            for o in hour:
                if per[o.user] == top:
                    flagged.add(o.id)
                    users.add(o.user)
    return users, flagged
