"""Brushed orders (刷单): dense rings in the buyer–device–address graph, and how orders look.

*Rings* (FRAUDAR): buyers and the entities they touch — device, IP, its /24, delivery
address — form a bipartite graph. (Products are not columns: a flash sale makes the
best-selling product's buyers a dense block of genuine people; the ring's focus on one
product is checked on each block instead.) Each entity column is weighted ``1 / log(deg + 5)``
with ``deg`` its users in the whole session, so a campus parcel point or a best-selling
product (many users) weighs little and a drop address shared by a few buyers weighs a
lot. Greedy peeling removes the node of least weighted degree and keeps the densest
set seen; the block is taken out and the search repeated (top ``TOP_K`` blocks), since
one peel misses small rings on a heavy-tailed background. A block is a ring when it
holds ``MIN_RING`` buyers or more whose orders concentrate on one product (outside a
flash-sale stampede, where a household may well buy the same deal).

*Orders*: click to order in seconds with no other product looked at (outside a
flash-sale stampede, where everyone is fast), the same product ordered again and again,
and a full refund after the session ends. Each piece of evidence adds to the order's
score (noisy-or); orders at ``FLAG_AT`` or above are flagged, with their buyers.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from typing import Final

import numpy as np
from scipy.sparse import csr_matrix

from daihuo.authenticity.audience import BIN_MS, stampedes
from daihuo.authenticity.features import Order, SessionData
from daihuo.authenticity.model import Flag, Reason, clamp

TOP_K: Final = 30
MIN_RING: Final = 2
FAST_MS: Final = 10_000
FLAG_AT: Final = 0.6
# Evidence weights. No single behaviour of one order flags it (genuine people also order
# fast, or return things); a ring, or two behaviours together, do.
W_RING: Final = 0.6
W_PAIR: Final = 0.5
W_FAST: Final = 0.4
W_REPEAT: Final = 0.3
W_REFUND: Final = 0.25


def peel(m: csr_matrix) -> tuple[list[int], list[int], float]:
    """FRAUDAR's greedy peeling: rows and columns of the densest subgraph, and its density.

    Density is the total edge weight of the kept rows and columns over their count.
    """
    n_rows, n_cols = m.shape
    csc = m.tocsc()
    deg = np.concatenate([np.asarray(m.sum(axis=1)).ravel(), np.asarray(m.sum(axis=0)).ravel()])
    alive = np.ones(n_rows + n_cols, dtype=bool)
    total = float(m.sum())
    size = n_rows + n_cols
    best, best_at = total / max(1, size), 0
    order: list[int] = []
    heap = [(float(deg[i]), i) for i in range(size)]
    heapq.heapify(heap)
    while heap and size > 0:
        d, i = heapq.heappop(heap)
        if not alive[i] or d != float(deg[i]):
            continue
        alive[i] = False
        order.append(i)
        total -= d
        size -= 1
        if i < n_rows:
            lo, hi = m.indptr[i], m.indptr[i + 1]
            nbrs, ws = m.indices[lo:hi] + n_rows, m.data[lo:hi]
        else:
            j = i - n_rows
            lo, hi = csc.indptr[j], csc.indptr[j + 1]
            nbrs, ws = csc.indices[lo:hi], csc.data[lo:hi]
        for nb, w in zip(nbrs, ws, strict=True):
            if alive[nb]:
                deg[nb] -= w
                heapq.heappush(heap, (float(deg[nb]), int(nb)))
        if size and total / size > best:
            best, best_at = total / size, len(order)
    removed = set(order[:best_at])
    keep = [i for i in range(n_rows + n_cols) if i not in removed]
    rows = [i for i in keep if i < n_rows]
    cols = [i - n_rows for i in keep if i >= n_rows]
    return rows, cols, best


def rings(data: SessionData) -> dict[str, tuple[int, str]]:
    """Buyer -> (ring size, main product) for buyers in a dense block of the graph."""
    buyers = sorted({o.user for o in data.orders.values()})
    if len(buyers) < MIN_RING:
        return {}
    users_of: dict[str, set[str]] = defaultdict(set)
    for u in data.users.values():
        for d in u.devices:
            users_of["d:" + d].add(u.id)
        for ip in u.ips:
            users_of["i:" + ip].add(u.id)
            users_of["n:" + ip.rsplit(".", 1)[0]].add(u.id)
    for o in data.orders.values():
        if o.addr:
            users_of["a:" + o.addr].add(o.user)
    cols = sorted(k for k, who in users_of.items() if len(who & set(buyers)) >= 2)
    if not cols:
        return {}
    index = {b: i for i, b in enumerate(buyers)}
    r, c, w = [], [], []
    for j, key in enumerate(cols):
        weight = 1.0 / math.log(len(users_of[key]) + 5)
        for uid in users_of[key]:
            if uid in index:
                r.append(index[uid])
                c.append(j)
                w.append(weight)
    m = csr_matrix((w, (r, c)), shape=(len(buyers), len(cols)))
    by_user: dict[str, list[Order]] = defaultdict(list)
    for o in data.orders.values():
        by_user[o.user].append(o)
    found: dict[str, tuple[int, str]] = {}
    for _ in range(TOP_K):
        rows, _cols, density = peel(m)
        if len(rows) < MIN_RING or density <= 0:
            break
        products = Counter(o.product for row in rows for o in by_user[buyers[row]])
        product, n = products.most_common(1)[0]
        buyers_of_product = sum(
            1 for row in rows if any(o.product == product for o in by_user[buyers[row]])
        )
        if n / sum(products.values()) >= 0.6 and buyers_of_product >= MIN_RING:
            for row in rows:
                found[buyers[row]] = (len(rows), product)
        mask = np.ones(len(buyers))
        mask[rows] = 0.0
        m = csr_matrix(m.multiply(mask[:, None]))
        m.eliminate_zeros()
        if m.nnz == 0:
            break
    return found


def _late_full_refund(o: Order, end: int) -> bool:
    return (
        o.paid is not None
        and o.refund_at is not None
        and o.refund_at > end
        and o.refunded >= o.paid_amount
    )


def detect(data: SessionData) -> list[Flag]:
    if not data.orders:
        return []
    ring_of = rings(data)
    flashes = stampedes(data)
    per_user_product = Counter((o.user, o.product) for o in data.orders.values())
    out = []
    for o in data.orders.values():
        u = data.users[o.user]
        evidence: list[tuple[float, Reason]] = []
        if o.user in ring_of:
            size, product = ring_of[o.user]
            evidence.append((
                W_RING if size >= 3 else W_PAIR,
                Reason(
                    f"buyer belongs to a dense ring of {size} buyers sharing devices, "
                    f"addresses or networks, ordering mostly {product}",
                    f"买家属于一个 {size} 人的密集团伙（共用设备、地址或网络），集中购买 {product}",
                ),
            ))  # fmt: skip
        clicks = [t for t, p in u.clicks if p == o.product and t <= o.created]
        in_flash = any(0 <= o.created - f <= 2 * BIN_MS for f in flashes)
        browsed = {p for _, p in u.clicks}
        if clicks and o.created - max(clicks) < FAST_MS and len(browsed) <= 1 and not in_flash:
            secs = (o.created - max(clicks)) / 1000
            evidence.append((
                W_FAST,
                Reason(
                    f"ordered {secs:.1f} s after opening the card, no other product looked at",
                    f"打开商品卡 {secs:.1f} 秒后即下单，未浏览其他商品",
                ),
            ))  # fmt: skip
        if per_user_product[(o.user, o.product)] >= 2:
            n = per_user_product[(o.user, o.product)]
            evidence.append((
                W_REPEAT,
                Reason(
                    f"the buyer ordered this product {n} times", f"同一买家重复下单该商品 {n} 次"
                ),
            ))  # fmt: skip
        if _late_full_refund(o, data.end):
            evidence.append((
                W_REFUND,
                Reason("fully refunded after the session", "直播结束后全额退款"),
            ))  # fmt: skip
        score = 1.0
        for w, _ in evidence:
            score *= 1.0 - w
        score = clamp(1.0 - score)
        if score >= FLAG_AT:
            out.append(Flag("order", o.id, "brushing", score, [r for _, r in evidence]))
            out.append(Flag("user", o.user, "brushing", score, [r for _, r in evidence]))
    return out
