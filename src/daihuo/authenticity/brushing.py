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

*Orders*: click to order in seconds with no other product looked at (unless at a
flash-sale deal price, where everyone is fast) or, slower, a buyer who saw no other
product card and neither commented nor liked (a quarter of genuine buyers do that too,
so it only ever adds to other evidence), the same product ordered again and again,
and a full refund after the session ends. Each piece of evidence adds to the order's
score (noisy-or); orders at ``FLAG_AT`` or above are flagged, with their buyers.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Final

from scipy.sparse import csr_matrix

from daihuo.authenticity.audience import BIN_MS, stampedes
from daihuo.authenticity.features import Order, SessionData
from daihuo.authenticity.graph import dense_blocks
from daihuo.authenticity.model import Flag, Reason, clamp

TOP_K: Final = 30
MIN_RING: Final = 2
FAST_MS: Final = 10_000
FLAG_AT: Final = 0.6
STAMPEDE: Final = 20  # clickers in a minute: more than a ring brings along
DEAL: Final = 0.8  # a unit price below this share of the product's dearest is a deal
# Evidence weights. No single piece of evidence flags an order (genuine people order fast,
# return things, and share homes); two together do.
W_RING: Final = 0.55
W_PAIR: Final = 0.3  # two buyers sharing a home are as often a couple as a ring
W_FAST: Final = 0.4
W_DRIVE_BY: Final = 0.3  # the slow grade of buying without browsing
W_REPEAT: Final = 0.3
W_REFUND: Final = 0.25


def rings(data: SessionData, deals: set[str]) -> dict[str, tuple[int, str]]:
    """Buyer -> (ring size, main product) for buyers in a dense block of the graph.

    Blocks come from :func:`graph.dense_blocks` (``TOP_K`` per connected piece). Orders
    at a deal price (:func:`deal_prices`) do not count towards a block's focus on one product.
    """
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
    buyer_set = set(buyers)
    cols = sorted(k for k, who in users_of.items() if len(who & buyer_set) >= 2)
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
    whole = csr_matrix((w, (r, c)), shape=(len(buyers), len(cols)))
    focus: dict[str, list[str]] = defaultdict(list)
    for o in data.orders.values():
        if o.id not in deals:
            focus[o.user].append(o.product)
    found: dict[str, tuple[int, str]] = {}
    for rows, _cols in dense_blocks(whole, top_k=TOP_K, min_rows=MIN_RING):
        products = Counter(p for row in rows for p in focus[buyers[row]])
        if not products:
            continue
        product, k = products.most_common(1)[0]
        with_it = sum(1 for row in rows if product in focus[buyers[row]])
        if k / sum(products.values()) >= 0.6 and with_it >= MIN_RING:
            for row in rows:
                if product in focus[buyers[row]]:
                    found[buyers[row]] = (with_it, product)
    return found


def deal_prices(data: SessionData) -> set[str]:
    """Orders of a flash sale: at a deal price, or in a stampede when no price tells.

    A flash sale (秒杀) sells at a fraction of the list price, and its stampede is the
    one place where genuine people order within seconds; a ring pays full price. An
    order is a deal when its unit price is under ``DEAL`` of the product's dearest in
    the session; when a product sold only at one price, an order in a stampede of
    ``STAMPEDE`` clickers or more on that product counts as the flash sale's.
    """
    dearest: dict[str, float] = defaultdict(float)
    cheapest: dict[str, float] = {}
    for o in data.orders.values():
        unit = o.amount / max(1, o.qty)
        dearest[o.product] = max(dearest[o.product], unit)
        cheapest[o.product] = min(cheapest.get(o.product, unit), unit)
    flashes = [(t, p) for t, p, n in stampedes(data) if n >= STAMPEDE]
    deals = set()
    for o in data.orders.values():
        unit = o.amount / max(1, o.qty)
        one_price = cheapest[o.product] >= DEAL * dearest[o.product]
        in_stampede = any(p == o.product and 0 <= o.created - t <= 2 * BIN_MS for t, p in flashes)
        if unit < DEAL * dearest[o.product] or (one_price and in_stampede):
            deals.add(o.id)
    return deals


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
    deals = deal_prices(data)
    ring_of = rings(data, deals)
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
        in_flash = o.id in deals
        browsed = {p for _, p in u.clicks}
        fast = clicks and o.created - max(clicks) < FAST_MS
        if fast and len(browsed) <= 1 and not in_flash:
            secs = (o.created - max(clicks)) / 1000
            evidence.append((
                W_FAST,
                Reason(
                    f"ordered {secs:.1f} s after opening the card, no other product looked at",
                    f"打开商品卡 {secs:.1f} 秒后即下单，未浏览其他商品",
                ),
            ))  # fmt: skip
        elif (
            len(browsed) <= 1
            and u.product_impressions <= 1
            and not (u.comments or u.likes)
            and not in_flash
        ):
            evidence.append((
                W_DRIVE_BY,
                Reason(
                    "came, saw one product card, bought it and said nothing",
                    "只看了这一件商品就下单，全程无评论无点赞",
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
