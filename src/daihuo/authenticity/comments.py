"""Comment farms (控评): accounts that share a private repertoire of near-duplicate texts.

1. Each comment is normalised (NFKC, lower case, only letters kept: emoji, punctuation
   and digits go) and cut into character bigrams. Texts under ``MIN_LETTERS`` letters
   (666, 来了, 扣1) say nothing about who wrote them and are left out: that keeps the
   room's chorus out of every farm.
2. MinHash-LSH (datasketch) joins near-duplicate texts into *families*.
3. Families used by many of the room's commenters are the room's own language
   (questions from the product, greetings) and are dropped; what remains is a
   repertoire few accounts share.
4. Accounts and the families they use form a bipartite graph (FRAUDAR weights, see
   :mod:`graph`); greedy peeling finds the densest blocks, one after the other. A block
   of ``MIN_GROUP`` accounts or more is a farm when its repertoire is *exclusive* (the
   block makes most of the room's uses of those texts: genuine people draw on the
   room's shared language, a farm on its own script) far beyond what the block's share
   of the room's comments explains (``MIN_LIFT``: a few super-fans who write half of a
   small room's comments also "own" much of its language), covers most of the block's
   comments, and is praise rather than product questions; a repertoire is at least
   ``MIN_REPERTOIRE`` families, and an account is flagged with ``MIN_PER_ACCOUNT`` of
   its comments in it. A posting timer (very
   regular gaps) adds to the score.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from typing import Final

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy.sparse import csr_matrix

from daihuo.authenticity.features import SessionData, User
from daihuo.authenticity.graph import dense_blocks
from daihuo.authenticity.model import Flag, Reason, clamp

MIN_LETTERS: Final = 4
NUM_PERM: Final = 64
LSH_THRESHOLD: Final = 0.5
ROOM_SHARE: Final = 0.25  # a family used by this share of the commenters is room language
ROOM_MIN: Final = 30
# A text family with more users than this is the room's language even in a big room: its
# weight in the graph would be small anyway, and linking thousands of commenters through
# it makes one heavy-tailed block in which a small farm disappears. A farm of more
# accounts than this all writing the same texts is missed (it reads as a chorus).
MAX_CREW: Final = 100
MIN_GROUP: Final = 3
TOP_K: Final = 10
MIN_EXCLUSIVE: Final = 0.6  # of the repertoire's uses in the room, the block's share
MIN_COVERAGE: Final = 0.35  # of the block's longer comments, the share in the repertoire
MAX_QUESTION_SHARE: Final = 0.2
MIN_REPERTOIRE: Final = 3  # families: one shared greeting is a habit, not a script
MIN_PER_ACCOUNT: Final = 2  # an account's comments in the repertoire
MIN_LIFT: Final = 3.0  # exclusivity over the block's share of the room's longer comments
# Question markers; not a bare 几 or 哪, which also say 好几次 (several times) or 在哪买的.
QUESTION: Final = re.compile(
    r"[?？吗呢啥]|多少|几号|几天|几点|几件|怎么|哪个|哪里|什么|有没有|能不能"
)


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
    uses: Counter[int] = Counter()
    for row, mine in enumerate(used):
        for t in mine:
            users_of[fam[t]].add(row)
            uses[fam[t]] += 1
    room = max(ROOM_MIN, ROOM_SHARE * len(commenters))
    shared = sorted(f for f, who in users_of.items() if 2 <= len(who) < min(room, MAX_CREW))
    col = {f: k for k, f in enumerate(shared)}
    rows, cols, weights = [], [], []
    for row, mine in enumerate(used):
        for f in {fam[t] for t in mine}:
            if f in col:
                rows.append(row)
                cols.append(col[f])
                weights.append(1.0 / math.log(len(users_of[f]) + 5))
    if not rows:
        return []
    m = csr_matrix((weights, (rows, cols)), shape=(len(commenters), len(shared)))
    out: list[Flag] = []
    room_total = sum(len(mine) for mine in used)
    for block, block_cols in dense_blocks(m, top_k=TOP_K, min_rows=MIN_GROUP):
        repertoire = {shared[c] for c in block_cols}
        group = _farm(block, repertoire, used, fam, uses, commenters, room_total)
        if group is not None:
            out.extend(group)
    return out


def _farm(
    block: list[int],
    repertoire: set[int],
    used: list[list[int]],
    fam: list[int],
    uses: Counter[int],
    commenters: list[User],
    room_total: int,
) -> list[Flag] | None:
    """The flags of a dense block that is a farm; ``None`` when it looks like people."""
    inside = sum(1 for row in block for t in used[row] if fam[t] in repertoire)
    everyone = sum(uses[f] for f in repertoire)
    exclusive = inside / everyone if everyone else 0.0
    long_texts = sum(len(used[row]) for row in block)
    coverage = inside / long_texts if long_texts else 0.0
    lift = exclusive / (long_texts / room_total) if long_texts else 0.0
    texts = [raw for row in block for _, raw in commenters[row].comments]
    questions = sum(1 for t in texts if QUESTION.search(t)) / max(1, len(texts))
    if (
        len(repertoire) < MIN_REPERTOIRE
        or exclusive < MIN_EXCLUSIVE
        or lift < MIN_LIFT
        or coverage < MIN_COVERAGE
        or questions > MAX_QUESTION_SHARE
    ):
        return None
    out = []
    for row in block:
        if sum(1 for t in used[row] if fam[t] in repertoire) < MIN_PER_ACCOUNT:
            continue
        u = commenters[row]
        timer = _regular([t for t, _ in u.comments])
        score = clamp(0.5 + 0.3 * exclusive * coverage + (0.2 if timer else 0.0))
        reasons = [
            Reason(
                f"one of {len(block)} accounts sharing a repertoire of {len(repertoire)} "
                f"near-duplicate texts that nobody else in the room uses "
                f"({exclusive:.0%} of its uses are theirs); {questions:.0%} of their "
                f"comments ask about the product",
                f"与另外 {len(block) - 1} 个账号共用一套 {len(repertoire)} 条近似重复的话术，"
                f"本场其他人几乎不用（{exclusive:.0%} 出自这些账号）；"
                f"其中仅 {questions:.0%} 的评论询问商品",
            )
        ]
        if timer:
            reasons.append(
                Reason("comments on a timer (near-constant gaps)", "评论间隔几乎固定，像定时发送")
            )
        out.append(Flag("user", u.id, "comment_farm", score, reasons))
    return out
