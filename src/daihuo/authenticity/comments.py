"""Comment farms (控评): accounts that share a private repertoire of near-duplicate texts.

1. Each comment is normalised (NFKC, lower case, only letters kept: emoji, punctuation
   and digits go) and cut into character bigrams. Texts under ``MIN_LETTERS`` letters
   (666, 来了, 扣1) say nothing about who wrote them and are left out: that keeps the
   room's chorus out of every farm.
2. MinHash-LSH (datasketch) joins near-duplicate texts into *families*.
3. Families used by many of the room's commenters are the room's own language
   (questions from the product, greetings) and are dropped; what remains is a
   repertoire few accounts share.
4. Two accounts are linked when most of the smaller one's families are also the other's
   (at least ``MIN_SHARED``); connected groups of ``MIN_GROUP`` or more accounts whose
   comments are praise, not product questions, are a farm. A posting timer (very regular
   gaps) adds to the score.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import defaultdict
from typing import Final

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from daihuo.authenticity.features import SessionData
from daihuo.authenticity.model import Flag, Reason, clamp

MIN_LETTERS: Final = 4
NUM_PERM: Final = 64
LSH_THRESHOLD: Final = 0.5
ROOM_SHARE: Final = 0.05  # a family used by this share of the commenters is room language
ROOM_MIN: Final = 8
MIN_SHARED: Final = 3
OVERLAP: Final = 0.5
MIN_GROUP: Final = 3
MAX_QUESTION_SHARE: Final = 0.2
QUESTION: Final = re.compile(r"[?？吗呢几多少怎哪啥]")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if unicodedata.category(ch).startswith("L"))


def _minhash(text: str) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=7)
    m.update_batch([text[i : i + 2].encode() for i in range(len(text) - 1)])
    return m


def families(texts: list[str]) -> list[int]:
    """Family number of each (distinct, normalised) text, by MinHash-LSH and union-find."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    for i, text in enumerate(texts):
        m = _minhash(text)
        for j in lsh.query(m):
            parent[find(int(j))] = find(i)
        lsh.insert(i, m)
    return [find(i) for i in range(len(texts))]


def _regular(times: list[int]) -> bool:
    if len(times) < 6:
        return False
    gaps = np.diff(sorted(times)).astype(float)
    mean = float(gaps.mean())
    return mean > 0 and float(gaps.std()) / mean < 0.25


def detect(data: SessionData) -> list[Flag]:
    commenters = [u for u in data.users.values() if u.comments]
    if len(commenters) < MIN_GROUP:
        return []
    text_ids: dict[str, int] = {}
    used: list[list[int]] = []
    for u in commenters:
        mine = []
        for _, raw in u.comments:
            norm = normalise(raw)
            if len(norm) >= MIN_LETTERS:
                mine.append(text_ids.setdefault(norm, len(text_ids)))
        used.append(mine)
    if not text_ids:
        return []
    fam = families(list(text_ids))
    users_of: dict[int, set[int]] = defaultdict(set)
    for row, mine in enumerate(used):
        for t in mine:
            users_of[fam[t]].add(row)
    room = max(ROOM_MIN, ROOM_SHARE * len(commenters))
    private = {f: k for k, f in enumerate(f for f, who in users_of.items() if len(who) < room)}
    rows, cols = [], []
    for row, mine in enumerate(used):
        for f in {fam[t] for t in mine}:
            if f in private:
                rows.append(row)
                cols.append(private[f])
    if not rows:
        return []
    x = csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(commenters), len(private))
    )  # one entry per (account, family)
    size = np.asarray(x.sum(axis=1)).ravel()
    shared = coo_matrix(x @ x.T)
    keep = (shared.row != shared.col) & (shared.data >= MIN_SHARED)
    r, c, s = shared.row[keep], shared.col[keep], shared.data[keep]
    keep = s / np.minimum(size[r], size[c]) >= OVERLAP
    graph = coo_matrix((np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(len(commenters),) * 2)
    _, label = connected_components(graph, directed=False)
    members: dict[int, list[int]] = defaultdict(list)
    for row, g in enumerate(label):
        members[int(g)].append(row)
    out = []
    for group in members.values():
        if len(group) < MIN_GROUP:
            continue
        texts = [raw for row in group for _, raw in commenters[row].comments]
        questions = sum(1 for t in texts if QUESTION.search(t)) / max(1, len(texts))
        if questions > MAX_QUESTION_SHARE:
            continue
        repertoire = len({f for row in group for f in x[row].indices})
        for row in group:
            u = commenters[row]
            timer = _regular([t for t, _ in u.comments])
            score = clamp(0.55 + 0.05 * len(group) ** 0.5 + (0.2 if timer else 0.0))
            median_len = statistics.median(len(normalise(t)) for _, t in u.comments)
            reasons = [
                Reason(
                    f"one of {len(group)} accounts sharing a private repertoire of "
                    f"{repertoire} near-duplicate texts; {questions:.0%} of their comments "
                    f"ask about the product (median text {median_len:.0f} letters)",
                    f"与另外 {len(group) - 1} 个账号共用一套 {repertoire} 条近似重复的话术；"
                    f"其中仅 {questions:.0%} 的评论询问商品",
                )
            ]
            if timer:
                reasons.append(
                    Reason(
                        "comments on a timer (near-constant gaps)", "评论间隔几乎固定，像定时发送"
                    )
                )
            out.append(Flag("user", u.id, "comment_farm", score, reasons))
    return out
