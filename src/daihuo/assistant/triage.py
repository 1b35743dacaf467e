"""Comment triage: an intent for each live-room comment, and the product it refers to.

Five intents (``INTENTS``): ``purchase_intent``, ``question``, ``after_sales``,
``praise_chat`` and ``spam_abuse``. A comment is normalised (``normalise``: NFKC,
traditional→simplified with OpenCC, lower case, the lexicon of ``triage_lexicon``,
contact details to marker words, runs collapsed), cut into character 1–2-grams with
start and end marks, weighted by TF-IDF and scored by a multinomial logistic
regression (scikit-learn). The model is trained from the project's labelled corpus
(data/assistant/comments.tsv plus augmented variants, ``triage_data``) on first use and
kept in memory: no pickled model anywhere, training takes about a second.

Invariants:

* ``classify`` returns exactly one ``Verdict`` per input, never raises on any ``str``,
  its intent is one of ``INTENTS`` and its score (the probability of that intent, or
  1.0 for a rule) lies in [0, 1].
* Same input, same output: the corpus, the augmentation (seeded per seed text) and
  the solver are deterministic.
* The hot path (``TriageModel.logits``) computes exactly the fitted model's decision
  from its coefficients (tests compare it with ``predict_proba``); scikit-learn's
  per-call overhead would otherwise cap one-at-a-time triage far below 20,000/s.
* Bad input never reaches the model unguarded: text is cut to ``MAX_CHARS``; a comment
  with nothing readable left is ``praise_chat``; binary garbage (control, private-use or
  replacement characters) and phone numbers or web addresses are ``spam_abuse``.

Product reference (``Verdict.slot`` / ``Verdict.product``): a link number ("三号链接",
"3号", "链接3", "#3", "第3个") gives ``slot``; with ``products`` it resolves to that
product's id (a number no product has stays a bare slot). Otherwise product names
match by jieba-token overlap with the titles (an ambiguous tie matches nothing). A
``purchase_intent`` or ``question`` without either falls back to the ``pinned`` product.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from daihuo.assistant import triage_data
from daihuo.assistant.triage_lexicon import EMOJI, PHRASES, WORDS

INTENTS: Final = ("purchase_intent", "question", "after_sales", "praise_chat", "spam_abuse")
MAX_CHARS: Final = 300
NGRAMS: Final = (1, 2)  # grouped CV on the train seeds: (1, 2) 0.799, (1, 3) 0.794; fewer is faster
C: Final = 10.0  # inverse regularisation, chosen by grouped cross-validation on the train split


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A product the room sells: its id, its title and its link number (slot) if any."""

    id: str
    title: str
    slot: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The triage of one comment. ``product`` is a product id; ``slot`` a link number."""

    intent: str
    product: str | None
    score: float
    slot: int | None = None


# --- normalisation -----------------------------------------------------------------

_URL = re.compile(
    r"(?:https?://|www\.)[!-~]+"
    r"|[a-z0-9][a-z0-9-]*\.(?:com|cn|net|cc|top|xyz|vip|org|me|io|co)(?![a-z0-9])"
)
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LONG_NUMBER = re.compile(r"\d{6,}")
# A chat handle such as "abc123": letters then digits, five or more characters.
_HANDLE = re.compile(r"(?<![a-z0-9_])(?=[a-z0-9_]*\d)[a-z][a-z0-9_]{4,}(?![a-z0-9_])")
_LATIN_TOKEN = re.compile(r"[a-z0-9]+")
_RUN = re.compile(r"(.)\1{3,}")
_RUN2 = re.compile(r"(..)\1{2,}")
_SPACES = re.compile(r"\s+")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u3297\u3299]")
_DROP = dict.fromkeys([0xFE0F, 0xFE0E, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])
_PUNCT_MAP = str.maketrans({"。": ".", "，": ",", "、": ",", "～": "~", "—": "-", "…": "."})
_CJK = re.compile(r"[\u3400-\u9fff]")
_READABLE = re.compile(r"[\u3400-\u9fffa-z0-9]")
_PHRASES = re.compile("|".join(re.escape(k) for k in sorted(PHRASES, key=len, reverse=True)))
_EMOJI_WORDS = re.compile("|".join(re.escape(k) for k in EMOJI))
EMOJI_MARK: Final = "☺"


@lru_cache(maxsize=1)
def _opencc() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters OpenCC changes on their own: a comment with none skips conversion."""
    chars = [chr(c) for c in range(0x3400, 0xA000)]
    converted = _opencc().convert("\n".join(chars)).split("\n")
    return frozenset(a for a, b in zip(chars, converted, strict=True) if a != b)


def _is_garbage(text: str) -> bool:
    """A quarter or more of the characters are control, unassigned, private-use,
    surrogate or U+FFFD (what undecodable bytes become)."""
    if "\ufffd" not in text and text.isprintable():  # the usual case, checked in C
        return False
    bad = sum(
        1
        for ch in text
        if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn")
        if ch not in "\t\r\n"
    )
    return bad * 4 >= len(text) and bad > 0


def normalise(text: str) -> str:
    """The text the model reads (see the module docstring); "" when nothing is readable."""
    return _normalise(text)[0]


def _normalise(text: str) -> tuple[str, bool]:
    """The normalised text and whether it held a phone number or a web address."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])[:MAX_CHARS]
    text = text.translate(_DROP)
    if not _traditional_chars().isdisjoint(text):
        text = _opencc().convert(text)
    text = text.lower().translate(_PUNCT_MAP)
    # Each regex pass costs about a microsecond even when nothing matches, so passes
    # that need an emoji or a Latin letter or digit run only when the text has one.
    if _EMOJI.search(text):
        text = _EMOJI_WORDS.sub(lambda m: " " + EMOJI[m.group(0)] + " ", text)
        text = _EMOJI.sub(EMOJI_MARK, text)
    text = _PHRASES.sub(lambda m: PHRASES[m.group(0)], text)
    urls = phones = 0
    latin = _LATIN_TOKEN.search(text) is not None
    if latin:
        text, urls = _URL.subn(" 网址 ", text)
        text, phones = _PHONE.subn(" 电话 ", text)
    # Runs collapse before numbers are read: "666666" is praise, not a QQ number.
    text = _RUN2.sub(r"\1\1", _RUN.sub(r"\1\1\1", text))
    if latin:
        text = _HANDLE.sub(" 账号 ", text)
        text = _LONG_NUMBER.sub(" 号码 ", text)
        text = _LATIN_TOKEN.sub(lambda m: WORDS.get(m.group(0), m.group(0)), text)
    text = _SPACES.sub(" ", text).strip()
    return (text if _READABLE.search(text) else ""), bool(urls or phones)


def grams(norm: str) -> list[str]:
    """Character n-grams of a normalised text, with ^ and $ marking its ends."""
    s = "^" + norm.replace(" ", "") + "$"
    lo, hi = NGRAMS
    return [s[i : i + n] for n in range(lo, hi + 1) for i in range(len(s) - n + 1)]


# --- the model ---------------------------------------------------------------------


class TriageModel:
    """TF-IDF over ``grams`` and a multinomial logistic regression, fitted in memory."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        started = time.perf_counter()
        self.vectorizer = TfidfVectorizer(analyzer=grams, sublinear_tf=True)
        x = self.vectorizer.fit_transform([normalise(t) for t in texts])
        self.classifier = LogisticRegression(C=C, solver="newton-cg", max_iter=200, random_state=0)
        self.classifier.fit(x, list(labels))
        self.train_seconds = time.perf_counter() - started
        self.classes: tuple[str, ...] = tuple(str(c) for c in self.classifier.classes_)
        assert set(self.classes) == set(INTENTS), self.classes  # five: logits() unrolls them
        # The scoring arrays: per n-gram column its idf, and the class weights times idf.
        self._vocab: dict[str, int] = {g: int(c) for g, c in self.vectorizer.vocabulary_.items()}
        self._idf = np.asarray(self.vectorizer.idf_, dtype=np.float64)
        self._coef_t = np.ascontiguousarray(self.classifier.coef_.T, dtype=np.float64)
        self._w = np.ascontiguousarray(self._coef_t * self._idf[:, None])
        self._bias = np.asarray(self.classifier.intercept_, dtype=np.float64)
        self._bias_list = [float(b) for b in self._bias]
        idf2 = self._idf * self._idf
        self._rows: dict[str, tuple[float, ...]] = {
            g: (*(float(x) for x in self._w[j]), float(idf2[j])) for g, j in self._vocab.items()
        }

    def logits(self, norm: str) -> list[float]:
        """The decision function for one normalised text (scikit-learn's, without its
        per-call overhead): bias + coef · (sublinear tf × idf, L2-normalised).

        Each known n-gram carries a row (coef × idf for the five classes, then idf²)
        summed in plain locals, the fastest form in CPython; a repeated n-gram's row is
        scaled by its sublinear tf (1 + ln n) and its idf² by tf².
        """
        rows_of = self._rows
        gs = grams(norm)
        s0 = s1 = s2 = s3 = s4 = n2 = 0.0
        if len(set(gs)) == len(gs):
            for r in map(rows_of.get, gs):
                if r is not None:
                    a0, a1, a2, a3, a4, a5 = r
                    s0 += a0
                    s1 += a1
                    s2 += a2
                    s3 += a3
                    s4 += a4
                    n2 += a5
        else:
            for g, n in Counter(gs).items():
                r = rows_of.get(g)
                if r is not None:
                    a0, a1, a2, a3, a4, a5 = r
                    if n == 1:
                        s0 += a0
                        s1 += a1
                        s2 += a2
                        s3 += a3
                        s4 += a4
                        n2 += a5
                        continue
                    tf = 1.0 + math.log(n)
                    s0 += tf * a0
                    s1 += tf * a1
                    s2 += tf * a2
                    s3 += tf * a3
                    s4 += tf * a4
                    n2 += tf * tf * a5
        b0, b1, b2, b3, b4 = self._bias_list
        if n2 <= 0.0:
            return [b0, b1, b2, b3, b4]
        k = 1.0 / math.sqrt(n2)
        return [b0 + s0 * k, b1 + s1 * k, b2 + s2 * k, b3 + s3 * k, b4 + s4 * k]

    def proba(self, norm: str) -> list[float]:
        """The model's ``predict_proba`` for one normalised text."""
        z = self.logits(norm)
        top = max(z)
        e = [math.exp(v - top) for v in z]
        total = sum(e)
        return [v / total for v in e]

    def logits_many(self, norms: Sequence[str]) -> NDArray[np.float64]:
        """``logits`` for many texts at once: n-grams are looked up in one pass, counted
        with ``np.unique`` over (row, column) keys, and scored as one sparse product."""
        from scipy.sparse import csr_matrix

        n_rows, n_cols = len(norms), len(self._idf)
        lookup = self._vocab.get
        found: list[int] = []
        lengths: list[int] = []
        for norm in norms:
            gs = grams(norm)
            found.extend(map(lookup, gs, repeat(-1)))
            lengths.append(len(gs))
        cols = np.asarray(found, dtype=np.int64)
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
        known = cols >= 0
        keys, counts = np.unique(rows[known] * n_cols + cols[known], return_counts=True)
        row, col = keys // n_cols, keys % n_cols
        data = (1.0 + np.log(counts)) * self._idf[col]
        sq = np.bincount(row, weights=data * data, minlength=n_rows)
        scale = np.zeros(n_rows)
        np.divide(1.0, np.sqrt(sq), out=scale, where=sq > 0.0)
        indptr = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=n_rows))))
        x = csr_matrix((data * scale[row], col, indptr), shape=(n_rows, n_cols))
        out: NDArray[np.float64] = np.asarray(x @ self._coef_t) + self._bias
        return out

    @staticmethod
    def softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
        """Row-wise softmax: the multinomial model's probabilities from its logits."""
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        out: NDArray[np.float64] = e / e.sum(axis=-1, keepdims=True)
        return out


_lock = threading.Lock()
_model: TriageModel | None = None


def model() -> TriageModel:
    """The model trained on the whole corpus, built once per process."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                texts, labels = triage_data.training_set(triage_data.seeds())
                _model = TriageModel(texts, labels)
    return _model


# --- product references ------------------------------------------------------------

_NUM = r"[0-9]{1,3}|[一二两三四五六七八九十]{1,3}"
_SLOT_PATTERNS = (
    re.compile(rf"(?:链接|#|第)\s*({_NUM})"),
    re.compile(rf"({_NUM})\s*号(?!码|鞋|发|到|之前|前|晚|下午|上午|早)"),
)
_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
MAX_SLOT: Final = 99
# Title words that name no particular product.
_GENERIC = frozenset(
    ("新款", "款式", "同款", "正品", "官方", "旗舰店", "包邮", "特价", "爆款", "夏季", "冬季",
     "春季", "秋季", "秋冬", "春夏", "加厚", "女士", "男士", "女款", "男款", "家用", "礼盒",
     "套装", "这个", "那个", "主播", "多少", "有没有", "什么")
)  # fmt: skip


def _number(raw: str) -> int | None:
    if raw.isdecimal():
        return int(raw)
    if raw == "十":
        return 10
    if "十" in raw:
        tens, _, ones = raw.partition("十")
        t = _DIGITS.get(tens, 0) if tens else 1
        o = _DIGITS.get(ones, 0) if ones else 0
        return (
            t * 10 + o if (not tens or tens in _DIGITS) and (not ones or ones in _DIGITS) else None
        )
    return _DIGITS.get(raw) if len(raw) == 1 else None


def find_slot(norm: str) -> int | None:
    """The link number a normalised comment names, if any (1…99)."""
    for pattern in _SLOT_PATTERNS:
        for m in pattern.finditer(norm):
            n = _number(m.group(1))
            if n is not None and 1 <= n <= MAX_SLOT:
                return n
    return None


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import importlib
    import logging

    jieba = importlib.import_module("jieba")  # untyped; imported on first product match
    jieba.setLogLevel(logging.WARNING)  # its dictionary banner would pollute stderr
    jieba.initialize()
    return jieba


def _tokens(text: str) -> frozenset[str]:
    jieba = _jieba()
    return frozenset(
        t for t in jieba.lcut(text) if len(t) >= 2 and t not in _GENERIC and _CJK.search(t)
    )


@lru_cache(maxsize=64)
def _title_tokens(products: tuple[ProductRef, ...]) -> tuple[frozenset[str], ...]:
    return tuple(_tokens(normalise(p.title)) for p in products)


def find_product(norm: str, products: tuple[ProductRef, ...]) -> ProductRef | None:
    """The product whose title shares the most (and longest) jieba words with the text."""
    if not products or not _CJK.search(norm):
        return None
    words = _tokens(norm)
    if not words:
        return None
    best: list[ProductRef] = []
    best_score = 0
    for product, title in zip(products, _title_tokens(products), strict=True):
        score = sum(len(w) for w in words & title)
        if score > best_score:
            best, best_score = [product], score
        elif score == best_score and score > 0:
            best.append(product)
    return best[0] if len(best) == 1 else None


# --- classification ----------------------------------------------------------------


def _as_refs(
    products: Iterable[ProductRef | tuple[str, str, int | None]],
) -> tuple[ProductRef, ...]:
    return tuple(p if isinstance(p, ProductRef) else ProductRef(*p) for p in products)


def _prepare(raw: object) -> Verdict | str:
    """A rule's verdict, or the normalised text for the model."""
    if not isinstance(raw, str):  # a caller's bytes or None must not break the room
        raw = "" if raw is None else str(raw)
    head = raw[:MAX_CHARS]
    if head and _is_garbage(head):
        return Verdict("spam_abuse", None, 1.0)
    norm, contact = _normalise(head)
    if contact:
        return Verdict("spam_abuse", None, 1.0)
    if not norm:
        return Verdict("praise_chat", None, 1.0)
    return norm


def _finish(
    norm: str,
    probs: NDArray[np.float64],
    classes: tuple[str, ...],
    products: tuple[ProductRef, ...],
    by_slot: dict[int, ProductRef],
    pinned: str | None,
) -> Verdict:
    k = int(np.argmax(probs))
    return _finish_k(norm, k, float(probs[k]), classes, products, by_slot, pinned)


def _finish_k(
    norm: str,
    k: int,
    p: float,
    classes: tuple[str, ...],
    products: tuple[ProductRef, ...],
    by_slot: dict[int, ProductRef],
    pinned: str | None,
) -> Verdict:
    intent, score = classes[k], min(max(p, 0.0), 1.0)
    if intent == "spam_abuse":
        return Verdict(intent, None, score)
    slot = find_slot(norm)
    product: str | None = None
    if slot is not None and slot in by_slot:
        product = by_slot[slot].id
    elif slot is None and products:
        named = find_product(norm, products)
        if named is not None:
            product, slot = named.id, named.slot
    if slot is None and product is None and pinned and intent in ("purchase_intent", "question"):
        product = pinned
        slot = next((p.slot for p in products if p.id == pinned), None)
    return Verdict(intent, product, score, slot)


def classify(
    texts: Iterable[str],
    *,
    products: Iterable[ProductRef | tuple[str, str, int | None]] = (),
    pinned: str | None = None,
) -> list[Verdict]:
    """One ``Verdict`` per comment, in order; never raises on any text."""
    m = model()
    refs = _as_refs(products)
    by_slot = {p.slot: p for p in refs if p.slot is not None}
    prepared = [_prepare(t) for t in texts]
    norms = [p for p in prepared if isinstance(p, str)]
    if len(norms) > 8:  # one sparse product beats per-text scoring from here on
        probs = m.softmax(m.logits_many(norms))
    else:
        probs = np.array([m.proba(n) for n in norms], dtype=np.float64).reshape(
            len(norms), len(m.classes)
        )
    out: list[Verdict] = []
    i = 0
    for p in prepared:
        if isinstance(p, Verdict):
            out.append(p)
        else:
            out.append(_finish(p, probs[i], m.classes, refs, by_slot, pinned))
            i += 1
    return out


def classify_one(
    text: str,
    *,
    products: Iterable[ProductRef | tuple[str, str, int | None]] = (),
    pinned: str | None = None,
) -> Verdict:
    """``classify`` for a single comment, without the batch machinery."""
    m = model()
    p = _prepare(text)
    if isinstance(p, Verdict):
        return p
    refs = _as_refs(products) if products else ()
    by_slot = {r.slot: r for r in refs if r.slot is not None} if refs else {}
    probs = m.proba(p)
    k = max(range(len(probs)), key=probs.__getitem__)
    return _finish_k(p, k, probs[k], m.classes, refs, by_slot, pinned)
